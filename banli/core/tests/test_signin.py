"""Sign-in hardening: TOTP, OpenID Connect, forced password change, inactivity logout, sign out everywhere."""
import datetime as dt
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from banli.core.testing import PASSWORD
from banli.handling.models import Event
from banli.organizations.models import User

pytestmark = pytest.mark.django_db


def _token(device, at=None):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=0):06d}"


def _login(client, username):
    return client.post("/login/", {"username": username, "password": PASSWORD})


def test_a_user_enrols_an_authenticator_and_then_needs_its_code_to_get_in(world, client, settings):
    _login(client, "edu_office")
    page = client.get("/account/2fa/setup/")
    assert page.status_code == 200 and "data:image/svg+xml;base64," in page.content.decode()
    device = TOTPDevice.objects.get(user=world.lead_office, confirmed=False)
    wrong = client.post("/account/2fa/setup/", {"token": "000000" if _token(device) != "000000" else "111111"})
    assert "验证码不正确" in wrong.content.decode()
    now = dt.datetime.now(dt.timezone.utc)
    with time_machine.travel(now + dt.timedelta(seconds=31), tick=False):  # past the throttle after a failure
        assert client.post("/account/2fa/setup/", {"token": _token(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed

    fresh = Client()
    _login(fresh, "edu_office")
    response = fresh.get("/ledger/")
    assert response.status_code == 302 and response["Location"].startswith("/login/otp/")
    bad = fresh.post("/login/otp/", {"token": "12345", "next": "/ledger/"})
    assert "动态验证码不正确" in bad.content.decode()
    with time_machine.travel(now + dt.timedelta(seconds=95), tick=False):  # a new time step: no replay
        good = fresh.post("/login/otp/", {"token": _token(device), "next": "/ledger/"})
        assert good.status_code == 302 and good["Location"] == "/ledger/"
        assert fresh.get("/ledger/").status_code == 200
    assert Event.objects.filter(verb="security.otp_failed", actor=world.lead_office).exists()


def test_a_session_open_before_a_device_was_confirmed_elsewhere_must_give_its_code_next(world, client):
    # Whether the user has a device is read with the user on each request (one query, not two): a device confirmed
    # in another session (or by the administrator) reaches this session's very next page.
    _login(client, "edu_office")
    assert client.get("/ledger/").status_code == 200
    TOTPDevice.objects.create(user=world.lead_office, name="身份验证器", confirmed=False)
    assert client.get("/ledger/").status_code == 200  # an enrolment not yet confirmed asks for nothing
    TOTPDevice.objects.filter(user=world.lead_office).update(confirmed=True)
    response = client.get("/ledger/")
    assert response.status_code == 302 and response["Location"].startswith("/login/otp/")


def test_the_assigning_office_must_enrol_when_two_factor_is_required(world, client, settings):
    settings.BANLI_REQUIRE_2FA = True
    _login(client, "office")
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/account/2fa/setup/"
    # A handler is not required to enrol.
    handler = Client()
    _login(handler, "edu_handler")
    assert handler.get("/").status_code == 200


def test_an_account_created_by_an_administrator_must_change_its_password_first(world, client):
    User.objects.filter(pk=world.lead_handler.pk).update(must_change_password=True)
    _login(client, "edu_handler")
    response = client.get("/ledger/")
    assert response.status_code == 302 and response["Location"] == "/password/"
    new = "Xin-mima-2026-Banli!"
    changed = client.post("/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert changed.status_code == 302
    world.lead_handler.refresh_from_db()
    assert not world.lead_handler.must_change_password
    assert client.get("/ledger/").status_code == 200


def test_a_session_ends_after_thirty_minutes_without_activity(world, client, settings):
    start = dt.datetime.now(dt.timezone.utc)
    with time_machine.travel(start, tick=False):
        _login(client, "edu_office")
        assert client.get("/").status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=25), tick=False):
        assert client.get("/").status_code == 200  # activity renews the session
    with time_machine.travel(start + dt.timedelta(minutes=50), tick=False):
        assert client.get("/").status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=50 + settings.SESSION_COOKIE_AGE // 60 + 1), tick=False):
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_signing_out_everywhere_ends_the_other_sessions_and_keeps_this_one(world):
    laptop, phone = Client(), Client()
    _login(laptop, "edu_office")
    _login(phone, "edu_office")
    assert phone.get("/").status_code == 200
    assert laptop.post("/account/sign-out-everywhere/").status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302
    assert Event.objects.filter(verb="security.sign_out_everywhere").count() == 1


# --- OpenID Connect against a small identity provider on loopback -----------------------------------

CLIENT_ID, CLIENT_SECRET = "banli", "oidc-test-secret-0123456789abcdef0123"


class _Provider:
    def __init__(self):
        self.codes = {}  # code -> (nonce, username)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(provider):  # noqa: N805 - the handler class closes over the provider
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # token endpoint
                length = int(self.headers.get("Content-Length", 0))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                code = form.get("code", [""])[0]
                if form.get("client_secret", [""])[0] != CLIENT_SECRET or code not in provider.codes:
                    return self._json(400, {"error": "invalid_grant"})
                nonce, username = provider.codes.pop(code)
                now = int(time.time())
                id_token = jwt.encode({"iss": provider.url, "aud": CLIENT_ID, "sub": f"gov-{username}",
                                       "nonce": nonce, "iat": now, "exp": now + 300,
                                       "preferred_username": username}, CLIENT_SECRET, algorithm="HS256")
                self._json(200, {"access_token": f"at-{username}", "id_token": id_token, "token_type": "Bearer"})

            def do_GET(self):  # userinfo endpoint
                username = self.headers.get("Authorization", "").removeprefix("Bearer at-")
                self._json(200, {"sub": f"gov-{username}", "preferred_username": username})

        return Handler


@pytest.fixture
def provider(settings):
    p = _Provider()
    settings.ROOT_URLCONF = "banli.core.tests.oidc_urls"
    settings.OIDC_ENABLED = True
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "banli.core.auth.BanliOIDCBackend"]
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{p.url}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{p.url}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{p.url}/userinfo"
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    settings.LOGIN_REDIRECT_URL = "/"
    yield p
    p.server.shutdown()


def _sso(client, provider, username):
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302 and start["Location"].startswith(provider.url + "/authorize")
    params = urllib.parse.parse_qs(urllib.parse.urlparse(start["Location"]).query)
    provider.codes["code-" + username] = (params["nonce"][0], username)  # the user signs in at the platform
    return client.get("/oidc/callback/", {"code": "code-" + username, "state": params["state"][0]})


def test_single_sign_on_maps_the_platform_identity_to_the_banli_account(world, client, provider):
    response = _sso(client, provider, "edu_handler")
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200 and home.wsgi_request.user == world.lead_handler


def test_an_identity_without_a_banli_account_is_refused(world, client, provider):
    _sso(client, provider, "stranger")
    assert client.get("/").status_code == 302  # still anonymous: back to the login page
    assert Event.objects.filter(verb="security.oidc_unknown_identity").exists()


def test_too_many_sign_in_attempts_from_one_address_are_slowed_down(world, client, settings, still_clock):
    settings.BANLI_RATE_LOGIN = "3/m"

    cache.clear()
    codes = [client.post("/login/", {"username": "edu_office", "password": "wrong"}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    assert "操作过于频繁" in client.post("/login/", {"username": "x", "password": "y"}).content.decode()
    assert Event.objects.filter(verb="security.rate_limited").exists()
