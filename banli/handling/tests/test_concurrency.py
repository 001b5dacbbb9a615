"""Real races on the real database: two users act at the same moment; one wins, one gets a clear conflict."""
import threading

import pytest
from django.db import connection

from banli.core.errors import ConflictError
from banli.core.testing import assign, build_world, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.models import Assignment, Event
from banli.replies import services as replies
from banli.replies.models import Reply


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = ("ok", call())
        except Exception as exc:  # the loser's error is the point of the test
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_offices_signing_at_once_produce_one_signature_and_one_conflict():
    world = build_world()
    lead, _ = assign(world, make_proposal(world))
    first = Assignment.objects.get(pk=lead.pk)
    second = Assignment.objects.get(pk=lead.pk)
    results = _race(
        lambda: handling.assignment_sign(assignment=first, actor=world.lead_office),
        lambda: handling.assignment_sign(assignment=second, actor=world.lead_office),
    )
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, ConflictError) and "刷新后重试" in error.message
    assert Event.objects.filter(assignment=lead, verb="sign").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_leaders_signing_off_at_once_produce_one_approval_one_conflict_and_one_event():
    world = build_world()
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "reply_review")
    reply = replies.reply_review(reply=Reply.objects.get(assignment=lead), actor=world.lead_section_head, approve=True)
    reply = replies.reply_review(reply=reply, actor=world.lead_office, approve=True)
    first = Reply.objects.get(pk=reply.pk)
    second = Reply.objects.get(pk=reply.pk)
    results = _race(
        lambda: replies.reply_review(reply=first, actor=world.lead_leader, approve=True),
        lambda: replies.reply_review(reply=second, actor=world.lead_leader, approve=True),
    )
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    assert isinstance(next(v for k, v in results if k == "error"), ConflictError)
    assert Event.objects.filter(assignment=lead, verb="approve_reply").count() == 3  # section, office, one leader
