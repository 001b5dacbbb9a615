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
        self._workday = lru_cache(maxsize=None)(self.calendar.is_workday)
        self._nth = lru_cache(maxsize=None)(self._add_working_days)
        self._remaining = self._working_days_until
        self._cum: dict[int, int] = {}
        self._span = [0, 0]

    def _add_working_days(self, n: int) -> dt.date:
        day, counted = self.today, 0
        while counted < n:
            day += dt.timedelta(days=1)
            counted += self._workday(day)
        return day

    def _working_days_until(self, due: dt.date) -> int:
        """Working days in (today, due]; negative (working days in (due, today]) when due is past.

        Counted from a running total anchored at today (cum[today] = 0), extended as far as needed, so
        each calendar day is looked up once per scan however many due dates there are."""
        cum = self._cum
        if not cum:
            cum[self.today.toordinal()] = 0
            self._span = [self.today.toordinal(), self.today.toordinal()]
        target = due.toordinal()
        while target > self._span[1]:
            nxt = self._span[1] + 1
            cum[nxt] = cum[nxt - 1] + self._workday(dt.date.fromordinal(nxt))
            self._span[1] = nxt
        while target < self._span[0]:
            prev = self._span[0] - 1
            cum[prev] = cum[prev + 1] - self._workday(dt.date.fromordinal(prev + 1))
            self._span[0] = prev
        return cum[target]

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
    office_id: int | None
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

    # Key items and office policies come from small lookups, so the per-kind query touches one table.
    key_days = _key_items()
    session_office = _session_offices() if by_office else {}
    proposal_session: dict[int, int] = {}

    found: list[DueItem] = []
    thresholds: dict[tuple, int | None] = {}  # (due, days) -> threshold: a handful of distinct dates
    for spec in KINDS:
        if spec.model == "assignment":
            qs = Assignment.objects.filter(**spec.filters).filter(windows.q(spec.due_field))
            rows = qs.values_list("id", "id", "unit_id", "proposal_id", "handler_id", spec.due_field)
        else:
            qs = Commitment.objects.filter(**spec.filters).filter(windows.q(spec.due_field))
            rows = qs.values_list("id", "assignment_id", "assignment__unit_id", "assignment__proposal_id",
                                  "assignment__handler_id", spec.due_field)
        rows = _fetch(rows)
        if by_office:
            missing = {row[3] for row in rows} - proposal_session.keys()
            proposal_session.update(_proposal_sessions(missing))
        is_commitment = spec.model == "commitment"
        for pk, assignment_id, unit_id, proposal_id, handler_id, due in rows:
            office_id = session_office.get(proposal_session.get(proposal_id)) if by_office else None
            policy = by_office.get(office_id, default) if by_office else default
            key = proposal_id in key_days
            days = (key_days[proposal_id] or policy.key_warning_days) if key else policy.warning_days
            try:
                threshold = thresholds[(due, days)]
            except KeyError:
                threshold = thresholds[(due, days)] = windows.threshold(due, days)
            if threshold is None:
                continue
            found.append(DueItem(spec.kind, f"c{pk}" if is_commitment else f"a{pk}", assignment_id,
                                 pk if is_commitment else None, unit_id, proposal_id, office_id, handler_id, due,
                                 threshold, key, policy))
    return found


def _fetch(values_qs) -> list[tuple]:
    """Rows of a values_list query straight from the cursor: the ORM's per-row machinery is most of the
    cost at a hundred thousand rows, and the only conversion needed is SQLite's text dates."""
    from django.db import connection

    sql, params = values_qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if rows and isinstance(rows[0][-1], str):
        rows = [(*row[:-1], dt.date.fromisoformat(row[-1])) for row in rows]
    return rows


def _key_items() -> dict[int, tuple[int, ...]]:
    """Key items (marked key or under supervision) and their own thresholds, if any: a small set."""
    from banli.proposals.models import Proposal
    from banli.supervision.models import Supervision

    keys = {pk: () for pk in Proposal.objects.filter(is_key=True).values_list("pk", flat=True)}
    for proposal_id, days in Supervision.objects.values_list("proposal_id", "warning_days"):
        keys[proposal_id] = _clean_days(days)
    return keys


def _session_offices() -> dict[int, int]:
    from banli.proposals.models import Session

    return dict(Session.objects.values_list("pk", "assigning_office_id"))


def _proposal_sessions(ids) -> dict[int, int]:
    from banli.proposals.models import Proposal

    result: dict[int, int] = {}
    ids = list(ids)
    for start in range(0, len(ids), 5000):
        result.update(Proposal.objects.filter(pk__in=ids[start:start + 5000]).values_list("pk", "session_id"))
    return result
