"""A bounded load test of the production server on loopback: N simulated users of mixed roles for D seconds.

    python -m banli.ops.loadtest prepare            # inside the load database's environment: sessions and pages
    (the run itself is driven by banli/ops/benchmarks.py, `make bench BENCH_ARGS="-k production_load"`)

Users: assigning offices read the ledger, unit staff their workbench, everybody proposal pages they may see,
proposers their own items, integrators the API's lists; a few sign in for real (password hashing included). Every
user also asks a trivial view (/livez) now and then: its latency under the same load is the floor a page cannot
go below on this server at this moment. Each user waits 0.5–1.5 s between requests (a person reading), so the
offered load is about N requests per second. Loopback only; the loop ends by itself after D seconds.

Each simulated user is a browser of its own: its own cookie jar (session, CSRF token; the server's Set-Cookie
answers kept as a browser keeps them) and its own connection, and its own seeded random pages, so two runs
ask the same pages in the same order. Everything a person would meet as a failure counts as an error, by kind:
a redirect to the sign-in page (a lost session), another redirect, an HTTP error status, and the client's own
exceptions (ReadTimeout after CLIENT_TIMEOUT seconds, ReadError/RemoteProtocolError for a reset connection,
ConnectError); the first few of each kind are kept as examples.
"""
from __future__ import annotations

import asyncio
import json
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import django
import httpx
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from banli.organizations.choices import Role

SIGNIN_PASSWORD = "Load-test-2026!x"
SIGNIN_USERS = 10


# --- preparation (runs in a child process with the load database's settings) -------------------------------


def prepare(users: int) -> dict:
    """Sessions for `users` simulated users spread over the demo's accounts by role, and what each may open."""
    django.setup()
    # After django.setup(): this module is loaded by the parent process too, which never sets Django up.
    from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: PLC0415 - models need django.setup()

    from banli.core import access  # noqa: PLC0415 - models need django.setup()
    from banli.demo.builder import DEMO_EMAIL_DOMAIN  # noqa: PLC0415 - models need django.setup()

    # The demo's accounts sign in only in demo mode; the load runs the production settings, so they become
    # ordinary accounts here, as a unit's real ones would be.
    model = get_user_model()
    for user in model.objects.filter(email__iendswith="@" + DEMO_EMAIL_DOMAIN):
        model.objects.filter(pk=user.pk).update(email=user.email.split("@")[0] + "@load.invalid")
    model.objects.update(must_change_password=False)  # a first sign-in's password change is not the load
    office, unit, proposer = [], [], []
    for user in get_user_model().objects.filter(is_active=True).order_by("pk"):
        roles = access.roles_of(user)
        visible = list(access.visible_proposals(user).order_by("pk").values_list("pk", flat=True)[:40])
        if Role.ASSIGNING_OFFICE in roles and visible:
            office.append((user, visible))
        elif roles & {Role.UNIT_OFFICE, Role.HANDLER, Role.LEADER} and visible:
            unit.append((user, visible))
        elif Role.PROPOSER in roles and visible:
            proposer.append((user, visible))
    if not (office and unit and proposer):
        raise SystemExit("the load database needs the demo data (office, unit and proposer accounts with items)")

    def account_of(index: int):
        group = office if index % 10 < 2 else unit if index % 10 < 7 else proposer
        return group[index % len(group)]

    # Passwords first: a new password changes the session hash, which would end sessions made before it.
    for name in {account_of(i)[0].username for i in range(min(users, SIGNIN_USERS))}:
        account = model.objects.get(username=name)
        account.set_password(SIGNIN_PASSWORD)
        account.save(update_fields=["password"])
    plan = []
    for index in range(users):
        role = "office" if index % 10 < 2 else "unit" if index % 10 < 7 else "proposer"
        user, visible = account_of(index)
        entry = {"role": role, "username": user.username, "proposals": visible}
        if index < SIGNIN_USERS:
            entry["signin"] = True
        else:
            client = Client()
            user = model.objects.get(pk=user.pk)  # with the password set above: the session's hash is made from it
            client.force_login(user, backend="banli.demo.auth.DemoModeModelBackend")
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is not None:  # the demo's office enrolled a second factor: the session has passed it
                session = client.session
                session[DEVICE_ID_SESSION_KEY] = device.persistent_id
                session.save()
            entry["cookie"] = client.cookies["sessionid"].value
        plan.append(entry)
    return {"users": plan}


# --- the load ---------------------------------------------------------------------------------------------

# How long a simulated user waits for one answer before giving up (a person, or the proxy in front: nginx's
# proxy_read_timeout is 75 s in deploy/). A request that takes longer counts as an error of the run.
CLIENT_TIMEOUT = 60.0
# An idle connection is reused for at most this long; the server closes kept-alive connections itself.
KEEPALIVE_EXPIRY = 2.0
EXAMPLES_PER_KIND = 3


@dataclass
class Result:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # per page kind, answered or not
    errors: dict[str, int] = field(default_factory=dict)  # per page kind
    error_kinds: dict[str, int] = field(default_factory=dict)  # per kind of error
    examples: dict[str, list[str]] = field(default_factory=dict)  # the first few of each kind of error

    def add(self, kind: str, seconds: float, error: str | None = None, note: str = "") -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        if error is not None:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            self.error_kinds[error] = self.error_kinds.get(error, 0) + 1
            examples = self.examples.setdefault(error, [])
            if len(examples) < EXAMPLES_PER_KIND:
                examples.append(f"{kind} after {seconds:.1f} s: {note}")

    @property
    def samples(self) -> list[str]:
        return [f"{error}: {example}" for error in sorted(self.examples) for example in self.examples[error]]


def classify(response) -> str | None:
    """The kind of error a response is for a person who asked for a page, or None when it is the page."""
    if response.status_code == 200:
        return None
    if response.is_redirect:
        location = response.headers.get("location", "")
        if location.startswith("/login/otp"):
            return "redirect_second_factor"
        if location.startswith("/login"):
            return "redirect_login"  # the session was lost: the person is sent back to sign in
        return "redirect_other"
    return f"http_{response.status_code}"


def exception_kind(exc: BaseException) -> str:
    """ReadTimeout, ReadError, RemoteProtocolError, ConnectError, …: the client's own name for what happened."""
    return type(exc).__name__


def pages_for(entry: dict, rng: random.Random) -> tuple[str, str]:
    """The next page this user opens: (kind, path)."""
    if rng.random() < 0.1:
        return "floor", "/livez"
    role, proposal = entry["role"], rng.choice(entry["proposals"])
    roll = rng.random()
    if role == "office":
        if roll < 0.45:
            return "office_ledger", f"/ledger/?page={rng.randint(1, 2)}"
        if roll < 0.75:
            return "proposal_page", f"/proposals/{proposal}/"
        return "api_list", f"/api/v1/assignments?page={rng.randint(1, 2)}"
    if role == "unit":
        if roll < 0.45:
            return "unit_workbench", "/"
        if roll < 0.85:
            return "proposal_page", f"/proposals/{proposal}/"
        return "api_list", "/api/v1/proposals"
    return "proposer_page", "/" if roll < 0.5 else f"/proposals/{proposal}/"


def cookie_domain(base_url: str) -> str:
    """The domain the cookie jar files a host-only cookie of this server under (http.cookiejar: a host name
    without a dot gets ".local"), so the session set here and the server's Set-Cookie are one cookie."""
    host = urlsplit(base_url).hostname or ""
    return host if "." in host else f"{host}.local"


async def sign_in(client, entry: dict, result: Result) -> bool:
    """The sign-in page, then the form posted with its CSRF token, as a browser does: True when signed in."""
    started = time.perf_counter()
    try:
        page = await client.get("/login/")
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if page.status_code != 200 or found is None:
            result.add("signin", time.perf_counter() - started, "signin_failed", f"/login/ status {page.status_code}")
            return False
        signed = await client.post("/login/", data={"username": entry["username"], "password": SIGNIN_PASSWORD,
                                                    "csrfmiddlewaretoken": found.group(1)},
                                   headers={"Referer": f"{client.base_url}login/"})
    except Exception as exc:  # noqa: BLE001 - a failed request is an error of the run, counted by kind
        result.add("signin", time.perf_counter() - started, exception_kind(exc), repr(exc))
        return False
    location = signed.headers.get("location", "")
    ok = signed.status_code == 302 and not location.startswith("/login") and "sessionid" in client.cookies
    result.add("signin", time.perf_counter() - started, None if ok else "signin_failed",
               f"status {signed.status_code} {location}")
    return ok


async def user_loop(base_url: str, entry: dict, deadline: float, result: Result, seed: int,
                    timeout: float = CLIENT_TIMEOUT) -> None:
    """One simulated person: a browser of his own (cookie jar and connection), his own random but seeded pages."""
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=KEEPALIVE_EXPIRY)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits, follow_redirects=False) as client:
        await asyncio.sleep(rng.uniform(0, 5))  # users arrive over the first seconds, not in one burst
        if entry.get("signin"):
            if not await sign_in(client, entry, result):
                return
        else:
            # The session made for this person alone; the server's Set-Cookie answers replace it as in a browser.
            client.cookies.set("sessionid", entry["cookie"], domain=cookie_domain(base_url), path="/")
        while time.monotonic() < deadline:
            kind, path = pages_for(entry, rng)
            started = time.perf_counter()
            try:
                response = await client.get(path)
                error = classify(response)
                note = f"{path} status {response.status_code} {response.headers.get('location', '')}".strip()
            except Exception as exc:  # noqa: BLE001 - timeouts, resets, refused connections: errors of the run
                error, note = exception_kind(exc), f"{path} {exc!r}"
            result.add(kind, time.perf_counter() - started, error, note)
            await asyncio.sleep(rng.uniform(0.5, 1.5))


async def run_load(base_url: str, plan: dict, seconds: float, timeout: float = CLIENT_TIMEOUT) -> tuple[Result, float]:
    result = Result()
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(user_loop(base_url, entry, deadline, result, seed, timeout)
                           for seed, entry in enumerate(plan["users"])))
    return result, time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(result: Result, elapsed: float, users: int):
    """BENCH lines: totals, errors by kind, then p50/p95 per kind of page (ms), the floor among them."""
    total = sum(len(v) for v in result.latencies.values())
    every = [x for v in result.latencies.values() for x in v]
    yield "load.users", users, "users"
    yield "load.duration", round(elapsed, 1), "s"
    yield "load.requests", total, "requests"
    yield "load.errors", sum(result.errors.values()), "requests"
    for error in sorted(result.error_kinds):
        yield f"load.errors.{error}", result.error_kinds[error], "requests"
    yield "load.requests_per_second", total / elapsed if elapsed else 0.0, "requests/s"
    yield "load.all.p50", percentile(every, 50) * 1000, "ms"
    yield "load.all.p95", percentile(every, 95) * 1000, "ms"
    yield "load.all.max", max(every, default=0.0) * 1000, "ms"
    for kind in sorted(result.latencies):
        values = result.latencies[kind]
        yield f"load.{kind}.requests", len(values), "requests"
        yield f"load.{kind}.p50", percentile(values, 50) * 1000, "ms"
        yield f"load.{kind}.p95", percentile(values, 95) * 1000, "ms"
        if result.errors.get(kind):
            yield f"load.{kind}.errors", result.errors[kind], "requests"


if __name__ == "__main__":
    if sys.argv[1:2] == ["prepare"]:
        print(json.dumps(prepare(int(sys.argv[2]) if len(sys.argv) > 2 else 200)))
    else:
        print(__doc__)
