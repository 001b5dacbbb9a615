"""Smoke test of the production stack on loopback, without containers.

    DATABASE_URL=postgres://… python -m banli.ops.smoke [--template DBNAME] [--keep-logs]

Creates a throw-away PostgreSQL database beside DATABASE_URL's (copied from --template when given, else
migrated), seeds a small world, then starts what deploy/ starts: two gunicorn servers (gthread workers, the
production settings), one Celery worker on every queue and celery beat, with Redis as broker (db 5) and as shared
cache and session store (db 7). It signs in on one server and works on the other (shared sessions), reads the
ledger, urges a unit (one action) and waits for the worker to deliver the reminder mail, checks /healthz on
both (database, cache, broker, the beat's last round, the calendar), a hashed and compressed static file and the
JSON access log, counts failed sign-ins across both servers into one lockout, then stops everything and drops the
database. Exit status 0 when every check passed; each check prints one line.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess  # nosec B404: starts our own server processes with fixed argument lists
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import django
import httpx
import psycopg
import redis
from django.test import override_settings
from django.utils import timezone
from django_otp.oath import totp

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Banli-test-2026!"  # banli.core.testing.PASSWORD, the seed's users' password
QUEUES = "default,scan,deliveries,documents,assist"


class SmokeFailure(AssertionError):
    pass


def check(condition, what: str, detail: str = "") -> None:
    if not condition:
        raise SmokeFailure(f"FAILED: {what}" + (f" — {detail}" if detail else ""))
    print(f"ok   {what}", flush=True)


# --- the seed (runs inside a child process with the smoke's settings) ---------------------------------------


def seed() -> dict:
    """A small named world, one assigned proposal, a mailbox for the lead unit's office, next year's calendar."""
    django.setup()
    # After django.setup(): this module is loaded by the parent process too, which never sets Django up.
    from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: PLC0415 - models need django.setup()

    from banli.core import testing  # noqa: PLC0415 - models need django.setup()
    from banli.handling.models import HolidayOverride  # noqa: PLC0415 - models need django.setup()

    # Cheap hashes while building (16 accounts); the two accounts the smoke signs in with get real ones below.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        world = testing.build_world(year=timezone.localdate().year)
    for user in (world.office, world.lead_office):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    world.lead_office.email = "edu-office@example.invalid"
    world.lead_office.save(update_fields=["email"])
    # The office signs in as production asks of an assigning office: password, then the authenticator's code.
    device = TOTPDevice.objects.create(user=world.office, name="身份验证器", confirmed=True)
    proposal = testing.make_proposal(world, number="SMOKE001", title="关于生产环境冒烟测试的提案")
    lead, _ = testing.assign(world, proposal)
    # As an office does once the State Council publishes next year's holidays: the health check wants the
    # calendar to cover every year deadlines already reach into.
    year = timezone.localdate().year + 1
    HolidayOverride.objects.get_or_create(date=dt.date(year, 1, 1), defaults={"is_workday": False, "name": "元旦"})
    return {"assignment": lead.pk, "unit": world.lead_unit.pk, "number": proposal.number, "otp_key": device.key}


# --- processes ---------------------------------------------------------------------------------------------


class Stack:
    """Child processes, each in its own process group, with logs in one folder; stop() ends every one."""

    def __init__(self, env: dict, logs: Path):
        self.env, self.logs, self.procs = env, logs, []

    def start(self, name: str, *args: str, **extra_env: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**self.env, **extra_env}, stdout=log,  # nosec B603
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((name, proc, log))
        return proc

    def run(self, *args: str, timeout: int = 300) -> str:
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True,  # nosec B603
                              text=True, timeout=timeout)
        if done.returncode:
            raise SmokeFailure(f"FAILED: {' '.join(args)}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    def alive(self) -> None:
        for name, proc, _ in self.procs:
            if proc.poll() is not None:
                raise SmokeFailure(f"FAILED: {name} exited with {proc.returncode}\n{self.tail(name)}")

    def tail(self, name: str, size: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def stop(self) -> None:
        for _, proc, _ in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, proc, log in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()


def free_port(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def wait_for(predicate, what: str, timeout: float, stack: Stack | None = None, every: float = 0.3):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if stack is not None:
            stack.alive()
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:  # not up yet: keep trying until the deadline
            last = exc
        time.sleep(every)
    raise SmokeFailure(f"FAILED: {what} within {timeout:.0f} s (last: {last!r})")


# --- HTTP --------------------------------------------------------------------------------------------------


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise SmokeFailure("FAILED: no CSRF token on the page")
    return match.group(1)


def sign_in(client, username: str, password: str):
    page = client.get("/login/")
    return client.post("/login/", data={"username": username, "password": password,
                                        "csrfmiddlewaretoken": csrf_of(page.text)})


def second_factor(client, otp_key: str):
    """The six digits the office's authenticator app shows now, entered on the code page."""
    page = client.get("/login/otp/")
    return client.post("/login/otp/", data={"token": f"{totp(bytes.fromhex(otp_key)):06d}",
                                             "csrfmiddlewaretoken": csrf_of(page.text)})


def run(args) -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        print("the production smoke needs DATABASE_URL=postgres://… (PostgreSQL)", file=sys.stderr)
        return 2
    parts = urlsplit(database_url)
    smoke_db = f"{parts.path.lstrip('/') or 'banli'}_smoke"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    smoke_url = urlunsplit(parts._replace(path=f"/{smoke_db}"))
    redis_base = os.environ.get("BANLI_SMOKE_REDIS", "redis://127.0.0.1:6379")
    broker, cache = f"{redis_base}/5", f"{redis_base}/7"
    ports = [int(p) for p in os.environ.get("BANLI_SMOKE_PORTS", "8151,8152").split(",")]
    started = time.monotonic()

    for url in (broker, cache):
        client = redis.Redis.from_url(url, socket_timeout=3)
        client.ping()
        client.flushdb()  # our own indexes: nothing left from an earlier run
        client.close()
    for port in ports:
        check(free_port(port), f"port {port} is free")

    def admin(sql: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql)

    admin(f'DROP DATABASE IF EXISTS "{smoke_db}" WITH (FORCE)')
    copied = False
    if args.template:
        for _ in range(5):
            try:
                admin(f'CREATE DATABASE "{smoke_db}" TEMPLATE "{args.template}"')
                copied = True
                break
            except psycopg.errors.ObjectInUse:  # a connection to the template is still closing
                time.sleep(0.5)
    if not copied:
        admin(f'CREATE DATABASE "{smoke_db}"')

    var = Path(tempfile.mkdtemp(prefix="banli-smoke-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "BANLI_TEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="banli.settings", DATABASE_URL=smoke_url, CELERY_BROKER_URL=broker,
        BANLI_CACHE_URL=cache, BANLI_VAR_DIR=str(var), STATIC_ROOT=str(ROOT / "var" / "smoke-static"),
        BANLI_REQUIRE_2FA="1", SECRET_KEY=secrets.token_urlsafe(40), BANLI_FIELD_KEYS=secrets.token_urlsafe(24),
        BANLI_EVENT_KEY=secrets.token_urlsafe(32), ALLOWED_HOSTS="127.0.0.1,localhost", BANLI_DEMO="0",
        BANLI_BEAT_DELIVER_SECONDS="2", BANLI_WEB_WORKERS="2", BANLI_WEB_THREADS="2", BANLI_LOG_FORMAT="json",
        BANLI_STATIC_HASHED="1", AXES_ENABLED="1", AXES_FAILURE_LIMIT="5", PYTHONUNBUFFERED="1",
    )
    env.pop("BANLI_TESTING", None)
    stack = Stack(env, var)
    try:
        if not copied:
            stack.run("manage.py", "migrate", "--noinput", "-v0")
        check(True, f"database {smoke_db} {'copied from ' + args.template if copied else 'migrated'} "
                    f"({time.monotonic() - started:.0f} s)")
        world = json.loads(stack.run("-m", "banli.ops.smoke", "seed").strip().splitlines()[-1])
        check(True, f"world seeded ({time.monotonic() - started:.0f} s)")
        stack.run("manage.py", "collectstatic", "--noinput", "-v0")
        check(True, f"static files collected, hashed and compressed ({time.monotonic() - started:.0f} s)")

        for port in ports:
            stack.start(f"web-{port}", "-m", "gunicorn", "-c", "python:banli.ops.gunicorn_conf", "banli.wsgi",
                        BANLI_BIND=f"127.0.0.1:{port}")
        stack.start("worker", "-m", "celery", "-A", "banli", "worker", "-Q", QUEUES, "--concurrency", "1",
                    "--without-gossip", "--without-mingle", "--loglevel", "INFO", "-n", "smoke@%h")
        stack.start("beat", "-m", "celery", "-A", "banli", "beat", "--loglevel", "INFO",
                    "--schedule", str(var / "celerybeat-schedule"))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            wait_for(lambda url=url: httpx.get(f"{url}/healthz", timeout=5).status_code == 200,
                     f"gunicorn on {url} answers /healthz", 60, stack)
        check(True, f"two gunicorn servers, a Celery worker and beat started ({time.monotonic() - started:.0f} s)")

        # The beat's delivery round writes the heartbeat the health check reads: proof that beat and worker run.
        health = wait_for(lambda: (lambda h: h if h["checks"].get("scheduler", {}).get("ok") else None)(
            httpx.get(f"{urls[0]}/healthz", timeout=5).json()), "beat's first round shows in /healthz", 40, stack)
        check(health["status"] == "ok" and all(c["ok"] for c in health["checks"].values()),
              "/healthz: database, cache, broker, scheduler and calendar all ok", json.dumps(health, ensure_ascii=False))
        check(set(health["checks"]) >= {"database", "cache", "broker", "scheduler", "calendar"},
              "/healthz checks the database, Redis cache, broker, scheduler and calendar", str(list(health["checks"])))

        one = httpx.Client(base_url=urls[0], timeout=30)
        other = httpx.Client(base_url=urls[1], timeout=30)
        signed = sign_in(one, "office", PASSWORD)
        check(signed.status_code == 302 and "sessionid" in one.cookies, f"sign-in on {urls[0]}",
              f"status {signed.status_code}")
        asked = one.get("/ledger/")
        check(asked.status_code == 302 and "/login/otp/" in asked.headers.get("location", ""),
              "two-factor sign-in is on (production default): the password alone leads to the code page",
              f"status {asked.status_code} {asked.headers.get('location')}")
        verified = second_factor(one, world["otp_key"])
        check(verified.status_code == 302, f"the authenticator's code accepted on {urls[0]}",
              f"status {verified.status_code}")
        for name, value in one.cookies.items():
            other.cookies.set(name, value)
        ledger = other.get("/ledger/")
        check(ledger.status_code == 200 and world["number"] in ledger.text,
              f"ledger on {urls[1]} with the session made on {urls[0]} (sessions shared in Redis)",
              f"status {ledger.status_code}")
        urge_page = other.get(f"/supervision/urge/?unit={world['unit']}")
        urged = other.post("/supervision/urge/", data={
            "csrfmiddlewaretoken": csrf_of(urge_page.text), "unit": world["unit"],
            "assignments": [world["assignment"]], "message": "请抓紧办理（冒烟测试）"})
        check(urged.status_code == 302, "one action: the office urges the lead unit (催办)", f"status {urged.status_code}")

        def delivered():
            with psycopg.connect(smoke_url) as conn:
                return conn.execute("SELECT count(*) FROM supervision_delivery WHERE state = 'sent'").fetchone()[0]
        wait_for(delivered, "the worker sends the reminder", 30, stack)
        mails = list((var / "mail").glob("*.log")) if (var / "mail").exists() else []
        check(any("冒烟测试" in path.read_text(errors="replace") for path in mails),
              "the reminder mail was delivered by the Celery worker", f"{len(mails)} mail files")

        static = re.search(r'(/static/[^"\']+\.css)', ledger.text)
        check(static is not None, "the page links its stylesheet under /static/")
        asset = httpx.get(f"{urls[0]}{static.group(1)}", headers={"Accept-Encoding": "gzip"}, timeout=10)
        check(asset.status_code == 200 and re.search(r"\.[0-9a-f]{12}\.css$", static.group(1))
              and "immutable" in asset.headers.get("cache-control", "")
              and asset.headers.get("content-encoding") in ("gzip", "br"),
              "static files hashed, compressed and cached for good by WhiteNoise",
              f"{static.group(1)} {dict(asset.headers)}")

        # Failed sign-ins on both servers add up to one lockout (counted in the shared database).
        attacker = [httpx.Client(base_url=url, timeout=30) for url in urls]
        statuses = [sign_in(attacker[i % 2], "edu_office", "wrong-password-1").status_code for i in range(5)]
        locked = sign_in(attacker[1], "edu_office", PASSWORD)
        check(locked.status_code in (403, 429) and "sessionid" not in attacker[1].cookies,
              "five failed sign-ins spread over both servers lock the account on either",
              f"failures {statuses}, then {locked.status_code}")

        for url in urls[1:]:
            health = httpx.get(f"{url}/healthz", timeout=5).json()
            check(health["status"] == "ok", f"/healthz on {url} ok")
        access = [json.loads(line) for line in stack.tail(f"web-{ports[1]}", 200000).splitlines()
                  if line.startswith("{") and '"gunicorn.access"' in line]
        check(any(entry.get("path") == "/ledger/" and entry.get("status") == 200 and "duration_ms" in entry
                  for entry in access), "access log lines are JSON with path, status and duration",
              f"{len(access)} JSON access lines")
        stack.alive()
        check(True, f"production smoke passed in {time.monotonic() - started:.0f} s")
        return 0
    except SmokeFailure as exc:
        print(exc, file=sys.stderr)
        for name, *_ in stack.procs:
            print(f"--- {name} (last lines) ---\n{stack.tail(name, 2500)}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        admin(f'DROP DATABASE IF EXISTS "{smoke_db}" WITH (FORCE)')
        if not args.keep_logs:
            shutil.rmtree(var, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Banli production smoke")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "seed"])
    parser.add_argument("--template", default="", help="copy this (migrated) database instead of migrating")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "seed":
        print(json.dumps(seed()))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
