"""Benchmarks of the deadline scan (run by `make bench`).

`bench_scan_deadlines` fills the assignment table with generated rows by bulk SQL (generate_series on
PostgreSQL, a recursive CTE on SQLite), then times:
  - the scan's finding phase (`scan.find_due`: the very SELECTs the scan inserts from, one per kind, joined
    with the small threshold tables) against ONE bare indexed SQL query returning the same (id, due date) rows;
  - a full first scan (reminders and notifications created and committed, each by one INSERT … SELECT)
    and a repeated scan the same day (nothing new: the unique constraint absorbs every row), each also as
    a ratio to the bare query;
  - the send step's first half, separately: queueing the first scan's e-mail/SMS/robot deliveries
    (`services.deliveries_queue`, one INSERT … SELECT), and the scan plus that step together.
1,000,000 assignments on PostgreSQL (BANLI_BENCH_SCAN_ROWS to change), 50,000 on SQLite.
"""
from __future__ import annotations

import datetime as dt
import os
import time

from django.db import connection, transaction
from django.urls import reverse

TODAY = dt.date(2025, 10, 9)  # a working day just after the National Day holiday


def _rows_wanted() -> int:
    default = 1_000_000 if connection.vendor == "postgresql" else 50_000
    return int(os.environ.get("BANLI_BENCH_SCAN_ROWS", default))


def _fixtures():
    from banli.organizations import services as orgs
    from banli.organizations.choices import Role, UnitKind
    from banli.proposals import services as proposals
    from banli.proposals.choices import Body, Level

    office_unit = orgs.unit_create(name="基准督查室", kind=UnitKind.ASSIGNING_OFFICE)
    office = orgs.user_create(username="bench_office", password=None, display_name="基准督查室")
    orgs.role_grant(user=office, role=Role.ASSIGNING_OFFICE, unit=office_unit)
    units = []
    for i in range(10):
        unit = orgs.unit_create(name=f"基准单位{i:02d}")
        user = orgs.user_create(username=f"bench_unit{i:02d}", password=None, display_name=f"基准联络员{i:02d}",
                                email=f"bench{i:02d}@example.gov.cn")
        orgs.role_grant(user=user, role=Role.UNIT_OFFICE, unit=unit)
        units.append(unit)
    session = proposals.session_create(actor=office, name="基准会议", body=Body.CPPCC, level=Level.DISTRICT, year=2025,
                                       assigning_office=office_unit)
    return session, units


def _generate(n: int, session, units) -> None:
    """n assignments over n/10 proposals; 1 in 100 in progress, 1 in 100 awaiting signature, the rest closed;
    deadlines spread over 240 days around TODAY (so most open items are overdue: a worst case for the scan)."""
    proposals = max(n // 10, 1)
    unit_ids = [u.pk for u in units]
    today = TODAY.isoformat()
    pg = connection.vendor == "postgresql"
    series = (
        "SELECT generate_series(1, %s) AS i" if pg
        else "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %s) SELECT i FROM s"
    )
    date_plus = (lambda expr: f"(DATE '{today}' + ({expr})::int)") if pg else (
        lambda expr: f"date('{today}', ({expr}) || ' days')")
    now = "now()" if pg else "datetime('now')"
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO proposals_proposal (session_id, kind, number, title, body, category, is_key, status,
                                                created_at, updated_at)
                SELECT %s, 'proposal', 'B' || i, '基准提案 ' || i, '', '', false, 'in_progress', {now}, {now}
                FROM ({series}) AS s""",
            [session.pk, proposals],
        )
        cur.execute("SELECT min(id) FROM proposals_proposal WHERE session_id = %s", [session.pk])
        first = cur.fetchone()[0]
        unit_case = "CASE (i %% 10) " + " ".join(f"WHEN {k} THEN {uid}" for k, uid in enumerate(unit_ids)) + " END"
        spread = "(((i %% 240) * 7919) %% 240) - 120"
        cur.execute(
            f"""INSERT INTO handling_assignment (proposal_id, unit_id, role, state, round, assigned_at, sign_due,
                    opinion_due, reply_due, reply_due_original, version, updated_at)
                SELECT {first} + ((i - 1) / 10), {unit_case},
                       CASE WHEN i %% 10 = 1 THEN 'lead' ELSE 'co' END,
                       CASE WHEN i %% 100 = 1 THEN 'in_progress' WHEN i %% 100 = 2 THEN 'pending_sign' ELSE 'closed' END,
                       1, {now}, {date_plus(spread + " - 80")}, {date_plus(spread)}, {date_plus(spread + " + 60")},
                       {date_plus(spread + " + 60")}, 1, {now}
                FROM ({series}) AS s""",
            [n],
        )


def _bare_sql(windows) -> tuple[str, list]:
    """One UNION ALL statement over the same indexed columns and constants the scan uses."""
    from banli.supervision.scan import KINDS, _merge

    parts, params = [], []
    for spec in KINDS:
        table = "handling_assignment" if spec.model == "assignment" else "replies_commitment"
        where = [f"state IN ({', '.join(['%s'] * len(spec.states))})"]
        params += list(spec.states)
        if spec.roles:
            where.append(f"role IN ({', '.join(['%s'] * len(spec.roles))})")
            params += list(spec.roles)
        ranges = [f"{spec.due_field} < %s"]
        params.append(windows.today)
        for lo, hi in _merge(windows.ranges):
            ranges.append(f"({spec.due_field} >= %s AND {spec.due_field} < %s)")
            params += [lo, hi]
        parts.append(f"SELECT id, {spec.due_field} FROM {table} WHERE {' AND '.join(where)} AND ({' OR '.join(ranges)})")
    return " UNION ALL ".join(parts), params


def _best(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def bench_scan_deadlines():
    from banli.handling.deadlines import WorkCalendar
    from banli.supervision import scan, services
    from banli.supervision.models import Delivery, Notification, Reminder

    n = _rows_wanted()
    if connection.vendor != "postgresql":
        print(f"# supervision: SQLite — scanning {n:,} assignments; set DATABASE_URL=postgres://… for 1,000,000")
    started = time.perf_counter()
    with transaction.atomic():
        session, units = _fixtures()
        _generate(n, session, units)
    if connection.vendor == "postgresql":
        # A table the size of a real one is not bulk-loaded the morning of each scan: measure it settled
        # (statistics, visibility map and hint bits set), not racing the autovacuum the load sets off.
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE handling_assignment")
            cur.execute("VACUUM ANALYZE proposals_proposal")
    yield ("supervision.scan_rows_generated", n, "rows")
    yield ("supervision.scan_generate_seconds", time.perf_counter() - started, "s")

    calendar = WorkCalendar.load()
    default, by_office = scan.load_policies()
    windows = scan.Windows(TODAY, calendar)
    for policy in [default, *by_office.values()]:
        windows.add_thresholds(policy.warning_days)
        windows.add_thresholds(policy.key_warning_days)
    sql, params = _bare_sql(windows)

    def bare():
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    bare_s, bare_rows = _best(bare, repeat=5)
    find_s, found = _best(lambda: scan.find_due(TODAY, calendar))
    yield ("supervision.scan_bare_query_ms", bare_s * 1000, "ms")
    yield ("supervision.scan_bare_rows", len(bare_rows), "rows")
    yield ("supervision.scan_find_ms", find_s * 1000, "ms")
    yield ("supervision.scan_find_rows", len(found), "rows")
    yield ("supervision.scan_find_ratio", find_s / bare_s, "x")

    # A running worker has its URLconf loaded; the scan's first reverse() would otherwise import every view.
    reverse("supervision:item", args=[0])
    started = time.perf_counter()
    first = services.scan_deadlines(today=TODAY)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    queued = services.deliveries_queue()
    queue_s = time.perf_counter() - started
    started = time.perf_counter()
    again = services.scan_deadlines(today=TODAY)
    again_s = time.perf_counter() - started
    assert again["created"] == 0 and Reminder.objects.count() == first["created"]
    assert Notification.objects.count() == first["notifications"] and Delivery.objects.count() == queued
    yield ("supervision.scan_full_first_s", first_s, "s")
    yield ("supervision.scan_full_first_created", first["created"], "reminders")
    yield ("supervision.scan_full_first_notifications", first["notifications"], "notifications")
    yield ("supervision.scan_full_first_ratio", first_s / bare_s, "x")
    yield ("supervision.scan_queue_deliveries_s", queue_s, "s")
    yield ("supervision.scan_queue_deliveries_created", queued, "deliveries")
    yield ("supervision.scan_queue_deliveries_ratio", queue_s / bare_s, "x")
    yield ("supervision.scan_first_plus_queue_ratio", (first_s + queue_s) / bare_s, "x")
    yield ("supervision.scan_repeat_s", again_s, "s")
    yield ("supervision.scan_repeat_ratio", again_s / bare_s, "x")
