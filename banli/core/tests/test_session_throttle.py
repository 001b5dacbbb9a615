"""The sign-in session is saved on activity at most once per BANLI_SESSION_TOUCH_SECONDS (core.sessions): the idle
timeout still counts from the last request (to within that many seconds), without a write on every page view."""
import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from banli.core.sessions import TOUCHED, SessionStore

pytestmark = pytest.mark.django_db


def _session_writes(client, url) -> int:
    writes = []

    def spy(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(("UPDATE", "INSERT")) and "django_session" in sql:
            writes.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        assert client.get(url).status_code == 200
    return len(writes)


def test_an_unchanged_session_is_saved_once_a_minute_not_on_every_request(world, settings):
    settings.BANLI_SESSION_TOUCH_SECONDS = 60
    client = Client()
    client.force_login(world.office)
    assert client.session[TOUCHED] > 0  # signing in saved the session: that is its last save
    url = reverse("workbench:ledger")
    assert _session_writes(client, url) == 0
    assert _session_writes(client, url) == 0
    session = client.session
    session[TOUCHED] = session[TOUCHED] - 61  # a minute later
    session.save()
    assert _session_writes(client, url) == 1
    assert _session_writes(client, url) == 0


def test_an_old_touch_saves_again_and_moves_the_expiry(world, settings):
    settings.BANLI_SESSION_TOUCH_SECONDS = 60
    client = Client()
    client.force_login(world.office)
    url = reverse("workbench:ledger")
    _session_writes(client, url)
    session = client.session
    session[TOUCHED] = session[TOUCHED] - 61  # the last save a minute ago
    session.save()
    before = Session.objects.get(session_key=session.session_key).expire_date
    assert _session_writes(client, url) == 1
    assert Session.objects.get(session_key=session.session_key).expire_date > before


def test_without_throttling_every_request_saves(world, settings):
    settings.BANLI_SESSION_TOUCH_SECONDS = 0
    client = Client()
    client.force_login(world.office)
    url = reverse("workbench:ledger")
    assert [_session_writes(client, url) for _ in range(3)] == [1, 1, 1]


def test_the_session_is_read_in_one_statement_and_an_expired_one_is_refused(world):
    """The engine (core.sessions.SessionStore) reads a session as Django's database engine does: a live one with its
    data, an expired or unknown one as empty, its key dropped so that a new one is made."""
    store = SessionStore()
    store["_auth_user_id"] = str(world.office.pk)
    store.create()
    with CaptureQueriesContext(connection) as ctx:
        assert SessionStore(session_key=store.session_key).get("_auth_user_id") == str(world.office.pk)
    assert len(ctx.captured_queries) == 1
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    expired = SessionStore(session_key=store.session_key)
    assert expired.get("_auth_user_id") is None and expired.session_key is None
    unknown = SessionStore(session_key="x" * 32)
    assert unknown.get("_auth_user_id") is None and unknown.session_key is None
    client = Client()
    client.force_login(world.office)
    assert client.get(reverse("workbench:ledger")).status_code == 200  # the engine of the running site
