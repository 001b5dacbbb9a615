"""Figures and dashboard charts from maintained aggregates: the same definitions (banli.reports.figures), added up
from cells instead of counted over every assignment, so a page costs the same at a hundred and a million items.

A cell is one session × unit × lead section × handing-on unit × role × kind; its row (FigureCell) holds every
figure's numerator, denominator and sum, and the breakdowns the charts draw, as of a date. Cells are kept from
the event log: every change that moves a figure writes an event (state changes, ratings, contacts, replies,
commitments, edits), so `refresh()` recomputes only the cells of the assignments named by events newer than its
cursor, and every cell of a day gone by (overdue counts depend on the date). The scheduler calls it every
tick; a page calls it too when only a few events are pending, so figures are exact right after a change.
`check()` compares every cell with a full recount from the raw rows (`manage.py check_figure_cells`).

Slices the cells cannot answer (a category, key items only, a date range, another as-of date) are computed
from the raw rows as before (figures.compute).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from banli.handling.models import Assignment, Event
from banli.handling.workflow import STATES
from banli.organizations.models import Unit
from banli.proposals.models import Session
from banli.replies.models import Commitment, Feedback
from banli.reports import figures
from banli.reports.figures import ASSIGNMENT, COMMITMENT, FIGURES, RATING, Slice, Value
from banli.reports.models import FigureCell, FigureCursor

SYNC_LIMIT = 1000  # a page folds in at most this many pending events itself; beyond, the scheduler does
WEEKS = 12
KEYS = {"session": "session_id", "unit": "unit_id", "section": "lead_section_id", "parent_unit": "parent__unit_id",
        "role": "role", "kind": "proposal__kind"}
PREFIX = {ASSIGNMENT: "", RATING: "assignment__", COMMITMENT: "assignment__"}


def _key_fields(record: str) -> list[str]:
    return [PREFIX[record] + path for path in KEYS.values()]


def _cell_key(row: dict, record: str) -> tuple:
    p = PREFIX[record]
    return tuple(row[p + path] or 0 if name in ("section", "parent_unit") else row[p + path]
                 for name, path in KEYS.items())


def _empty() -> dict:
    return {"n": {}, "d": {}, "avg": {}, "states": {}, "classes": {}, "ratings": {}, "categories": {},
            "overdue_weeks": [0] * WEEKS}


def compute_cells(cell_q: Q, today: dt.date) -> dict[tuple, dict]:
    """Every cell's data over the assignments matching `cell_q` (grouped queries over those rows only)."""
    sl = Slice(as_of=today)
    live = cell_q & ~Q(state="withdrawn")
    cells: dict[tuple, dict] = defaultdict(_empty)
    sources = {
        ASSIGNMENT: Assignment.objects.filter(live),
        RATING: Feedback.objects.filter(assignment__in=Assignment.objects.filter(live).values("pk")).filter(figures.FINAL_ROUND),
        COMMITMENT: Commitment.objects.filter(assignment__in=Assignment.objects.filter(live).values("pk")),
    }
    for record, qs in sources.items():
        keys = _key_fields(record)
        for row in qs.order_by().values(*keys).annotate(**figures._aggregates(record, sl)):
            data = cells[_cell_key(row, record)]
            for f in FIGURES.values():
                if f.record != record:
                    continue
                data["n"][f.key] = row.get(f"{f.key}__n") or 0
                if f.denominator is not None:
                    data["d"][f.key] = row.get(f"{f.key}__d") or 0
                if f.average_of:
                    avg = row.get(f"{f.key}__avg")
                    days = avg.total_seconds() / 86400 if isinstance(avg, dt.timedelta) else (avg or 0)
                    data["avg"][f.key] = days * data["n"][f.key]
    assignments = sources[ASSIGNMENT]
    keys = _key_fields(ASSIGNMENT)
    for row in assignments.order_by().values(*keys, "state").annotate(c=Count("pk")):
        cells[_cell_key(row, ASSIGNMENT)]["states"][row["state"]] = row["c"]
    for row in assignments.order_by().values(*keys, "proposal__category").annotate(c=Count("pk")):
        cells[_cell_key(row, ASSIGNMENT)]["categories"][row["proposal__category"] or "未分类"] = row["c"]
    classes = assignments.filter(figures.REPLIED).annotate(reply_class_code=figures.final_reply_class())
    for row in classes.order_by().values(*keys, "reply_class_code").annotate(c=Count("pk")):
        cells[_cell_key(row, ASSIGNMENT)]["classes"][row["reply_class_code"] or "未分类"] = row["c"]
    rkeys = _key_fields(RATING)
    for row in sources[RATING].order_by().values(*rkeys, "result").annotate(c=Count("pk")):
        cells[_cell_key(row, RATING)]["ratings"][row["result"]] = row["c"]
    ends, aggs = _week_aggregates(today)
    for row in assignments.order_by().values(*keys).annotate(**aggs):
        cells[_cell_key(row, ASSIGNMENT)]["overdue_weeks"] = [row[f"w{i}"] for i in range(len(ends))]
    return dict(cells)


def _week_aggregates(today: dt.date):
    ends = [today - dt.timedelta(days=7 * i) for i in range(WEEKS - 1, -1, -1)]
    aggs = {}
    for i, day in enumerate(ends):
        day_end = figures._day_start(day + dt.timedelta(days=1))
        aggs[f"w{i}"] = Count("pk", filter=figures.ANSWERING & Q(reply_due__lt=day, assigned_at__lt=day_end) & (
            Q(replied_at__isnull=True) | Q(replied_at__gte=day_end)))
    return ends, aggs


# --- keeping the cells ---------------------------------------------------------------------------------------


def _cursor():
    cursor = FigureCursor.objects.select_for_update().order_by("pk").first()
    return cursor or FigureCursor.objects.create(last_event_id=0)


def pending_events() -> int:
    return _state()[0]


def _state() -> tuple[int, bool]:
    """(events not yet folded into the cells, up to SYNC_LIMIT + 1; whether any cell exists), in one query."""

    q = connection.ops.quote_name
    events, cursors, cells = (q(m._meta.db_table) for m in (Event, FigureCursor, FigureCell))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM {events} WHERE id > COALESCE((SELECT last_event_id FROM "
            f"{cursors} ORDER BY id LIMIT 1), 0) LIMIT %s) pending), EXISTS(SELECT 1 FROM {cells})",
            [SYNC_LIMIT + 1])
        pending, exists = cursor.fetchone()
    return int(pending), bool(exists)


PATHS_KEY = "figure-cells-paths"
PATHS_SECONDS = 60


def _paths() -> tuple[dict, dict]:
    """Every unit's path and every session's office path, kept a minute (dropped when a unit or session changes)."""

    cached = cache.get(PATHS_KEY)
    if cached is None:
        cached = (dict(Unit.objects.values_list("pk", "path")),
                  dict(Session.objects.values_list("pk", "assigning_office__path")))
        cache.set(PATHS_KEY, cached, PATHS_SECONDS)
    return cached


def forget_paths(**kwargs) -> None:
    cache.delete(PATHS_KEY)


def _write(pairs: set[tuple[int, int]], today: dt.date) -> int:
    """Recompute the cells of these (session, unit) pairs (delete and insert, in one transaction)."""
    by_session: dict[int, list[int]] = defaultdict(list)
    for session_id, unit_id in pairs:
        by_session[session_id].append(unit_id)
    written = 0
    for session_id, unit_ids in by_session.items():
        cells = compute_cells(Q(session_id=session_id, unit_id__in=unit_ids), today)
        FigureCell.objects.filter(session_id=session_id, unit_id__in=unit_ids).delete()
        FigureCell.objects.bulk_create([
            FigureCell(session_id=k[0], unit_id=k[1], section_id=k[2], parent_unit_id=k[3], role=k[4], kind=k[5],
                       as_of=today, data=data)
            for k, data in cells.items()
        ])
        written += len(cells)
    return written


@transaction.atomic
def refresh(*, today: dt.date | None = None, limit: int | None = None) -> dict:
    """Fold the events newer than the cursor into the cells (and rebuild cells of a past day); returns counts.

    With `limit`, does nothing when more events than that are pending (a page leaves them to the scheduler)."""
    today = today or timezone.localdate()
    cursor = _cursor()
    events = Event.objects.filter(pk__gt=cursor.last_event_id)
    if limit is not None and events[: limit + 1].count() > limit:
        return {"skipped": True}
    last = events.order_by("-pk").values_list("pk", flat=True).first() or cursor.last_event_id
    touched = events.filter(pk__lte=last)
    pairs = set(Assignment.objects.filter(pk__in=touched.filter(assignment__isnull=False).values("assignment_id"))
                .values_list("session_id", "unit_id"))
    # An edit of the item itself (category, key flag) or an assignment written without an event: its proposal.
    pairs |= set(Assignment.objects.filter(proposal_id__in=touched.filter(assignment__isnull=True,
                                                                          proposal__isnull=False).values("proposal_id"))
                 .values_list("session_id", "unit_id"))
    stale_sessions = set(FigureCell.objects.filter(as_of__lt=today).values_list("session_id", flat=True).distinct())
    if stale_sessions:
        pairs |= set(Assignment.objects.filter(session_id__in=stale_sessions).order_by()
                     .values_list("session_id", "unit_id").distinct())
    if cursor.last_event_id == 0 and not FigureCell.objects.exists():
        pairs |= set(Assignment.objects.order_by().values_list("session_id", "unit_id").distinct())
    pairs.discard((None, None))
    written = _write({p for p in pairs if p[0] is not None}, today) if pairs else 0
    cursor.last_event_id = last
    cursor.refreshed_at = timezone.now()
    cursor.save(update_fields=["last_event_id", "refreshed_at"])
    return {"events_to": last, "cells": written, "pairs": len(pairs)}


def rebuild(*, today: dt.date | None = None) -> dict:
    """Every cell from scratch (after a bulk load that wrote no events the cursor could follow)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        cursor = _cursor()
        last = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        FigureCell.objects.all().delete()
        pairs = set(Assignment.objects.order_by().values_list("session_id", "unit_id").distinct())
        written = _write({p for p in pairs if p[0] is not None}, today)
        cursor.last_event_id = last
        cursor.refreshed_at = timezone.now()
        cursor.save(update_fields=["last_event_id", "refreshed_at"])
    return {"cells": written}


def check(*, today: dt.date | None = None) -> list[str]:
    """Differences between the stored cells and a full recount from the raw rows (empty: they agree)."""
    today = today or timezone.localdate()
    stored = {(c.session_id, c.unit_id, c.section_id, c.parent_unit_id, c.role, c.kind): c.data
              for c in FigureCell.objects.all()}
    fresh = {k: _normalise(v) for k, v in compute_cells(Q(), today).items() if k[0] is not None}
    problems = []
    for key in sorted(set(stored) | set(fresh), key=str):
        if _normalise(stored.get(key, {})) != fresh.get(key, _normalise({})):
            problems.append(f"cell {key}: stored {stored.get(key)} != recount {fresh.get(key)}")
    return problems


def _normalise(data: dict) -> dict:
    out = _empty()
    for name, value in (data or {}).items():
        if name == "avg":
            value = {k: round(v, 6) for k, v in value.items()}
        elif isinstance(value, dict):
            value = {k: v for k, v in value.items() if v}
        out[name] = value
    for name in ("states", "classes", "ratings", "categories"):
        out[name] = {k: v for k, v in out[name].items() if v}
    out["n"] = {k: v for k, v in out["n"].items() if v}
    out["d"] = {k: v for k, v in out["d"].items() if v}
    out["avg"] = {k: v for k, v in out["avg"].items() if v}
    return out


# --- reading ---------------------------------------------------------------------------------------------------


def answerable(sl: Slice, weeks: int = WEEKS) -> bool:
    """Whether the cells can answer this slice (else the raw rows are counted)."""
    return not (sl.category or sl.key_only or sl.date_from or sl.date_to or weeks != WEEKS
                or (sl.as_of and sl.as_of != timezone.localdate()))


class CellSource:
    """The figures and chart breakdowns of one slice, added up from the cells (the same answers as figures.*)."""

    def __init__(self, sl: Slice):
        pending, exists = _state()
        if not exists:
            refresh()  # first use: every cell from the raw rows
        elif pending and pending <= SYNC_LIMIT:
            refresh(limit=SYNC_LIMIT)  # a few changes since the last tick: folded in now, the page is exact
        self.slice = sl = sl.resolve()
        paths, offices = _paths()
        cells = FigureCell.objects.all()
        if sl.session_id:
            cells = cells.filter(session_id=sl.session_id)
        if sl.role:
            cells = cells.filter(role=sl.role)
        if sl.kind:
            cells = cells.filter(kind=sl.kind)
        if sl.section_id:
            cells = cells.filter(section_id=sl.section_id)
        if sl.unit_id and not sl.with_subunits:
            cells = cells.filter(unit_id=sl.unit_id)
        self.cells = [c for c in cells if self._inside(c, paths, offices)]
        self.as_of = min((c.as_of for c in self.cells), default=timezone.localdate())

    def _inside(self, cell, paths, offices) -> bool:
        sl = self.slice
        path = paths.get(cell.unit_id, "")
        if sl.scope is not None:
            everything, office_paths, unit_paths = sl.scope
            if not everything and not (any((offices.get(cell.session_id) or "").startswith(p) for p in office_paths)
                                       or any(path.startswith(p) for p in unit_paths)):
                return False
        if sl.unit_id:
            if sl.with_subunits:
                if not path.startswith(sl.unit_path):
                    return False
                parent = paths.get(cell.parent_unit_id, "") if cell.parent_unit_id else ""
                return not (parent and parent.startswith(sl.unit_path))
            return True
        return cell.parent_unit_id == 0

    @staticmethod
    def _values(cells) -> dict[str, Value]:
        num, den, sums = defaultdict(int), defaultdict(int), defaultdict(float)
        for cell in cells:
            for k, v in cell.data.get("n", {}).items():
                num[k] += v
            for k, v in cell.data.get("d", {}).items():
                den[k] += v
            for k, v in cell.data.get("avg", {}).items():
                sums[k] += v
        out = {}
        for key, f in FIGURES.items():
            n = num.get(key, 0)
            out[key] = Value(f, numerator=n, denominator=den.get(key, 0) if f.denominator is not None else None,
                             average=(sums[key] / n if f.average_of and n else None))
        return out

    def compute(self, sl=None) -> dict[str, Value]:
        return self._values(self.cells)

    def compute_grouped(self, sl, group: str) -> dict[object, dict[str, Value]]:
        attr = {"unit": "unit_id", "lead_section": "section_id", "proposal__session": "session_id"}[group]
        groups = defaultdict(list)
        for cell in self.cells:
            groups[getattr(cell, attr) or None].append(cell)
        return {g: self._values(cells) for g, cells in groups.items()}

    def _sum(self, name: str) -> dict:
        total = defaultdict(int)
        for cell in self.cells:
            for k, v in cell.data.get(name, {}).items():
                total[k] += v
        return total

    def states(self, sl=None) -> list[tuple[str, int]]:
        rows = self._sum("states")
        return [(key, rows[key]) for key in STATES if rows.get(key)]

    def reply_classes(self, sl=None) -> list[tuple[str, int]]:
        rows = self._sum("classes")
        return sorted(rows.items(), key=lambda kv: (kv[0] == "未分类", kv[0]))

    def ratings(self, sl=None) -> list[tuple[str, int]]:
        rows = self._sum("ratings")
        return [(key, rows.get(key, 0)) for key in ("satisfied", "basic", "unsatisfied")]

    def categories(self, sl=None) -> list[tuple[str, int]]:
        rows = self._sum("categories")
        return sorted(rows.items(), key=lambda kv: -kv[1])

    def overdue_by_week(self, sl=None, weeks: int = WEEKS) -> list[tuple[dt.date, int]]:
        end = self.as_of
        ends = [end - dt.timedelta(days=7 * i) for i in range(WEEKS - 1, -1, -1)]
        totals = [0] * WEEKS
        for cell in self.cells:
            for i, v in enumerate(cell.data.get("overdue_weeks", [])):
                totals[i] += v
        return list(zip(ends, totals))


class RawSource:
    """The same interface over the raw rows (figures.*), for slices the cells cannot answer."""

    compute = staticmethod(figures.compute)
    compute_grouped = staticmethod(figures.compute_grouped)
    states = staticmethod(figures.states)
    reply_classes = staticmethod(figures.reply_classes)
    ratings = staticmethod(figures.ratings)
    categories = staticmethod(figures.categories)
    overdue_by_week = staticmethod(figures.overdue_by_week)


def source_for(sl: Slice, weeks: int = WEEKS):
    return CellSource(sl) if answerable(sl, weeks) else RawSource()
