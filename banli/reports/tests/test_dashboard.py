import io
import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from openpyxl import load_workbook

from banli.core.testing import make_proposal
from banli.handling import services as handling
from banli.reports import aggregates, charts
from banli.reports.figures import Slice


@pytest.fixture
def world(world_seed):
    return world_seed[0]


@pytest.fixture
def seed(world_seed):
    return world_seed[1]


def test_echarts_is_served_by_the_app_itself():
    path = finders.find("reports/vendor/echarts/echarts.min.js")
    assert path is not None
    with open(path, encoding="utf-8") as fh:
        assert "echarts" in fh.read(2000).lower()


def test_office_dashboard_draws_every_chart_from_local_assets(client, world, seed):
    client.force_login(world.office)
    r = client.get(reverse("reports:dashboard"), {"session": world.session.pk})
    assert r.status_code == 200
    html = r.content.decode()
    assert "/static/reports/vendor/echarts/echarts.min.js" in html
    assert "http://" not in html.split("<body>")[0] and "https://" not in html.split("<body>")[0]
    data = json.loads(re.search(r'<script id="rp-charts" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert [t["key"] for t in data] == list(charts.CHARTS)
    for key in charts.CHARTS:
        assert f'id="chart-{key}"' in html


def test_units_below_the_minimum_sample_are_listed_but_not_ranked(world, seed):
    proposal = make_proposal(world)
    handling.assignment_create(proposal=proposal, unit=world.other_unit, role="lead", actor=world.office)
    table = charts.build("rank", Slice(session_id=world.session.pk).resolve(), {"rate": "reply_rate", "min": "3"})
    assert table.rows[0][:4] == [1, "区教育局", 100.0, 5]
    assert table.rows[1][:2] == ["不排名", "区卫生健康局"] and table.rows[1][3] == 1


def test_unit_dashboard_ranks_its_sections(client, world, seed):
    client.force_login(world.lead_leader)
    r = client.get(reverse("reports:dashboard"), {"session": world.session.pk})
    assert r.status_code == 200
    html = r.content.decode()
    assert "区教育局 办理统计看板" in html and "各科室按时办结率排名" in html and "基础教育科" in html


def test_each_chart_exports_its_numbers_as_xlsx(client, world, seed):
    client.force_login(world.office)
    r = client.get(reverse("reports:chart_xlsx", args=["classes"]), {"session": world.session.pk})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    assert rows[1] == ["类别", "件数"]
    assert rows[2] == ["A类 已解决或基本解决", 5]


def test_whole_dashboard_exports_figures_and_charts(client, world, seed):
    client.force_login(world.office)
    r = client.get(reverse("reports:dashboard_xlsx"), {"session": world.session.pk, "unit": world.lead_unit.pk})
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[0] == "统计指标" and len(wb.sheetnames) == 1 + len(charts.CHARTS)
    figures_sheet = {row[0]: row[1] for row in wb["统计指标"].iter_rows(min_row=3, values_only=True)}
    assert figures_sheet["交办件数"] == "33件" and figures_sheet["满意率"] == "100%"


def test_dashboard_query_count_is_constant(client, world, seed, django_assert_max_num_queries):
    client.force_login(world.office)
    aggregates.refresh()  # the scheduler's tick has folded the events into the figure cells
    with django_assert_max_num_queries(30):
        client.get(reverse("reports:dashboard"), {"session": world.session.pk})


def test_proposer_cannot_open_the_dashboard(client, world):
    client.force_login(world.proposer)
    assert client.get(reverse("reports:dashboard")).status_code == 404


def test_main_navigation_links_to_the_dashboard(client, world, seed):
    client.force_login(world.lead_office)
    html = client.get(reverse("reports:figures")).content.decode()
    menu = html.split('id="role-menu-items"')[1].split("</ul>\n      <ul")[0]
    assert 'data-bs-toggle="dropdown" aria-expanded="false">统计</a>' in menu  # the 统计 group of the menu
    assert 'href="/reports/">统计概览</a>' in menu
