"""Reads for assignments: what is due soon and what is overdue, each one indexed query."""
from __future__ import annotations

import datetime as dt

from django.db.models import Case, CharField, DateField, F, Q, QuerySet, Value, When
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


ANSWERING_ROLES = ("lead", "split")


def _next_due_steps():
    """(kind, column, condition) in the order they are tried; the first that holds gives the next due date."""
    sign_col, sign_states = DUE_COLUMNS["sign"]
    op_col, op_states = DUE_COLUMNS["co_opinion"]
    reply_col, reply_states = DUE_COLUMNS["reply"]
    fb_col, fb_states = DUE_COLUMNS["feedback"]
    return [
        ("sign", sign_col, Q(state__in=sign_states)),
        ("adjust", "adjust_due", Q(state="adjustment_requested")),
        ("co_opinion", op_col, Q(role="co", state__in=op_states)),
        ("reply", reply_col, Q(role__in=ANSWERING_ROLES, state__in=reply_states)),
        ("feedback", fb_col, Q(role__in=ANSWERING_ROLES, state__in=fb_states)),
    ]


def next_due_rule(assignment) -> tuple[str, dt.date | None]:
    """The step an assignment is at and its deadline, from its columns (the rule the SQL expressions repeat)."""
    sign_states = DUE_COLUMNS["sign"][1]
    state, role = assignment.state, assignment.role
    if state in sign_states:
        return "sign", assignment.sign_due
    if state == "adjustment_requested":
        return "adjust", assignment.adjust_due
    if role == "co" and state in DUE_COLUMNS["co_opinion"][1]:
        return "co_opinion", assignment.opinion_due
    if role in ANSWERING_ROLES and state in DUE_COLUMNS["reply"][1]:
        return "reply", assignment.reply_due
    if role in ANSWERING_ROLES and state in DUE_COLUMNS["feedback"][1]:
        return "feedback", assignment.feedback_due
    return "", None


def next_due_sql_expression():
    return Case(*[When(cond, then=F(col)) for _k, col, cond in _next_due_steps()], default=Value(None),
                output_field=DateField())


def next_due_kind_sql_expression():
    return Case(*[When(cond, then=Value(kind)) for kind, _c, cond in _next_due_steps()], default=Value(""),
                output_field=CharField())


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
