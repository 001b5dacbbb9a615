"""Benchmarks of the workbench pages (`make bench`): each role's 工作台, the ledger and a proposal page on the
`load_demo --scale` data, at a small scale and again at full scale in the same run.

The pages are requested through Django's test client as signed-in users (the whole stack: middleware,
selectors, templates), five times each; the median is reported, with the number of queries. The ratio
`large / small` shows how a page's time grows from 1,000 to 100,000 proposals (BANLI_BENCH_WORKBENCH_SCALE
to change): a constant-query page whose queries use indexes stays near 1×, a page that scans every row
grows with the data.
"""
from __future__ import annotations

import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from openpyxl import Workbook

from banli.assist import simindex
from banli.bench import QueryCounter, count_queries
from banli.demo import texts as T
from banli.demo.scale import analyze, generate
from banli.exchange import ledger as exports
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment
from banli.ledger.filtersets import filtered_ledger
from banli.ledger.keyset import SORTS, default_order, encode_cursor
from banli.organizations import services as orgs
from banli.organizations.choices import Role
from banli.organizations.models import Unit, User
from banli.proposals.models import Proposal, Session
from banli.proposals.services import proposal_update
from banli.reports.aggregates import rebuild
from banli.workbench import selectors
from banli.handling.admin import AssignmentAdmin, StateFilter

SMALL = 1000


def _scale() -> int:
    return max(int(os.environ.get("BANLI_BENCH_WORKBENCH_SCALE", "100000")), SMALL * 2)


def _pages():
    """(name, username, url, params) for every role's work page and the ledger views users open most."""

    code = T.DEPARTMENTS[0][0]
    handler = f"scale_{code}_handler"
    unit_office = f"scale_{code}_office"
    ledger = reverse("workbench:ledger")
    home = reverse("workbench:home")
    # A proposal of the first department with a long history: the proposal page reads its timeline.
    busy = (Assignment.objects.filter(unit__name=T.DEPARTMENTS[0][1], role=AssignmentRole.LEAD, state=AssignmentState.CLOSED)
            .order_by("-id").values_list("proposal_id", flat=True).first())
    pages = [
        ("home_office", "scale_office", home, {}),
        ("home_unit_office", unit_office, home, {}),
        ("home_handler", handler, home, {}),
        ("home_leader", "scale_bench_leader", home, {}),
        ("home_proposer", "scale_p00", home, {}),
        ("ledger_office_default", "scale_office", ledger, {}),
        ("ledger_office_text", "scale_office", ledger, {"q": "教育"}),
        ("ledger_office_overdue", "scale_office", ledger, {"overdue": "true", "ordering": "-due"}),
        ("ledger_office_page_100", "scale_office", ledger, {"page": "100"}),
        ("ledger_unit_office", unit_office, ledger, {}),
        ("ledger_handler", handler, ledger, {"state": AssignmentState.IN_PROGRESS}),
    ]
    if busy:
        pages.append(("proposal_page_office", "scale_office", reverse("workbench:proposal", args=[busy]), {}))
    return pages


def _leader():
    """A leader of the first department (the generator makes handlers and unit offices, not leaders)."""
    if not User.objects.filter(username="scale_bench_leader").exists():
        unit = Unit.objects.filter(name=T.DEPARTMENTS[0][1]).order_by("id").first()
        user = orgs.user_create(username="scale_bench_leader", password=None, display_name="压测分管领导")
        orgs.role_grant(user=user, role=Role.LEADER, unit=unit)


def _measure(pages, repeat: int = 5) -> dict[str, tuple[float, int]]:

    results = {}
    clients: dict[str, Client] = {}
    for name, username, url, params in pages:
        client = clients.get(username)
        if client is None:
            client = clients[username] = Client()
            client.force_login(User.objects.get(username=username))
        response = client.get(url, params)  # warm the per-process caches
        if response.status_code != 200:
            raise RuntimeError(f"{name}: {url} answered {response.status_code}")
        times = []
        for _ in range(repeat):
            with QueryCounter() as queries:
                started = time.perf_counter()
                client.get(url, params)
                times.append(time.perf_counter() - started)
        results[name] = (statistics.median(times) * 1000, queries.count)
    return results


def bench_workbench_pages_scale():
    n = _scale()
    started = time.perf_counter()
    generate(SMALL, batch_size=2000, seed=7)
    _leader()
    pages = _pages()
    small = _measure(pages)
    generate(n - SMALL, batch_size=2000, seed=8)
    yield "workbench.scale_proposals", n, "proposals"
    yield "workbench.scale_generate_seconds", time.perf_counter() - started, "s"
    large = _measure(pages)
    for name, (ms, queries) in large.items():
        small_ms, small_queries = small.get(name, (None, None))
        yield f"workbench.{name}_{n}_ms", ms, "ms"
        yield f"workbench.{name}_{n}_queries", queries, "queries"
        if small_ms:
            yield f"workbench.{name}_ratio_{n}_to_{SMALL}", ms / small_ms, "x"
            if small_queries != queries:
                yield f"workbench.{name}_queries_at_{SMALL}", small_queries, "queries"


# --- the ledger at a million assignments (issue 18) -----------------------------------------------------------

LEDGER_DEFAULT = 1_000_000


def _ledger_target() -> int:
    return int(os.environ.get("BANLI_BENCH_LEDGER_ASSIGNMENTS", str(LEDGER_DEFAULT)))


def _top_up(n: int) -> None:
    """Fill the database up to about `n` assignments with the --scale generator (parallel on PostgreSQL)."""
    missing = n - Assignment.objects.count()
    if missing > 0:
        workers = int(os.environ.get("BANLI_BENCH_WORKERS", "2")) if connection.vendor == "postgresql" else 1
        generate(assignments=missing, batch_size=2000, seed=18, workers=workers)

        rebuild()
    else:
        analyze()


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _paired_medians_ms(first, second, repeat: int) -> tuple[float, float]:
    """Medians of `first` and `second` timed in turns (after one warm-up each), in ms."""
    first()
    second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, out in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            fn()
            out.append(time.perf_counter() - started)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def bench_ledger_at_scale():
    """Ledger variants, the Django admin changelist's same views and the raw SQL floor, figures and dashboard, at
    BANLI_BENCH_LEDGER_ASSIGNMENTS assignments (default 1,000,000; generated when missing), medians of 15."""

    repeat = int(os.environ.get("BANLI_BENCH_REPEAT", "15"))
    started = time.perf_counter()
    _top_up(_ledger_target())
    n = Assignment.objects.count()
    yield "ledger.assignments", n, "assignments"
    yield "ledger.setup_seconds", time.perf_counter() - started, "s"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            yield "ledger.database_size", cursor.fetchone()[0] / 2**20, "MiB"

    User = get_user_model()
    office = User.objects.get(username="scale_office")
    code = T.DEPARTMENTS[0][0]
    unit_user = User.objects.filter(username__in=[f"{code}_office", f"scale_{code}_office"]).first()
    unit = Unit.objects.get(name=T.DEPARTMENTS[0][1], parent__isnull=False)
    admin = User.objects.filter(username="bench_admin").first()
    if admin is None:
        admin = User.objects.create_superuser("bench_admin", "bench@example.gov.cn", None)

    factory = RequestFactory()
    clients_users = {"office": office, "unit": unit_user}
    clients = {}
    for name, user in (("office", office), ("unit", unit_user), ("admin", admin)):
        clients[name] = Client()
        clients[name].force_login(user)

    ledger = reverse("workbench:ledger")
    changelist = reverse("admin:handling_assignment_changelist")
    table = "handling_assignment"
    order = "(NOT a.key_item OR a.next_due IS NULL), COALESCE(a.next_due, DATE '9999-12-31'), a.id"
    # The 25,001st row of the default order: where "page 500" starts, found once with OFFSET for the cursor.
    deep = (Assignment.objects.exclude(state="withdrawn")
            .order_by(*default_order(Assignment)).only("key_item", "next_due")[25_000:25_001])
    # The cursor as the page writes it (keyset: the same key rule and encoding), so the floor reads the same rows.
    deep_cursor = "".join(encode_cursor(SORTS[""].values_of(row)) for row in deep)
    # The floor: the page's rows picked from the assignment row alone (its ordered index and LIMIT), then joined
    # for what a row shows, and the exact count. Written as a sub-select, as one writes it by hand: the joined
    # form lets the planner guess that a row comparison keeps one row and hash-join a million (4.8 s deep).
    def page_sql(where: str, order_by: str = order) -> str:
        return (f"SELECT a.*, p.number, p.title, s.name, u.name FROM (SELECT * FROM {table} a WHERE {where} "
                f"ORDER BY {order_by} LIMIT 51) a JOIN proposals_proposal p ON p.id = a.proposal_id "
                f"JOIN proposals_session s ON s.id = p.session_id JOIN organizations_unit u ON u.id = a.unit_id "
                f"ORDER BY {order_by}")

    live = "a.state <> 'withdrawn'"
    search = ("a.proposal_id IN (SELECT id FROM proposals_proposal WHERE search_vector "
              "@@ to_tsquery('simple'::regconfig, '''教育''')) AND ")
    count = f"SELECT count(*) FROM {table} a WHERE "
    due_order = "COALESCE(a.next_due, DATE '9999-12-31'), a.id"
    # The admin changelist's same views: the ledger's rows (every state but 已撤回 unless one is chosen), in the
    # ledger's order (key items first, then the current deadline; the admin adds the id), same scope and search.

    columns = list(AssignmentAdmin.list_display)
    admin_order = {"o": f"-{columns.index('key_item')}.{columns.index('next_due')}"}
    admin_live = {"state": StateFilter.LIVE, **admin_order}
    variants = [
        # name, client, params, admin params, floor (page, count)
        ("office_first", "office", {}, admin_live,
         (page_sql(live), count + live)),
        ("office_state_due", "office", {"state": "in_progress", "ordering": "due"},
         {"state": "in_progress", "o": str(columns.index("next_due"))},
         (page_sql("a.state = 'in_progress'", due_order), count + "a.state = 'in_progress'")),
        ("office_search", "office", {"q": "教育"}, {"q": "教育", **admin_live},
         (page_sql(f"{search}{live}"), count + search + live)),
        ("office_deep_page", "office", {"after": deep_cursor, "page": 501}, {"p": "501", **admin_live},
         (page_sql(f"{live} AND ({order}) > (CAST(%s AS boolean), CAST(%s AS date), %s)"), count + live)),
        ("unit_first", "unit", {}, {"unit__id__exact": unit.pk, **admin_live},
         (page_sql(f"a.unit_id = {unit.pk} AND {live}"), count + f"a.unit_id = {unit.pk} AND {live}")),
        ("unit_search", "unit", {"q": "教育"}, {"unit__id__exact": unit.pk, "q": "教育", **admin_live},
         (page_sql(f"a.unit_id = {unit.pk} AND {search}{live}"),
          count + f"a.unit_id = {unit.pk} AND {search}{live}")),
    ]
    deep_params = deep_cursor.split("_")
    # The page's fixed cost: the same request with a filter value the form refuses (no rows are read; sessions,
    # middleware, the user's scope, the filter form and the template remain). What a variant costs beyond it is
    # what its data costs, set against the raw SQL of the same data (`_data_over_floor`).
    fixed = {}
    for who in ("office", "unit"):
        def empty(client=clients[who]):
            response = client.get(ledger, {"state": "不存在的状态"})
            assert response.status_code == 200, response.status_code

        empty()
        fixed[who] = _median_ms(empty, repeat)
        yield f"ledger.{who}_fixed_page_ms", fixed[who], "ms"
    for name, who, params, admin_params, (page_q, count_q) in variants:
        client = clients[who]

        def page(client=client, params=params):
            response = client.get(ledger, params)
            assert response.status_code == 200, response.status_code

        page()
        queries = count_queries(page)  # every statement of the request: session, user, scope, count, page, rows
        floor = None
        if connection.vendor == "postgresql":
            sql_params = []
            if "%s" in page_q:
                sql_params = [deep_params[0] == "1", deep_params[1], int(deep_params[2])]

            def floor(page_q=page_q, count_q=count_q, sql_params=sql_params):
                with connection.cursor() as cursor:
                    cursor.execute(page_q, sql_params)
                    cursor.fetchall()
                    cursor.execute(count_q)
                    cursor.fetchall()
            # The page and its floor timed in turns, so that what else the machine does falls on both alike.
            ms, floor_ms = _paired_medians_ms(page, floor, repeat)
        else:
            ms = _median_ms(page, repeat)
        yield f"ledger.{name}_ms", ms, "ms"
        yield f"ledger.{name}_queries", queries, "queries"

        def fragment(client=client, params=params):
            # What a filter change costs: the filter form asks htmx for the table alone (same reads, no layout).
            response = client.get(ledger, params, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="ledger-table")
            assert response.status_code == 200, response.status_code

        fragment_ms = _median_ms(fragment, repeat)
        yield f"ledger.{name}_table_only_ms", fragment_ms, "ms"

        def cold(page=page):
            # The same page with every cache emptied first (counts kept a minute, menus, calendar): the worst case.
            cache.clear()
            page()

        cold_ms = _median_ms(cold, max(3, repeat // 3))
        yield f"ledger.{name}_cold_cache_ms", cold_ms, "ms"

        def rows_only(user=clients_users[who], params=params):
            # The ledger's own reads (filters, count, page rows) without sessions, middleware and the template.
            request = factory.get(ledger, params)
            request.user = user
            filterset = filtered_ledger(request)
            selectors.ledger_page(filterset.qs, request.GET, 50)

        rows_ms = _median_ms(rows_only, repeat)
        yield f"ledger.{name}_rows_ms", rows_ms, "ms"
        if floor is not None:
            yield f"ledger.{name}_floor_ms", floor_ms, "ms"
            yield f"ledger.{name}_over_floor", ms / floor_ms, "x"
            yield f"ledger.{name}_cold_cache_over_floor", cold_ms / floor_ms, "x"
            yield f"ledger.{name}_rows_over_floor", rows_ms / floor_ms, "x"
            yield f"ledger.{name}_data_over_floor", max(ms - fixed[who], 0.0) / floor_ms, "x"
            yield f"ledger.{name}_table_only_over_floor", fragment_ms / floor_ms, "x"

        def admin_page(admin_params=admin_params):
            response = clients["admin"].get(changelist, admin_params)
            assert response.status_code == 200, response.status_code

        admin_ms = _median_ms(admin_page, max(3, repeat // 3))
        yield f"ledger.{name}_admin_ms", admin_ms, "ms"
        yield f"ledger.{name}_admin_over_banli", admin_ms / ms, "x"
        yield f"ledger.{name}_admin_over_banli_cold_cache", admin_ms / cold_ms, "x"

    session = Session.objects.filter(name__startswith="压测届次").order_by("id").first()
    pages = [
        ("figures_office", "office", reverse("reports:figures"), {"session": session.pk}),
        ("dashboard_office", "office", reverse("reports:dashboard"), {"session": session.pk}),
        ("figures_unit", "unit", reverse("reports:figures"), {"session": session.pk}),
        ("dashboard_unit", "unit", reverse("reports:dashboard"), {"session": session.pk}),
        ("workbench_office", "office", reverse("workbench:home"), {}),
        ("workbench_unit", "unit", reverse("workbench:home"), {}),
        ("notifications_office", "office", reverse("workbench:notifications"), {}),
        ("notifications_unit", "unit", reverse("workbench:notifications"), {}),
        # The year's reports over the whole session (not kept as aggregates): their item lists and the summary's
        # counts of contacts and steps read the unit's rows and events.
        ("score_unit", "unit", reverse("reports:score"), {"session": session.pk}),
        ("summary_unit", "unit", reverse("reports:summary"), {"session": session.pk}),
        ("area_summary_office", "office", reverse("reports:area_summary"), {"session": session.pk}),
        ("compare_office", "office", reverse("reports:compare"), {"session": session.pk}),
    ]
    for name, who, url, params in pages:
        client = clients[who]

        def get(client=client, url=url, params=params):
            response = client.get(url, params)
            assert response.status_code == 200, response.status_code

        get()
        queries = count_queries(get)
        yield f"reports.{name}_ms", _median_ms(get, max(3, repeat // 3)), "ms"
        yield f"reports.{name}_queries", queries, "queries"

    yield from _proposal_pages(clients["office"], repeat)
    yield from _api_lists(clients, repeat)
    # The export before the similar-items index is built in this process (200 MB at a million), so the process's
    # peak memory is the ledger's and the export's.
    yield from _export(clients["unit"], unit_user)
    yield from _similar_panel(clients["office"], office, session, repeat)


def _similar_panel(client, user, session, repeat):
    """相似提案 and 热点归类 at scale: the index's build (in the background on a live instance), the panel with it
    and after an edit (the change is indexed in the process), the process's peak memory; the topics page once and
    again (cached)."""
    folder = tempfile.mkdtemp(prefix="bench-similar-")
    with override_settings(BANLI_ASSIST_DIR=folder):
        started = time.perf_counter()
        info = simindex.build_index()
        yield "assist.similar_at_scale.items", info["items"], "proposals"
        yield "assist.similar_at_scale.build_seconds", time.perf_counter() - started, "s"
        yield "assist.similar_at_scale.index_mib", sum(f.stat().st_size for f in Path(folder).rglob("*.npy")) / 2**20, "MiB"
        keys = list(Proposal.objects.order_by("pk").values_list("pk", flat=True)[::max(1, info["items"] // 15)])

        def panel(keys=keys):
            for pk in keys:
                response = client.get(reverse("assist:similar", args=[pk]), HTTP_HX_REQUEST="true")
                assert response.status_code == 200 and b"data-similar=" in response.content, response.status_code

        panel()
        yield "assist.similar_at_scale.panel_ms", _median_ms(panel, 3) / len(keys), "ms"
        item = Proposal.objects.get(pk=keys[0])
        proposal_update(actor=user, proposal=item, title=item.title + "（修改）")
        # The first panel after an edit indexes the change in the process (a delta on the base's terms).
        yield "assist.similar_at_scale.panel_after_an_edit_ms", _timed(
            lambda: client.get(reverse("assist:similar", args=[keys[1]]), HTTP_HX_REQUEST="true")), "ms"
        yield "assist.similar_at_scale.process_peak_rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MiB"
        url = reverse("assist:topics", args=[session.pk])
        yield "assist.topics_at_scale.first_ms", _timed(lambda: client.get(url, HTTP_HX_REQUEST="true")), "ms"
        yield "assist.topics_at_scale.again_ms", _timed(lambda: client.get(url, HTTP_HX_REQUEST="true")), "ms"
    shutil.rmtree(folder, ignore_errors=True)


def _timed(fn) -> float:
    started = time.perf_counter()
    response = fn()
    assert response.status_code == 200, response.status_code
    return (time.perf_counter() - started) * 1000


def _proposal_pages(client, repeat):
    """The proposal page's query count for an item with one assignment and for the one with the most: constant."""

    busiest = (Proposal.objects.annotate(n=Count("assignments")).order_by("-n", "id").values_list("pk", "n").first())
    single = (Proposal.objects.annotate(n=Count("assignments")).filter(n=1).order_by("id").values_list("pk", "n").first())
    for label, row in (("one", single), ("most", busiest)):
        if row is None:
            continue
        url = reverse("workbench:proposal", args=[row[0]])

        def get(url=url):
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        get()
        yield f"ledger.proposal_page_{label}_assignments", row[1], "assignments"
        yield f"ledger.proposal_page_{label}_queries", count_queries(get), "queries"
        yield f"ledger.proposal_page_{label}_ms", _median_ms(get, max(3, repeat // 3)), "ms"


def _api_lists(clients, repeat):
    """The API's list endpoints, first page, for the office and the unit: a capped count (exact up to 10,000) and
    an order an index serves, so they cost what the ledger page costs at any size."""
    for who in ("office", "unit"):
        for name in ("assignments", "proposals", "replies", "events"):
            def get(client=clients[who], url=f"/api/v1/{name}"):
                response = client.get(url)
                assert response.status_code == 200, response.status_code

            get()
            yield f"api.{name}_{who}_ms", _median_ms(get, max(3, repeat // 3)), "ms"
            yield f"api.{name}_{who}_queries", count_queries(get), "queries"


def _export(client, user):
    """The unit user's whole ledger as .xlsx through the page's link: time to the first byte, to the last, the
    process's peak memory, against the floor: the same rows (same queries) written by openpyxl in write-only mode."""

    # One state of the unit's ledger, the one nearest BANLI_BENCH_EXPORT_ROWS rows (default 5,000), so the run
    # stays short at a million assignments; the ratio to the floor does not depend on the size.
    target = int(os.environ.get("BANLI_BENCH_EXPORT_ROWS", "5000"))
    request = RequestFactory().get("/")
    request.user = user
    by_state = (filtered_ledger(request).queryset.order_by().values("state").annotate(n=Count("pk")))
    state = min(by_state, key=lambda row: abs(row["n"] - target))["state"]
    url = reverse("exchange:ledger_xlsx") + f"?state={state}"
    warm = client.get(url)  # imports and first-request work out of the measure
    next(iter(warm.streaming_content))
    warm.close()
    before = _reset_peak_rss()
    started = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200 and response.streaming, response.status_code
    chunks = iter(response.streaming_content)
    first = next(chunks)
    first_ms = (time.perf_counter() - started) * 1000
    size = len(first) + sum(len(chunk) for chunk in chunks)
    total = time.perf_counter() - started
    added = _peak_rss() - before if before is not None else None
    request = RequestFactory().get(url)
    request.user = user
    qs = filtered_ledger(request).qs
    yield "export.ledger_xlsx_state", 0, state
    started = time.perf_counter()
    count = 0
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    ws.append(exports.HEADERS)
    for row in exports.ledger_rows(qs, viewer=user):
        ws.append(row)
        count += 1
    with tempfile.TemporaryFile() as handle:
        wb.save(handle)
    floor = time.perf_counter() - started
    yield "export.ledger_xlsx_rows", count, "rows"
    yield "export.ledger_xlsx_first_byte_ms", first_ms, "ms"
    yield "export.ledger_xlsx_seconds", total, "s"
    yield "export.ledger_xlsx_size", size / 2**20, "MiB"
    yield "export.ledger_xlsx_openpyxl_floor_seconds", floor, "s"
    yield "export.ledger_xlsx_over_floor", total / floor, "x"
    if added is not None:
        # What serving the export added to the process at its peak (Linux: the peak is reset just before).
        yield "export.ledger_xlsx_rss_added", added, "MB"
    yield "export.process_max_rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MB"


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak_rss() -> float | None:
    """Reset the process's peak resident size to its current one (Linux /proc/self/clear_refs); the current
    size in MB, or None where that cannot be done."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return _status_kb("VmRSS") / 1024
    except (OSError, KeyError):
        return None


def _peak_rss() -> float:
    return _status_kb("VmHWM") / 1024


bench_ledger_at_scale.bench_order = 2
