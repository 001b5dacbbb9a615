"""Issue 17.7 for the figures and scores workbooks: a unit or rule-set name that starts like a formula stays text."""

import pytest
from django.urls import reverse

from banli.exchange.tests.test_formula_injection import assert_no_live_formula, workbook_rows
from banli.organizations.models import Unit
from banli.reports import scoring


@pytest.fixture
def world(world_seed):
    Unit.objects.filter(pk=world_seed[0].lead_unit.pk).update(name='=HYPERLINK("http://evil.example/","区教育局")')
    return world_seed[0]


def test_the_dashboard_and_chart_workbooks_write_formula_texts_as_text(client, world):
    client.force_login(world.office)
    marked = 0
    for url, params in ((reverse("reports:dashboard_xlsx"), {"session": world.session.pk}),
                        (reverse("reports:chart_xlsx", args=["rank"]), {"session": world.session.pk})):
        r = client.get(url, params)
        assert r.status_code == 200, url
        marked += assert_no_live_formula(workbook_rows(r.content, url), url)
    assert marked >= 2  # the unit's name in the ranking of each workbook


def test_the_self_evaluation_workbook_writes_formula_texts_as_text(client, world):
    rule_set = scoring.rule_set_for(world.session)
    type(rule_set).objects.filter(pk=rule_set.pk).update(name="@评分细则")
    params = {"session": world.session.pk, "unit": world.lead_unit.pk}
    client.force_login(world.lead_office)
    client.post(reverse("reports:score"), {**params, "action": "prepare"})
    r = client.get(reverse("reports:evaluation_export", args=["xlsx"]), params)
    assert r.status_code == 200
    rows = workbook_rows(r.content, "自评表")
    assert assert_no_live_formula(rows, "自评表") >= 1
    assert "+2" in [c for row in rows for c in row]  # a signed score is a number, not a formula: left as it is
