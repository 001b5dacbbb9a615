"""The API at its boundaries (issue 17): who reads figures and scores, the first-password guard, one error body
everywhere, one name and one unit per figure, a second rating, zero deductions."""
import json
import math

import pytest
from rest_framework.test import APIClient

from banli.api.models import ApiToken
from banli.core.testing import PASSWORD, assign, make_proposal, make_user, walk_to
from banli.organizations.models import User
from banli.reports import figures as defs

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(world):
    lead, _ = assign(world, make_proposal(world))
    return walk_to(world, lead, "closed")


def _superuser():
    user = make_user("root", "超级用户")  # no role grant at all: only Django's is_superuser
    User.objects.filter(pk=user.pk).update(is_superuser=True)
    return User.objects.get(pk=user.pk)


# --- point 2: the superuser reads figures and scores; refusals alike ---------------------------------------


def test_the_superuser_reads_the_figures_and_the_score_the_office_reads(world, closed, api):
    root = api(_superuser())
    office = api(world.office).get("/api/v1/figures", {"session": world.session.pk}).json()
    mine = root.get("/api/v1/figures", {"session": world.session.pk})
    assert mine.status_code == 200 and mine.json()["total"] == office["total"] == 2
    score = root.get("/api/v1/scores", {"session": world.session.pk, "unit": world.lead_unit.pk})
    assert score.status_code == 200, score.json()
    assert score.json()["total"] == api(world.office).get(
        "/api/v1/scores", {"session": world.session.pk, "unit": world.lead_unit.pk}).json()["total"]


@pytest.mark.parametrize("who", ["other_office", "proposer", "co_handler"])
def test_figures_and_scores_refuse_a_unit_the_caller_may_not_read_alike(world, closed, api, who):
    client = api(getattr(world, who))
    params = {"session": world.session.pk, "unit": world.lead_unit.pk}
    figures = client.get("/api/v1/figures", params)
    score = client.get("/api/v1/scores", params)
    assert figures.status_code == score.status_code == 404
    assert figures.json() == score.json()
    assert figures.json()["code"] == "not_found"


# --- point 5: no token until the first password is changed --------------------------------------------------


@pytest.fixture
def fresh(world):
    user = make_user("newcomer", "新联络员")
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    return User.objects.get(pk=user.pk)


def test_an_account_with_its_initial_password_gets_no_token(fresh):
    r = APIClient().post("/api/v1/auth/token", {"username": "newcomer", "password": PASSWORD}, format="json")
    assert r.status_code == 403
    assert r.json()["code"] == "password_change_required" and "修改" in r.json()["message"]

    assert not ApiToken.objects.filter(user=fresh).exists()


def test_a_token_made_before_is_refused_until_the_password_is_changed(fresh, api):
    r = api(fresh).get("/api/v1/proposals")
    assert r.status_code == 403 and r.json()["code"] == "password_change_required"
    User.objects.filter(pk=fresh.pk).update(must_change_password=False)
    assert api(fresh).get("/api/v1/proposals").status_code == 200


def test_a_signed_in_session_gets_the_same_answer_on_the_api(fresh, client):
    client.force_login(fresh)
    r = client.get("/api/v1/proposals")
    assert r.status_code == 403 and r.json()["code"] == "password_change_required"


# --- point 17: one error body everywhere ---------------------------------------------------------------------


def _is_error_body(response, code=None):
    body = response.json()
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert {"code", "message"} <= set(body) <= {"code", "message", "field", "errors"}, body
    assert code is None or body["code"] == code, body
    return body


def test_scores_answer_the_one_error_body(world, closed, api):
    client = api(world.office)
    body = _is_error_body(client.get("/api/v1/scores", {"session": world.session.pk}), "invalid")
    assert body["field"] == "unit" and "unit" in body["message"]
    _is_error_body(client.get("/api/v1/scores", {"session": world.session.pk, "unit": 999999}), "not_found")
    _is_error_body(APIClient().get("/api/v1/scores", {"session": 1, "unit": 1}), "not_authenticated")


def test_too_many_token_requests_answer_the_one_error_body(world, settings, still_clock):
    settings.BANLI_RATE_TOKEN = "2/m"
    client = APIClient()
    answers = [client.post("/api/v1/auth/token", {"username": "office", "password": "wrong"}, format="json")
               for _ in range(3)]
    assert answers[-1].status_code == 429
    _is_error_body(answers[-1], "throttled")


def test_a_non_integer_id_answers_the_apis_json_404(world, api):
    for path in ("/api/v1/assignments/abc/actions/sign", "/api/v1/proposals/1.5", "/api/v1/nothing-here"):
        r = api(world.office).get(path)
        assert r.status_code == 404, path
        _is_error_body(r, "not_found")


# --- point 17: one name and one unit per figure ------------------------------------------------------------


def test_figures_scores_and_rules_name_each_rate_once_in_percent(world, closed, api):
    rates = {key for key, figure in defs.FIGURES.items() if figure.kind == "rate"}
    data = api(world.office).get("/api/v1/figures", {"session": world.session.pk}).json()
    given = {key for key in data if key.endswith("_rate")}
    assert given <= rates, given - rates  # the API names each rate as the score rules do
    assert {"reply_rate", "on_time_rate", "close_rate", "satisfaction_rate", "basic_satisfaction_rate",
            "contact_rate", "fulfilment_rate"} <= given
    assert data["reply_rate"] == 100.0  # percentages, as the rules' conditions and the evidence
    score = api(world.office).get("/api/v1/scores", {"session": world.session.pk, "unit": world.lead_unit.pk}).json()
    named = {line["figure"] for line in score["lines"] if line["figure"]}
    assert named and named <= set(defs.FIGURES)
    assert all(f"{defs.FIGURES['reply_rate'].name}100%" in line["evidence"]
               for line in score["lines"] if line["figure"] == "reply_rate")
    schema = api(world.office).get("/api/v1/openapi.json").json()["components"]["schemas"]["Figures"]["properties"]
    assert "百分数" in schema["reply_rate"]["description"]


def test_a_second_rating_is_refused_as_already_rated(world, api):
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "replied")
    url = f"/api/v1/assignments/{lead.pk}/actions/rate"
    body = {"attitude": "satisfied", "result": "satisfied"}
    assert api(world.proposer).post(url, body, format="json").status_code == 200
    again = api(world.proposer).post(url, body, format="json")
    assert again.status_code == 409 and "已测评，不能重复测评" in _is_error_body(again, "conflict")["message"]
    assert api(world.co_proposer).post(url, body, format="json").status_code == 200  # now every proposer rated
    last = api(world.co_proposer).post(url, body, format="json")
    assert last.status_code == 409 and "已测评，不能重复测评" in last.json()["message"]


def test_a_deduction_of_nothing_prints_as_zero(world, closed, api):
    r = api(world.office).get("/api/v1/scores", {"session": world.session.pk, "unit": world.lead_unit.pk})
    deductions = [line for line in r.json()["lines"] if line["kind"] == "deduction"]
    assert deductions and all(line["points"] == 0 for line in deductions)
    assert all(math.copysign(1, line["points"]) == 1 for line in deductions)
    assert "-0" not in json.dumps(r.json())
