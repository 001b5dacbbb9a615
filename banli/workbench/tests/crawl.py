"""Crawling a role's pages in the browser: the links of its home page (menus included) and of every page one
click away. Shared by the menu, phone-width and Chinese-text end-to-end tests."""
from __future__ import annotations

from urllib.parse import urlsplit

from django.urls import Resolver404, resolve

from banli.core.tests.test_permission_matrix import TABLE

# The roles crawled and the matrix world's user of each.
ROLE_USERS = {"office": "office", "unit_office": "lead_office", "handler": "lead_handler", "leader": "lead_leader",
              "proposer": "proposer", "admin": "admin"}

# Not pages of a menu: downloads, htmx fragments, sign-in steps, the API and duplicate names of one URL.
NOT_PAGES = {
    "login", "logout", "healthz", "livez", "otp_verify", "proposer_contact", "my_data",
    "workbench:notification_badge", "workbench:unit_search", "supervision:unread_badge",
    "reports:dashboard", "reports:dashboard_xlsx", "reports:chart_xlsx", "reports:evaluation_export",
    "reports:summary_docx", "reports:area_summary_docx", "portal:index",
    "replies:reply_docx", "replies:co_opinion_docx", "replies:co_opinion_attachment", "replies:default_template",
    "replies:template_file", "replies:feedback_scan",
    "exchange:ledger_xlsx", "exchange:ledger_csv", "exchange:notice", "exchange:archive",
    "assist:proposal", "assist:category", "assist:routing", "assist:similar", "assist:reply_check",
}
# Pages of one object (an item, a reply, a batch): reached through that object's own page, not the menu.
OBJECT_PAGES = {
    "workbench:assign", "replies:draft", "replies:feedback", "replies:review", "replies:copy", "replies:co_opinion",
    "supervision:item", "supervision:key_item", "supervision:digest", "exchange:import_mapping",
    "exchange:import_preview", "exchange:import_progress", "reports:items", "portal:detail", "assist:topics", "otp_setup",
}


# Pages open to every signed-in user that are office tools with nothing of the proposer's beyond his home page
# (his items are listed there as cards; the ledger and its export would show him the same items as rows).
NOT_TOOLS = {"proposer": {"workbench:ledger", "exchange:index", "supervision:key_items"}}


def required_pages(role: str) -> set[str]:
    """The pages the permission matrix lets `role` open, that a menu should lead to."""
    out = set()
    for name, (_, spec) in TABLE.items():
        if spec["method"] != "GET" or name.startswith("api:") or name in NOT_PAGES | OBJECT_PAGES:
            continue
        if name in NOT_TOOLS.get(role, ()):
            continue
        if spec["expected"].get(role) == "ok":
            out.add(name)
    return out


def url_name(url: str, origin: str) -> str | None:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    return match.view_name


def is_page(url: str, origin: str) -> bool:
    name = url_name(url, origin)
    return bool(name) and name not in NOT_PAGES and not name.startswith("api:") and name != "admin:logout"


def first_level(person) -> set[str]:
    """Open the home page; its links to pages (menus included) become `person.level_one`. Returns their names."""
    page, origin = person.page, person.base
    person.open("/")
    first = {u for u in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)") if is_page(u, origin)}
    person.level_one = sorted(first)
    person.crawl_errors = []
    return {url_name(u, origin) for u in first}


def links_of_open_page(person) -> set[str]:
    """The URL names the page open in `person`'s browser links to (what one more click reaches)."""
    hrefs = person.page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    return {name for name in (url_name(u, person.base) for u in hrefs) if name}
