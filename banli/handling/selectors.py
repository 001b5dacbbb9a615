"""Reads for assignments: what is due soon and what is overdue, each one indexed query."""
from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from banli.handling.deadlines import WorkCalendar
from banli.handling.models import Assignment

# Which deadline column applies in which states (the step is still open while the item is in these states).
DUE_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sign": ("sign_due", ("pending_sign",)),
    "co_opinion": ("opinion_due", ("signed", "in_progress")),
    "reply": ("reply_due", ("signed", "in_progress", "reply_review", "rehandling")),
    "feedback": ("feedback_due", ("replied",)),
}


def due_horizon(within_working_days: int, *, today: dt.date | None = None, work_calendar: WorkCalendar | None = None) -> dt.date:
    """The last date that is at most `within_working_days` working days from today."""
    today = today or timezone.localdate()
    cal = work_calendar or WorkCalendar.load()
    return cal.add_working_days(today, within_working_days)


def assignments_due(step: str, *, within_working_days: int = 0, today: dt.date | None = None,
                    base: QuerySet | None = None, work_calendar: WorkCalendar | None = None) -> QuerySet:
    """Assignments whose `step` deadline falls within N working days or has passed (one indexed query).

    The horizon date is computed in Python from the calendar; the database then does a range scan on the
    (state, <step>_due) index. Restrict with `base` (e.g. a user's visible assignments).
    """
    column, states = DUE_COLUMNS[step]
    if step == "co_opinion":
        base = (base if base is not None else Assignment.objects.all()).filter(role="co")
    elif step in ("reply", "feedback"):
        base = (base if base is not None else Assignment.objects.all()).filter(role__in=("lead", "split"))
    qs = base if base is not None else Assignment.objects.all()
    horizon = due_horizon(within_working_days, today=today, work_calendar=work_calendar)
    return qs.filter(state__in=states, **{f"{column}__lte": horizon}).order_by(column, "id")


def assignments_overdue(step: str, *, today: dt.date | None = None, base: QuerySet | None = None) -> QuerySet:
    """Assignments whose `step` deadline has passed and the step is still open."""
    column, _ = DUE_COLUMNS[step]
    today = today or timezone.localdate()
    return assignments_due(step, within_working_days=0, today=today, base=base,
                           work_calendar=WorkCalendar({})).filter(**{f"{column}__lt": today})
