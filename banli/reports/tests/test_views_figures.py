import pytest
from django.urls import reverse

from banli.reports import aggregates



@pytest.fixture
def world(world_seed):
    return world_seed[0]


@pytest.fixture
def seed(world_seed):
    return world_seed[1]


def _get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def test_office_sees_every_figure_with_its_definition_and_links(client, world, seed):
    r = _get(client, world.office, reverse("reports:figures"), session=world.session.pk, unit=world.lead_unit.pk)
    assert r.status_code == 200
    html = r.content.decode()
    assert "按时办结率" in html and "100%" in html
    assert "主办、分办件 ÷ 主办、分办件" in html  # the formula is shown
    assert reverse("reports:items", args=["on_time_rate"]) in html


def test_figure_link_lists_the_items_it_counts(client, world, seed):
    url = reverse("reports:items", args=["co_count"])
    r = _get(client, world.office, url, session=world.session.pk, unit=world.lead_unit.pk)
    assert r.status_code == 200
    assert "共 28 条" in r.content.decode()
    r = client.get(reverse("reports:items", args=["satisfaction_rate"]),
                   {"session": world.session.pk, "unit": world.lead_unit.pk, "part": "denominator"})
    assert "共 10 条" in r.content.decode()


def test_unit_staff_read_their_own_unit_by_default(client, world, seed):
    r = _get(client, world.lead_handler, reverse("reports:figures"))
    assert r.status_code == 200
    assert "33件" in r.content.decode()


def test_another_unit_cannot_read_a_units_figures(client, world, seed):
    r = _get(client, world.other_office, reverse("reports:figures"), unit=world.lead_unit.pk)
    assert r.status_code == 404
    r = client.get(reverse("reports:items", args=["assigned"]), {"unit": world.lead_unit.pk})
    assert r.status_code == 404


def test_another_units_own_figures_do_not_include_this_units_items(client, world, seed):
    r = _get(client, world.other_office, reverse("reports:items", args=["assigned"]))
    assert "共 0 条" in r.content.decode()


def test_proposer_has_no_figures(client, world, seed):
    assert _get(client, world.proposer, reverse("reports:figures")).status_code == 404


def test_bad_date_names_the_parameter(client, world):
    r = _get(client, world.office, reverse("reports:figures"), date_from="昨天")
    assert r.status_code == 400 and "date_from" in r.content.decode()


def test_figures_page_query_count_does_not_grow_with_items(client, world, seed, django_assert_max_num_queries):
    client.force_login(world.office)
    aggregates.refresh()  # the scheduler's tick has folded the events into the figure cells
    with django_assert_max_num_queries(15):
        client.get(reverse("reports:figures"), {"session": world.session.pk})
