"""The notification centre lists what happened newest first by its date, also where the history was written
afterwards with its own dates (the demo's: the education bureau's list ran 8-28, 9-03, 7-10, 12-03, 12-02, 10-16)."""
import datetime as dt

from django.utils import timezone

from banli.core.testing import make_proposal
from banli.handling.choices import AssignmentRole
from banli.handling.services import assignment_create
from banli.workbench import selectors


def test_groups_and_their_entries_run_newest_first_by_date_not_by_when_they_were_written(world):
    now = timezone.now()
    recent, older = make_proposal(world), make_proposal(world)
    assignment_create(proposal=recent, unit=world.lead_unit, role=AssignmentRole.LEAD, actor=world.office,
                          now=now - dt.timedelta(days=2))
    # Written after, dated before: the older item's history arrives last.
    assignment_create(proposal=older, unit=world.lead_unit, role=AssignmentRole.LEAD, actor=world.office,
                          now=now - dt.timedelta(days=40))
    groups = selectors.notifications(world.lead_office)
    days = [g.day for g in groups]
    assert days == sorted(days, reverse=True) and len(days) == 2, days
    assert [g.proposal.pk for g in groups] == [recent.pk, older.pk]
    for group in groups:
        moments = [e.created_at for e in group.events]
        assert moments == sorted(moments, reverse=True)
