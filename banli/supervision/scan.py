"""The deadline scan, set-based: the database finds the due items and inserts their reminders itself,
one row per group of a unit's items.

Thresholds are working days. A due date D is `r` working days away when r working days lie in (today, D].
Threshold t (with the next lower threshold l, or 0) fires while l < r <= t, so a scan missed on one day is
caught up the next working day, and a deadline on a holiday is warned about on the working days before.
Overdue items get one reminder per working day late (-1, -2, …).

Only Python knows the working calendar, so the scan computes in Python, for the handful of dates that
matter today, which threshold each due date reaches, and hands the database two small tables:
  due_past(pol, due, threshold, level)       every date from the oldest open deadline to yesterday;
  due_soon(pol, km, due, threshold)          the dates inside today's warning windows,
where `pol` is the reminder policy (0 the default, 1… an office's own) and `km` the key mode (0 an
ordinary item, 1 a key item with its policy's key thresholds, 2… a key item with thresholds of its own).
Each kind of deadline is then ONE statement, `INSERT … SELECT … GROUP BY … ON CONFLICT DO NOTHING`
(grouped_inserts), whose SELECT is an index range scan on the assignments' stored next deadline (next_due)
joined with those tables. It does not write a row per item: the items found are grouped into one reminder
row per unit, handler, session, key flag, kind, level and threshold (overdue items: whatever their days late),
listing its items; a few rows per unit, however many items. An item already listed in an earlier row of the
same kind and threshold written since the day the item reached it (`since` in the small tables) is left
out, so a repeated scan, and a warning window seen again the next working day, remind nobody twice, while
an item that reaches a window later (a new assignment, a moved deadline) is still reminded. The unique
constraint on (item key, kind, due date, threshold), the item key naming the group's first item, absorbs
the rows a racing scan already inserted. The policy join (proposal → session → office) and the key-item
join appear only when such rows exist.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.db import connection

from banli.handling.deadlines import WorkCalendar
from banli.handling.models import Assignment
from banli.proposals.models import Proposal, Session
from banli.replies.models import Commitment
from banli.supervision.choices import ReminderKind, ReminderLevel
from banli.supervision.models import Reminder, ReminderPolicy, Supervision


@dataclass(frozen=True)
class KindSpec:
    """Where one kind of deadline lives and which rows still owe it."""

    kind: str  # a ReminderKind; "" for assignments, whose row says which deadline it owes (next_due_kind)
    model: str  # "assignment" or "commitment"
    due_field: str
    states: tuple[str, ...] = ()


# An assignment owes at most one deadline at a time, stored with its kind by the workflow (the rule is
# handling.deadlines.next_due; its kinds are ReminderKind's keys), so all of them are one range on next_due.
# Commitments keep their own target date.
KINDS: tuple[KindSpec, ...] = (
    KindSpec("", "assignment", "next_due"),
    KindSpec(ReminderKind.COMMITMENT, "commitment", "target_date", ("open",)),
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
    """Working-day arithmetic around today, each calendar day looked up once per scan."""

    today: dt.date
    calendar: WorkCalendar
    ranges: list[tuple[dt.date, dt.date]] = field(default_factory=list)

    def __post_init__(self):
        self._workday = lru_cache(maxsize=None)(self.calendar.is_workday)
        self._nth = lru_cache(maxsize=None)(self._add_working_days)
        self._cum: dict[int, int] = {}
        self._span = [0, 0]

    def _add_working_days(self, n: int) -> dt.date:
        day, counted = self.today, 0
        while counted < n:
            day += dt.timedelta(days=1)
            counted += self._workday(day)
        return day

    def remaining(self, due: dt.date) -> int:
        """Working days in (today, due]; negative (working days in (due, today]) when due is past.

        Counted from a running total anchored at today (cum[today] = 0), extended as far as needed."""
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

    def windows(self, days: tuple[int, ...]) -> list[tuple[int, dt.date, dt.date]]:
        """(threshold, lo, hi): the due dates in [lo, hi) reach threshold t today (lower < r <= t)."""
        return [(t, self._nth(lower + 1), self._nth(t + 1)) for t, lower in zip(days, days[1:] + (0,))]

    def add_thresholds(self, days: tuple[int, ...]) -> None:
        self.ranges.extend((lo, hi) for _, lo, hi in self.windows(days))

    def since(self, due: dt.date, threshold: int) -> dt.date:
        """The first day on which `due` reached `threshold`: from then on every scan that finds it at that
        threshold finds the same reminder (the warning of a window caught up later, or a repeated scan).

        A day X is r working days from `due` where r = cum[due] - cum[X]; the threshold is reached from the
        first X with cum[X] >= cum[due] - threshold (overdue thresholds are negative: k working days late)."""
        target = self.remaining(due) - threshold
        day = self.today
        while self.remaining(day - dt.timedelta(days=1)) >= target:
            day -= dt.timedelta(days=1)
        return day

    def threshold(self, due: dt.date, days: tuple[int, ...]) -> int | None:
        """The threshold a due date reaches today under `days` (negative: working days overdue), or None."""
        r = self.remaining(due)
        if due < self.today:
            return r or None
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


def _key_items() -> dict[int, tuple[int, ...]]:
    """Key items (marked key or under supervision) and their own thresholds, if any: a small set."""
    keys = {pk: () for pk in Proposal.objects.filter(is_key=True).values_list("pk", flat=True)}
    for proposal_id, days in Supervision.objects.values_list("proposal_id", "warning_days"):
        keys[proposal_id] = _clean_days(days)
    return keys


# --- SQL -----------------------------------------------------------------------------------------
# Every value written into the SQL text below is an int, a date or a fixed choice key computed here,
# never user input; the rest goes as parameters.


def sql_date(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'" if connection.vendor == "postgresql" else f"'{day.isoformat()}'"


def sql_str(value: str) -> str:
    assert "'" not in value and "%" not in value, value
    return f"'{value}'"


def sql_per_office(column: str, values: dict[int, int], default: int) -> str:
    """CASE <office column> WHEN office THEN value … ELSE default END (the policy of each office)."""
    if not values:
        return str(int(default))
    whens = " ".join(f"WHEN {int(office)} THEN {int(value)}" for office, value in sorted(values.items()))
    return f"CASE {column} {whens} ELSE {int(default)} END"


def _in(column: str, values) -> tuple[str, list]:
    values = list(values)
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


class ScanPlan:
    """Today's policies, key items and threshold tables, and the SQL that finds and inserts reminders."""

    COLUMNS = "kind, level, item_key, assignment_id, commitment_id, unit_id, due_date, threshold"

    def __init__(self, today: dt.date, calendar: WorkCalendar | None = None):
        self.today = today
        self.calendar = calendar or WorkCalendar.load()
        self.default, self.by_office = load_policies()
        self.offices = sorted(self.by_office)
        self.policies = [self.default] + [self.by_office[o] for o in self.offices]
        keys = _key_items()
        own_days = sorted({days for days in keys.values() if days}, reverse=True)
        self.key_modes = {pk: (2 + own_days.index(days) if days else 1) for pk, days in keys.items()}
        modes = sorted({0, *self.key_modes.values()})
        self.windows = Windows(today, self.calendar)
        self.soon: list[tuple[int, int, dt.date, int, dt.date]] = []  # (pol, km, due, threshold, since)
        for pol, policy in enumerate(self.policies):
            for km in modes:
                days = policy.warning_days if km == 0 else policy.key_warning_days if km == 1 else own_days[km - 2]
                self.windows.add_thresholds(days)
                for t, lo, hi in self.windows.windows(days):
                    day = lo
                    while day < hi:
                        self.soon.append((pol, km, day, t, self.windows.since(day, t)))
                        day += dt.timedelta(days=1)
        self.merged = _merge(self.windows.ranges)

    # the small tables

    def _oldest_open_due(self) -> dt.date | None:
        """The oldest deadline any open row still has: one index probe per kind (and state)."""
        parts, params = [], []
        for spec in KINDS:
            table = (Assignment if spec.model == "assignment" else Commitment)._meta.db_table
            for state in spec.states or (None,):
                where = f"state = %s AND {spec.due_field} < %s" if state else f"{spec.due_field} < %s"
                parts.append(f"SELECT MIN({spec.due_field}) AS m FROM {table} WHERE {where}")
                params += [state, self.today] if state else [self.today]
        with connection.cursor() as cur:
            cur.execute(f"SELECT MIN(m) FROM ({' UNION ALL '.join(parts)}) AS oldest", params)
            value = cur.fetchone()[0]
        if isinstance(value, str):
            value = dt.date.fromisoformat(value)
        return value

    def past_rows(self) -> list[tuple[int, dt.date, int, str, dt.date]]:
        """(pol, due, threshold, level, since) for every date from the oldest open deadline to yesterday."""
        oldest = self._oldest_open_due()
        rows = []
        if oldest is None:
            return rows
        day = self.today - dt.timedelta(days=1)
        while day >= oldest:
            late = -self.windows.remaining(day)
            if late > 0:
                since = self.windows.since(day, -late)
                for pol, policy in enumerate(self.policies):
                    level = ReminderLevel.ESCALATED if late >= policy.escalate_after_days else ReminderLevel.OVERDUE
                    rows.append((pol, day, -late, str(level), since))
            day -= dt.timedelta(days=1)
        return rows

    def with_clause(self) -> tuple[str, bool, bool]:
        """The WITH clause holding the small tables, and whether each threshold table has rows."""
        ctes = []
        past = self.past_rows()
        self.thresholds = sorted({row[2] for row in past} | {row[3] for row in self.soon})
        self.oldest_since = min([row[4] for row in past] + [row[4] for row in self.soon], default=self.today)
        if past:
            values = ", ".join(f"({pol}, {sql_date(d)}, {t}, {sql_str(lv)}, {sql_date(since)})"
                               for pol, d, t, lv, since in past)
            ctes.append(f"due_past(pol, due, threshold, level, since) AS (VALUES {values})")
        if self.soon:
            values = ", ".join(f"({pol}, {km}, {sql_date(d)}, {t}, {sql_date(since)})"
                               for pol, km, d, t, since in self.soon)
            ctes.append(f"due_soon(pol, km, due, threshold, since) AS (VALUES {values})")
        if self.key_modes:
            values = ", ".join(f"({int(pk)}, {km})" for pk, km in sorted(self.key_modes.items()))
            ctes.append(f"key_items(proposal_id, km) AS (VALUES {values})")
        return ("WITH " + ", ".join(ctes)) if ctes else "", bool(past), bool(self.soon)

    # the statements

    def _kind_select(self, spec: KindSpec, part: str, grouping: bool = False) -> tuple[str, list]:
        """One kind's rows of one table (`past` or `soon`), as the 8 reminder columns; with `grouping`, also
        the item's id and what its group is made of (GROUP_COLUMNS) and the day its reminder was due from."""
        a_table = Assignment._meta.db_table
        if spec.model == "assignment":
            source, row = f"{a_table} a", "a"
            item_key, commitment = "'a' || CAST(a.id AS TEXT)", "CAST(NULL AS INTEGER)"
        else:
            source = f"{Commitment._meta.db_table} c JOIN {a_table} a ON a.id = c.assignment_id"
            row, item_key, commitment = "c", "'c' || CAST(c.id AS TEXT)", "c.id"
        due = f"{row}.{spec.due_field}"
        joins, params = [], []
        if self.offices:
            joins.append(f"JOIN {Proposal._meta.db_table} p ON p.id = a.proposal_id "
                         f"JOIN {Session._meta.db_table} s ON s.id = p.session_id")
            pol = sql_per_office("s.assigning_office_id", {o: i + 1 for i, o in enumerate(self.offices)}, 0)
        else:
            pol = "0"
        km = "0"
        if self.key_modes and part == "soon":
            joins.append("LEFT JOIN key_items k ON k.proposal_id = a.proposal_id")
            km = "COALESCE(k.km, 0)"
        where, params = [], []
        if spec.states:
            state_sql, state_params = _in(f"{row}.state", spec.states)
            where, params = [state_sql], state_params
        if part == "past":
            joins.append(f"JOIN due_past t ON t.due = {due} AND t.pol = {pol}")
            level = "t.level"
            where.append(f"{due} < %s")
            params.append(self.today)
        else:
            joins.append(f"JOIN due_soon t ON t.due = {due} AND t.pol = {pol} AND t.km = {km}")
            level = sql_str(ReminderLevel.WARNING)
            ranges = []
            for lo, hi in self.merged:
                ranges.append(f"({due} >= %s AND {due} < %s)")
                params += [lo, hi]
            where.append(f"({' OR '.join(ranges)})")
        kind = sql_str(spec.kind) if spec.kind else f"{row}.next_due_kind"
        extra = ""
        if grouping:
            extra = (f", {row}.id AS item, a.handler_id AS handler_id, a.session_id AS session_id, "
                     f"a.key_item AS key_item, t.since AS since")
        sql = (f"SELECT {kind} AS kind, {level} AS level, {item_key} AS item_key, a.id AS assignment_id, "
               f"{commitment} AS commitment_id, a.unit_id AS unit_id, {due} AS due_date, t.threshold AS threshold"
               f"{extra} FROM {source} {' '.join(joins)} WHERE {' AND '.join(where)}")
        return sql, params

    def kind_selects(self, grouping: bool = False) -> tuple[str, list[tuple[KindSpec, str, list]]]:
        """The WITH clause and, per kind, the SELECT (a UNION ALL of its overdue and its warning rows)."""
        with_sql, has_past, has_soon = self.with_clause()
        parts = [p for p, has in (("past", has_past), ("soon", has_soon)) if has]
        selects = []
        for spec in KINDS:
            pieces = [self._kind_select(spec, part, grouping) for part in parts]
            if pieces:
                selects.append((spec, " UNION ALL ".join(sql for sql, _ in pieces), [p for _, ps in pieces for p in ps]))
        return with_sql, selects


def find_due(today: dt.date, calendar: WorkCalendar | None = None) -> list[tuple]:
    """Every item that reaches a threshold today or is overdue, as (kind, level, item_key, assignment_id,
    commitment_id, unit_id, due_date, threshold): the same SELECTs the scan inserts from, without inserting."""
    plan = ScanPlan(today, calendar)
    with_sql, selects = plan.kind_selects()
    rows: list[tuple] = []
    with connection.cursor() as cur:
        for _spec, select, params in selects:
            cur.execute(f"{with_sql} {select}", params)
            rows += cur.fetchall()
    return rows


# What one reminder row groups: the same kind, level and threshold, the same unit, handler, session and key
# flag (so the first item tells the fan-out whom to tell and the message is one unit's list). A rating
# reminder's proposers are found item by item (fanout.notify), and each reads only the items he may see.
GROUP_COLUMNS = "kind, level, tkey, unit_id, handler_id, session_id, key_item"
# Overdue items are grouped whatever their days late (one row per unit and level, not per due date): an
# item is late by one more working day on each scan, and its reminder of the day is the row holding it
# since the day it reached that many days late. Warnings group by their threshold.
TKEY = "CASE WHEN {t}.threshold < 0 THEN -1 ELSE {t}.threshold END"
INSERT_COLUMNS = ("kind, level, item_key, assignment_id, commitment_id, unit_id, due_date, threshold, items, "
                  "item_count, scan_date, scan_token, batch, message, created_by_id, created_at")


def unnest_items(alias: str, out: str) -> str:
    """A join listing each item of the reminder rows `alias` as `out`.item (an integer)."""
    if connection.vendor == "postgresql":
        return (f"CROSS JOIN LATERAL (SELECT CAST(x AS BIGINT) AS item FROM "
                f"unnest(string_to_array(btrim({alias}.items, ','), ',')) AS x) AS {out}")
    return (f"JOIN (SELECT j.id AS rid, CAST(je.value AS INTEGER) AS item FROM {{reminder}} j, "
            f"json_each('[' || trim(j.items, ',') || ']') AS je) AS {out} ON {out}.rid = {alias}.id")


def _seen_items(table: str) -> str:
    """The items earlier reminder rows of the scan hold, one row each: (kind, tkey, item, scan_date)."""
    if connection.vendor == "postgresql":
        return (f"SELECT r.kind, {TKEY.format(t='r')} AS tkey, CAST(i.item AS BIGINT) AS item, r.scan_date FROM {table} r "
                f"CROSS JOIN LATERAL unnest(string_to_array(btrim(r.items, ','), ',')) AS i(item)")
    return (f"SELECT r.kind, {TKEY.format(t='r')} AS tkey, CAST(i.value AS INTEGER) AS item, r.scan_date FROM {table} r, "
            f"json_each('[' || trim(r.items, ',') || ']') AS i")


def _item_list(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"',' || string_agg(CAST({column} AS TEXT), ',' ORDER BY {column}) || ','"
    return f"',' || group_concat({column}, ',') || ','"


def grouped_inserts(plan: ScanPlan, today: dt.date, token: str, now) -> list[tuple[KindSpec, str, list]]:
    """Per kind, ONE `INSERT … SELECT … GROUP BY … ON CONFLICT DO NOTHING`: the items found today (the
    range scan of `find_due`), less those an earlier reminder of the same kind and threshold already holds
    since the day the item reached it (so a repeated scan, and a warning window seen again the next day,
    remind nobody twice), grouped into one row per GROUP_COLUMNS."""
    table = Reminder._meta.db_table
    with_sql, selects = plan.kind_selects(grouping=True)
    if not selects:
        return []
    thresholds = ", ".join(str(int(t)) for t in plan.thresholds if t > 0) or "0"
    seen = (f"seen AS (SELECT * FROM ({_seen_items(table)}) AS s0 WHERE s0.tkey IN (-1, {thresholds}) "
            f"AND s0.scan_date >= {sql_date(plan.oldest_since)} AND s0.kind <> {sql_str(ReminderKind.MANUAL)})")
    head = with_sql + (", " if with_sql else "WITH ")
    statements = []
    fixed = [connection.ops.adapt_datefield_value(today), token, connection.ops.adapt_datetimefield_value(now)]
    last_day = max([hi for _, hi in plan.merged], default=today)
    for spec, select, params in selects:
        if spec.model == "commitment" and not _any_open_commitment(spec, last_day):
            continue  # nothing to find: skip planning a statement over the small tables (a few ms each)
        prefix = "c" if spec.model == "commitment" else "a"
        sql = (
            f"INSERT INTO {table} ({INSERT_COLUMNS}) "
            f"{head}found AS ({select}), {seen} "
            f"SELECT f.kind, f.level, CASE WHEN COUNT(*) = 1 THEN '' ELSE 'u' || CAST(f.unit_id AS TEXT) || ':' END "
            f"|| {sql_str(prefix)} || CAST(MIN(f.item) AS TEXT), "
            f"MIN(f.assignment_id), MIN(f.commitment_id), f.unit_id, "
            f"MIN(f.due_date), MIN(f.threshold), {_item_list('f.item')}, COUNT(*), %s, %s, '', '', NULL, %s "
            f"FROM (SELECT found.*, {TKEY.format(t='found')} AS tkey FROM found) AS f "
            f"WHERE NOT EXISTS (SELECT 1 FROM seen s WHERE s.kind = f.kind AND s.tkey = f.tkey "
            f"AND s.item = f.item AND s.scan_date >= f.since) "
            f"GROUP BY {', '.join('f.' + c for c in GROUP_COLUMNS.split(', '))} ON CONFLICT DO NOTHING"
        )
        statements.append((spec, sql, params + fixed))
    return statements


def _any_open_commitment(spec: KindSpec, before: dt.date) -> bool:
    """Whether any open commitment has a target date before `before` (one probe of its state/date index)."""
    return Commitment.objects.filter(state__in=spec.states, **{f"{spec.due_field}__lt": before}).exists()
