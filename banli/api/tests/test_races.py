"""Duplicate simultaneous requests through the API, on PostgreSQL: for every action and collection that creates
a row, 30 identical requests at once end in one success and 29 × 409, never a 500; what conflicts with nothing
(a contact, a commitment) succeeds 30 times. Each thread has its own connection and closes it.

The same races at the service level, two at a time: banli/handling/tests/test_concurrency.py."""
import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from banli.api.services import api_token_create
from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.models import AdjustmentRequest, ContactRecord, ExtensionRequest, SectionAssignment
from banli.replies import services as replies
from banli.replies.models import Commitment, CoOpinion, Feedback, Reply, ReplyDelivery, ReviewRecord
from banli.supervision.models import EventSubscription

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="real concurrent writers need PostgreSQL"),
]

PARALLEL = 30


def _race(user, url, body) -> Counter:
    """POST `body` to `url` as `user` from PARALLEL threads released together; the status codes counted."""
    key = api_token_create(user=user, scope="write")[1]
    clients = []
    for _ in range(PARALLEL):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        clients.append(client)
    barrier = threading.Barrier(PARALLEL)
    codes = [None] * PARALLEL
    bodies = [None] * PARALLEL
    _race.bodies, _race.codes = bodies, codes

    def run(i):
        try:
            barrier.wait(timeout=120)
            response = clients[i].post(url, body, format="json")
            codes[i] = response.status_code
            bodies[i] = response.json() if response["Content-Type"].startswith("application/json") else response.content
        except Exception as exc:  # a crash in the client is a failure of the test, reported below
            codes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    for code, answer in zip(codes, bodies):
        if code == 409:
            assert answer["code"] and answer["message"], answer
    return Counter(codes)


def _in_progress(world, proposal=None):
    lead, co = assign(world, proposal or make_proposal(world))
    return walk_to(world, lead, "in_progress"), co


def _action(a, key):
    return f"/api/v1/assignments/{a.pk}/actions/{key}"


def _scenarios(world):
    """(name, user, url, body, rows made, rows expected)"""
    today = dt.date.today()
    out = []

    lead, _ = assign(world, make_proposal(world))
    out.append(("request_adjustment", world.lead_office, _action(lead, "request_adjustment"), {"reason": "不属于本单位职责"},
                lambda a=lead: AdjustmentRequest.objects.filter(assignment=a).count(), 1))

    lead, _ = _in_progress(world)
    out.append(("request_extension", world.lead_office, _action(lead, "request_extension"),
                {"reason": "需实地调研", "requested_due": (lead.reply_due + dt.timedelta(days=10)).isoformat()},
                lambda a=lead: ExtensionRequest.objects.filter(assignment=a).count(), 1))

    lead, _ = _in_progress(world)
    out.append(("submit_reply", world.lead_handler, _action(lead, "submit_reply"),
                {"body": "经研究，答复如下：已扩建学校。", "reply_class": "A"},
                lambda a=lead: Reply.objects.filter(assignment=a).count(), 1))

    lead, _ = _in_progress(world)
    out.append(("POST /replies", world.lead_handler, "/api/v1/replies",
                {"assignment": lead.pk, "body": "草稿。", "reply_class": "A"},
                lambda a=lead: Reply.objects.filter(assignment=a).count(), 1))

    _, co = assign(world, make_proposal(world))
    co = handling.assignment_sign(assignment=co, actor=world.co_office)
    co = handling.assignment_assign_section(assignment=co, actor=world.co_office, section=world.co_section,
                                            handler=world.co_handler)
    out.append(("send_co_opinion", world.co_handler, _action(co, "send_co_opinion"), {"body": "同意主办单位意见。"},
                lambda a=co: CoOpinion.objects.filter(assignment=a).count(), 1))

    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "replied")
    out.append(("rate", world.proposer, _action(lead, "rate"), {"attitude": "satisfied", "result": "satisfied"},
                lambda a=lead: Feedback.objects.filter(assignment=a).count(), 1))

    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "reply_review")
    reply = Reply.objects.get(assignment=lead)
    for reviewer in (world.lead_section_head, world.lead_office, world.lead_leader, world.lead_head):
        reply = replies.reply_review(reply=reply, actor=reviewer, approve=True)
    out.append(("send_reply", world.lead_office, _action(lead, "send_reply"), {},
                lambda a=lead: ReplyDelivery.objects.filter(reply__assignment=a).values("reply").distinct().count(), 1))

    lead, _ = assign(world, make_proposal(world))
    lead = handling.assignment_sign(assignment=lead, actor=world.lead_office)
    out.append(("assign_handler", world.lead_office, _action(lead, "assign_handler"),
                {"section": world.lead_section.pk, "handler": world.lead_handler.pk,
                 "co_sections": [world.lead_section2.pk]},
                lambda a=lead: SectionAssignment.objects.filter(assignment=a).count(), 1))

    proposal = make_proposal(world)
    out.append(("POST /assignments", world.office, "/api/v1/assignments",
                {"proposal": proposal.pk, "unit": world.other_unit.pk, "role": "lead"},
                lambda p=proposal: p.assignments.count(), 1))

    out.append(("POST /proposals", world.office, "/api/v1/proposals",
                {"session": world.session.pk, "number": "R2025001", "title": "关于并发的提案", "proposers": ["李委员"]},
                lambda: world.session.proposals.filter(number="R2025001").count(), 1))

    lead, _ = assign(world, make_proposal(world))
    handling.adjustment_request(assignment=lead, actor=world.lead_office, reason="不属于本单位职责")
    out.append(("decide_adjustment", world.office, _action(lead, "decide_adjustment"),
                {"approve": True, "new_unit": world.other_unit.pk, "reason": "改交卫健局"},
                lambda a=lead: a.proposal.assignments.filter(unit=world.other_unit).count(), 1))

    lead, _ = _in_progress(world)
    handling.extension_request(assignment=lead, actor=world.lead_office, reason="需实地调研",
                               requested_due=lead.reply_due + dt.timedelta(days=10))
    out.append(("decide_extension", world.office, _action(lead, "decide_extension"),
                {"approve": True, "approved_due": (lead.reply_due + dt.timedelta(days=10)).isoformat()},
                lambda a=lead: ExtensionRequest.objects.filter(assignment=a, status="approved").count(), 1))

    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "reply_review")
    out.append(("review_reply", world.lead_section_head, _action(lead, "review_reply"), {"approve": True},
                lambda a=lead: ReviewRecord.objects.filter(reply__assignment=a).count(), 1))

    out.append(("POST /subscriptions", world.office, "/api/v1/subscriptions",
                {"name": "省平台", "url": "http://127.0.0.1:9/hook", "verbs": ["sign"]},
                lambda: EventSubscription.objects.filter(name="省平台").count(), PARALLEL))

    lead, _ = _in_progress(world)
    out.append(("log_contact", world.lead_handler, _action(lead, "log_contact"),
                {"phase": "before", "method": "phone", "contacted_on": today.isoformat(), "people": "李委员",
                 "summary": "电话沟通办理思路。"},
                lambda a=lead: ContactRecord.objects.filter(assignment=a).count(), PARALLEL))

    lead, _ = _in_progress(world)
    out.append(("add_commitment", world.lead_handler, _action(lead, "add_commitment"),
                {"description": "年内新建幼儿园一所", "target_date": (today + dt.timedelta(days=90)).isoformat()},
                lambda a=lead: Commitment.objects.filter(assignment=a).count(), PARALLEL))
    return out


def test_thirty_identical_requests_make_one_row_and_twenty_nine_conflicts_never_a_server_error(world):
    failures = []
    for name, user, url, body, rows, expected_rows in _scenarios(world):
        codes = _race(user, url, body)
        success = 201 if url.endswith(("/replies", "/assignments", "/proposals", "/subscriptions")) else 200
        expected = {success: PARALLEL} if expected_rows == PARALLEL else {success: 1, 409: PARALLEL - 1}
        if name in ("POST /replies", "assign_handler"):
            # Saving a draft revises the open draft once there is one, and a section may be re-assigned while
            # the item is in progress: the first request creates the row, the ones that read before it was
            # committed get 409, the later ones are that revision (with the same content: still one row).
            expected = {success: codes[success], 409: PARALLEL - codes[success]} if codes[success] else {success: 1}
        if dict(codes) != {k: v for k, v in expected.items() if v} or rows() != expected_rows:
            odd = {str(b)[:160] for c, b in zip(_race.codes, _race.bodies) if c not in (success, 409)}
            failures.append(f"{name}: {dict(codes)} (expected {expected}), {rows()} rows (expected {expected_rows}) {odd}")
    assert not failures, "\n".join(failures)
    # Every thread closed its connection: none of this test's sessions is left open.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        assert cursor.fetchone()[0] == 0

