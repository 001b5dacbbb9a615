"""access.restrict(queryset, user, action): one rule per object type for lists (pages, API, exports, reports),
the same rule as the per-object check the pages use for one record.

The world is the permission matrix's (two units, an item replied and rated, a co-opinion, a copy, a template)
plus a draft in review at a 征求意见稿 step and a draft at the office's own check step, so that each rule's
every branch has a row to admit or refuse.
"""
from __future__ import annotations

import pytest
from django.db import transaction

from banli.core import access
from banli.core.testing import assign, make_proposal, walk_to
from banli.core.tests import matrix_world
from banli.handling.models import Assignment
from banli.organizations.models import Unit
from banli.proposals.models import Proposal, Session
from banli.replies import services as replies
from banli.replies.models import CoOpinion, DocumentTemplate, Feedback, Reply, ReplyDelivery

ROLES = ("public", "proposer", "other_proposer", "co_proposer", "lead_handler", "other_handler", "lead_office",
         "co_office", "co_handler", "other_office", "lead_leader", "office", "admin")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        block = transaction.atomic()
        block.__enter__()
        try:
            w = matrix_world.build()
            # Unit A consults the proposers on its drafts, then the office checks them itself, then a leader signs.
            replies.review_chain_set(unit=w.lead_unit, steps=[
                ("征求提案人意见", "unit_office", "consult"), ("督查室二次把关", "assigning_office"),
                ("签发", "leader")])
            lead, _ = assign(w, make_proposal(w, number="C001", title="征求意见稿事项"), co=False)
            walk_to(w, lead, "reply_review")
            lead, _ = assign(w, make_proposal(w, number="C002", title="交办机构核稿事项"), co=False)
            walk_to(w, lead, "reply_review")
            w.office_check = Reply.objects.get(assignment=lead, state="in_review")
            replies.reply_review(reply=w.office_check, actor=w.lead_office, approve=True)
            yield w
        finally:
            transaction.set_rollback(True)
            block.__exit__(None, None, None)


@pytest.fixture
def users(world, db):
    return {role: getattr(world, role) for role in ROLES}


CHECKS = {
    "proposal": (Proposal, "view", access.can_view_proposal),
    "assignment": (Assignment, "view", access.can_view_assignment),
    "reply": (Reply, "view", access.can_view_reply),
    "co_opinion": (CoOpinion, "view", access.can_view_co_opinion),
    "feedback": (Feedback, "view", access.can_view_feedback),
    "reply_copy": (ReplyDelivery, "view", access.can_view_reply_copy),
}


@pytest.mark.parametrize("kind", CHECKS)
def test_the_list_rule_admits_exactly_what_the_record_check_admits(users, kind):
    model, action, check = CHECKS[kind]
    rows = list(model.objects.all())
    assert rows
    for role, user in users.items():
        listed = set(access.restrict(model.objects.all(), user, action).values_list("pk", flat=True))
        checked = {row.pk for row in rows if check(user, row)}
        assert listed == checked, (kind, role, sorted(listed ^ checked))


def test_drafts_never_leave_the_unit_not_even_for_the_administrator(world, users):
    drafts = Reply.objects.exclude(state="sent")
    assert drafts.exists()
    assert not access.restrict(drafts, users["admin"]).exists()
    assert access.restrict(Reply.objects.filter(state="sent"), users["admin"]).exists()


def test_the_proposers_read_a_draft_at_a_consult_step_and_the_office_at_its_own_check(world, users):
    consult = Reply.objects.filter(state="in_review", assignment__proposal__number="C001")
    office_check = Reply.objects.filter(state="in_review", assignment__proposal__number="C002")
    assert access.restrict(consult, users["proposer"]).exists()
    assert not access.restrict(consult, users["office"]).exists()
    assert access.restrict(office_check, users["office"]).exists()
    assert not access.restrict(office_check, users["proposer"]).exists()


def test_templates_list_the_defaults_and_the_units_each_maintainer_keeps(world, users):
    template = world.template_a  # unit A's, uploaded by its unit office
    for role in ("lead_office", "office", "admin"):
        assert access.restrict(DocumentTemplate.objects.all(), users[role]).filter(pk=template.pk).exists(), role
    for role in ("lead_handler", "other_office", "proposer", "public"):
        assert not access.restrict(DocumentTemplate.objects.all(), users[role]).filter(pk=template.pk).exists(), role


def test_report_rules_narrow_any_queryset_of_sessions_and_units(world, users):
    for role, user in users.items():
        assert set(access.restrict(Session.objects.all(), user, "report")) == set(access.report_sessions(user)), role
        assert set(access.restrict(Unit.objects.filter(is_active=True), user, "report")) == set(
            access.report_units(user).filter(is_active=True)), role


def test_an_unknown_rule_is_a_programming_error(users):
    with pytest.raises(LookupError, match="proposals.proposal:delete"):
        access.restrict(Proposal.objects.all(), users["office"], "delete")
