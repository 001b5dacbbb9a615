import io

import pytest
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from banli.reports import scoring
from banli.reports.models import Evaluation


@pytest.fixture
def world(world_seed):
    return world_seed[0]


@pytest.fixture
def seed(world_seed):
    return world_seed[1]


def _params(world):
    return {"session": world.session.pk, "unit": world.lead_unit.pk}


def test_score_page_shows_each_line_with_evidence_and_items(client, world, seed):
    client.force_login(world.lead_office)
    r = client.get(reverse("reports:score"), _params(world))
    html = r.content.decode()
    assert r.status_code == 200
    assert "基础分（按时办结率、答复率、满意率均达100%）" in html and "按时办结率100%" in html
    assert f"第{seed.key.number}号" in html
    assert 'id="score-total">99<' in html  # no adopted leads entered yet: 95 + 2 + 2


def test_office_enters_evidence_and_the_unit_submits_its_self_evaluation(client, world, seed):
    client.force_login(world.office)
    rule = scoring.rule_set_for(world.session).rules.get(metric="entry")
    client.post(reverse("reports:score"), {**_params(world), "action": "entry", "rule": rule.pk, "quantity": "2",
                                           "evidence": "采用通知（深政协提〔2024〕5号）", "numbers": seed.key.number})
    client.force_login(world.lead_office)
    client.post(reverse("reports:score"), {**_params(world), "action": "prepare"})
    ev = Evaluation.objects.get(session=world.session, unit=world.lead_unit)
    assert ev.computed_total == 100
    client.post(reverse("reports:score"), {**_params(world), "action": "submit", "note": "已核对"})
    client.force_login(world.office)
    client.post(reverse("reports:score"), {**_params(world), "action": "decide", "corrected_total": "100"})
    ev.refresh_from_db()
    assert ev.state == "confirmed"

    r = client.get(reverse("reports:evaluation_export", args=["xlsx"]), _params(world))
    ws = load_workbook(io.BytesIO(r.content)).active
    cells = [c for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "办理总件数" in cells and "+2" in cells and "自评得分：100分" in cells
    r = client.get(reverse("reports:evaluation_export", args=["docx"]), _params(world))
    doc = Document(io.BytesIO(r.content))
    table_text = [cell.text for row in doc.tables[0].rows for cell in row.cells]
    assert "提供提案线索或重点提案选题并被采用" in table_text and "+1" in table_text
    assert any("自评得分：100分" in p.text for p in doc.paragraphs)


def test_a_refused_action_shows_its_reason(client, world, seed):
    client.force_login(world.lead_handler)
    client.post(reverse("reports:score"), {**_params(world), "action": "prepare"})
    r = client.post(reverse("reports:score"), {**_params(world), "action": "submit"}, follow=True)
    assert "只有本单位联络员或领导才能提交自评" in r.content.decode()


def test_other_units_cannot_open_the_score(client, world, seed):
    client.force_login(world.other_office)
    assert client.get(reverse("reports:score"), _params(world)).status_code == 404


def test_office_copies_the_template_and_edits_a_rule_on_the_page(client, world, seed):
    client.force_login(world.office)
    url = reverse("reports:rules")
    assert "复制为本届次细则" in client.get(url, {"session": world.session.pk}).content.decode()
    client.post(url, {"session": world.session.pk, "action": "copy", "name": "区政协提案考核细则"})
    rule_set = scoring.rule_set_for(world.session)
    assert rule_set.session == world.session and rule_set.name == "区政协提案考核细则"
    rule = rule_set.rules.get(metric="assigned")
    r = client.post(url, {"session": world.session.pk, "action": "save_rule", "rule": rule.pk, "kind": "bonus",
                          "label": "办理总件数", "mode": "tiers", "metric": "assigned",
                          "tiers": '[{"min": 30, "points": 3}]', "points": "0"}, follow=True)
    assert "考核项目已保存" in r.content.decode()
    assert scoring.score(world.session, world.lead_unit).total == 100  # 95 + 3 + 2, capped
    r = client.post(url, {"session": world.session.pk, "action": "save_rule", "kind": "bonus", "label": "x",
                          "mode": "tiers", "metric": "assigned", "tiers": "不是JSON"}, follow=True)
    assert "档次的格式不正确" in r.content.decode()


def test_units_read_the_rules_but_cannot_edit_them(client, world, seed):
    client.force_login(world.lead_office)
    html = client.get(reverse("reports:rules"), {"session": world.session.pk}).content.decode()
    assert "办理总件数" in html and "复制为本届次细则" not in html
    client.post(reverse("reports:rules"), {"session": world.session.pk, "action": "copy"})
    assert scoring.rule_set_for(world.session).session is None
