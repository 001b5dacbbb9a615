"""Duplicate simultaneous requests to the integrator's write endpoints (issue 17, point 16), on PostgreSQL: 30
identical creations at once make one row; the other 29 answer 409 with the one error body, never a 500."""
import pytest
from django.db import connection  # noqa: F401 (the skipif condition reads it)

from banli.api.tests.test_races import PARALLEL, _race
from banli.core.testing import assign, make_proposal, walk_to
from banli.handling.models import DeadlinePolicy
from banli.organizations.models import RoleGrant, User
from banli.proposals.models import ProposalProposer, Proposer
from banli.replies.models import Feedback

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="real concurrent writers need PostgreSQL"),
]


def _scenarios(world):
    """(name, user, url, body, rows made)"""
    out = [
        ("POST /users", world.admin, "/api/v1/users", {"username": "race_user", "display_name": "并发用户"},
         lambda: User.objects.filter(username="race_user").count()),
        ("POST /role-grants", world.admin, "/api/v1/role-grants",
         {"user": world.other_handler.pk, "role": "leader", "unit": world.other_unit.pk},
         lambda: RoleGrant.objects.filter(user=world.other_handler, role="leader").count()),
        ("POST /proposers", world.office, "/api/v1/proposers", {"name": "致公党深圳市委会", "kind": "body"},
         lambda: Proposer.objects.filter(name="致公党深圳市委会").count()),
        ("POST /deadline-policies", world.office, "/api/v1/deadline-policies",
         {"session": world.session.pk, "kind": "proposal", "step": "reply", "unit": "working_days", "amount": 60},
         lambda: DeadlinePolicy.objects.filter(session=world.session, step="reply").count()),
    ]
    proposal = make_proposal(world, proposers=[world.proposer_record])
    out.append(("POST /proposals/{id}/proposers", world.office, f"/api/v1/proposals/{proposal.pk}/proposers",
                {"proposer": world.co_proposer_record.pk},
                lambda p=proposal: ProposalProposer.objects.filter(proposal=p, proposer=world.co_proposer_record).count()))
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "replied")
    out.append(("POST /feedback", world.proposer, "/api/v1/feedback",
                {"assignment": lead.pk, "attitude": "satisfied", "result": "satisfied"},
                lambda a=lead: Feedback.objects.filter(assignment=a).count()))
    return out


def test_thirty_identical_creations_make_one_row_and_twenty_nine_conflicts(world):
    failures = []
    for name, user, url, body, rows in _scenarios(world):
        codes = _race(user, url, body)
        if dict(codes) != {201: 1, 409: PARALLEL - 1} or rows() != 1:
            failures.append(f"{name}: {dict(codes)}, {rows()} rows")
    assert not failures, "\n".join(failures)
