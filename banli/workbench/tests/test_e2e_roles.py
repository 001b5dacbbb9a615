"""Each role in a real browser (Debian Chromium via Playwright): its menu leads to every page it may open
within two clicks; no page it uses scrolls sideways on a 390 px phone; every page it reads is Chinese.
Screenshots of each role's home, the proposal page and the ledger, on desktop and phone, are saved."""
from __future__ import annotations

import os
import re

import pytest

from banli.core.tests import matrix_world
from banli.workbench.tests.conftest import artifacts_folder
from banli.workbench.tests.crawl import ROLE_USERS, crawl, required_pages, url_name
from banli.workbench.tests.e2e_helpers import Person

pytestmark = [pytest.mark.e2e]

PHONE = {"width": 390, "height": 844}
SLOW = 45000  # a crawl loads many pages on a shared machine: wait longer than the single-page tests


@pytest.fixture
def matrix(transactional_db):
    return matrix_world.build()


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_the_menu_reaches_every_page_of_the_role_within_two_clicks(role, matrix, live_server, browser):
    person = Person(browser, live_server, getattr(matrix, ROLE_USERS[role]), timeout=SLOW)
    reached = crawl(person)
    missing = required_pages(role) - reached["one"] - reached["two"]
    assert not missing, (f"{role}: not reachable within two clicks from the home page: {sorted(missing)}; "
                         f"pages that did not answer: {person.crawl_errors}")
    # The daily tools sit in the menu itself (one click), not only somewhere on a page.
    menu = {url_name(u, person.base) for u in person.page.eval_on_selector_all(
        "#role-menu-items a[href]:not([href='#'])", "els => els.map(e => e.href)")}
    tools = {
        "office": {"exchange:import_upload", "exchange:index", "supervision:urge", "supervision:key_items",
                   "supervision:failed_deliveries", "supervision:holiday_calendar", "reports:score",
                   "reports:summary", "reports:area_summary", "reports:compare", "workbench:register"},
        "unit_office": {"replies:chain", "reports:score", "reports:summary", "replies:commitments"},
        "handler": {"replies:commitments", "reports:figures"},
        "leader": {"reports:score", "reports:summary", "reports:compare"},
        "proposer": {"replies:my_copies", "portal:home"},
        "admin": {"supervision:failed_deliveries", "supervision:holiday_calendar", "workbench:register"},
    }[role]
    assert tools <= menu, f"{role}: menu lacks {sorted(tools - menu)}"
    person.context.close()


def _pages_of(person, matrix, role) -> list[str]:
    """One URL per page the role reaches in one click, plus the item's page, its reply and the ledger."""
    crawl(person)
    by_name = {}
    for url in person.level_one:
        by_name.setdefault(url_name(url, person.base), url)
    extra = []
    if role != "admin":
        extra.append(f"/proposals/{matrix.item_a.pk}/")
    if role in ("office", "unit_office", "handler", "leader", "proposer"):
        extra.append(f"/replies/{matrix.reply_a.pk}/")  # the reply with its review table
    urls = sorted(set(by_name.values()))
    return urls + [person.base + u for u in extra if u]


def _shots(person, screenshots, matrix, role, suffix):
    def shoot(name):
        try:
            screenshots(person.page, name)
        except Exception:  # noqa: BLE001 - a very long page can fail as one full-page capture: keep the screen

            person.page.screenshot(path=os.path.join(artifacts_folder(), f"{name}.png"))

    person.open("/")
    shoot(f"home-{role}-{suffix}")
    if role != "admin":
        person.proposal(matrix.item_a.pk)
        shoot(f"proposal-{role}-{suffix}")
    if role != "proposer":
        person.open("/ledger/")
        shoot(f"ledger-{role}-{suffix}")


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_no_page_of_the_role_scrolls_sideways_on_a_phone(role, matrix, live_server, browser, screenshots):
    person = Person(browser, live_server, getattr(matrix, ROLE_USERS[role]), viewport=PHONE, timeout=SLOW, is_mobile=True,
                    has_touch=True)
    too_wide = []
    for url in _pages_of(person, matrix, role):
        person.page.goto(url)
        width = person.page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide.append(f"{url.removeprefix(person.base)}: {width}px")
    _shots(person, screenshots, matrix, role, "phone")
    person.context.close()
    assert not too_wide, f"{role}: pages wider than the {PHONE['width']}px screen: {too_wide}"


# ASCII words a clerk may meet: file types, the product's name, standards and units.
ALLOWED_WORDS = {"Banli", "docx", "xlsx", "csv", "CSV", "Excel", "Word", "PDF", "pdf", "TOTP", "OTP", "API", "REST",
                 "OpenAPI", "JSON", "json", "ID", "GB", "T", "A4", "zip", "SMS", "IP", "URL", "HTTPS", "OIDC",
                 "Redis", "PostgreSQL", "SQLite", "App", "Google", "Authenticator", "Microsoft", "FreeOTP", "px"}
FILE_NAME = re.compile(r"[\w\u4e00-\u9fff.-]+\.(?:xlsx|docx|csv|pdf|zip|json|png|jpg)\b", re.I)
WORD = re.compile(r"(?<![A-Za-z0-9@._/-])[A-Za-z][A-Za-z]+(?![A-Za-z0-9@_/-])")


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_every_page_of_the_role_reads_in_chinese(role, matrix, live_server, browser, screenshots):
    user = getattr(matrix, ROLE_USERS[role])
    if role == "admin":
        user.is_staff = user.is_superuser = True  # the administrator works in the admin too
        user.save()
    person = Person(browser, live_server, user, timeout=SLOW)
    found = {}
    urls = _pages_of(person, matrix, role)
    if role == "admin":
        urls += [person.base + "/admin/", person.base + "/admin/axes/", person.base + "/admin/otp_totp/"]
    for url in dict.fromkeys(urls):
        person.page.goto(url)
        # Template placeholders shown as code ({{ title }}) are meant to be typed as they are.
        text = person.page.evaluate(
            "() => { document.querySelectorAll('code, kbd, samp').forEach(e => e.remove()); return document.body.innerText; }")
        text = FILE_NAME.sub(" ", text)
        words = {w for w in WORD.findall(text) if w not in ALLOWED_WORDS and w.lower() != user.username.lower()}
        if words:
            found[url.removeprefix(person.base)] = sorted(words)[:12]
    _shots(person, screenshots, matrix, role, "desktop")
    person.context.close()
    assert not found, f"{role}: English words on the pages: {found}"
