"""Steps a person takes in the browser, shared by the end-to-end tests."""
from __future__ import annotations

from django.conf import settings
from django.test import Client

from banli.core.testing import PASSWORD


class Person:
    """One user in his own browser context (his own cookies), signed in and on his home page.

    `via_form=True` signs in through the login page as a person does (the whole-life test does it once); otherwise
    the session is made as Django's test client's force_login makes it and handed to the browser as its cookie:
    the same session, without loading and posting the login page for every person of every test."""

    def __init__(self, browser, live_server, user, *, viewport=None, timeout=15000, via_form=False, **context_kw):
        self.base = live_server.url
        self.user = user
        self.context = browser.new_context(locale="zh-CN", viewport=viewport or {"width": 1280, "height": 900}, **context_kw)
        self.context.set_default_timeout(timeout)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.requests: list[str] = []
        self.page.on("request", lambda req: self.requests.append(req.url))
        if via_form:
            self.login()
        else:
            self.sign_in()

    def sign_in(self):
        """A signed-in session (force_login) as the browser's session cookie, then the home page."""
        client = Client()
        client.force_login(self.user)
        self.context.add_cookies([{
            "name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": self.base, "httpOnly": True, "secure": bool(settings.SESSION_COOKIE_SECURE), "sameSite": "Lax",
        }])
        self.open("/")
        if self.page.url != self.base + "/":
            raise AssertionError(f"{self.user.username}: the session cookie did not sign in ({self.page.url})")

    def login(self):
        """Through the login page: the form filled and posted, the home page reached."""
        self.page.goto(self.base + "/login/")
        self.page.fill("#id_username", self.user.username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.base + "/")

    def open(self, path):
        self.page.goto(self.base + path)

    def proposal(self, proposal_id):
        self.open(f"/proposals/{proposal_id}/")

    def act(self, assignment_id, action, fields=None, *, button=None, expect="success"):
        """Open an action's form on the proposal page, fill it, submit it (htmx), wait for the message."""
        page = self.page
        card = page.locator(f"#assignment-{assignment_id} details[data-action='{action}']")
        card.wait_for()
        if not card.evaluate("el => el.open"):
            card.locator("summary").click()
        prefix = f"a{assignment_id}-{action}-"
        for name, value in (fields or {}).items():
            field = card.locator(f"[name='{prefix}{name}']")
            kind = field.first.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")
            if kind.startswith("select"):
                field.select_option(str(value))
            elif kind.endswith(":radio") or kind.endswith(":checkbox"):
                card.locator(f"[name='{prefix}{name}'][value='{value}']").check()
            else:
                field.fill(str(value))
        # Forget the previous action's message so that we wait for this one's.
        page.evaluate("document.querySelectorAll('#panel-messages, #messages .alert').forEach(e => e.remove())")
        if button:
            card.get_by_role("button", name=button).click()
        else:
            card.locator("button[type=submit]").first.click()
        alert = page.locator(f"#panel-messages .alert-{'success' if expect == 'success' else 'danger'}")
        alert.wait_for()
        return alert.inner_text()
