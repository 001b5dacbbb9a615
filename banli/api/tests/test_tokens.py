"""Issue 17.11: API tokens are stored as a hash, expire, are read-only or read-write, are listed and revoked on the
user's own page, and their use is logged."""
import datetime as dt
import hashlib
import importlib
from types import SimpleNamespace

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.utils import timezone

from banli.api.models import ApiToken
from banli.core.testing import PASSWORD, assign, make_proposal
from banli.handling.models import Event

pytestmark = pytest.mark.django_db


def _issue(client, username, **extra):
    response = client.post("/api/v1/auth/token", {"username": username, "password": PASSWORD, **extra},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def _bearer(client, raw, method="get", url="/api/v1/proposals", **kwargs):
    return getattr(client, method)(url, HTTP_AUTHORIZATION=f"Bearer {raw}", content_type="application/json", **kwargs)


def test_the_token_is_returned_once_and_only_its_hash_is_stored(client, world):
    body = _issue(client, "office")
    assert set(body) == {"token", "token_id", "scope", "expires_at"} and body["scope"] == "write"
    row = ApiToken.objects.get(pk=body["token_id"])
    assert row.digest == hashlib.sha256(body["token"].encode()).hexdigest()
    stored = [str(v) for v in ApiToken.objects.values_list(*[f.attname for f in ApiToken._meta.fields]).get()]
    assert not any(body["token"] in value for value in stored)
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert dt.timedelta(days=89) < expires - timezone.now() <= dt.timedelta(days=90)
    assert _bearer(client, body["token"]).status_code == 200
    assert _bearer(client, body["token"][:-1] + "x").status_code == 401


def test_a_token_expires(client, world):
    body = _issue(client, "office", days=7)
    with time_machine.travel(timezone.now() + dt.timedelta(days=7, minutes=1)):
        response = _bearer(client, body["token"])
    assert response.status_code == 401 and response.json()["message"] == "令牌已过期，请重新获取。"
    response = client.post("/api/v1/auth/token", {"username": "office", "password": PASSWORD, "days": 100000},
                           content_type="application/json")
    assert response.status_code == 400


def test_a_read_only_token_reads_but_never_writes(client, world):
    lead, _co = assign(world, make_proposal(world), co=False)
    read = _issue(client, "edu_office", scope="read")["token"]
    write = _issue(client, "edu_office", scope="write")["token"]
    assert _bearer(client, read, url=f"/api/v1/assignments/{lead.pk}").status_code == 200
    refused = _bearer(client, read, "post", f"/api/v1/assignments/{lead.pk}/actions/sign", data={})
    assert refused.status_code == 403 and "只读令牌" in refused.json()["message"]
    lead.refresh_from_db()
    assert lead.state == "pending_sign"
    assert _bearer(client, write, "post", f"/api/v1/assignments/{lead.pk}/actions/sign", data={}).status_code == 200
    lead.refresh_from_db()
    assert lead.state == "signed"


def test_the_user_lists_and_revokes_his_own_tokens_only(client, world):
    mine = _issue(client, "office")
    other = _issue(client, "edu_office")
    client.login(username="office", password=PASSWORD)
    page = client.get("/account/tokens/").content.decode()
    assert mine["token"][:12] in page and other["token"][:12] not in page and mine["token"] not in page
    client.post("/account/tokens/", {"action": "revoke", "token": other["token_id"]})  # not his: nothing happens
    assert _bearer(client, other["token"]).status_code == 200
    client.post("/account/tokens/", {"action": "revoke", "token": mine["token_id"]})
    response = _bearer(client, mine["token"])
    assert response.status_code == 401 and response.json()["message"] == "令牌已撤销，请重新获取。"
    assert "已撤销" in client.get("/account/tokens/").content.decode()
    assert Event.objects.filter(verb="security.token_revoked", actor=world.office).count() == 1


def test_a_token_made_on_the_page_is_shown_once(client, world):
    client.login(username="office", password=PASSWORD)
    page = client.post("/account/tokens/", {"action": "create", "scope": "read", "days": "30", "name": "省平台"})
    html = page.content.decode()
    token = ApiToken.objects.get(user=world.office)
    assert token.scope == "read" and token.name == "省平台"
    raw = html.split('<code id="new-token" class="user-select-all">', 1)[1].split("<", 1)[0]
    assert hashlib.sha256(raw.encode()).hexdigest() == token.digest
    assert raw not in client.get("/account/tokens/").content.decode()


def test_each_use_is_logged_with_the_address_once_an_hour(client, world):
    body = _issue(client, "office")
    for _ in range(3):
        _bearer(client, body["token"], REMOTE_ADDR="192.0.2.7")
    _bearer(client, body["token"], REMOTE_ADDR="192.0.2.8")
    used = Event.objects.filter(verb="security.token_used").order_by("id")
    assert [(e.client_ip, e.payload["token"], e.actor_id) for e in used] == [
        ("192.0.2.7", body["token_id"], world.office.pk), ("192.0.2.8", body["token_id"], world.office.pk)]
    row = ApiToken.objects.get(pk=body["token_id"])
    assert row.last_used_ip == "192.0.2.8" and row.last_used_at is not None
    assert Event.objects.filter(verb="security.token_created", actor=world.office).count() == 1


def test_tokens_issued_before_keep_working_hashed_and_their_plain_keys_are_deleted(client, world):

    old_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint, created timestamp)")
        cursor.execute("INSERT INTO authtoken_token (key, user_id, created) VALUES (%s, %s, %s)",
                       [old_key, world.office.pk, timezone.now()])
    migration = importlib.import_module("banli.api.migrations.0002_hash_old_tokens")
    migration.hash_old_tokens(apps, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
    token = ApiToken.objects.get(user=world.office)
    assert token.digest == hashlib.sha256(old_key.encode()).hexdigest() and token.scope == "write"
    assert _bearer(client, old_key).status_code == 200
