"""Creations and every workflow action through the API, by the roles that may and may not take them."""
import datetime as dt

import pytest
from django.utils import timezone

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling.models import Event
from banli.organizations.models import User

pytestmark = pytest.mark.django_db


def act(client, assignment, action, body=None):
    return client.post(f"/api/v1/assignments/{assignment.pk}/actions/{action}", body or {}, format="json")


@pytest.fixture
def item(world):
    proposal = make_proposal(world)
    lead, co = assign(world, proposal)
    return proposal, lead, co


def test_the_office_registers_a_session_a_proposal_and_assigns_it(world, api):
    client = api(world.office)
    session = client.post("/api/v1/sessions", {"name": "区政协测试会议", "body": "cppcc", "level": "district",
                                               "year": 2025, "assigning_office": world.office_unit.pk}, format="json")
    assert session.status_code == 201, session.json()
    proposal = client.post("/api/v1/proposals", {"session": session.json()["id"], "number": "001",
                                                 "title": "关于停车难的提案", "proposers": ["李委员", "王委员"]},
                           format="json")
    assert proposal.status_code == 201, proposal.json()
    assert proposal.json()["proposers"] == ["李委员", "王委员"]
    assignment = client.post("/api/v1/assignments", {"proposal": proposal.json()["id"], "unit": world.lead_unit.pk,
                                                     "role": "lead"}, format="json")
    assert assignment.status_code == 201, assignment.json()
    assert assignment.json()["state"] == "pending_sign"
    assert Event.objects.filter(verb="assign", assignment_id=assignment.json()["id"]).exists()


def test_a_unit_cannot_register_sessions_or_proposals_or_assign(world, item, api):
    proposal, *_ = item
    client = api(world.lead_office)
    response = client.post("/api/v1/sessions", {"name": "x", "body": "cppcc", "level": "district", "year": 2025,
                                                "assigning_office": world.office_unit.pk}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    response = client.post("/api/v1/proposals", {"session": world.session.pk, "number": "9", "title": "t",
                                                 "proposers": ["甲"]}, format="json")
    assert response.status_code == 403
    response = client.post("/api/v1/assignments", {"proposal": proposal.pk, "unit": world.other_unit.pk, "role": "co"},
                           format="json")
    assert response.status_code == 403
    assert api(world.other_office).post("/api/v1/assignments", {"proposal": proposal.pk, "unit": world.other_unit.pk,
                                                                "role": "co"}, format="json").status_code == 404


def test_only_the_administrator_adds_units(world, api):
    body = {"name": "区民政局", "aliases": ["民政局"]}
    assert api(world.office).post("/api/v1/units", body, format="json").status_code == 403
    response = api(world.admin).post("/api/v1/units", body, format="json")
    assert response.status_code == 201 and response.json()["aliases"] == ["民政局"]


def test_a_duplicate_number_is_a_409_naming_the_field(world, item, api):
    proposal, *_ = item
    response = api(world.office).post("/api/v1/proposals", {"session": world.session.pk, "number": proposal.number,
                                                            "title": "t", "proposers": ["甲"]}, format="json")
    assert response.status_code == 409
    assert response.json()["field"] == "number" and "编号不能重复" in response.json()["message"]


def test_the_whole_lead_workflow_runs_through_the_api(world, item, api):
    proposal, lead, co = item
    office, handler, leader = api(world.lead_office), api(world.lead_handler), api(world.lead_leader)
    section_head, head = api(world.lead_section_head), api(world.lead_head)
    assert act(office, lead, "sign").json()["state"] == "signed"
    response = act(office, lead, "assign_handler", {"section": world.lead_section.pk, "handler": world.lead_handler.pk})
    assert response.json()["state"] == "in_progress" and response.json()["handler"] == world.lead_handler.label
    response = act(handler, lead, "log_contact", {"phase": "before", "method": "phone",
                                                  "contacted_on": timezone.localdate().isoformat(),
                                                  "people": "李委员", "summary": "电话听取意见"})
    assert response.status_code == 200, response.json()
    draft = handler.post("/api/v1/replies", {"assignment": lead.pk, "body": "答复正文草稿", "reply_class": "B"},
                         format="json")
    assert draft.status_code == 201 and draft.json()["state"] == "draft"
    response = act(handler, lead, "submit_reply", {"body": "经研究，答复如下：已列入计划。", "reply_class": "B"})
    assert response.json()["state"] == "reply_review", response.json()
    assert act(section_head, lead, "review_reply", {"approve": True}).status_code == 200
    returned = act(office, lead, "review_reply", {"approve": False, "reason": "请逐条答复"})
    assert returned.json()["state"] == "in_progress"
    act(handler, lead, "submit_reply", {"body": "经研究，逐条答复如下：一、…二、…", "reply_class": "B"})
    assert act(section_head, lead, "review_reply", {"approve": True}).status_code == 200
    assert act(office, lead, "review_reply", {"approve": True}).status_code == 200
    assert act(leader, lead, "review_reply", {"approve": True}).status_code == 200
    refused = act(leader, lead, "review_reply", {"approve": True})  # the deputy does not also sign as head
    assert refused.status_code == 403 and "不同的人" in refused.json()["message"]
    response = act(head, lead, "review_reply", {"approve": True})
    assert response.status_code == 200 and response.json()["created"]["type"] == "reply"
    assert act(office, lead, "send_reply").json()["state"] == "replied"
    response = act(handler, lead, "add_commitment", {"description": "年内建成停车场", "target_date": "2026-12-31"})
    assert response.status_code == 200
    commitment = lead.commitments.get()
    assert act(handler, lead, "complete_commitment", {"commitment": commitment.pk, "note": "已建成"}).status_code == 200
    assert act(api(world.proposer), lead, "rate", {"attitude": "satisfied", "result": "basic"}).json()["state"] == "replied"
    assert act(api(world.co_proposer), lead, "rate", {"attitude": "satisfied", "result": "satisfied"}).json()["state"] == "rated"
    assert act(api(world.office), lead, "close").json()["state"] == "closed"
    verbs = list(Event.objects.filter(assignment=lead).values_list("verb", flat=True))
    assert verbs[:3] == ["assign", "sign", "assign_section"] and verbs[-1] == "close"


def test_the_co_unit_sends_its_opinion_through_the_api(world, item, api):
    proposal, lead, co = item
    office = api(world.co_office)
    act(office, co, "sign")
    act(office, co, "assign_handler", {"section": world.co_section.pk, "handler": world.co_handler.pk})
    response = act(api(world.co_handler), co, "send_co_opinion", {"body": "同意主办单位意见", "contact_person": "赵磊"})
    assert response.json()["state"] == "opinion_sent"
    assert act(api(world.co_handler), co, "submit_reply", {"body": "x", "reply_class": "A"}).status_code == 400


def test_adjustment_and_extension_requests_are_decided_by_the_office(world, item, api):
    proposal, lead, co = item
    response = act(api(world.co_office), co, "request_adjustment", {"reason": "不属于本单位职责",
                                                                    "suggested_unit": world.other_unit.pk})
    assert response.json()["state"] == "adjustment_requested"
    response = act(api(world.office), co, "decide_adjustment", {"approve": True, "new_unit": world.other_unit.pk})
    assert response.json()["state"] == "withdrawn"
    assert proposal.assignments.filter(unit=world.other_unit, state="pending_sign").exists()
    a = walk_to(world, lead, "in_progress")
    due = a.reply_due + dt.timedelta(days=20)
    assert act(api(world.lead_office), a, "request_extension", {"reason": "需调研", "requested_due": due.isoformat()}).status_code == 200
    assert act(api(world.lead_office), a, "decide_extension", {"approve": True}).status_code == 403
    assert act(api(world.office), a, "decide_extension", {"approve": True}).json()["reply_due"] == due.isoformat()
    assert act(api(world.office), a, "decide_extension", {"approve": True}).status_code == 409  # decided a moment ago: a conflict


def test_an_unsatisfied_rating_leads_to_rehandling_and_withdraw_takes_an_item_back(world, item, api):
    proposal, lead, co = item
    a = walk_to(world, lead, "replied")
    act(api(world.proposer), a, "rate", {"attitude": "basic", "result": "unsatisfied", "comment": "未解决"})
    act(api(world.co_proposer), a, "rate", {"attitude": "satisfied", "result": "satisfied"})
    response = act(api(world.office), a, "rehandle", {"reason": "重新研究"})
    assert response.json()["state"] == "rehandling" and response.json()["round"] == 2
    assert act(api(world.office), co, "withdraw", {"reason": "误交"}).json()["state"] == "withdrawn"


def test_wrong_role_wrong_state_wrong_unit_are_403_400_404(world, item, api):
    proposal, lead, co = item
    response = act(api(world.lead_handler), lead, "sign")
    assert response.status_code == 403 and "没有权限" in response.json()["message"]
    response = act(api(world.lead_office), lead, "send_reply")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    response = act(api(world.other_office), lead, "sign")
    assert response.status_code == 404
    response = act(api(world.lead_office), lead, "request_adjustment", {})
    assert response.status_code == 400 and "reason" in response.json()["message"]
    lead.refresh_from_db()
    assert lead.state == "pending_sign"


def test_the_administrator_reads_everything_but_cannot_rate_or_sign(world, item, api):
    proposal, lead, co = item
    a = walk_to(world, lead, "replied")
    root = User.objects.create_superuser("root", "root@example.org", "x" * 12)
    for user in (world.admin, root):
        assert act(api(user), a, "rate", {"attitude": "satisfied", "result": "satisfied"}).status_code == 403
        assert act(api(user), co, "sign").status_code == 403
    a.refresh_from_db()
    assert a.state == "replied" and not a.feedbacks.exists()
