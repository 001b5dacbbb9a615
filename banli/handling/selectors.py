"""Reads for assignments: what is due soon and what is overdue, each one indexed query."""
from __future__ import annotations

import datetime as dt

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from banli.handling.choices import ROLE_ORDER, DueKind, RequestStatus
from banli.handling.deadlines import WorkCalendar
from banli.handling.models import Assignment

# The steps callers name, as the kinds stored in Assignment.next_due_kind (the rule is handling.deadlines.next_due).
STEP_KINDS: dict[str, str] = {
    "sign": DueKind.SIGN,
    "co_opinion": DueKind.OPINION,
    "reply": DueKind.REPLY,
    "feedback": DueKind.FEEDBACK,
}


def due_horizon(within_working_days: int, *, today: dt.date | None = None, work_calendar: WorkCalendar | None = None) -> dt.date:
    """The last date that is at most `within_working_days` working days from today."""
    today = today or timezone.localdate()
    cal = work_calendar or WorkCalendar.load()
    return cal.add_working_days(today, within_working_days)


def assignments_due(step: str, *, within_working_days: int = 0, today: dt.date | None = None,
                    base: QuerySet | None = None, work_calendar: WorkCalendar | None = None) -> QuerySet:
    """Assignments whose next deadline is of `step` and falls within N working days or has passed.

    The horizon date is computed in Python from the calendar; the database then does a range scan on the
    stored next_due column. Restrict with `base` (e.g. a user's visible assignments).
    """
    qs = base if base is not None else Assignment.objects.all()
    horizon = due_horizon(within_working_days, today=today, work_calendar=work_calendar)
    return qs.filter(next_due_kind=STEP_KINDS[step], next_due__lte=horizon).order_by("next_due", "id")


def assignments_overdue(step: str, *, today: dt.date | None = None, base: QuerySet | None = None) -> QuerySet:
    """Assignments whose next deadline is of `step` and has passed."""
    today = today or timezone.localdate()
    qs = base if base is not None else Assignment.objects.all()
    return qs.filter(next_due_kind=STEP_KINDS[step], next_due__lt=today).order_by("next_due", "id")


def role_rank(prefix: str = ""):
    """An expression ordering an item's units as they are named everywhere: 主办, then 分办, then 会办 (ordering by
    the role's stored code put 会办 "co" before 主办 "lead")."""
    field = f"{prefix}role"
    return Case(*(When(**{field: role}, then=Value(rank)) for role, rank in ROLE_ORDER.items()),
                default=Value(len(ROLE_ORDER)), output_field=IntegerField())


def pending_request(model, assignment, *related):
    """The unit's request waiting for the office's decision (an AdjustmentRequest or ExtensionRequest), or None."""
    return (model.objects.filter(assignment=assignment, status=RequestStatus.PENDING).select_related(*related)
            .order_by("-requested_at").first())
