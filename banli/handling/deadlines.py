"""The deadline engine: working days from the official holiday and 调休 calendar, months, fixed dates, and
the one rule saying which deadline an assignment owes next (`next_due`).

Working days come from the `chinesecalendar` package (the State Council's yearly notice, 调休 Saturdays
included). An administrator can override any day with a HolidayOverride row, which is how a year the
package does not know yet is entered.
"""
from __future__ import annotations

import calendar
import datetime as dt
import time
from dataclasses import dataclass

import chinese_calendar
from django.core.cache import cache
from django.utils import timezone
from django.db.models import Case, CharField, DateField, F, Q, Value, When

# The module, not its names: handling.models imports this module back (a cycle that Django enters from models).
from banli.handling import models
from banli.handling.choices import AssignmentRole, AssignmentState, DeadlineStep, DeadlineUnit, DueKind

_PACKAGE_HOLIDAYS = chinese_calendar.constants.holidays
_PACKAGE_WORKDAYS = chinese_calendar.constants.workdays


@dataclass(frozen=True)
class Rule:
    """How one step's deadline is counted."""

    unit: str
    amount: int = 0
    fixed_date: dt.date | None = None


DEFAULT_RULES: dict[str, Rule] = {
    DeadlineStep.SIGN: Rule(DeadlineUnit.WORKING_DAYS, 3),
    DeadlineStep.ADJUST: Rule(DeadlineUnit.WORKING_DAYS, 7),
    DeadlineStep.CO_OPINION: Rule(DeadlineUnit.MONTHS, 1),
    DeadlineStep.REPLY: Rule(DeadlineUnit.MONTHS, 3),
    DeadlineStep.REPLY_MAX: Rule(DeadlineUnit.MONTHS, 6),
    DeadlineStep.FEEDBACK: Rule(DeadlineUnit.WORKING_DAYS, 15),
    DeadlineStep.REHANDLE: Rule(DeadlineUnit.MONTHS, 1),
    DeadlineStep.DISCLOSURE: Rule(DeadlineUnit.WORKING_DAYS, 20),
}


CALENDAR_VERSION_KEY = "work-calendar-version"
CALENDAR_CACHE_SECONDS = 60


def forget_calendar(**kwargs) -> None:
    """The entered days changed: cached answers of WorkCalendar.add_working_days_cached no longer hold."""

    cache.set(CALENDAR_VERSION_KEY, time.time_ns(), None)


# The workbench's yellow light and the 催办 page's "due soon": a deadline within this many working days.
WARNING_WORKING_DAYS = 5


class WorkCalendar:
    """Answers "is this a working day" from the package plus the overrides loaded once."""

    def __init__(self, overrides: dict[dt.date, bool] | None = None):
        self.overrides = overrides or {}

    @classmethod
    def load(cls) -> "WorkCalendar":
        return cls(dict(models.HolidayOverride.objects.values_list("date", "is_workday")))

    @classmethod
    def add_working_days_cached(cls, start: dt.date, days: int) -> dt.date:
        """add_working_days over the stored calendar, remembered a minute (pages ask it on every view); any change
        to the entered days forgets it at once in this process (forget_calendar), others see it within the minute."""
        version = cache.get(CALENDAR_VERSION_KEY, 0)
        key = f"work-calendar:{version}:{start.isoformat()}:{days}"
        day = cache.get(key)
        if day is None:
            day = cls.load().add_working_days(start, days)
            cache.set(key, day, CALENDAR_CACHE_SECONDS)
        return day

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        # The package's own rule, read from its tables directly: its is_workday() first scans every holiday
        # to check the year is covered (most of the deadline scan's time). A year it does not cover has no
        # entries, so weekdays work there unless an override says otherwise, as the package's fallback would.
        return day in _PACKAGE_WORKDAYS or (day.weekday() < 5 and day not in _PACKAGE_HOLIDAYS)

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The `days`-th working day after `start` (start itself never counts)."""
        if days <= 0:
            return start
        day = start
        counted = 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end`; negative when `end` is before `start`."""
        if end == start:
            return 0
        sign = 1 if end > start else -1
        lo, hi = (start, end) if sign > 0 else (end, start)
        count = 0
        day = lo
        while day < hi:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return sign * count

    def next_workday(self, day: dt.date) -> dt.date:
        """`day` itself when it is a working day, else the next one (a deadline never falls on a holiday)."""
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return day


def add_months(start: dt.date, months: int) -> dt.date:
    """Same day `months` later, clamped to the month's end: 30 Nov + 3 months is 28 (or 29) Feb."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


def rule_for(session, kind: str, step: str) -> Rule:
    """The session's policy for this kind and step, or the default."""
    policy = None
    if session is not None and session.pk:
        policy = models.DeadlinePolicy.objects.filter(session=session, kind=kind, step=step).first()
    if policy is None:
        return DEFAULT_RULES[step]
    return Rule(policy.unit, policy.amount, policy.fixed_date)


def apply_rule(rule: Rule, start: dt.date, work_calendar: WorkCalendar | None = None) -> dt.date:
    """The due date of a step that starts on `start` under `rule`."""
    if rule.unit == DeadlineUnit.FIXED_DATE:
        return rule.fixed_date
    if rule.unit == DeadlineUnit.CALENDAR_DAYS:
        return start + dt.timedelta(days=rule.amount)
    if rule.unit == DeadlineUnit.MONTHS:
        return add_months(start, rule.amount)
    cal = work_calendar or WorkCalendar.load()
    return cal.add_working_days(start, rule.amount)


def due_date(session, kind: str, step: str, start: dt.date, work_calendar: WorkCalendar | None = None) -> dt.date:
    """Compute one step's due date from the session's policy."""
    return apply_rule(rule_for(session, kind, step), start, work_calendar)


class RehandleDeadlines:
    """The re-handling deadline of items rated 不满意 (DeadlineStep.REHANDLE counted from the rating's day), for
    many rows at once: one policy read per session and kind, the calendar read once and only when needed."""

    def __init__(self):
        self._rules: dict[tuple[int, str], Rule] = {}
        self._calendar: WorkCalendar | None = None

    def due(self, session, kind: str, rated_on: dt.date) -> dt.date:
        key = (session.pk, kind)
        if key not in self._rules:
            self._rules[key] = rule_for(session, kind, DeadlineStep.REHANDLE)
        rule = self._rules[key]
        if rule.unit == DeadlineUnit.WORKING_DAYS and self._calendar is None:
            self._calendar = WorkCalendar.load()
        return apply_rule(rule, rated_on, self._calendar)


def assignment_deadlines(session, kind: str, start: dt.date) -> dict[str, dt.date]:
    """All deadlines an assignment gets when it is made on `start`."""
    cal = WorkCalendar.load()
    reply_due = due_date(session, kind, DeadlineStep.REPLY, start, cal)
    return {
        "sign_due": due_date(session, kind, DeadlineStep.SIGN, start, cal),
        "adjust_due": due_date(session, kind, DeadlineStep.ADJUST, start, cal),
        "opinion_due": due_date(session, kind, DeadlineStep.CO_OPINION, start, cal),
        "reply_due": reply_due,
        "reply_due_original": reply_due,
        "reply_due_max": due_date(session, kind, DeadlineStep.REPLY_MAX, start, cal),
    }


# --- the next deadline an assignment owes ------------------------------------------------------------------

_S, _R = AssignmentState, AssignmentRole
_ANSWERING = (_R.LEAD, _R.SPLIT)

# THE rule: in these states, for these roles, this due column is the one the assignment owes next.
# Every other (state, role) owes nothing: the item waits on someone else (adjustment_requested waits for the
# office's decision, rated for closing) or is done. A co unit's opinion deadline, like a lead unit's reply
# deadline, applies only once it has signed: while an item is pending_sign, signing is what is due.
# Assignment.next_due / next_due_kind store its result; `next_due()` computes it for one row in Python and
# `next_due_updates()` renders the same table as SQL for the UPDATEs that recompute many rows at once.
NEXT_DUE_RULE: tuple[tuple[tuple[str, ...], tuple[str, ...], str, str], ...] = (
    ((_S.PENDING_SIGN,), tuple(_R.values), "sign_due", DueKind.SIGN),
    ((_S.SIGNED, _S.IN_PROGRESS), (_R.CO,), "opinion_due", DueKind.OPINION),
    ((_S.SIGNED, _S.IN_PROGRESS, _S.REPLY_REVIEW, _S.REHANDLING), _ANSWERING, "reply_due", DueKind.REPLY),
    ((_S.REPLIED,), _ANSWERING, "feedback_due", DueKind.FEEDBACK),
)

# The fields the rule reads: a write that changes one of them must recompute next_due.
NEXT_DUE_INPUTS = frozenset({"state", "role", *(column for _, _, column, _ in NEXT_DUE_RULE)})


def next_due(assignment) -> tuple[dt.date | None, str]:
    """The deadline `assignment` (anything with state, role and the *_due attributes) owes next, and its kind
    (a DueKind value); (None, "") when it owes none."""
    for states, roles, column, kind in NEXT_DUE_RULE:
        if assignment.state in states and assignment.role in roles:
            due = getattr(assignment, column)
            return (due, str(kind)) if due is not None else (None, "")
    return None, ""


def next_due_updates(known: dict | None = None) -> dict:
    """`next_due` and `next_due_kind` as SQL expressions for an UPDATE, from the same NEXT_DUE_RULE.

    `known` holds the plain values the same UPDATE writes (state, due columns): SQL's SET reads the row as it
    was, so those are put into the expressions as constants, and the stored result is the new row's."""
    known = known or {}
    for name in NEXT_DUE_INPUTS & known.keys():
        if hasattr(known[name], "resolve_expression"):
            raise TypeError(f"next_due cannot follow {name} set to an expression; set it to a value")
    due_whens, kind_whens = [], []
    for states, roles, column, kind in NEXT_DUE_RULE:
        condition = Q()
        if "state" in known:
            if known["state"] not in states:
                continue
        else:
            condition &= Q(state__in=states)
        if "role" in known:
            if known["role"] not in roles:
                continue
        elif set(roles) != set(_R.values):
            condition &= Q(role__in=roles)
        if column in known:
            if known[column] is None:
                continue
            due = Value(known[column], output_field=DateField())
        else:
            due = F(column)
            condition &= Q(**{f"{column}__isnull": False})
        if not condition:
            # Every input is known and this entry applies: the result is a constant.
            return {"next_due": due, "next_due_kind": Value(str(kind))}
        due_whens.append(When(condition, then=due))
        kind_whens.append(When(condition, then=Value(str(kind))))
    return {
        "next_due": Case(*due_whens, default=Value(None), output_field=DateField()) if due_whens else None,
        "next_due_kind": Case(*kind_whens, default=Value(""), output_field=CharField()) if kind_whens else "",
    }


@dataclass
class Clock:
    """Today and the end of the warning window, computed once per request."""

    today: dt.date
    warn_until: dt.date

    @classmethod
    def now(cls, today: dt.date | None = None) -> "Clock":
        today = today or timezone.localdate()
        return cls(today=today, warn_until=WorkCalendar.add_working_days_cached(today, WARNING_WORKING_DAYS))

    def light(self, due: dt.date | None) -> str:
        if due is None:
            return "none"
        if due < self.today:
            return "red"
        if due <= self.warn_until:
            return "yellow"
        return "green"
