"""One permission matrix for every URL of Banli, generated from the URL configuration.

Every URL (pages, htmx fragments, downloads, API endpoints) must have a row in TABLE saying, for each role,
what happens: "ok" (the view serves it), "deny" (403/404: nothing of the item is shown), "login" (sent to
sign in / 401). A new URL without a row fails `test_every_url_has_a_row`. Objects come from two units so
that cross-unit access is always probed, and every URL with an id is probed again with an id that exists
for no one (a guessed id) to make sure nothing answers it.

Set BANLI_MATRIX_PROBE=<file> to write what each role actually gets there (used when adding rows; run it with
-p no:xdist). Each URL is its own test, all starting from one world built once for the module.
"""
from __future__ import annotations

import copy
import os
import re
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from banli.core.tests import matrix_world
from banli.handling.models import Event
from banli.reports.charts import CHARTS

ROLES = ["anonymous", "public", "proposer", "other_proposer", "handler", "other_handler", "unit_office",
         "leader", "office", "admin"]
STAFF_A = {"handler", "unit_office", "leader"}


def _users(w):
    return {"anonymous": None, "public": w.public, "proposer": w.proposer, "other_proposer": w.other_proposer,
            "handler": w.lead_handler, "other_handler": w.other_handler, "unit_office": w.lead_office,
            "leader": w.lead_leader, "office": w.office, "admin": w.admin}


def rule(ok=(), *, anonymous="login", method="GET", others="deny", reach=False):
    """A row: roles in `ok` get the page, anonymous visitors `anonymous`, everyone else `others`.

    `reach=True` is for actions: "ok" means the request reached the action's own checks (a 403 for a role
    the action does not allow, a 400 for missing input); only 404 counts as "deny" (the item stays hidden).
    """
    ok = set(ok)
    expected = {r: ("ok" if r in ok else others) for r in ROLES}
    if "anonymous" not in ok:
        expected["anonymous"] = anonymous
    return {"expected": expected, "method": method, "reach": reach}


SIGNED_IN = set(ROLES) - {"anonymous"}
EVERYONE = set(ROLES)
STAFF = STAFF_A | {"other_handler", "office", "admin"}
OFFICE = {"office"}
OFFICE_ADMIN = {"office", "admin"}
PROPOSERS_A = {"proposer"}
SEES_A = STAFF_A | {"office", "admin", "proposer"}

# name -> (kwargs builder, rule). Kwargs builders take the world.
TABLE: dict[str, tuple] = {}


QUERIES: dict = {}


def row(name, kwargs=None, query=None, **rule_kwargs):
    TABLE[name] = (kwargs, rule(**rule_kwargs))
    if query:
        QUERIES[name] = query


def _session_unit(w):
    return {"session": w.session.pk, "unit": w.lead_unit.pk}


STAFF_ALL = STAFF_A | {"other_handler", "office", "admin"}
UNIT_A_OFFICE_ADMIN = STAFF_A | {"office", "admin"}

# --- sign-in, account, health --------------------------------------------------------------------
row("login", ok=EVERYONE)
row("logout", method="POST", others="login")  # everyone ends up on the sign-in page
row("healthz", ok=EVERYONE)
row("livez", ok=EVERYONE)
row("my_data", ok=SIGNED_IN)
row("proposer_contact", ok=SEES_A)  # masked values for whoever sees the item
row("proposer_contact_reveal", method="POST", ok={"handler", "unit_office", "leader", "office", "proposer"})  # not admin
row("otp_verify", ok=SIGNED_IN)
row("otp_setup", ok=SIGNED_IN)
row("account_security", ok=SIGNED_IN)
row("api_tokens", ok=SIGNED_IN)  # the user's own API tokens only
row("sign_out_everywhere", method="POST", ok=SIGNED_IN)

# --- workbench ------------------------------------------------------------------------------------
row("workbench:home", ok=SIGNED_IN)  # each role's own work; a user without roles sees an empty page
row("workbench:switch_role", method="POST", ok=SIGNED_IN)
row("workbench:password_change", ok=SIGNED_IN)
row("workbench:ledger", ok=SIGNED_IN)  # rows restricted to what the user may see
row("workbench:notifications", ok=SIGNED_IN)
row("workbench:notification_badge", ok=SIGNED_IN)
row("workbench:proposal", ok=SEES_A)
row("workbench:assign", ok=OFFICE)
row("workbench:proposal_key", method="POST", ok=OFFICE_ADMIN)  # registration data: office, or admin correcting it
row("workbench:proposal_merge", method="POST", ok=OFFICE)  # 并案 is a handling decision: the office, never admin
row("workbench:proposal_unmerge", method="POST", ok=OFFICE)
row("workbench:action", method="POST", ok=SEES_A, reach=True)  # each action then checks its own roles
row("workbench:register", ok=OFFICE_ADMIN)
row("workbench:register_suggest", method="POST", ok=OFFICE_ADMIN)  # suggestions for the text being registered
row("workbench:unit_search", ok=OFFICE_ADMIN)

# --- replies, co-opinions, ratings, copies ------------------------------------------------------
row("replies:draft", ok=STAFF_A)  # drafts never leave the unit
row("replies:co_opinion", ok=())  # item A's co unit is a third unit: nobody in the matrix may open it
row("replies:feedback", ok=SEES_A)
row("replies:review", ok=SEES_A)  # a sent reply
row("replies:reply_docx", ok=SEES_A)
row("replies:co_opinion_docx", ok=STAFF_A | OFFICE)
row("replies:co_opinion_attachment", ok=STAFF_A | OFFICE)
row("replies:my_copies", ok=SIGNED_IN)
row("replies:copy", ok=SEES_A)
row("replies:commitments", ok=SIGNED_IN)
row("replies:templates", ok={"unit_office", "office", "admin"})
row("replies:default_template", ok=SIGNED_IN)  # the blank standard layout holds no case data
row("replies:template_file", ok={"unit_office", "office", "admin"})  # unit A's uploaded template
row("replies:feedback_scan", ok=STAFF_A | OFFICE)  # the co-signer's paper form: not the other signer, not admin

# --- supervision ------------------------------------------------------------------------------------
row("supervision:notifications", ok=SIGNED_IN)
row("supervision:unread_badge", ok=SIGNED_IN)
row("supervision:notifications_read_all", method="POST", ok=SIGNED_IN)
row("supervision:notification_read", method="POST", ok={"handler"})  # only its addressee
row("supervision:preferences", ok=SIGNED_IN)
row("supervision:item", ok=SEES_A)
row("supervision:key_items", ok=SIGNED_IN)
row("supervision:key_item", ok=SEES_A)
row("supervision:urge", ok=OFFICE)
row("supervision:failed_deliveries", ok=OFFICE_ADMIN)
row("supervision:delivery_retry", method="POST", ok=OFFICE_ADMIN)
row("supervision:digest", ok=OFFICE)  # the office's own weekly digest
row("supervision:holiday_calendar", ok=OFFICE_ADMIN)
row("supervision:subscriptions", ok=OFFICE_ADMIN)  # integrators' event pushes: an assigning office or the admin
row("supervision:subscription", ok=OFFICE_ADMIN)  # the office's own subscription (the admin keeps them all)

# --- reports ------------------------------------------------------------------------------------
row("reports:home", ok=STAFF_ALL)
row("reports:dashboard", ok=STAFF_ALL)
row("reports:dashboard_xlsx", ok=STAFF_ALL)
row("reports:chart_xlsx", ok=STAFF_ALL)
row("reports:figures", ok=STAFF_ALL)
row("reports:items", ok=STAFF_ALL)  # the items behind a figure, restricted to the reader's scope
row("reports:score", query=_session_unit, ok=UNIT_A_OFFICE_ADMIN)
row("reports:evaluation_export", query=_session_unit, ok=UNIT_A_OFFICE_ADMIN)  # unit A's 自评 (the world prepares one)
row("reports:rules", query=_session_unit, ok=STAFF_ALL)
row("reports:summary", query=_session_unit, ok=UNIT_A_OFFICE_ADMIN)
row("reports:summary_docx", query=_session_unit, ok=UNIT_A_OFFICE_ADMIN)

# --- smart assist -----------------------------------------------------------------------------------
row("assist:proposal", ok=UNIT_A_OFFICE_ADMIN)
row("assist:category", ok=UNIT_A_OFFICE_ADMIN)
row("assist:routing", ok=UNIT_A_OFFICE_ADMIN)
row("assist:similar", ok=UNIT_A_OFFICE_ADMIN)
row("assist:draft_check", method="POST", ok=STAFF_A | OFFICE_ADMIN)  # the handler and the office's 核稿
row("assist:reply_check", ok=STAFF_A | OFFICE)
row("assist:topics", ok=STAFF_ALL)  # titles of a session's items, for units to see related items
row("assist:office", ok=OFFICE_ADMIN)  # the suggestions' monthly figures and the office's thresholds

# --- exchange -----------------------------------------------------------------------------------------
row("exchange:index", ok=SIGNED_IN)
row("exchange:import_upload", ok=OFFICE)
row("exchange:import_mapping", ok=OFFICE)
row("exchange:import_preview", ok=OFFICE)
row("exchange:import_progress", ok=OFFICE)  # the running import's progress bar
row("exchange:import_bodies", ok=OFFICE)
row("exchange:ledger_xlsx", ok=SIGNED_IN)  # rows restricted like the ledger page
row("exchange:ledger_csv", ok=SIGNED_IN)
row("exchange:notices", ok=OFFICE)
row("exchange:notice", ok=OFFICE)
row("exchange:archive", ok=OFFICE)

# --- public portal: disclosed replies only, no sign-in -------------------------------------------------
row("portal:home", ok=EVERYONE)
row("portal:index", ok=EVERYONE)
row("portal:withdraw", method="POST", ok=OFFICE)  # taking a publication down, with a reason
row("portal:detail", ok=EVERYONE)  # item A's reply is disclosed in full; undisclosed ones have no public copy
row("replies:chain", ok={"unit_office"})  # a unit office configures its own review chain
row("replies:missing_feedback", ok=STAFF_ALL)  # staff see ratings missing after the deadline, scoped to their items
row("reports:compare", ok=STAFF_ALL)
row("reports:area_summary", ok=OFFICE_ADMIN)  # every unit's figures and 自评 of a session: its office only
row("reports:area_summary_docx", ok=OFFICE_ADMIN)

# --- REST API ---------------------------------------------------------------------------------------
row("api:token", method="POST", ok=EVERYONE)
row("api:schema", ok=SIGNED_IN)  # the API's description: signed-in users unless BANLI_API_DOCS_PUBLIC
row("api:docs", ok=SIGNED_IN)
row("api:redoc", ok=SIGNED_IN)
# Figures are for who has a report scope (staff, offices, the administrator); a proposer reads his items, not figures.
row("api:figures", ok=STAFF_ALL)
row("api:scores", query=_session_unit, ok=UNIT_A_OFFICE_ADMIN)
for _collection in ("session", "unit", "proposal", "assignment", "reply", "event"):
    row(f"api:{_collection}-list", ok=SIGNED_IN)  # every list is filtered to what the caller may see
row("api:session-detail", ok=SIGNED_IN)
row("api:unit-detail", ok=SIGNED_IN)
row("api:proposal-detail", ok=SEES_A)
row("api:assignment-detail", ok=SEES_A)
row("api:reply-detail", ok=SEES_A)
row("api:reply-document", ok=SEES_A)
row("api:event-detail", ok=SEES_A)
row("api:subscription-list", ok=SIGNED_IN)  # filtered: empty for anyone but an office or the administrator
row("api:subscription-detail", ok=OFFICE_ADMIN)
row("api:subscription-deliveries", ok=OFFICE_ADMIN)
# The integrator's write endpoints (issue 17.16). Lists are filtered to what the caller may see.
for _collection in ("user", "role-grant", "proposer", "deadline-policy", "commitment", "contact", "co-opinion",
                    "feedback", "rule-set", "score-entry", "evaluation"):
    row(f"api:{_collection}-list", ok=SIGNED_IN)
row("api:user-detail", ok={"handler", "admin"})  # the administrator, and the user his own account
row("api:user-deactivate", method="POST", ok={"handler", "admin"}, reach=True)
row("api:role-grant-detail", ok={"handler", "admin"})
row("api:proposer-detail", ok=SEES_A)
row("api:proposal-proposers", ok=SEES_A)
row("api:proposal-proposer", method="DELETE", ok=SEES_A - {"admin"}, reach=True)  # co-signers: the item's office
row("api:deadline-policy-detail", ok=SIGNED_IN)
row("api:commitment-detail", ok=UNIT_A_OFFICE_ADMIN)
row("api:contact-detail", ok=STAFF_A)  # a contact record stays with the unit's own staff
row("api:co-opinion-detail", ok=STAFF_A | {"office"})  # between the units and the office
row("api:feedback-detail", ok=STAFF_A | {"office"})  # the co-signer's own rating: not another proposer's
row("api:rule-set-detail", ok=STAFF_ALL)
row("api:rule-set-rules", method="POST", ok=STAFF_ALL, reach=True)
row("api:rule-set-rule", method="PATCH", ok=STAFF_ALL, reach=True)
row("api:score-entry-detail", ok=UNIT_A_OFFICE_ADMIN)
row("api:evaluation-detail", ok=UNIT_A_OFFICE_ADMIN)
row("api:evaluation-submit", method="POST", ok=UNIT_A_OFFICE_ADMIN, reach=True)
row("api:evaluation-decide", method="POST", ok=UNIT_A_OFFICE_ADMIN, reach=True)
# Actions: whoever sees the item reaches the action's own role and input checks; nobody else learns it exists.
for _action in ("sign", "request_adjustment", "decide_adjustment", "assign_handler", "log_contact", "send_co_opinion",
                "submit_reply", "review_reply", "send_reply", "rate", "request_extension", "decide_extension",
                "add_commitment", "complete_commitment", "close", "rehandle", "withdraw", "sign_off_co_opinion"):
    row(f"api:assignment-action-{_action}", method="POST", ok=SEES_A, reach=True)


def probe_outcome(response, reach: bool = False) -> str:
    code = response.status_code
    if reach and code == 403 and "/login/" not in response.headers.get("Location", ""):
        return "ok"
    location = response.headers.get("Location", "")
    if code in (301, 302) and "/login/" in location:
        return "login"
    if "/login/" in response.headers.get("HX-Redirect", ""):  # an htmx request: the whole page goes to sign in
        return "login"
    if code == 401:
        return "login"
    if code in (403, 404):
        return "deny"
    if code == 405:
        return "method"
    if code >= 500 or code == 429:
        return f"error{code}"
    return "ok"


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(x for x in (namespace, p.namespace or "") if x)
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield prefix + str(p.pattern), name, p


def all_url_names() -> dict[str, str]:
    """Every named URL of the project except Django's own admin (which has its own staff-only checks)."""
    names = {}
    for route, name, _ in _walk(get_resolver().url_patterns):
        if route.startswith("admin/") or name.startswith("admin:"):
            continue
        if not name:
            raise AssertionError(f"URL {route!r} has no name; every URL needs a name and a row in the matrix")
        names.setdefault(name, route)
    return names


def _first_event(w):
    return Event.objects.filter(proposal=w.item_a).order_by("id").first().pk


API_DETAIL = {
    "session": lambda w: w.session.pk, "unit": lambda w: w.lead_unit.pk, "proposal": lambda w: w.item_a.pk,
    "assignment": lambda w: w.lead_a.pk, "reply": lambda w: w.reply_a.pk, "event": _first_event,
    "subscription": lambda w: w.subscription.pk, "user": lambda w: w.lead_handler.pk,
    "role": lambda w: w.role_grant.pk, "proposer": lambda w: w.proposer_record.pk,
    "deadline": lambda w: w.deadline_policy.pk, "commitment": lambda w: w.commitment_a.pk,
    "contact": lambda w: w.contact_a.pk, "co": lambda w: w.opinion_a.pk, "feedback": lambda w: w.feedback_a.pk,
    "rule": lambda w: w.rule_set.pk, "score": lambda w: w.score_entry.pk, "evaluation": lambda w: w.evaluation.pk,
}
BY_NAME = {
    "workbench:proposal": {"pk": "item_a"}, "workbench:assign": {"pk": "item_a"},
    "workbench:proposal_key": {"pk": "item_a"}, "workbench:action": {"pk": "lead_a"},
    "workbench:proposal_merge": {"pk": "item_a"}, "workbench:proposal_unmerge": {"pk": "item_a"},
    "replies:co_opinion": {"assignment_id": "co_a"}, "supervision:notification_read": {"pk": "notification"},
    "supervision:delivery_retry": {"pk": "delivery"}, "supervision:digest": {"pk": "digest"},
    "supervision:subscription": {"pk": "subscription"}, "api:proposal-proposer": {"pk": "co_proposer_record"},
    "exchange:import_mapping": {"pk": "batch"}, "exchange:import_preview": {"pk": "batch"},
    "exchange:import_progress": {"pk": "batch"},
}
BY_PARAM = {
    "assignment_id": "lead_a", "reply_id": "reply_a", "opinion_id": "opinion_a", "attachment_id": "attachment_a",
    "delivery_id": "delivery_a", "template_id": "template_a", "feedback_id": "feedback_a", "public_id": "public_reply", "proposal_id": "item_a", "proposer_id": "proposer_record", "session_id": "session", "unit_id": "lead_unit",
    "proposal_pk": "item_a", "rule_id": "rule",
}
LITERALS = {"kind": "proposal_reply", "fmt": "xlsx", "action": "log_contact", "field": "phone"}


def default_kwargs(name: str, route: str, w) -> dict:
    """Objects of unit A for every parameter a URL names."""
    kwargs = {}
    for param in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route):
        param = param[0] or param[1]
        if name.startswith("api:") and param == "pk" and name not in BY_NAME:
            base = name.split(":")[1].split("-")[0]
            kwargs[param] = API_DETAIL.get(base, lambda w: w.lead_a.pk)(w) if base != "assignment" else w.lead_a.pk
            continue
        if name == "reports:chart_xlsx" and param == "key":
            kwargs[param] = next(iter(CHARTS))
            continue
        if name == "reports:items" and param == "key":
            kwargs[param] = "replied"
            continue
        source = BY_NAME.get(name, {}).get(param) or BY_PARAM.get(param)
        if source:
            value = getattr(w, source)
            kwargs[param] = value.pk if hasattr(value, "pk") else value
        elif param in LITERALS:
            kwargs[param] = LITERALS[param]
        else:
            raise AssertionError(f"no object for parameter {param!r} of {name}; add it to BY_NAME/BY_PARAM")
    return kwargs


def _guess(kwargs):
    """The same URL with every integer id replaced by one that exists for nobody."""
    guessed = {k: (987654321 if isinstance(v, int) else v) for k, v in kwargs.items()}
    return guessed if guessed != kwargs else None


@pytest.fixture(scope="module")
def _matrix_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The matrix world and one signed-in session per role, built once for the module (as Django's
    TestCase.setUpTestData does) and rolled back after it; each URL's test runs in its own savepoint. Its files
    (templates, import files) stay in one media folder that every test of the module uses."""
    media = tmp_path_factory.mktemp("matrix-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
        block = transaction.atomic()
        block.__enter__()
        try:
            w = matrix_world.build()
            cookies = {}
            for role, user in _users(w).items():
                client = Client()
                if user is not None:
                    client.force_login(user)
                cookies[role] = client.cookies
            yield w, cookies, media
        finally:
            transaction.set_rollback(True)
            block.__exit__(None, None, None)


@pytest.fixture
def world(_matrix_world, db, settings):
    settings.MEDIA_ROOT = _matrix_world[2]
    return copy.deepcopy(_matrix_world[0])


@pytest.fixture
def clients(_matrix_world, db):
    """role -> a Client signed in as that role's user (anonymous: none)."""
    result = {}
    for role, cookies in _matrix_world[1].items():
        result[role] = Client(raise_request_exception=False)
        result[role].cookies = copy.deepcopy(cookies)
    return result


def _request(client, method, url):
    if method == "POST":
        return client.post(url, {}, HTTP_HX_REQUEST="true")
    if method in ("PATCH", "DELETE"):  # API only: an empty JSON body reaches the endpoint's own checks
        return client.generic(method, url, b"{}", content_type="application/json")
    return client.get(url)


def test_every_url_has_a_row():
    missing = sorted(set(all_url_names()) - set(TABLE))
    stale = sorted(set(TABLE) - set(all_url_names()))
    assert not missing, f"URLs without a row in the permission matrix: {missing}"
    assert not stale, f"rows for URLs that no longer exist: {stale}"


GUESSING_ROLES = ("office", "admin", "handler", "proposer")  # who asks again with an id that exists for nobody
PROBE = os.environ.get("BANLI_MATRIX_PROBE")  # a file: what each role gets is appended there (run without xdist)
ROUTES = all_url_names()
MATRIX_NAMES = sorted(name for name in ROUTES if name in TABLE or PROBE)


@pytest.mark.parametrize("name", MATRIX_NAMES)
def test_every_role_gets_what_the_table_says_for_the_url(name, world, clients):
    """One test per URL (so the matrix spreads over the workers); each starts from the same world."""
    users = _users(world)
    mismatches = []
    kwargs_of, spec = TABLE.get(name, (None, rule(method="GET")))
    kwargs = kwargs_of(world) if kwargs_of else default_kwargs(name, ROUTES[name], world)
    url = reverse(name, kwargs=kwargs)
    if name in QUERIES:
        url += "?" + urlencode(QUERIES[name](world))
    observed = {}
    guessed = _guess(kwargs)
    for role in ROLES:
        response = _request(clients[role], spec["method"], url)
        if spec["method"] != "GET" and users[role] is not None and guessed and role in GUESSING_ROLES:
            # A POST may sign out or rotate the session: signed in again for the guessed-id probe below (the only
            # later use of this client; each test starts from the module's signed-in sessions).
            users[role].refresh_from_db()  # "sign out everywhere" moved the session version on
            clients[role].force_login(users[role])
        observed[role] = probe_outcome(response, spec["reach"] and users[role] is not None)
        if observed[role] == "ok" and role in ("other_handler", "other_proposer", "public") and kwargs:
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            body = raw.decode(errors="ignore")
            if world.item_a.title in body and spec["expected"][role] != "ok":
                observed[role] = "leak"
    for role in ROLES:
        if observed[role] != spec["expected"][role]:
            mismatches.append(f"{name} [{spec['method']} {url}] {role}: expected {spec['expected'][role]}, got {observed[role]}")
    if guessed:
        gurl = reverse(name, kwargs=guessed)
        for role in GUESSING_ROLES:
            outcome = probe_outcome(_request(clients[role], spec["method"], gurl))
            if outcome not in ("deny", "login", "method"):
                mismatches.append(f"{name} [{gurl}] {role}: a guessed id answered {outcome}")
    if PROBE:
        with open(PROBE, "a") as out:
            out.write(f"{name:45s} {spec['method']:4s} " + " ".join(f"{r}={observed[r]}" for r in ROLES) + "\n")
    assert not mismatches, "\n".join(mismatches)
