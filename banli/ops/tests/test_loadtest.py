"""The load test's client (banli.ops.loadtest) counts what a person would meet, and its users do not share state.

A client that shared one cookie jar between its simulated users sent one user's session cookie with another's
sign-in, and the sign-in ended that session (Django flushes a session that belonged to someone else): the run
then reported "redirects to the login page" that no real browser would cause. Each simulated user is a browser
of its own here; the live test signs two users in to the same account while two others use sessions of their
own, and none of them may lose his session.
"""
import asyncio
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module

import httpx
import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from banli.ops import loadtest
from banli.ops.smoke import ROOT
from banli.organizations import services as orgs


def answer(status: int, location: str = "") -> httpx.Response:
    return httpx.Response(status, headers={"location": location} if location else {},
                          request=httpx.Request("GET", "http://127.0.0.1:8000/ledger/"))


def test_each_failure_a_person_would_meet_is_an_error_of_its_own_kind():
    assert loadtest.classify(answer(200)) is None
    assert loadtest.classify(answer(302, "/login/?next=/ledger/")) == "redirect_login"
    assert loadtest.classify(answer(302, "/login/otp/?next=/")) == "redirect_second_factor"
    assert loadtest.classify(answer(302, "/password/change/")) == "redirect_other"
    assert loadtest.classify(answer(500)) == "http_500"
    assert loadtest.classify(answer(429)) == "http_429"
    assert loadtest.exception_kind(httpx.ReadTimeout("timed out")) == "ReadTimeout"
    assert loadtest.exception_kind(httpx.ReadError("connection reset")) == "ReadError"


def test_errors_are_counted_by_kind_and_page_with_a_few_examples_each():
    result = loadtest.Result()
    result.add("office_ledger", 0.2)
    for i in range(5):
        result.add("office_ledger", 60.0, "ReadTimeout", f"/ledger/ ReadTimeout {i}")
    result.add("proposal_page", 0.3, "redirect_login", "/proposals/1/ status 302 /login/")
    assert result.errors == {"office_ledger": 5, "proposal_page": 1}
    assert result.error_kinds == {"ReadTimeout": 5, "redirect_login": 1}
    assert len(result.examples["ReadTimeout"]) == loadtest.EXAMPLES_PER_KIND
    lines = {name: value for name, value, _unit in loadtest.report(result, 10.0, 2)}
    assert lines["load.errors"] == 6 and lines["load.requests"] == 7
    assert lines["load.errors.ReadTimeout"] == 5 and lines["load.errors.redirect_login"] == 1
    assert lines["load.office_ledger.errors"] == 5 and "load.floor.errors" not in lines


def test_a_session_cookie_is_filed_where_the_server_s_own_cookie_goes():
    assert loadtest.cookie_domain("http://127.0.0.1:8161") == "127.0.0.1"
    assert loadtest.cookie_domain("http://localhost:8000") == "localhost.local"


def _session_of(user) -> str:
    client = Client()
    client.force_login(user, backend="banli.demo.auth.DemoModeModelBackend")
    return client.cookies["sessionid"].value


@pytest.mark.django_db(transaction=True)
def test_users_keep_their_own_sessions_while_others_sign_in_to_the_same_account(live_server, monkeypatch):
    shared = orgs.user_create(username="load_shared", password=loadtest.SIGNIN_PASSWORD, display_name="共用账号")
    other = orgs.user_create(username="load_other", password=loadtest.SIGNIN_PASSWORD, display_name="另一账号")
    # Every page is a signed-in page that any account may open: a lost session shows as a redirect to sign in.
    monkeypatch.setattr(loadtest, "pages_for", lambda entry, rng: (entry["name"], "/account/security/"))
    base = {"role": "unit", "proposals": [1]}
    plan = {"users": [
        {**base, "name": "a", "username": "load_shared", "cookie": _session_of(shared)},
        {**base, "name": "b", "username": "load_shared", "signin": True},
        {**base, "name": "c", "username": "load_other", "cookie": _session_of(other)},
        {**base, "name": "d", "username": "load_shared", "signin": True},
        {**base, "name": "e", "username": "load_shared", "cookie": _session_of(shared)},
    ]}
    monkeypatch.setattr(loadtest.random.Random, "uniform", lambda self, a, b: a / 10)  # arrive and click quickly
    # In a thread of its own: after a browser test this worker's thread still runs Playwright's event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        result, _elapsed = pool.submit(asyncio.run, loadtest.run_load(live_server.url, plan, 6.0, timeout=30)).result()
    assert result.error_kinds == {}, result.samples
    assert len(result.latencies["signin"]) == 2
    assert all(len(result.latencies[name]) >= 2 for name in "abcde"), {k: len(v) for k, v in result.latencies.items()}
    # The sessions made beforehand are still the ones their users hold (a sign-in sent with somebody else's cookie
    # would have ended it), and each sign-in made one more of its own.
    for entry, user in ((plan["users"][0], shared), (plan["users"][2], other), (plan["users"][4], shared)):
        assert Session.objects.get(session_key=entry["cookie"]).get_decoded()["_auth_user_id"] == str(user.pk)
    assert Session.objects.count() == 5


@pytest.mark.django_db
def test_with_redis_configured_a_session_outlives_the_cache(settings):

    # The engine the production settings choose when a Redis cache is configured (read without connecting).
    env = {**os.environ, "BANLI_CACHE_URL": "redis://127.0.0.1:6399/7", "DJANGO_SETTINGS_MODULE": "banli.settings_test"}
    engine = json.loads(subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import json; from django.conf import settings; print(json.dumps(settings.SESSION_ENGINE))"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout)
    settings.SESSION_ENGINE = engine
    user = orgs.user_create(username="load_session", password=None, display_name="会话")
    store = import_module(engine).SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store.create()
    cache.clear()  # Redis restarted, flushed, or the key evicted under maxmemory
    assert import_module(engine).SessionStore(session_key=store.session_key).get("_auth_user_id") == str(user.pk)
