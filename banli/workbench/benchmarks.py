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
import statistics
import time

from django.db import connection
from django.test.utils import CaptureQueriesContext

from banli.handling.choices import AssignmentRole, AssignmentState

SMALL = 1000


def _scale() -> int:
    return max(int(os.environ.get("BANLI_BENCH_WORKBENCH_SCALE", "100000")), SMALL * 2)


def _pages():
    """(name, username, url, params) for every role's work page and the ledger views users open most."""
    from django.urls import reverse

    from banli.core import demo_texts as T
    from banli.handling.models import Assignment

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
    from banli.core import demo_texts as T
    from banli.organizations import services as orgs
    from banli.organizations.choices import Role
    from banli.organizations.models import Unit, User

    if not User.objects.filter(username="scale_bench_leader").exists():
        unit = Unit.objects.filter(name=T.DEPARTMENTS[0][1]).order_by("id").first()
        user = orgs.user_create(username="scale_bench_leader", password=None, display_name="压测分管领导")
        orgs.role_grant(user=user, role=Role.LEADER, unit=unit)


def _measure(pages, repeat: int = 5) -> dict[str, tuple[float, int]]:
    from django.test import Client

    from banli.organizations.models import User

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
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                client.get(url, params)
                times.append(time.perf_counter() - started)
        results[name] = (statistics.median(times) * 1000, len(queries.captured_queries))
    return results


def bench_workbench_pages_scale():
    from banli.core.demo_scale import generate

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
