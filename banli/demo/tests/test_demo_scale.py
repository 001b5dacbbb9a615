"""`load_demo --scale N`: generated proposals whose rows agree with each other as the services would leave them."""
from __future__ import annotations

import io
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count

from banli.core import eventlog
from banli.handling.deadlines import next_due
from banli.handling.models import Assignment, Event
from banli.handling.workflow import STATES, TRANSITIONS, derive_proposal_status
from banli.proposals.models import Proposal, Session
from banli.replies.models import CoOpinion, Feedback, Reply


def _generate(n=470, **options):
    out = io.StringIO()
    call_command("load_demo", scale=n, batch=70, stdout=out, **options)
    return Session.objects.get(name__startswith=f"压测届次（{n}条交办"), out.getvalue()


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """The same load (470 assignments) for the module's checks, which only read it: generated once (each test made
    its own before), rolled back at the module's end."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            yield _generate()
            transaction.set_rollback(True)


def test_scale_counts_assignments_generated_in_batches_and_ends_with_analyze(generated, db):
    session, output = generated
    assignments = Assignment.objects.filter(session=session).count()
    proposals = Proposal.objects.filter(session=session).count()
    assert 470 <= assignments <= 470 * 1.05 + 5  # the last batch is sized to what is left
    assert 150 < proposals < 260
    assert f"已生成 {proposals} 件提案、{assignments} 条交办" in output and "ANALYZE" in output
    numbers = set(Proposal.objects.filter(session=session).values_list("number", flat=True))
    assert len(numbers) == proposals


def test_scale_rows_are_consistent_states_events_versions_and_derived_status(generated, db):
    session, _ = generated
    assignments = list(Assignment.objects.filter(proposal__session=session))
    events = defaultdict(list)
    for event in Event.objects.filter(proposal__session=session, assignment__isnull=False).order_by("created_at", "id"):
        events[event.assignment_id].append(event)
    for a in assignments:
        history = events[a.pk]
        assert history[0].verb == "assign" and history[0].to_state == "pending_sign"
        assert {e.unit_id for e in history} == {a.unit_id}  # the unit is copied on each of its events
        changes = [e for e in history if e.from_state != e.to_state]
        # Each state change starts where the previous one ended and is a legal transition.
        state = "pending_sign"
        for e in changes[1:]:
            assert e.from_state == state, (a.pk, e.verb)
            assert e.verb in TRANSITIONS and state in TRANSITIONS[e.verb].sources, (a.pk, e.verb, state)
            assert a.role in TRANSITIONS[e.verb].assignment_roles
            state = e.to_state
        assert state == a.state
        assert a.version == len(history)  # one increment per action after the assignment
        assert all(e.created_at >= a.assigned_at for e in history)
        assert a.sign_due and a.reply_due and a.reply_due_max and a.opinion_due
        assert (a.next_due, a.next_due_kind) == next_due(a)  # the bulk load stores the deadline owed next
        if a.state in ("replied", "rated", "closed") and a.role != "co":
            assert a.replied_at or a.round > 1
            assert Reply.objects.filter(assignment=a, state="sent").exists()
        if a.state == "opinion_sent":
            assert a.opinion_sent_at and CoOpinion.objects.filter(assignment=a, state="sent").exists()
        if a.state == "rated":
            linked = a.proposal.proposer_links.count()
            assert Feedback.objects.filter(assignment=a).count() == linked
    for proposal in Proposal.objects.filter(session=session).prefetch_related("assignments"):
        assert proposal.status == derive_proposal_status([(x.role, x.state) for x in proposal.assignments.all()])


def test_scale_covers_the_common_states_and_its_event_chains_verify(generated, db):
    session, _ = generated
    states = set(Assignment.objects.filter(proposal__session=session).values_list("state", flat=True))
    assert {"pending_sign", "in_progress", "opinion_sent", "replied", "closed"} <= states <= set(STATES)
    checked, broken = eventlog.verify()
    assert broken is None and checked == Event.objects.count()
    per_proposal = Event.objects.filter(proposal__session=session, verb="register").values("proposal").annotate(
        n=Count("id"))
    assert all(row["n"] == 1 for row in per_proposal) and len(per_proposal) == Proposal.objects.filter(session=session).count()
