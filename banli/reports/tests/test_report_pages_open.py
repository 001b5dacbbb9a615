"""Reports that open and tell the truth (issue 16, point 2): score and summary pick session and unit on the
page, and the area-wide summary (历年对比's columns: test_compare.py)."""
import io
import re

import pytest
from django.urls import reverse
from docx import Document

from banli.core.testing import assign, make_proposal
from banli.handling import services as handling
from banli.proposals import services as proposal_services
from banli.proposals.choices import Body, Level
from banli.reports import figures

pytestmark = pytest.mark.django_db


def test_score_and_summary_open_on_the_current_session_and_the_users_unit(client, world_seed):
    world, case = world_seed
    client.force_login(world.lead_office)
    for name in ("reports:score", "reports:summary"):
        response = client.get(reverse(name))
        html = response.content.decode()
        assert response.status_code == 200, name
        assert "找不到该届次或单位" not in html
        assert world.lead_unit.name in html and world.session.name in html
        assert 'id="report-picker"' in html


def test_the_office_picks_the_unit_on_the_score_page_itself(client, world_seed):
    world, case = world_seed
    client.force_login(world.office)
    html = client.get(reverse("reports:score")).content.decode()
    assert "请选择要查看的单位" in html and f'<option value="{world.lead_unit.pk}">区教育局</option>' in html
    # Every unit's score at once: the area summary's table, linked from here for who may read it.
    overview = html.split('id="score-overview"', 1)[1].split("</p>", 1)[0]
    assert f'{reverse("reports:area_summary")}?session={world.session.pk}' in overview
    html = client.get(reverse("reports:score"), {"unit": world.lead_unit.pk}).content.decode()
    assert 'id="score-total"' in html  # the current session by default
    html = client.get(reverse("reports:summary"), {"unit": world.lead_unit.pk}).content.decode()
    assert "一、基本情况" in html


def test_area_summary_has_the_totals_a_row_per_unit_and_each_units_self_evaluation(client, world_seed):
    world, case = world_seed
    extra = make_proposal(world, number="20249901", title="关于社区医院的提案")
    handling.assignment_create(proposal=extra, unit=world.other_unit, role="lead", actor=world.office)
    client.force_login(world.office)
    response = client.get(reverse("reports:area_summary"))
    html = response.content.decode()
    assert response.status_code == 200
    total = figures.compute(figures.Slice(session_id=world.session.pk))["assigned"].value
    assert total == 34
    assert f"共{total}件" in html  # the whole area, not one unit
    rows = re.findall(r'<tr><th scope="row"><a href="([^"]*)">(.*?)</a></th>(.*?)</tr>', html.split('id="area-units"')[1])
    assert [name for _, name, _ in rows] == ["区教育局", "区卫生健康局"]
    # Each unit's name opens its score page, on this session.
    score = client.get(rows[0][0].replace("&amp;", "&")).content.decode()
    assert 'id="score-total"' in score and "区教育局" in score
    rows = [(name, cells) for _, name, cells in rows]
    edu_cells = re.findall(r'<td class="num">(.*?)</td>', rows[0][1])
    assert edu_cells[:4] == ["33", "4", "1", "28"]  # seed 001: 4 lead, 1 split, 28 co
    assert "五、自评及加分情况" in html and "区教育局：基础分" in html and "区卫生健康局：" in html
    docx = client.get(reverse("reports:area_summary_docx"))
    assert docx.status_code == 200
    document = Document(io.BytesIO(docx.content))
    table = document.tables[0]
    assert [c.text for c in table.rows[1].cells][:5] == ["区教育局", "33", "4", "1", "28"]
    texts = [p.text for p in document.paragraphs]
    assert any(t.startswith("区教育局：基础分") for t in texts)
    # A unit's staff do not read the other units' figures.
    client.force_login(world.lead_office)
    assert client.get(reverse("reports:area_summary")).status_code == 404


def test_a_units_reports_open_on_the_session_holding_its_work(client, world_seed):
    # Two sessions of one year: the bureau's summary opened on the one registered last (a single 会办 item of its)
    # rather than on the one with its 提案.
    world, case = world_seed
    npc = proposal_services.session_create(actor=world.office, name="区人大三届三次会议", body=Body.NPC,
                                           level=Level.DISTRICT, year=world.session.year,
                                           assigning_office=world.office_unit)
    item = proposal_services.proposal_create(actor=world.office, session=npc, number="20250101", title="关于学位的建议",
                                             body="建议增加学位。", proposers=[world.proposer_record], kind="suggestion")
    assign(world, item, co=False)
    client.force_login(world.lead_office)
    for name in ("reports:score", "reports:summary"):
        html = client.get(reverse(name)).content.decode()
        picker = html.split('id="pick-session"', 1)[1].split("</select>", 1)[0]
        assert f'<option value="{world.session.pk}" selected>' in picker, name
    # A chosen session is kept.
    html = client.get(reverse("reports:summary"), {"session": npc.pk}).content.decode()
    assert f'<option value="{npc.pk}" selected>' in html.split('id="pick-session"', 1)[1]
