"""Issue 17.10: lockout per account and per address+account (never a whole address), logged as a security event;
the client address comes from X-Forwarded-For only when a trusted proxy (BANLI_TRUSTED_PROXIES) sent it."""
import os
import subprocess
import sys

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.test import RequestFactory
from django.urls import reverse

from banli.core.context import request_ip
from banli.core.testing import PASSWORD
from banli.handling.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    AxesProxyHandler.handler = None  # let axes pick up the settings of this test
    yield settings
    settings.AXES_ENABLED = False
    AxesProxyHandler.handler = None


def _login(client, username, password, ip, forwarded=None):
    extra = {"REMOTE_ADDR": ip}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_wrong_passwords_lock_the_account_not_the_address(client, world, axes_on):
    for _ in range(3):
        _login(client, "office", "wrong", "192.0.2.10")
    assert _login(client, "office", PASSWORD, "192.0.2.10").status_code == 429
    # Everyone else behind the same address (a NAT, a proxy) still signs in, and asks for API tokens.
    response = _login(client, "edu_office", PASSWORD, "192.0.2.10")
    assert response.status_code == 302 and response.url == reverse("workbench:home")
    token = client.post("/api/v1/auth/token", {"username": "edu_handler", "password": PASSWORD},
                        REMOTE_ADDR="192.0.2.10", content_type="application/json")
    assert token.status_code in (200, 201), token.content


def test_guessing_spread_over_many_addresses_locks_the_account(client, world, axes_on):
    for i in range(3):
        _login(client, "office", "wrong", f"198.51.100.{i + 1}")
    assert _login(client, "office", PASSWORD, "198.51.100.200").status_code == 429
    token = client.post("/api/v1/auth/token", {"username": "office", "password": PASSWORD},
                        REMOTE_ADDR="198.51.100.201", content_type="application/json")
    assert token.status_code == 429


def test_a_lockout_is_a_security_event_with_the_account_and_the_client_address(client, world, axes_on):
    axes_on.BANLI_TRUSTED_PROXIES = ["10.0.0.5"]
    for _ in range(3):
        _login(client, "office", "wrong", "10.0.0.5", forwarded="203.0.113.9")
    events = Event.objects.filter(verb="security.lockout")
    assert events.count() == 1
    event = events.get()
    assert event.payload["username"] == "office" and event.client_ip == "203.0.113.9"
    assert event.payload["ip"] == "203.0.113.9"


def test_the_forwarded_address_is_believed_only_from_a_trusted_proxy(settings):
    rf = RequestFactory()
    settings.BANLI_TRUSTED_PROXIES = []
    assert request_ip(rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")) == "10.0.0.5"
    settings.BANLI_TRUSTED_PROXIES = ["10.0.0.5", "10.1.0.0/24"]
    # From the proxy: the address the proxy saw (the rightmost that is not ours); what the client wrote is ignored.
    assert request_ip(rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")) == "203.0.113.9"
    assert request_ip(rf.get("/", REMOTE_ADDR="10.0.0.5",
                             HTTP_X_FORWARDED_FOR="203.0.113.9, 10.1.0.7")) == "203.0.113.9"
    # From anyone else the header proves nothing.
    assert request_ip(rf.get("/", REMOTE_ADDR="192.0.2.66", HTTP_X_FORWARDED_FOR="203.0.113.9")) == "192.0.2.66"
    assert request_ip(rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="not-an-ip")) == "10.0.0.5"


def test_a_bad_trusted_proxy_entry_stops_the_start_naming_the_variable():
    env = {**os.environ, "BANLI_TRUSTED_PROXIES": "10.0.0.5,nginx.local"}
    result = subprocess.run([sys.executable, "-c", "import banli.settings"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0 and "BANLI_TRUSTED_PROXIES" in result.stderr and "nginx.local" in result.stderr
