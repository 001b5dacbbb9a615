"""Login, lockout, session timeout, password rules, CSRF and headers."""
import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from banli.core.testing import PASSWORD, assign, make_proposal

pytestmark = pytest.mark.django_db


def test_login_with_the_right_password_opens_the_workbench(client, world):
    response = client.post(reverse("login"), {"username": "office", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("workbench:home")


def test_wrong_password_shows_a_chinese_error(client, world):
    response = client.post(reverse("login"), {"username": "office", "password": "wrong"})
    assert "用户名或密码不正确" in response.content.decode()


def test_repeated_failed_logins_lock_the_account(client, world, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    AxesProxyHandler.handler = None  # let axes pick up the settings of this test
    try:
        for _ in range(3):
            client.post(reverse("login"), {"username": "office", "password": "wrong"})
        response = client.post(reverse("login"), {"username": "office", "password": PASSWORD})
        assert response.status_code == 429
        assert "账号已暂时锁定" in response.content.decode()
    finally:
        settings.AXES_ENABLED = False
        AxesProxyHandler.handler = None


def test_logout_needs_a_post(client, world):
    client.force_login(world.office)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("workbench:home")).status_code == 302


def test_session_expires_after_inactivity_and_at_browser_close(settings):
    assert settings.SESSION_COOKIE_AGE <= 60 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_actions_need_the_csrf_token(world):
    proposal = make_proposal(world)
    lead, _ = assign(world, proposal, co=False)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.lead_office)
    response = client.post(reverse("workbench:action", args=[lead.pk, "sign"]))
    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.state == "pending_sign"


@pytest.mark.parametrize("password", ["short1A!", "alllowercaseletters", "Banli-test-2026!", "1234567890123"])
def test_weak_or_public_passwords_are_refused(password, settings):
    settings.DEMO_MODE = False
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_strong_password_is_accepted():
    validate_password("Hong-Kou-Lu-88!")


def test_demo_passwords_are_allowed_in_the_demo(settings):
    settings.DEMO_MODE = True
    validate_password("Banli-test-2026!")


def test_pages_send_security_headers(client, world):
    client.force_login(world.office)
    response = client.get(reverse("workbench:home"))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_an_htmx_panel_after_the_session_ended_sends_the_whole_page_to_login(client, world):
    """A page left open past the timeout: its panels must not show the login form inside themselves."""
    url = reverse("workbench:notification_badge")
    client.force_login(world.office)
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    client.logout()  # what the inactivity timeout does
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"].startswith(reverse("login") + "?next=")
    plain = client.get(url)  # an ordinary request still gets the ordinary redirect
    assert plain.status_code == 302 and "HX-Redirect" not in plain
