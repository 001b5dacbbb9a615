"""What is due within N working days / overdue: one indexed query."""
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from banli.core.testing import assign, make_proposal
from banli.handling.deadlines import WorkCalendar
from banli.handling.selectors import assignments_due, assignments_overdue

pytestmark = pytest.mark.django_db


def test_due_within_working_days_spans_the_national_day_holiday_in_one_query(world):
    # Assigned Friday 26 Sep 2025: signing is due Tuesday 30 Sep (Sunday 28 Sep is a 调休 working day).
    start = timezone.make_aware(dt.datetime(2025, 9, 26, 9))
    lead, co = assign(world, make_proposal(world), now=start)
    later, _ = assign(world, make_proposal(world), co=False, now=timezone.make_aware(dt.datetime(2025, 10, 9, 9)))
    cal = WorkCalendar({})
    with CaptureQueriesContext(connection) as ctx:
        due = list(assignments_due("sign", within_working_days=1, today=dt.date(2025, 9, 29), work_calendar=cal))
    assert len(ctx.captured_queries) == 1
    assert {a.pk for a in due} == {lead.pk, co.pk}
    # On 29 Sep, two working days ahead is 9 Oct (the holiday runs 1–8 Oct): the later item is not due yet.
    assert later.sign_due == dt.date(2025, 10, 13)  # 11 Oct is a 调休 Saturday
    assert later.pk not in {a.pk for a in assignments_due("sign", within_working_days=2, today=dt.date(2025, 9, 29), work_calendar=cal)}


def test_overdue_lists_only_open_steps_past_their_date(world):
    start = timezone.make_aware(dt.datetime(2025, 3, 3, 9))
    lead, co = assign(world, make_proposal(world), now=start)
    assert {a.pk for a in assignments_overdue("sign", today=dt.date(2025, 3, 7))} == {lead.pk, co.pk}
    assert list(assignments_overdue("sign", today=dt.date(2025, 3, 6))) == []
    assert [a.pk for a in assignments_overdue("co_opinion", today=dt.date(2025, 4, 4))] == []  # not signed yet
