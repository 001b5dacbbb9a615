"""A bounded load test of the production server on loopback: N simulated users of mixed roles for D seconds.

    python -m banli.ops.loadtest prepare            # inside the load database's environment: sessions and pages
    (the run itself is driven by banli/ops/benchmarks.py, `make bench BENCH_ARGS="-k production_load"`)

Users: assigning offices read the ledger, unit staff their workbench, everybody proposal pages they may see,
proposers their own items, integrators the API's lists; a few sign in for real (password hashing included). Every
user also asks a trivial view (/livez) now and then: its latency under the same load is the floor a page cannot
go below on this server at this moment. Each user waits 0.5–1.5 s between requests (a person reading), so the
offered load is about N requests per second. Loopback only; the loop ends by itself after D seconds.
"""
from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, field

SIGNIN_PASSWORD = "Load-test-2026!x"
SIGNIN_USERS = 10


# --- preparation (runs in a child process with the load database's settings) -------------------------------


def prepare(users: int) -> dict:
    """Sessions for `users` simulated users spread over the demo's accounts by role, and what each may open."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from banli.core import access
    from banli.demo.builder import DEMO_EMAIL_DOMAIN
    from banli.organizations.choices import Role

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


@dataclass
class Result:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def add(self, kind: str, seconds: float, ok: bool, note: str = "") -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        if not ok:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            if len(self.samples) < 10:
                self.samples.append(f"{kind}: {note}")


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


async def user_loop(client, entry: dict, deadline: float, result: Result, seed: int) -> None:
    import re

    rng = random.Random(seed)
    cookies: dict[str, str] = {}
    await asyncio.sleep(rng.uniform(0, 5))  # users arrive over the first seconds, not in one burst
    if entry.get("signin"):
        started = time.perf_counter()
        try:
            page = await client.get("/login/")
            cookies.update(page.cookies)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            signed = await client.post("/login/", data={"username": entry["username"], "password": SIGNIN_PASSWORD,
                                                         "csrfmiddlewaretoken": token},
                                        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
            cookies.update(signed.cookies)
            ok = signed.status_code == 302 and "sessionid" in cookies
            result.add("signin", time.perf_counter() - started, ok, f"status {signed.status_code}")
        except Exception as exc:  # a failed request is an error of the run, counted and sampled
            result.add("signin", time.perf_counter() - started, False, repr(exc))
            return
    else:
        cookies["sessionid"] = entry["cookie"]
    header = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items() if k == "sessionid")}
    while time.monotonic() < deadline:
        kind, path = pages_for(entry, rng)
        started = time.perf_counter()
        try:
            response = await client.get(path, headers=header)
            ok = response.status_code == 200
            note = f"{path} status {response.status_code} {response.headers.get('location', '')}"
        except Exception as exc:  # timeouts, refused connections: errors of the run
            ok, note = False, f"{path} {exc!r}"
        result.add(kind, time.perf_counter() - started, ok, note)
        await asyncio.sleep(rng.uniform(0.5, 1.5))


async def run_load(base_url: str, plan: dict, seconds: float) -> tuple[Result, float]:
    import httpx

    result = Result()
    # Idle connections are dropped before the server's keep-alive (5 s) closes them under a request in flight.
    limits = httpx.Limits(max_connections=len(plan["users"]) + 10, max_keepalive_connections=len(plan["users"]),
                          keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(user_loop(client, entry, deadline, result, seed)
                               for seed, entry in enumerate(plan["users"])))
        elapsed = time.monotonic() - started
    return result, elapsed


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(result: Result, elapsed: float, users: int):
    """BENCH lines: totals, then p50/p95 per kind of page (ms), the floor among them."""
    total = sum(len(v) for v in result.latencies.values())
    every = [x for v in result.latencies.values() for x in v]
    yield "load.users", users, "users"
    yield "load.duration", round(elapsed, 1), "s"
    yield "load.requests", total, "requests"
    yield "load.errors", sum(result.errors.values()), "requests"
    yield "load.requests_per_second", total / elapsed if elapsed else 0.0, "requests/s"
    yield "load.all.p50", percentile(every, 50) * 1000, "ms"
    yield "load.all.p95", percentile(every, 95) * 1000, "ms"
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
