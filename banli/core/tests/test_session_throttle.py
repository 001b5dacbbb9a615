"""The sign-in session is saved on activity at most once per BANLI_SESSION_TOUCH_SECONDS (core.sessions): the idle
timeout still counts from the last request (to within that many seconds), without a write on every page view."""
import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.urls import reverse

from banli.core.sessions import TOUCHED

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
