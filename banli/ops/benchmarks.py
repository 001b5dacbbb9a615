"""Benchmarks of production serving: the 200-user load on gunicorn and PostgreSQL, and the list import's rate.

The load test builds its own database (a copy of the freshly migrated bench database, then the demo data), so it
runs first (bench_order -1) and leaves the shared bench database untouched. Duration and users come from
BANLI_BENCH_LOAD_SECONDS (default 180) and BANLI_BENCH_LOAD_USERS (default 200); the server listens on
BANLI_BENCH_PORT (default 8161). The machine's load average is printed beside the figures: on a shared machine
read the latencies against the floor measured in the same run.
"""
from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import shutil
import signal
import subprocess  # nosec B404
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from django.conf import settings
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone
from openpyxl import Workbook

from banli.exchange import services
from banli.exchange.models import ImportBatch
from banli.handling import services as handling
from banli.ops import loadtest
from banli.organizations import services as orgs
from banli.organizations.choices import Role, UnitKind
from banli.proposals import services as proposals
from banli.proposals.choices import Body, Level

ROOT = Path(__file__).resolve().parents[2]
IMPORT_ROWS = int(os.environ.get("BANLI_BENCH_IMPORT_ROWS", "1000"))


def _import_world():

    office_unit = orgs.unit_create(name="导入基准督查室", kind=UnitKind.ASSIGNING_OFFICE)
    units = [orgs.unit_create(name=f"导入基准第{i}局") for i in range(1, 6)]
    office = orgs.user_create(username="bench_import_office", password=None, display_name="导入基准督查室 王芳")
    orgs.role_grant(user=office, role=Role.ASSIGNING_OFFICE, unit=office_unit)
    session = proposals.session_create(actor=office, name="导入基准政协会议", body=Body.CPPCC, level=Level.DISTRICT,
                                       year=timezone.localdate().year, assigning_office=office_unit)
    return office, units, session


def _list_xlsx(rows: int, units, start: int = 0) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["编号", "案由", "提案人", "类别", "主办单位", "会办单位", "是否重点"])
    for i in range(start, start + rows):
        sheet.append([f"B{i:06d}", f"关于第{i}项民生事项的提案", f"委员{i % 97}、委员{(i + 1) % 97}", "城建",
                      units[i % len(units)].name, units[(i + 1) % len(units)].name, "否"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bench_exchange_import():
    """Confirming a 交办清单: the background job's rate over IMPORT_ROWS rows (plan, registrations, assignments,
    events, one transaction), beside the rate of the per-row services it replaced for new items."""
    office, units, session = _import_world()
    batch = services.batch_create(actor=office, session=session, filename="交办清单.xlsx",
                                  data=_list_xlsx(IMPORT_ROWS, units))

    started = time.perf_counter()
    # From the click to the end: the start checks the plan, the job (inline here: the bench runs in autocommit,
    # so the job starts on commit at once) plans again and writes.
    with override_settings(BANLI_IMPORT_IN_BACKGROUND=False):
        services.batch_import_start(batch=batch, actor=office)
    elapsed = time.perf_counter() - started
    result = ImportBatch.objects.get(pk=batch.pk).result
    assert result.get("register") == IMPORT_ROWS, result
    yield "exchange.import.rows", IMPORT_ROWS, "rows"
    yield "exchange.import.seconds", elapsed, "s"
    yield "exchange.import.rows_per_second", IMPORT_ROWS / elapsed, "rows/s"

    per_row = 40
    started = time.perf_counter()
    for i in range(per_row):
        proposal = proposals.proposal_create(actor=office, session=session, number=f"R{i:05d}", title=f"关于第{i}项的提案",
                                             proposers=[f"委员{i % 97}", f"委员{(i + 1) % 97}"], category="城建")
        handling.assignment_create(proposal=proposal, unit=units[i % 5], role="lead", actor=office)
        handling.assignment_create(proposal=proposal, unit=units[(i + 1) % 5], role="co", actor=office)
    per_row_rate = per_row / (time.perf_counter() - started)
    yield "exchange.import.per_row_services_rows_per_second", per_row_rate, "rows/s"
    yield "exchange.import.speedup_over_per_row", (IMPORT_ROWS / elapsed) / per_row_rate, "x"


bench_exchange_import.bench_order = -1


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _server_log_figures(log: Path, workers: int):
    """What the server itself reports: workers killed for silence, workers started beyond the first ones
    (a killed or recycled worker drops what it holds), requests answered with 5xx, errors logged."""
    lines = log.read_text(errors="replace").splitlines()
    statuses = []
    for line in lines:
        if '"gunicorn.access"' in line:
            try:
                statuses.append(int(json.loads(line).get("status", 0)))
            except (ValueError, AttributeError):
                pass
    yield "load.server.worker_timeouts", sum("WORKER TIMEOUT" in line for line in lines), "workers"
    yield "load.server.worker_restarts", max(sum("Booting worker" in line for line in lines) - workers, 0), "workers"
    yield "load.server.answers_5xx", sum(status >= 500 for status in statuses), "requests"
    yield "load.server.error_lines", sum('"level": "ERROR"' in line or '"level": "CRITICAL"' in line
                                         for line in lines), "lines"


def bench_production_load():
    """N users of mixed roles for D seconds on gunicorn (the production config) and PostgreSQL, demo-sized data."""

    if connection.vendor != "postgresql":
        print("# production_load: skipped, needs DATABASE_URL=postgres://… (the production database)", file=sys.stderr)
        return
    seconds = float(os.environ.get("BANLI_BENCH_LOAD_SECONDS", "180"))
    users = int(os.environ.get("BANLI_BENCH_LOAD_USERS", "200"))
    port = int(os.environ.get("BANLI_BENCH_PORT", "8161"))
    template = connection.settings_dict["NAME"]
    load_db = f"{template}_load"
    parts = urlsplit(settings.DATABASE_URL)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    load_url = urlunsplit(parts._replace(path=f"/{load_db}"))
    connections.close_all()

    def admin(sql: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql)

    admin(f'DROP DATABASE IF EXISTS "{load_db}" WITH (FORCE)')
    try:
        admin(f'CREATE DATABASE "{load_db}" TEMPLATE "{template}"')
        migrated = True
    except psycopg.Error:
        admin(f'CREATE DATABASE "{load_db}"')
        migrated = False
    var = Path(tempfile.mkdtemp(prefix="banli-load-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "BANLI_TEST"))}
    env.update(DJANGO_SETTINGS_MODULE="banli.settings", DATABASE_URL=load_url, BANLI_VAR_DIR=str(var),
               STATIC_ROOT=str(ROOT / "var" / "bench-static"), SECRET_KEY=secrets.token_urlsafe(40),
               BANLI_FIELD_KEYS=secrets.token_urlsafe(24), BANLI_EVENT_KEY=secrets.token_urlsafe(32),
               ALLOWED_HOSTS="127.0.0.1,localhost", BANLI_RATE_LOGIN="100000/m", BANLI_RATE_EXPORT="100000/m",
               BANLI_STATIC_HASHED="1", BANLI_LOG_FORMAT="json", PYTHONUNBUFFERED="1")
    env.pop("CELERY_BROKER_URL", None)
    env.pop("BANLI_TESTING", None)

    def run(*args, **extra):
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env={**env, **extra}, capture_output=True,  # nosec B603
                              text=True, timeout=1800)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    server = None
    try:
        if not migrated:
            run("manage.py", "migrate", "--noinput", "-v0")
        started = time.perf_counter()
        run("manage.py", "load_demo", BANLI_DEMO="1")
        print(f"# production_load: demo data loaded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        run("manage.py", "collectstatic", "--noinput", "-v0")
        plan = json.loads(run("-m", "banli.ops.loadtest", "prepare", str(users)).strip().splitlines()[-1])
        log = open(var / "web.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:banli.ops.gunicorn_conf",  # nosec B603
                                   "banli.wsgi"], cwd=ROOT, env={**env, "BANLI_BIND": f"127.0.0.1:{port}"},
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if httpx.get(f"{base}/livez", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                raise RuntimeError((var / "web.log").read_text()[-3000:])
            time.sleep(0.5)

        with mock.patch.dict(os.environ):  # the config's defaults are the server's, not this process's
            from banli.ops import gunicorn_conf  # noqa: PLC0415 - importing it sets os.environ defaults
        print(f"# production_load: {users} users for {seconds:.0f} s on {base} "
              f"({gunicorn_conf.workers} gthread workers x {gunicorn_conf.threads} threads), "
              f"load average before {_loadavg()}", file=sys.stderr)
        before = os.getloadavg()[0]
        result, elapsed = asyncio.run(loadtest.run_load(base, plan, seconds))
        after = os.getloadavg()[0]
        yield from loadtest.report(result, elapsed, users)
        yield "load.loadavg_1m_before", before, "load"
        yield "load.loadavg_1m_after", after, "load"
        yield "load.cpu_cores", os.cpu_count() or 0, "cores"
        yield "load.web_workers", gunicorn_conf.workers, "processes"
        yield "load.web_threads", gunicorn_conf.threads, "threads"
        yield from _server_log_figures(var / "web.log", gunicorn_conf.workers)
        for error in sorted(result.examples):
            for example in result.examples[error]:
                print(f"# production_load error {error} ({result.error_kinds[error]} in all), e.g. {example}",
                      file=sys.stderr)
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        admin(f'DROP DATABASE IF EXISTS "{load_db}" WITH (FORCE)')

        if (var / "web.log").exists():  # kept for reading after the run: every request and what the server said
            kept = ROOT / "var" / "bench-load-web.log"
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(var / "web.log", kept)
            print(f"# production_load: the server's log is in {kept}", file=sys.stderr)
        shutil.rmtree(var, ignore_errors=True)


bench_production_load.bench_order = -2
