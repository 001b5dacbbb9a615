"""Benchmarks of the deadline scan (run by `make bench`).

`bench_scan_deadlines` fills the database with the `load_demo --scale` generator (banli.demo.scale:
proposals with assignments whose states and deadlines come from simulated timelines) until it holds
1,000,000 assignments on PostgreSQL (50,000 on SQLite; BANLI_BENCH_SCAN_ROWS to change), as of a fixed
working day, then times, each as a ratio to ONE bare indexed SQL query returning the same (id, due date)
rows (a range on the assignments' stored next deadline, next_due, and on the open commitments' target date):
  - the scan's finding phase (`scan.find_due`: the very SELECTs the scan inserts from, one per kind);
  - a full first scan (the reminders created and committed: one INSERT … SELECT … GROUP BY per kind writing
    one row per group of a unit's items, with the scan's outbox row); the best of three, like the bare
    query's best of five, each run but the last undone; every found item must be listed once in its rows;
  - the write floor of the design before: one row per found item inserted into a bare table with only the
    uniqueness index, no foreign keys and no other index: what any scan that stores one row per found item
    costs at least (the grouped scan stays under it);
  - a repeated scan the same day (nothing new: the unique constraint absorbs every row) and the scan of
    the next working day (the daily steady state: warnings already sent are absorbed, overdue items get
    that day's reminder);
  - the send step's first half, separately: the first scan's notification-centre entries and its
    e-mail/SMS/robot deliveries (`services.fan_out_pending`, one INSERT … SELECT each), and the scan and
    that step together.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import time

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from banli.demo.scale import generate
from banli.handling.deadlines import WorkCalendar
from banli.handling.models import Assignment
from banli.organizations.models import User
from banli.supervision import scan, services
from banli.supervision.models import Delivery, DeliveryQueue, Notification, Reminder
from banli.supervision.scan import KINDS, Windows, _merge, load_policies

# A working day just after the National Day holiday; BANLI_BENCH_SCAN_DATE names another one, e.g. a working
# day near the day `load_demo --scale` ran when the benchmark measures that database (BANLI_BENCH_USE_DB=1):
# its deadlines lie around the day it was generated.
TODAY = dt.date.fromisoformat(os.environ.get("BANLI_BENCH_SCAN_DATE") or "2025-10-09")
ASSIGNMENTS_PER_PROPOSAL = 2.34  # what the generator averages (lead or split, plus 0–2 co units)


def _rows_wanted() -> int:
    default = 1_000_000 if connection.vendor == "postgresql" else 50_000
    return int(os.environ.get("BANLI_BENCH_SCAN_ROWS", default))


def _assignments() -> int:
    return Assignment.objects.count()


def _fill(n: int) -> int:
    """Top the database up to about `n` assignments with the --scale generator, as of TODAY 10:00."""
    missing = n - _assignments()
    if missing > 0:
        now = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(10, 0)))
        generate(math.ceil(missing / ASSIGNMENTS_PER_PROPOSAL), batch_size=5000, seed=31, now=now)
    # The generator's accounts sign in without e-mail; give them addresses so the scan has deliveries to queue.
    User.objects.filter(username__startswith="scale_", email="").update(email="bench@example.gov.cn")
    return _assignments()


def _bare_sql(day: dt.date, calendar) -> tuple[str, list]:
    """The bare indexed query: one UNION ALL statement over the stored next deadline of the assignments
    (next_due, behind its partial index) and the commitments' target date, with the date windows the scan uses:
    overdue rows, rows in an ordinary warning window, and key items' rows in a key warning window."""
    default, by_office = load_policies()
    policies = [default, *by_office.values()]
    ordinary, key = Windows(day, calendar), Windows(day, calendar)
    for policy in policies:
        ordinary.add_thresholds(policy.warning_days)
        key.add_thresholds(policy.key_warning_days)
    keyset = ("SELECT id FROM proposals_proposal WHERE is_key "
              "UNION SELECT proposal_id FROM supervision_supervision")

    def within(column, windows) -> tuple[list[str], list]:
        merged = _merge(windows.ranges)
        return [f"({column} >= %s AND {column} < %s)" for _ in merged], [d for pair in merged for d in pair]

    parts, params = [], []
    for spec in KINDS:
        table = "handling_assignment" if spec.model == "assignment" else "replies_commitment"
        due = spec.due_field
        where = []
        if spec.states:
            where.append(f"state IN ({', '.join(['%s'] * len(spec.states))})")
            params += list(spec.states)
        ranges, range_params = within(due, ordinary)
        key_ranges, key_params = within(due, key)
        owner = ("proposal_id" if spec.model == "assignment"
                 else "assignment_id IN (SELECT id FROM handling_assignment WHERE proposal_id")
        closing = "" if spec.model == "assignment" else ")"
        ranges = [f"{due} < %s", *ranges, f"(({' OR '.join(key_ranges)}) AND {owner} IN ({keyset}){closing})"]
        params += [day, *range_params, *key_params]
        where.append(f"({' OR '.join(ranges)})")
        parts.append(f"SELECT id, {due} FROM {table} WHERE {' AND '.join(where)}")
    return " UNION ALL ".join(parts), params


def _best(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def bench_scan_deadlines():
    n = _rows_wanted()
    if connection.vendor != "postgresql":
        print(f"# supervision: SQLite — scanning {n:,} assignments; set DATABASE_URL=postgres://… for 1,000,000")
    started = time.perf_counter()
    total = _fill(n)
    if connection.vendor == "postgresql":
        # A table the size of a real one is not bulk-loaded the morning of each scan: measure it settled
        # (statistics, visibility map and hint bits set), not racing the autovacuum the load sets off.
        with connection.cursor() as cur:
            for table in ("handling_assignment", "proposals_proposal", "replies_commitment"):
                cur.execute(f"VACUUM ANALYZE {table}")
    yield ("supervision.scan_rows_generated", total, "assignments")
    yield ("supervision.scan_generate_seconds", time.perf_counter() - started, "s")

    calendar = WorkCalendar.load()
    assert calendar.is_workday(TODAY), f"{TODAY} is not a working day: the scan would skip it"
    NEXT_DAY = TODAY + dt.timedelta(days=1)  # the next working day
    while not calendar.is_workday(NEXT_DAY):
        NEXT_DAY += dt.timedelta(days=1)
    bare_sql = {day: _bare_sql(day, calendar) for day in (TODAY, NEXT_DAY)}

    def bare(day=TODAY):
        sql, params = bare_sql[day]
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    bare_s, bare_rows = _best(bare, repeat=5)
    find_s, found = _best(lambda: scan.find_due(TODAY, calendar))
    assert len(found) == len(bare_rows), (len(found), len(bare_rows))  # the same rows, or the ratio means nothing
    yield ("supervision.scan_bare_query_ms", bare_s * 1000, "ms")
    yield ("supervision.scan_bare_rows", len(bare_rows), "rows")
    yield ("supervision.scan_find_ms", find_s * 1000, "ms")
    yield ("supervision.scan_find_rows", len(found), "rows")
    yield ("supervision.scan_find_ratio", find_s / bare_s, "x")
    yield ("supervision.scan.find_over_bare_query", find_s / bare_s, "ratio")

    floor_s, floor_rows = _best(lambda: _write_floor(TODAY, calendar))
    yield ("supervision.scan_write_floor_ms", floor_s * 1000, "ms")
    yield ("supervision.scan_write_floor_rows", floor_rows, "rows")
    yield ("supervision.scan_write_floor_ratio", floor_s / bare_s, "x")

    # A running worker has its URLconf loaded; the scan's first reverse() would otherwise import every view.
    reverse("supervision:item", args=[0])
    reminders_max = Reminder.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    notifications_before = Notification.objects.count()
    deliveries_before = Delivery.objects.count()
    # What the scans write is removed at the end, so a database measured as it is (BANLI_BENCH_USE_DB=1) can be
    # measured again: a second run would otherwise find every item already reminded.
    marks = {model: model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
             for model in (Delivery, Notification, DeliveryQueue)}
    try:
        yield from _scan_figures(bare_s, found, floor_s, reminders_max, notifications_before, deliveries_before,
                                 bare, NEXT_DAY)
    finally:
        for model, mark in marks.items():
            model.objects.filter(pk__gt=mark).delete()
        Reminder.objects.filter(pk__gt=reminders_max).delete()


def _scan_figures(bare_s, found, floor_s, reminders_max, notifications_before, deliveries_before, bare, NEXT_DAY):
    first_s, first = _scan_best(TODAY)
    started = time.perf_counter()
    fanned = services.fan_out_pending()
    queue_s = time.perf_counter() - started
    again_s, again = _best(lambda: services.scan_deadlines(today=TODAY))
    # the scan's rows list every item it reminded, once (a row per group of a unit's items, see scan.py)
    new_rows = Reminder.objects.order_by().filter(pk__gt=reminders_max)
    assert again["created"] == 0 and new_rows.count() == first["reminders"]
    assert sum(new_rows.values_list("item_count", flat=True)) == first["created"] == len(found)
    assert Notification.objects.count() - notifications_before == fanned["notifications"]
    assert Delivery.objects.count() - deliveries_before == fanned["deliveries"]
    yield ("supervision.scan_full_first_s", first_s, "s")
    yield ("supervision.scan_full_first_created", first["created"], "items")
    yield ("supervision.scan_full_first_rows", first["reminders"], "reminders")
    yield ("supervision.scan_full_first_ratio", first_s / bare_s, "x")
    yield ("supervision.scan.first_scan_over_bare_query", first_s / bare_s, "ratio")  # goal: <= 3 at 1,000,000
    yield ("supervision.scan_full_first_to_floor", first_s / floor_s, "x")
    yield ("supervision.scan_fan_out_s", queue_s, "s")
    yield ("supervision.scan_fan_out_notifications", fanned["notifications"], "notifications")
    yield ("supervision.scan_fan_out_deliveries", fanned["deliveries"], "deliveries")
    yield ("supervision.scan_fan_out_ratio", queue_s / bare_s, "x")
    yield ("supervision.scan_plus_fan_out_ratio", (first_s + queue_s) / bare_s, "x")
    yield ("supervision.scan_repeat_s", again_s, "s")
    yield ("supervision.scan_repeat_ratio", again_s / bare_s, "x")

    next_bare_s, next_rows = _best(lambda: bare(NEXT_DAY), repeat=5)
    daily_s, daily = _scan_best(NEXT_DAY)
    yield ("supervision.scan_daily_bare_query_ms", next_bare_s * 1000, "ms")
    yield ("supervision.scan_daily_bare_rows", len(next_rows), "rows")
    yield ("supervision.scan_daily_s", daily_s, "s")
    yield ("supervision.scan_daily_created", daily["created"], "items")
    yield ("supervision.scan_daily_rows", daily["reminders"], "reminders")
    yield ("supervision.scan_daily_ratio", daily_s / next_bare_s, "x")


def _scan_best(day: dt.date, repeat: int = 3) -> tuple[float, dict]:
    """The best of `repeat` committed scans of `day`, as the bare query is the best of its runs: every run but
    the last is undone (its reminders and outbox row deleted, the table vacuumed) so each one writes them all."""
    best, result = float("inf"), None
    for run in range(repeat):
        last_reminder = Reminder.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        last_entry = DeliveryQueue.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        started = time.perf_counter()
        result = services.scan_deadlines(today=day)
        best = min(best, time.perf_counter() - started)
        if run < repeat - 1:
            DeliveryQueue.objects.filter(pk__gt=last_entry).delete()
            Reminder.objects.filter(pk__gt=last_reminder).delete()
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute(f"VACUUM ANALYZE {Reminder._meta.db_table}")
    return best, result


def _write_floor(day: dt.date, calendar) -> int:
    """Insert the scan's reminder rows into a bare table holding only the uniqueness index, in one committed
    transaction that drops the table again. An ordinary table, not a temporary one: the floor pays the
    write-ahead log like the real table does."""
    plan = scan.ScanPlan(day, calendar)
    with_sql, selects = plan.kind_selects()
    inserted = 0
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("CREATE TABLE bench_floor (kind VARCHAR(16), level VARCHAR(16), item_key VARCHAR(32), "
                        "assignment_id BIGINT, commitment_id BIGINT, unit_id BIGINT, due_date DATE, threshold INTEGER)")
            cur.execute("CREATE UNIQUE INDEX bench_floor_once ON bench_floor (item_key, kind, due_date, threshold)")
            for _spec, select, params in selects:
                cur.execute(f"INSERT INTO bench_floor ({plan.COLUMNS}) {with_sql} SELECT {plan.COLUMNS} "
                            f"FROM ({select}) AS due WHERE TRUE ON CONFLICT DO NOTHING", params)
                inserted += cur.rowcount
            cur.execute("DROP TABLE bench_floor")
    return inserted


bench_scan_deadlines.bench_order = 1  # a million assignments: after every other benchmark (see banli.bench)
