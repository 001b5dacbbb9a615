"""Each role in a real browser (Debian Chromium via Playwright): its menu leads to every page it may open
within two clicks; no page it uses scrolls sideways on a 390 px phone; every page it reads is Chinese.
Screenshots of each role's home, the proposal page and the ledger, on desktop and phone, are saved."""
from __future__ import annotations

import os
import re

import pytest

from banli.core.tests import matrix_world
from banli.workbench.tests.conftest import artifacts_folder
from banli.workbench.tests.crawl import ROLE_USERS, first_level, links_of_open_page, required_pages, url_name
from banli.workbench.tests.e2e_helpers import Person

pytestmark = [pytest.mark.e2e]

PHONE = {"width": 390, "height": 844}
SLOW = 45000  # a crawl loads many pages on a shared machine: wait longer than the single-page tests


@pytest.fixture
def matrix(transactional_db):
    return matrix_world.build()


MENU_TOOLS = {
    "office": {"exchange:import_upload", "exchange:index", "supervision:urge", "supervision:key_items",
               "supervision:failed_deliveries", "supervision:holiday_calendar", "reports:score",
               "reports:summary", "reports:area_summary", "reports:compare", "workbench:register"},
    "unit_office": {"replies:chain", "reports:score", "reports:summary", "replies:commitments"},
    "handler": {"replies:commitments", "reports:figures"},
    "leader": {"reports:score", "reports:summary", "reports:compare"},
    "proposer": {"replies:my_copies", "portal:home"},
    "admin": {"supervision:failed_deliveries", "supervision:holiday_calendar", "workbench:register"},
}


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_each_role_in_the_browser_menu_phone_width_and_chinese(role, matrix, live_server, browser, screenshots):
    """The three checks of a role share one world and one crawl, and each page is opened once: on the phone, where
    its width is measured and its text read; the desktop opens the home page (with the full menu), the proposal and
    the ledger for their screenshots and reads them too. Every failure of the three is reported together."""
    user = getattr(matrix, ROLE_USERS[role])
    person = Person(browser, live_server, user, timeout=SLOW)
    reached = {"one": first_level(person), "two": set()}
    english: dict[str, list[str]] = {}
    phone = Person(browser, live_server, user, viewport=PHONE, timeout=SLOW, is_mobile=True, has_touch=True)
    phone.level_one = person.level_one
    # The phone opens every page one click away: what those pages link to is what two clicks reach.
    failures = _phone_failures(phone, matrix, role, screenshots, english, reached["two"])
    person.crawl_errors = phone.crawl_errors
    failures = _menu_failures(person, reached, role) + failures
    read = set(_pages_of(person, matrix, role))
    if role == "admin":
        # The administrator works in the admin too: the pages he reaches as staff are read again on the desktop.
        person.context.close()
        user.is_staff = user.is_superuser = True
        user.save()
        person = Person(browser, live_server, user, timeout=SLOW)
        first_level(person)  # the pages one click away as staff; each is opened and read below
        staff = [u for u in _pages_of(person, matrix, role) if u not in read]
        for url in staff + [person.base + "/admin/", person.base + "/admin/axes/", person.base + "/admin/otp_totp/"]:
            person.page.goto(url)
            _read_english(person, english)
    _shots(person, screenshots, matrix, role, "desktop", english)
    person.context.close()
    if english:
        failures.append(f"{role}: English words on the pages: {english}")
    assert not failures, "\n".join(failures)


def _menu_failures(person, reached, role) -> list[str]:
    """The menu leads to every page the role may open within two clicks, and holds its daily tools itself."""
    failures = []
    missing = required_pages(role) - reached["one"] - reached["two"]
    if missing:
        failures.append(f"{role}: not reachable within two clicks from the home page: {sorted(missing)}; "
                        f"pages that did not answer: {person.crawl_errors}")
    # The daily tools sit in the menu itself (one click), not only somewhere on a page.
    menu = {url_name(u, person.base) for u in person.page.eval_on_selector_all(
        "#role-menu-items a[href]:not([href='#'])", "els => els.map(e => e.href)")}
    tools = MENU_TOOLS[role]
    if not tools <= menu:
        failures.append(f"{role}: menu lacks {sorted(tools - menu)}")
    return failures


def _pages_of(person, matrix, role) -> list[str]:
    """One URL per page the role reaches in one click (`person.level_one`, from its crawl), plus the item's page,
    its reply and the ledger."""
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


def _shots(person, screenshots, matrix, role, suffix, english):
    def shoot(name):
        try:
            screenshots(person.page, name)
        except Exception:  # noqa: BLE001 - a very long page can fail as one full-page capture: keep the screen

            person.page.screenshot(path=os.path.join(artifacts_folder(), f"{name}.png"))
        _read_english(person, english)

    person.open("/")
    shoot(f"home-{role}-{suffix}")
    if role != "admin":
        person.proposal(matrix.item_a.pk)
        shoot(f"proposal-{role}-{suffix}")
    if role != "proposer":
        person.open("/ledger/")
        shoot(f"ledger-{role}-{suffix}")


def _phone_failures(person, matrix, role, screenshots, english, two: set[str]) -> list[str]:
    """No page the role uses scrolls sideways on a 390 px phone; what each shows there is read for English. The
    links of the pages one click away from home are added to `two`; a page that does not answer is noted in
    `person.crawl_errors`."""
    too_wide = []
    person.crawl_errors = []
    level_one = set(person.level_one)
    for url in _pages_of(person, matrix, role):
        response = person.page.goto(url)
        if url in level_one:
            if response is None or response.status != 200 or person.page.url.split("?")[0].endswith("/login/"):
                person.crawl_errors.append(f"{url} -> {response.status if response else '?'} {person.page.url}")
            two |= links_of_open_page(person)
        width = person.page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide.append(f"{url.removeprefix(person.base)}: {width}px")
        _read_english(person, english)
    _shots(person, screenshots, matrix, role, "phone", english)
    person.context.close()
    return [f"{role}: pages wider than the {PHONE['width']}px screen: {too_wide}"] if too_wide else []


# ASCII words a clerk may meet: file types, the product's name, standards and units.
ALLOWED_WORDS = {"Banli", "docx", "xlsx", "csv", "CSV", "Excel", "Word", "PDF", "pdf", "TOTP", "OTP", "API", "REST",
                 "OpenAPI", "JSON", "json", "ID", "GB", "T", "A4", "zip", "SMS", "IP", "URL", "HTTPS", "OIDC",
                 "Redis", "PostgreSQL", "SQLite", "App", "Google", "Authenticator", "Microsoft", "FreeOTP", "px"}
FILE_NAME = re.compile(r"[\w\u4e00-\u9fff.-]+\.(?:xlsx|docx|csv|pdf|zip|json|png|jpg)\b", re.I)
WORD = re.compile(r"(?<![A-Za-z0-9@._/-])[A-Za-z][A-Za-z]+(?![A-Za-z0-9@_/-])")


TEXT_NODES = """() => {
  const skip = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "CODE", "KBD", "SAMP", "TEXTAREA"]);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode: node => {
    for (let e = node.parentElement; e; e = e.parentElement) { if (skip.has(e.tagName)) return NodeFilter.FILTER_REJECT; }
    return NodeFilter.FILTER_ACCEPT;
  }});
  const parts = [];
  while (walker.nextNode()) parts.push(walker.currentNode.nodeValue);
  return parts.join(" ");
}"""


def _read_english(person, found: dict[str, list[str]]):
    """The page open in `person`'s browser is Chinese: ASCII words only from ALLOWED_WORDS, file names and his user
    name. What else it shows goes into `found` under its path."""
    # Every text of the page, shown or not at this width (a column or a menu the phone hides is read all the
    # same): its text nodes, apart from scripts, styles, what a form field holds (a rule's JSON conditions) and
    # template placeholders shown as code ({{ title }}), which are meant to be typed as they are.
    text = person.page.evaluate(TEXT_NODES)
    text = FILE_NAME.sub(" ", text)
    words = {w for w in WORD.findall(text) if w not in ALLOWED_WORDS and w.lower() != person.user.username.lower()}
    if words:
        path = person.page.url.removeprefix(person.base)
        found[path] = sorted(set(found.get(path, [])) | words)[:12]
