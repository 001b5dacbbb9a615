"""Issue 17, point 16: the write endpoints an integrator needs. Each endpoint: who may write (and who gets 403 or
404: another unit's user, a proposer, a read-only token), the one error body, the event its service records,
409 for a duplicate; and the OpenAPI document lists them."""
import datetime as dt

import pytest
from django.utils import timezone

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.models import ContactRecord, Event
from banli.organizations.models import RoleGrant, User
from banli.proposals.models import Proposal, Proposer
from banli.replies.letters import salutation_for
from banli.replies.models import Commitment, CoOpinion, Feedback
from banli.reports.models import Evaluation, RuleSet, ScoreEntry

pytestmark = pytest.mark.django_db


def _error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) <= {"code", "message", "field", "errors"} and body["message"], body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body  # a Chinese message
    if code:
        assert body["code"] == code, body
    return body


# --- users and role grants --------------------------------------------------------------------------------


def test_the_administrator_creates_lists_updates_and_deactivates_users(world, api):
    admin = api(world.admin)
    response = admin.post("/api/v1/users", {"username": "new_clerk", "password": "Xq7-kalm-Banli-2026",
                                            "display_name": "新联络员"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == "new_clerk" and body["must_change_password"] is True and body["grants"] == []
    user = User.objects.get(pk=body["id"])
    assert user.check_password("Xq7-kalm-Banli-2026")
    assert Event.objects.filter(verb="user_create", actor=world.admin, payload__user=user.pk).exists()

    _error(admin.post("/api/v1/users", {"username": "new_clerk"}, format="json"), 409, "conflict")
    weak = _error(admin.post("/api/v1/users", {"username": "weak", "password": "123"}, format="json"), 400)
    assert weak["field"] == "password" and "errors" not in weak
    assert _error(admin.post("/api/v1/users", {"username": "bad_mail", "email": "no-at-sign"}, format="json"),
                  400)["field"] == "email"

    assert admin.get("/api/v1/users", {"q": "new_clerk"}).json()["count"] == 1
    changed = admin.patch(f"/api/v1/users/{user.pk}", {"display_name": "教育局联络员 新"}, format="json")
    assert changed.status_code == 200 and changed.json()["display_name"] == "教育局联络员 新"
    assert Event.objects.filter(verb="user_update", actor=world.admin, payload__user=user.pk).exists()

    client = api(world.lead_handler)  # his token works until he is deactivated
    assert client.get("/api/v1/proposals").status_code == 200
    off = admin.post(f"/api/v1/users/{world.lead_handler.pk}/deactivate")
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert Event.objects.filter(verb="security.user_deactivate", payload__user=world.lead_handler.pk).exists()
    assert client.get("/api/v1/proposals").status_code == 401
    _error(admin.post(f"/api/v1/users/{world.admin.pk}/deactivate"), 400)


@pytest.mark.parametrize("who", ["office", "lead_office", "proposer", "other_handler"])
def test_only_the_administrator_keeps_users_everyone_else_sees_himself(world, api, who):
    user = getattr(world, who)
    client = api(user)
    _error(client.post("/api/v1/users", {"username": "intruder"}, format="json"), 403, "permission_denied")
    assert not User.objects.filter(username="intruder").exists()
    listed = client.get("/api/v1/users").json()
    assert [u["id"] for u in listed["results"]] == [user.pk]
    _error(client.get(f"/api/v1/users/{world.admin.pk}"), 404, "not_found")
    _error(client.patch(f"/api/v1/users/{world.admin.pk}", {"is_active": False}, format="json"), 404)
    _error(client.patch(f"/api/v1/users/{user.pk}", {"display_name": "我自己"}, format="json"), 403)
    _error(client.post("/api/v1/role-grants", {"user": user.pk, "role": "admin"}, format="json"), 403)
    assert {g["user"] for g in client.get("/api/v1/role-grants").json()["results"]} <= {user.pk}


def test_a_read_only_token_of_the_administrator_writes_nothing(world, api):
    ro = api(world.admin, scope="read")
    assert ro.get("/api/v1/users").status_code == 200
    for path, body in (("/api/v1/users", {"username": "ro_user"}),
                       ("/api/v1/role-grants", {"user": world.proposer.pk, "role": "admin"}),
                       (f"/api/v1/users/{world.proposer.pk}/deactivate", {})):
        assert "只读" in _error(ro.post(path, body, format="json"), 403)["message"]
    _error(ro.patch(f"/api/v1/users/{world.proposer.pk}", {"is_active": False}, format="json"), 403)
    grant = world.proposer.grants.get()
    _error(ro.delete(f"/api/v1/role-grants/{grant.pk}"), 403)
    world.proposer.refresh_from_db()
    assert world.proposer.is_active and world.proposer.grants.exists()


def test_the_administrator_grants_and_revokes_roles(world, api):
    admin = api(world.admin)
    user = world.other_handler
    response = admin.post("/api/v1/role-grants", {"user": user.pk, "role": "leader", "unit": world.other_unit.pk},
                          format="json")
    assert response.status_code == 201, response.content
    grant = RoleGrant.objects.get(pk=response.json()["id"])
    assert (grant.user, grant.role, grant.unit) == (user, "leader", world.other_unit)
    assert Event.objects.filter(verb="security.role_grant", actor=world.admin, payload__role="leader").exists()
    _error(admin.post("/api/v1/role-grants", {"user": user.pk, "role": "leader", "unit": world.other_unit.pk},
                      format="json"), 409)
    assert _error(admin.post("/api/v1/role-grants", {"user": user.pk, "role": "handler"}, format="json"),
                  400)["field"] == "unit"
    assert admin.get("/api/v1/role-grants", {"user": user.pk}).json()["count"] == 2
    assert api(user).get("/api/v1/proposals").status_code == 200
    assert admin.delete(f"/api/v1/role-grants/{grant.pk}").status_code == 204
    assert not RoleGrant.objects.filter(pk=grant.pk).exists()
    assert Event.objects.filter(verb="security.role_revoke", actor=world.admin, payload__role="leader").exists()
    _error(admin.delete(f"/api/v1/role-grants/{grant.pk}"), 404)


# --- proposers and co-signers -------------------------------------------------------------------------------


def test_the_office_registers_proposers_of_every_kind_and_never_twice(world, api):
    office = api(world.office)
    ids = {}
    for kind, name in (("member", "王委员"), ("deputy", "赵代表"), ("body", "民革深圳市委会"), ("sector", "经济界"),
                       ("committee", "提案委员会")):
        response = office.post("/api/v1/proposers", {"name": name, "kind": kind}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["kind"] == kind
        ids[kind] = response.json()["id"]
    assert Event.objects.filter(verb="proposer_create", actor=world.office).count() == 5
    assert office.get("/api/v1/proposers", {"kind": "committee"}).json()["results"][0]["kind_label"] == "专委会"

    again = _error(office.post("/api/v1/proposers", {"name": "民革深圳市委会", "kind": "body"}, format="json"), 409)
    assert str(ids["body"]) in again["message"]
    assert Proposer.objects.filter(name="民革深圳市委会").count() == 1
    _error(office.post("/api/v1/proposers", {"name": "某", "kind": "party"}, format="json"), 400)

    # A proposal naming the body by name and kind refers to the registered one.
    created = office.post("/api/v1/proposals", {"session": world.session.pk, "number": "20259001", "title": "关于口岸的提案",
                                                "proposers": [{"name": "民革深圳市委会", "kind": "body"}]}, format="json")
    assert created.status_code == 201, created.content
    assert Proposer.objects.filter(name="民革深圳市委会").count() == 1

    changed = office.patch(f"/api/v1/proposers/{ids['deputy']}", {"sector": "福田代表团", "phone": "13800000000"},
                           format="json")
    assert changed.status_code == 200 and changed.json()["sector"] == "福田代表团"
    assert "13800000000" not in changed.content.decode()
    event = Event.objects.get(verb="proposer_update")
    assert "13800000000" not in str(event.payload)
    _error(office.patch(f"/api/v1/proposers/{ids['deputy']}", {"name": "王委员", "kind": "member"}, format="json"), 409)


def test_who_may_not_register_proposers_and_what_others_see(world, api):
    assign(world, make_proposal(world))  # signed by 李委员 and 吴委员; 何委员 signs nothing the units see
    for user in (world.lead_office, world.other_handler, world.proposer):
        _error(api(user).post("/api/v1/proposers", {"name": "新委员"}, format="json"), 403, "permission_denied")
        _error(api(user).patch(f"/api/v1/proposers/{world.proposer_record.pk}", {"name": "改名"}, format="json"),
               *((403,) if user is not world.other_handler else (404,)))
    assert "只读" in _error(api(world.office, scope="read").post("/api/v1/proposers", {"name": "新委员"},
                                                                  format="json"), 403)["message"]
    mine = {p["name"] for p in api(world.proposer).get("/api/v1/proposers").json()["results"]}
    assert mine == {"李委员", "吴委员"}
    assert api(world.other_handler).get("/api/v1/proposers").json()["count"] == 0
    assert {p["name"] for p in api(world.lead_office).get("/api/v1/proposers").json()["results"]} == mine
    assert api(world.office).get("/api/v1/proposers").json()["count"] == 3


def test_the_office_adds_and_removes_co_signers(world, api):
    proposal = make_proposal(world, proposers=[world.proposer_record])
    assign(world, proposal, co=False)
    office = api(world.office)
    path = f"/api/v1/proposals/{proposal.pk}/proposers"
    response = office.post(path, {"proposer": {"id": world.co_proposer_record.pk}}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["proposer"]["name"] == "吴委员" and response.json()["is_lead"] is False
    assert Event.objects.filter(verb="cosigner_add", proposal=proposal).exists()
    assert [p["proposer"]["name"] for p in office.get(path).json()] == ["李委员", "吴委员"]
    assert office.get(f"/api/v1/proposals/{proposal.pk}").json()["proposers"] == ["李委员", "吴委员"]
    _error(office.post(path, {"proposer": world.co_proposer_record.pk}, format="json"), 409)
    # A co-signer named by name and kind is matched, or registered once.
    assert office.post(path, {"proposer": {"name": "民建界别", "kind": "sector"}}, format="json").status_code == 201

    _error(api(world.lead_handler).post(path, {"proposer": world.other_proposer_record.pk}, format="json"), 403)
    _error(api(world.proposer).post(path, {"proposer": world.other_proposer_record.pk}, format="json"), 403)
    _error(api(world.other_handler).post(path, {"proposer": world.other_proposer_record.pk}, format="json"), 404)
    _error(api(world.other_handler).get(path), 404)
    _error(api(world.office, scope="read").post(path, {"proposer": world.other_proposer_record.pk}, format="json"), 403)

    _error(office.delete(f"{path}/{world.proposer_record.pk}"), 400)  # the lead stays
    assert office.delete(f"{path}/{world.co_proposer_record.pk}").status_code == 204
    assert Event.objects.filter(verb="cosigner_remove", proposal=proposal).exists()
    _error(office.delete(f"{path}/{world.co_proposer_record.pk}"), 404)


# --- deadline policies --------------------------------------------------------------------------------------


def test_the_office_sets_deadline_policies_that_new_assignments_follow(world, api):
    office = api(world.office)
    body = {"session": world.session.pk, "kind": "proposal", "step": "sign", "unit": "calendar_days", "amount": 9}
    response = office.post("/api/v1/deadline-policies", body, format="json")
    assert response.status_code == 201, response.content
    policy_id = response.json()["id"]
    assert Event.objects.filter(verb="deadline_policy_set", actor=world.office, payload__policy=policy_id).exists()
    _error(office.post("/api/v1/deadline-policies", body, format="json"), 409)
    assert _error(office.post("/api/v1/deadline-policies", {**body, "step": "reply", "unit": "fixed_date"},
                              format="json"), 400)["field"] == "fixed_date"

    proposal = make_proposal(world)
    a = handling.assignment_create(proposal=proposal, unit=world.lead_unit, role="lead", actor=world.office)
    assert a.sign_due == a.assigned_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date() + dt.timedelta(days=9)

    changed = office.patch(f"/api/v1/deadline-policies/{policy_id}", {"amount": 4}, format="json")
    assert changed.status_code == 200 and changed.json()["amount"] == 4
    assert office.get("/api/v1/deadline-policies", {"session": world.session.pk}).json()["count"] == 1

    for user in (world.lead_office, world.proposer, world.other_handler):
        _error(api(user).post("/api/v1/deadline-policies", {**body, "step": "reply"}, format="json"), 403)
        _error(api(user).patch(f"/api/v1/deadline-policies/{policy_id}", {"amount": 1}, format="json"), 403)
    _error(api(world.office, scope="read").post("/api/v1/deadline-policies", {**body, "step": "reply"},
                                                 format="json"), 403)


# --- commitments, contacts, co-opinions and feedback as collections -----------------------------------------


@pytest.fixture
def replied(world):
    proposal = make_proposal(world)
    lead, co = assign(world, proposal)
    lead = walk_to(world, lead, "replied")
    other = make_proposal(world, title="关于社区医院的提案", proposers=[world.other_proposer_record])

    other_a = handling.assignment_create(proposal=other, unit=world.other_unit, role="lead", actor=world.office)
    return lead, co, other_a


def _ids(client, path, **params):
    response = client.get(path, params)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_commitments_as_a_collection(world, api, replied):
    lead, co, other_a = replied
    body = {"assignment": lead.pk, "description": "年内建成停车场", "target_date": "2026-12-31"}
    response = api(world.lead_handler).post("/api/v1/commitments", body, format="json")
    assert response.status_code == 201, response.content
    commitment = Commitment.objects.get(pk=response.json()["id"])
    assert commitment.assignment == lead and response.json()["description"] == "年内建成停车场"
    assert Event.objects.filter(verb="record_commitment", assignment=lead).exists()
    for user in (world.lead_handler, world.lead_office, world.office):
        assert _ids(api(user), "/api/v1/commitments") == {commitment.pk}, user
    assert _ids(api(world.office), "/api/v1/commitments", state="done") == set()
    for user in (world.other_handler, world.co_handler):
        assert _ids(api(user), "/api/v1/commitments") == set(), user
    _error(api(world.other_handler).get(f"/api/v1/commitments/{commitment.pk}"), 404)
    _error(api(world.other_handler).post("/api/v1/commitments", body, format="json"), 404)
    _error(api(world.proposer).post("/api/v1/commitments", body, format="json"), 403)
    _error(api(world.lead_handler, scope="read").post("/api/v1/commitments", body, format="json"), 403)
    _error(api(world.lead_handler).post("/api/v1/commitments", {**body, "assignment": other_a.pk}, format="json"), 404)
    assert _error(api(world.lead_handler).post("/api/v1/commitments", {"assignment": lead.pk}, format="json"),
                  400)["code"] == "invalid"
    assert Commitment.objects.count() == 1


def test_contacts_as_a_collection_seen_by_the_unit_only(world, api, replied):
    lead, co, other_a = replied
    body = {"assignment": lead.pk, "phase": "before", "method": "phone", "contacted_on": timezone.localdate().isoformat(),
            "people": "李委员", "summary": "电话沟通办理思路"}
    response = api(world.lead_handler).post("/api/v1/contacts", body, format="json")
    assert response.status_code == 201, response.content
    contact = ContactRecord.objects.get(pk=response.json()["id"])
    assert contact.recorded_by == world.lead_handler and response.json()["method_label"] == "电话"
    assert Event.objects.filter(verb="log_contact", assignment=lead).exists()
    assert _ids(api(world.lead_office), "/api/v1/contacts", assignment=lead.pk) == {contact.pk}
    for user in (world.office, world.proposer, world.other_handler, world.co_handler, world.admin):
        assert _ids(api(user), "/api/v1/contacts") == set(), user
    _error(api(world.other_handler).post("/api/v1/contacts", body, format="json"), 404)
    _error(api(world.proposer).post("/api/v1/contacts", body, format="json"), 403)
    _error(api(world.lead_handler, scope="read").post("/api/v1/contacts", body, format="json"), 403)
    assert ContactRecord.objects.count() == 1


def test_co_opinions_as_a_collection(world, api, replied):

    lead, co, other_a = replied
    co = handling.assignment_sign(assignment=co, actor=world.co_office)
    handling.assignment_assign_section(assignment=co, actor=world.co_office, section=world.co_section)
    body = {"assignment": co.pk, "body": "同意主办单位意见", "contact_person": "赵磊"}
    _error(api(world.lead_handler).post("/api/v1/co-opinions", body, format="json"), 403)
    _error(api(world.other_handler).post("/api/v1/co-opinions", body, format="json"), 404)
    _error(api(world.co_handler, scope="read").post("/api/v1/co-opinions", body, format="json"), 403)
    response = api(world.co_handler).post("/api/v1/co-opinions", body, format="json")
    assert response.status_code == 201, response.content
    opinion = CoOpinion.objects.get(pk=response.json()["id"])
    assert opinion.assignment == co and response.json()["state"] == "sent"
    assert Event.objects.filter(verb="send_co_opinion", assignment=co).exists()
    for user in (world.co_handler, world.lead_handler, world.office):
        assert _ids(api(user), "/api/v1/co-opinions") == {opinion.pk}, user
    for user in (world.other_handler, world.proposer, world.admin):
        assert _ids(api(user), "/api/v1/co-opinions") == set(), user


def test_feedback_as_a_collection(world, api, replied):
    lead, co, other_a = replied
    body = {"assignment": lead.pk, "attitude": "satisfied", "result": "basic", "comment": "基本解决"}
    _error(api(world.lead_handler).post("/api/v1/feedback", body, format="json"), 403)
    _error(api(world.other_proposer).post("/api/v1/feedback", body, format="json"), 404)
    _error(api(world.proposer, scope="read").post("/api/v1/feedback", body, format="json"), 403)
    response = api(world.proposer).post("/api/v1/feedback", body, format="json")
    assert response.status_code == 201, response.content
    feedback = Feedback.objects.get(pk=response.json()["id"])
    assert feedback.proposer == world.proposer_record and response.json()["result"] == "basic"
    assert Event.objects.filter(verb="record_feedback", assignment=lead).exists()
    assert _error(api(world.proposer).post("/api/v1/feedback", body, format="json"), 409)["message"]
    assert Feedback.objects.count() == 1
    for user in (world.proposer, world.lead_handler, world.office):
        assert _ids(api(user), "/api/v1/feedback") == {feedback.pk}, user
    for user in (world.co_proposer, world.other_handler, world.other_proposer):
        assert _ids(api(user), "/api/v1/feedback") == set(), user


# --- rule sets, score entries and 自评 -----------------------------------------------------------------------


def test_rule_sets_score_entries_and_self_evaluation(world, api, replied):
    office = api(world.office)
    template = RuleSet.objects.get(session__isnull=True, office__isnull=True)
    assert template.pk in _ids(office, "/api/v1/rule-sets")
    body = {"session": world.session.pk, "source": template.pk, "name": "本届考核细则"}
    for user in (world.lead_office, world.proposer):
        _error(api(user).post("/api/v1/rule-sets", body, format="json"), 403 if user is world.lead_office else 404)  # a source he may not see: not found
    _error(api(world.office, scope="read").post("/api/v1/rule-sets", body, format="json"), 403)
    response = office.post("/api/v1/rule-sets", body, format="json")
    assert response.status_code == 201, response.content
    rule_set = RuleSet.objects.get(pk=response.json()["id"])
    assert rule_set.session == world.session and len(response.json()["rules"]) == template.rules.count()
    assert Event.objects.filter(verb="rule_set_copy", actor=world.office).exists()
    changed = office.patch(f"/api/v1/rule-sets/{rule_set.pk}", {"name": "本届考核细则", "cap": "105"}, format="json")
    assert changed.status_code == 200 and float(changed.json()["cap"]) == 105
    _error(api(world.lead_office).patch(f"/api/v1/rule-sets/{rule_set.pk}", {"name": "改", "cap": "1"},
                                        format="json"), 403)
    rule = office.post(f"/api/v1/rule-sets/{rule_set.pk}/rules",
                       {"kind": "bonus", "label": "获领导批示", "metric": "entry", "mode": "per", "points": "1"},
                       format="json")
    assert rule.status_code == 201, rule.content
    assert _error(office.post(f"/api/v1/rule-sets/{rule_set.pk}/rules", {"kind": "bonus", "label": "错",
                                                                         "mode": "per", "metric": "no_such"},
                              format="json"), 400)

    rule_id = rule.json()["id"]
    patched = office.patch(f"/api/v1/rule-sets/{rule_set.pk}/rules/{rule_id}",
                           {"kind": "bonus", "label": "获区领导批示", "metric": "entry", "mode": "per", "points": "2"},
                           format="json")
    assert patched.status_code == 200 and patched.json()["label"] == "获区领导批示", patched.content
    assert Event.objects.filter(verb="rule_save", payload__rule=rule_id).count() == 2
    _error(api(world.lead_office).patch(f"/api/v1/rule-sets/{rule_set.pk}/rules/{rule_id}",
                                        {"kind": "bonus", "label": "改", "mode": "per", "metric": "entry"},
                                        format="json"), 403)
    _error(office.delete(f"/api/v1/rule-sets/{rule_set.pk}/rules/{template.rules.first().pk}"), 404)
    spare = office.post(f"/api/v1/rule-sets/{rule_set.pk}/rules",
                        {"kind": "bonus", "label": "临时项目", "metric": "entry", "mode": "per", "points": "1"},
                        format="json").json()["id"]
    _error(api(world.office, scope="read").delete(f"/api/v1/rule-sets/{rule_set.pk}/rules/{spare}"), 403)
    assert office.delete(f"/api/v1/rule-sets/{rule_set.pk}/rules/{spare}").status_code == 204
    assert Event.objects.filter(verb="rule_delete", payload__rule=spare).exists()

    entry_body = {"session": world.session.pk, "unit": world.lead_unit.pk, "rule": rule.json()["id"],
                  "quantity": "2", "evidence": "区领导批示两件"}
    _error(api(world.lead_office).post("/api/v1/score-entries", entry_body, format="json"), 403)
    response = office.post("/api/v1/score-entries", entry_body, format="json")
    assert response.status_code == 201, response.content
    entry = ScoreEntry.objects.get(pk=response.json()["id"])
    assert Event.objects.filter(verb="score_entry", payload__entry=entry.pk).exists()
    assert _ids(api(world.lead_office), "/api/v1/score-entries") == {entry.pk}
    assert _ids(api(world.other_office), "/api/v1/score-entries") == set()

    prep = {"session": world.session.pk, "unit": world.lead_unit.pk}
    _error(api(world.other_office).post("/api/v1/evaluations", prep, format="json"), 404)
    _error(api(world.proposer).post("/api/v1/evaluations", prep, format="json"), 404)
    response = api(world.lead_office).post("/api/v1/evaluations", prep, format="json")
    assert response.status_code == 201, response.content
    evaluation = Evaluation.objects.get(pk=response.json()["id"])
    assert Event.objects.filter(verb="evaluation_prepare", payload__evaluation=evaluation.pk).exists()
    _error(api(world.other_office).post(f"/api/v1/evaluations/{evaluation.pk}/submit", {}, format="json"), 404)
    _error(api(world.lead_handler).post(f"/api/v1/evaluations/{evaluation.pk}/submit", {}, format="json"), 403)
    _error(api(world.lead_office, scope="read").post(f"/api/v1/evaluations/{evaluation.pk}/submit", {},
                                                      format="json"), 403)
    submitted = api(world.lead_office).post(f"/api/v1/evaluations/{evaluation.pk}/submit", {"note": "已核对"},
                                            format="json")
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"
    _error(api(world.lead_office).post(f"/api/v1/evaluations/{evaluation.pk}/submit", {}, format="json"), 409)
    _error(api(world.lead_office).post(f"/api/v1/evaluations/{evaluation.pk}/decide", {}, format="json"), 403)
    decided = office.post(f"/api/v1/evaluations/{evaluation.pk}/decide", {"note": "确认"}, format="json")
    assert decided.status_code == 200 and decided.json()["state"] == "confirmed"
    assert _ids(api(world.other_office), "/api/v1/evaluations") == set()
    assert _ids(office, "/api/v1/evaluations") == {evaluation.pk}


# --- the OpenAPI document -----------------------------------------------------------------------------------


NEW_OPERATIONS = {
    "/api/v1/users": {"get", "post"}, "/api/v1/users/{id}": {"get", "patch"},
    "/api/v1/users/{id}/deactivate": {"post"},
    "/api/v1/role-grants": {"get", "post"}, "/api/v1/role-grants/{id}": {"get", "delete"},
    "/api/v1/proposers": {"get", "post"}, "/api/v1/proposers/{id}": {"get", "patch"},
    "/api/v1/proposals/{proposal_pk}/proposers": {"get", "post"},
    "/api/v1/proposals/{proposal_pk}/proposers/{id}": {"delete"},
    "/api/v1/deadline-policies": {"get", "post"}, "/api/v1/deadline-policies/{id}": {"get", "patch"},
    "/api/v1/commitments": {"get", "post"}, "/api/v1/commitments/{id}": {"get"},
    "/api/v1/contacts": {"get", "post"}, "/api/v1/contacts/{id}": {"get"},
    "/api/v1/co-opinions": {"get", "post"}, "/api/v1/co-opinions/{id}": {"get"},
    "/api/v1/feedback": {"get", "post"}, "/api/v1/feedback/{id}": {"get"},
    "/api/v1/rule-sets": {"get", "post"}, "/api/v1/rule-sets/{id}": {"get", "patch"},
    "/api/v1/rule-sets/{id}/rules": {"post"}, "/api/v1/rule-sets/{id}/rules/{rule_id}": {"patch", "delete"},
    "/api/v1/score-entries": {"get", "post"}, "/api/v1/score-entries/{id}": {"get"},
    "/api/v1/evaluations": {"get", "post"}, "/api/v1/evaluations/{id}": {"get"},
    "/api/v1/evaluations/{id}/submit": {"post"}, "/api/v1/evaluations/{id}/decide": {"post"},
}


def test_the_schema_lists_every_write_endpoint_with_the_one_error_body(world, api):
    schema = api(world.office).get("/api/v1/openapi.json").json()
    for path, methods in NEW_OPERATIONS.items():
        assert path in schema["paths"], path
        operations = {m for m in schema["paths"][path] if m in {"get", "post", "patch", "put", "delete"}}
        assert operations == methods, (path, operations)
        for method in methods:
            responses = schema["paths"][path][method]["responses"]
            for code in ("400", "401", "403", "404", "409"):
                ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/Error"), (path, method, code)
    kinds = schema["components"]["schemas"]["ProposerKindEnum"]["enum"]
    assert kinds == ["member", "deputy", "body", "sector", "committee"]


def test_a_letter_addresses_a_registered_deputy_as_such_and_a_committee_by_its_name(world, api):
    office = api(world.office)
    for name, kind in (("钱代表", "deputy"), ("社会法制委员会", "committee")):
        assert office.post("/api/v1/proposers", {"name": name, "kind": kind}, format="json").status_code == 201

    created = office.post("/api/v1/proposals", {
        "session": world.session.pk, "kind": "suggestion", "number": "J2025001", "title": "关于学位的建议",
        "proposers": [{"name": "孙", "kind": "deputy"}, {"name": "社会法制委员会", "kind": "committee"}]}, format="json")
    assert created.status_code == 201, created.content
    assert salutation_for(Proposal.objects.get(pk=created.json()["id"])) == "孙代表、社会法制委员会："
    assert Proposer.objects.filter(name="社会法制委员会").count() == 1
    second = office.post("/api/v1/proposals", {
        "session": world.session.pk, "kind": "suggestion", "number": "J2025002", "title": "关于医院的建议",
        "proposers": [{"name": "钱代表", "kind": "deputy"}, {"name": "社会法制委员会", "kind": "committee"}]},
        format="json")
    assert salutation_for(Proposal.objects.get(pk=second.json()["id"])) == "钱代表、社会法制委员会："
