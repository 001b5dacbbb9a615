"""The deadline engine: working days from the official holiday and 调休 calendar, months, fixed dates.

Working days come from the `chinesecalendar` package (the State Council's yearly notice, 调休 Saturdays
included). An administrator can override any day with a HolidayOverride row, which is how a year the
package does not know yet is entered.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import chinese_calendar

from banli.handling.choices import DeadlineStep, DeadlineUnit


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


class WorkCalendar:
    """Answers "is this a working day" from the package plus the overrides loaded once."""

    def __init__(self, overrides: dict[dt.date, bool] | None = None):
        self.overrides = overrides or {}

    @classmethod
    def load(cls) -> "WorkCalendar":
        from banli.handling.models import HolidayOverride

        return cls(dict(HolidayOverride.objects.values_list("date", "is_workday")))

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            # A year the package does not cover yet: weekdays work unless an override says otherwise.
            return day.weekday() < 5

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
    from banli.handling.models import DeadlinePolicy

    policy = None
    if session is not None and session.pk:
        policy = DeadlinePolicy.objects.filter(session=session, kind=kind, step=step).first()
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
