import pytest

from banli.reports import scoring, services


@pytest.fixture
def world(world_seed):
    return world_seed[0]


@pytest.fixture
def seed(world_seed):
    return world_seed[1]


URL = "/api/v1/scores"


def test_score_api_returns_total_and_lines_with_evidence(client, world, seed):
    rule = scoring.rule_set_for(world.session).rules.get(metric="entry")
    services.score_entry_record(actor=world.office, session=world.session, unit=world.lead_unit, rule=rule,
                                quantity=2, evidence="采用通知两份")
    client.force_login(world.office)
    r = client.get(URL, {"session": world.session.pk, "unit": world.lead_unit.pk})
    assert r.status_code == 200
    data = r.json()
    assert data["total"] == 100.0
    items = {ln["item"]: ln for ln in data["lines"]}
    assert items["基础分（按时办结率、答复率、满意率均达100%）"]["points"] == 95.0
    assert items["办理总件数"]["points"] == 2.0
    assert items["主办（承办、分办）重点提案"]["points"] == 2.0
    assert items["提供提案线索或重点提案选题并被采用"]["points"] == 1.0
    assert "采用通知两份" in items["提供提案线索或重点提案选题并被采用"]["evidence"]
    assert all(set(ln) >= {"item", "points", "evidence"} for ln in data["lines"])


def test_unit_reads_its_own_score(client, world, seed):
    client.force_login(world.lead_leader)
    assert client.get(URL, {"session": world.session.pk, "unit": world.lead_unit.pk}).status_code == 200


def test_another_unit_cannot_read_the_score(client, world, seed):
    client.force_login(world.other_office)
    assert client.get(URL, {"session": world.session.pk, "unit": world.lead_unit.pk}).status_code == 404


def test_anonymous_and_proposers_are_refused(client, world, seed):
    assert client.get(URL, {"session": world.session.pk, "unit": world.lead_unit.pk}).status_code in (401, 403)
    client.force_login(world.proposer)
    assert client.get(URL, {"session": world.session.pk, "unit": world.lead_unit.pk}).status_code == 404


def test_missing_parameters_are_named(client, world, seed):
    client.force_login(world.office)
    r = client.get(URL, {"session": world.session.pk})
    assert r.status_code == 400 and r.json()["field"] == "unit"
