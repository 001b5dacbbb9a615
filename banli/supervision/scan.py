"""The deadline scan: which items reach a warning threshold or are overdue today, found by indexed queries.

For each kind of deadline the scan runs ONE query over its deadline column: the rows whose due date lies
in one of today's threshold windows or before today. The windows are computed in Python from the working
calendar, so the database only compares dates against constants (an index range scan on
(state, <due column>)). Each returned row is then classified by its due date (memoised per date), never by
looping over all rows.

Thresholds are working days. A due date D is `r` working days away when r working days lie in (today, D].
Threshold t (with the next lower threshold l, or 0) fires while l < r <= t, so a scan missed on one day is
caught up the next working day, and a deadline on a holiday is warned about on the working days before.
Overdue items get one reminder per working day late (-1, -2, …).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.db.models import Q

from banli.handling.deadlines import WorkCalendar
from banli.handling.workflow import OPEN_STATES
from banli.supervision.choices import ReminderKind


@dataclass(frozen=True)
class KindSpec:
    """Where one kind of deadline lives and which rows still owe it."""

    kind: str
    model: str  # "assignment" or "commitment"
    due_field: str
    filters: dict


KINDS: tuple[KindSpec, ...] = (
    KindSpec(ReminderKind.SIGN, "assignment", "sign_due", {"state__in": ("pending_sign",)}),
    KindSpec(ReminderKind.OPINION, "assignment", "opinion_due", {"state__in": OPEN_STATES, "role": "co"}),
    KindSpec(ReminderKind.REPLY, "assignment", "reply_due", {"state__in": OPEN_STATES, "role__in": ("lead", "split")}),
    KindSpec(ReminderKind.FEEDBACK, "assignment", "feedback_due", {"state__in": ("replied",)}),
    KindSpec(ReminderKind.COMMITMENT, "commitment", "target_date", {"state__in": ("open",)}),
)


@dataclass(frozen=True)
class Policy:
    """The reminder policy in force for one assigning office."""

    warning_days: tuple[int, ...]
    key_warning_days: tuple[int, ...]
    escalate_after_days: int
    force_overdue_channels: tuple[str, ...] = ()
    max_attempts: int = 4


def default_policy() -> Policy:
    return Policy(
        warning_days=_clean_days(settings.BANLI_WARNING_DAYS),
        key_warning_days=_clean_days(settings.BANLI_KEY_WARNING_DAYS),
        escalate_after_days=settings.BANLI_ESCALATE_AFTER_DAYS,
        force_overdue_channels=tuple(settings.BANLI_FORCE_OVERDUE_CHANNELS),
        max_attempts=settings.BANLI_DELIVERY_MAX_ATTEMPTS,
    )


def _clean_days(days) -> tuple[int, ...]:
    return tuple(sorted({int(d) for d in days or () if int(d) > 0}, reverse=True))


def load_policies() -> tuple[Policy, dict[int, Policy]]:
    """The default policy and each office's own (a small table, read once per scan)."""
    from banli.supervision.models import ReminderPolicy

    default = default_policy()
    by_office = {}
    for row in ReminderPolicy.objects.all():
        by_office[row.office_id] = Policy(
            warning_days=_clean_days(row.warning_days) or default.warning_days,
            key_warning_days=_clean_days(row.key_warning_days) or default.key_warning_days,
            escalate_after_days=row.escalate_after_days,
            force_overdue_channels=tuple(row.force_overdue_channels or ()),
            max_attempts=row.max_attempts,
        )
    return default, by_office


@dataclass
class Windows:
    """Today's threshold windows: date ranges [lo, hi) per threshold list, and the overdue cut-off."""

    today: dt.date
    calendar: WorkCalendar
    ranges: list[tuple[dt.date, dt.date]] = field(default_factory=list)

    def __post_init__(self):
        self._nth = lru_cache(maxsize=None)(lambda n: self.calendar.add_working_days(self.today, n))
        self._remaining = lru_cache(maxsize=None)(lambda d: self.calendar.working_days_between(self.today, d))

    def add_thresholds(self, days: tuple[int, ...]) -> None:
        for t, lower in zip(days, days[1:] + (0,)):
            self.ranges.append((self._nth(lower + 1), self._nth(t + 1)))

    def q(self, column: str) -> Q:
        """Due before today, or in any threshold window: constants only, so an index range scan."""
        q = Q(**{f"{column}__lt": self.today})
        for lo, hi in _merge(self.ranges):
            q |= Q(**{f"{column}__gte": lo, f"{column}__lt": hi})
        return q

    def threshold(self, due: dt.date, days: tuple[int, ...]) -> int | None:
        """The threshold this due date reaches today under `days`; negative = working days overdue."""
        if due < self.today:
            return self._remaining(due)  # negative: -(working days late)
        r = self._remaining(due)
        for t, lower in zip(days, days[1:] + (0,)):
            if lower < r <= t:
                return t
        return None


def _merge(ranges):
    merged: list[list[dt.date]] = []
    for lo, hi in sorted(r for r in ranges if r[0] < r[1]):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


@dataclass
class DueItem:
    """One row the scan found, with what it needs to become a reminder."""

    kind: str
    item_key: str
    assignment_id: int
    commitment_id: int | None
    unit_id: int
    proposal_id: int
    office_id: int
    handler_id: int | None
    due: dt.date
    threshold: int
    is_key: bool
    policy: Policy


def find_due(today: dt.date, calendar: WorkCalendar | None = None) -> list[DueItem]:
    """Every item that reaches a threshold today or is overdue: one indexed query per kind."""
    from banli.handling.models import Assignment
    from banli.replies.models import Commitment
    from banli.supervision.models import Supervision

    calendar = calendar or WorkCalendar.load()
    default, by_office = load_policies()
    override_days = {
        tuple(days) for days in Supervision.objects.exclude(warning_days=[]).values_list("warning_days", flat=True)
    }
    windows = Windows(today, calendar)
    for policy in [default, *by_office.values()]:
        windows.add_thresholds(policy.warning_days)
        windows.add_thresholds(policy.key_warning_days)
    for days in override_days:
        windows.add_thresholds(_clean_days(days))

    found: list[DueItem] = []
    for spec in KINDS:
        if spec.model == "assignment":
            prefix = ""
            qs = Assignment.objects.filter(**spec.filters).filter(windows.q(spec.due_field))
            fields = ["id", "unit_id", "proposal_id", "handler_id", spec.due_field]
        else:
            prefix = "assignment__"
            qs = Commitment.objects.filter(**spec.filters).filter(windows.q(spec.due_field))
            fields = ["id", "assignment_id", "assignment__unit_id", "assignment__proposal_id",
                      "assignment__handler_id", spec.due_field]
        fields += [f"{prefix}proposal__is_key", f"{prefix}proposal__session__assigning_office_id",
                   f"{prefix}proposal__supervision__id", f"{prefix}proposal__supervision__warning_days"]
        for row in qs.values_list(*fields).iterator(chunk_size=5000):
            if spec.model == "assignment":
                pk, unit_id, proposal_id, handler_id, due, is_key, office_id, sup_id, sup_days = row
                assignment_id, commitment_id, item_key = pk, None, f"a{pk}"
            else:
                pk, assignment_id, unit_id, proposal_id, handler_id, due, is_key, office_id, sup_id, sup_days = row
                commitment_id, item_key = pk, f"c{pk}"
            policy = by_office.get(office_id, default)
            key = bool(is_key or sup_id)
            days = _clean_days(sup_days) if sup_days else (policy.key_warning_days if key else policy.warning_days)
            threshold = windows.threshold(due, days)
            if threshold is None:
                continue
            found.append(DueItem(spec.kind, item_key, assignment_id, commitment_id, unit_id, proposal_id, office_id,
                                 handler_id, due, threshold, key, policy))
    return found
