import io

import pytest
from django.urls import reverse
from docx import Document

from banli.reports import services, summary, views


@pytest.fixture
def world(world_seed):
    return world_seed[0]


@pytest.fixture
def seed(world_seed):
    return world_seed[1]


def _text(content: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)


def test_summary_docx_has_the_computed_numbers_and_typical_cases(client, world, seed):
    client.force_login(world.lead_office)
    params = {"session": world.session.pk, "unit": world.lead_unit.pk}
    typical = seed.lead[1]
    client.post(reverse("reports:summary"), {**params, "addressee": "区政府督查室", "practices": "（四）领导高度重视。",
                                             "typical": [seed.key.assignments.get().pk, typical.pk]})
    r = client.get(reverse("reports:summary_docx"), params)
    assert r.status_code == 200
    text = _text(r.content)
    basics = text.split("一、基本情况")[1].split("二、主要做法")[0]
    assert "共33件（包括主办件4件、分办件1件、会办件28件）" in basics
    assert "办结率100%" in basics and "答复率100%" in basics and "按时办结率100%" in basics
    assert "满意率100%" in basics and "收到提案人测评10份" in basics
    cases = text.split("三、典型案例")[1].split("四、存在问题")[0]
    assert seed.key.title in cases and typical.proposal.title in cases
    assert "给予“满意”评价" in cases
    practices = text.split("二、主要做法")[1].split("三、典型案例")[0]
    assert "与提案人沟通5次" in practices and "（四）领导高度重视。" in practices
    assert "会办意见28件" in practices
    assert "逐级审核20次，其中退回修改0次" in practices  # the review steps, counted from the event log
    assert "自评得分99分" in text.split("六、自评情况")[1]
    assert text.splitlines()[0].startswith("区教育局关于")


def test_summary_prefills_problems_from_the_records(world, seed):
    built = summary.build(world.session, world.lead_unit)
    problems = dict(built.sections)["四、存在问题"]
    assert "未显示逾期" in problems[0]


def test_the_unit_edits_only_its_own_sections(client, world, seed):
    client.force_login(world.lead_office)
    params = {"session": world.session.pk, "unit": world.lead_unit.pk}
    client.post(reverse("reports:summary"), {**params, "problems": "一是个别答复针对性不强。",
                                             "next_steps": "进一步提高办理质量。"})
    built = summary.build(world.session, world.lead_unit, services.SummaryDraft.objects.get(unit=world.lead_unit))
    sections = dict(built.sections)
    assert sections["四、存在问题"] == ["一是个别答复针对性不强。"]
    assert sections["一、基本情况"][0].startswith(f"{world.session.year}年，区教育局办理")


def test_another_unit_cannot_edit_the_summary(client, world, seed):
    client.force_login(world.other_office)
    r = client.post(reverse("reports:summary"), {"session": world.session.pk, "unit": world.lead_unit.pk})
    assert r.status_code == 404


def test_the_typical_case_picker_lists_a_bounded_few_finds_others_and_keeps_the_chosen(client, world, seed, monkeypatch):
    client.force_login(world.lead_office)
    params = {"session": world.session.pk, "unit": world.lead_unit.pk}
    chosen = seed.lead[1]
    client.post(reverse("reports:summary"), {**params, "typical": [chosen.pk]})
    monkeypatch.setattr(views, "TYPICAL_LISTED", 1)
    html = client.get(reverse("reports:summary"), params).content.decode()
    boxes = html.count('name="typical" value=')
    assert boxes == 2 and f'value="{chosen.pk}" id="typical-{chosen.pk}" checked' in html  # the chosen one and one more
    assert "共 5 件，列出已勾选的和前 2 件" in html  # 4 主办 and 1 分办; the page says the list is cut
    other = seed.lead[2]
    found = client.get(reverse("reports:summary"), {**params, "typical_q": other.proposal.number}).content.decode()
    assert f'value="{other.pk}" id="typical-{other.pk}">' in found and "找到 1 件" in found
    # The chosen case, not matching the search, rides along hidden, so saving from the search keeps it.
    assert f'<input type="hidden" name="typical" value="{chosen.pk}">' in found
    # Each field labelled (the page had bare browser controls under its headings).
    for field in ("summary-addressee", "summary-practices", "typical-q", "summary-problems", "summary-next"):
        assert f'for="{field}"' in found and f'id="{field}"' in found
