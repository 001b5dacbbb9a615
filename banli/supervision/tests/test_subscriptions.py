"""Integrators' event subscriptions (出站推送): signed JSON pushes of committed events to a real HTTP receiver on
loopback, retried with backoff by the delivery pass, sent once, logged per subscriber, and only what the
subscriber's office may see (never a unit's drafts)."""
import datetime as dt
import time

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from banli.api.services import api_token_create
from banli.core.errors import DomainError, NotFound, PermissionDenied
from banli.core.testing import assign, make_proposal, make_user, walk_to
from banli.handling import services as handling
from banli.organizations import services as orgs
from banli.organizations.choices import Role, UnitKind
from banli.proposals import services as proposals
from banli.proposals.choices import Body, Level
from banli.supervision import integration, services
from banli.supervision.choices import DeliveryState
from banli.supervision.models import Delivery, EventSubscription
from banli.supervision.tests.helpers import LoopbackHTTP


def _subscribe(world, url, verbs, *, actor=None, office="office_unit", secret="a-long-shared-secret-0123"):
    return services.subscription_create(actor=actor or world.office, office=getattr(world, office) if office else None,
                                        name="省平台", url=url, verbs=verbs, secret=secret)[0]


def _received(receiver):
    return [r for r in receiver.requests]


def test_a_subscriber_gets_each_signed_event_once_and_a_500_is_retried_with_backoff(world):
    now = timezone.now()
    with LoopbackHTTP(fail_first=1) as receiver:
        sub = _subscribe(world, receiver.url, ["sign"])
        lead, _ = assign(world, make_proposal(world, number="第20250101号"))
        handling.assignment_sign(assignment=lead, actor=world.lead_office)

        services.deliver_due(now=now)
        delivery = Delivery.objects.get(subscription=sub)
        assert (delivery.state, delivery.attempts, delivery.response_code) == (DeliveryState.RETRYING, 1, 500)
        assert "HTTP 500" in delivery.last_error
        services.deliver_due(now=now)  # before the backoff has passed: nothing is sent again
        assert len(receiver.requests) == 1

        later = now + dt.timedelta(hours=1)
        services.deliver_due(now=later)
        services.deliver_due(now=later + dt.timedelta(hours=1))  # the job run again sends nothing twice
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts, delivery.response_code) == (DeliveryState.SENT, 2, 200)
        assert [a.response_code for a in delivery.attempt_log.all()] == [500, 200]
        assert len(receiver.requests) == 2
    first, second = receiver.requests
    for request in receiver.requests:
        headers, raw = request["headers"], request["raw"]
        assert integration.verify("a-long-shared-secret-0123", raw, headers["X-Banli-Signature"])
        assert not integration.verify("another-secret-0123456789", raw, headers["X-Banli-Signature"])
        assert headers["X-Banli-Event"] == "sign"
        assert request["json"]["delivery_id"] == headers["X-Banli-Delivery"]
        assert str(request["json"]["timestamp"]) == headers["X-Banli-Timestamp"]
        assert abs(int(headers["X-Banli-Timestamp"]) - time.time()) < 60
    # A retry is the same delivery (the receiver drops a repeat by its id), signed anew.
    assert first["headers"]["X-Banli-Delivery"] == second["headers"]["X-Banli-Delivery"]
    document = second["json"]
    assert document["verb"] == "sign" and document["verb_label"] == "签收"
    assert document["proposal"]["number"] == "第20250101号"
    assert document["assignment"]["unit_name"] == world.lead_unit.name
    assert "payload" not in document


def test_a_tampered_body_does_not_verify():
    body = integration.signed_body('{"verb": "sign"}', delivery_id="evt-1-2", timestamp=1700000000)
    header = integration.signature("a-long-shared-secret-0123", body)
    assert integration.verify("a-long-shared-secret-0123", body, header)
    assert not integration.verify("a-long-shared-secret-0123", body.replace(b"1700000000", b"1800000000"), header)


def test_only_the_verbs_subscribed_are_pushed_and_never_a_units_internal_steps(world):
    with LoopbackHTTP() as receiver:
        everything = _subscribe(world, receiver.url, sorted(integration.subscribable_verbs()), actor=world.admin,
                                office=None)
        only_sign = _subscribe(world, receiver.url, ["sign"])
        # Even a row whose verbs name a unit's internal steps (written around the service) gets none of them.
        EventSubscription.objects.filter(pk=everything.pk).update(
            verbs=[*everything.verbs, "reply_draft", "submit_reply", "approve_reply", "assign_section"])
        lead, _ = assign(world, make_proposal(world))
        walk_to(world, lead, "replied")
        services.deliver_due()
    verbs = [r["json"]["verb"] for r in receiver.requests]
    assert {"assign", "sign", "send_reply"} <= set(verbs)
    assert not set(verbs) & {"reply_draft", "submit_reply", "approve_reply", "assign_section", "log_contact"}
    assert set(Delivery.objects.filter(subscription=only_sign).values_list("subject", flat=True)) == {"sign"}
    assert Delivery.objects.filter(subscription=everything).count() == len(verbs) - 1
    drafts = list(lead.replies.values_list("body", flat=True))
    assert drafts and not any(d in r["raw"].decode() for d in drafts for r in receiver.requests)


def test_a_draft_verb_cannot_be_subscribed(world):
    with pytest.raises(DomainError) as exc:
        _subscribe(world, "http://127.0.0.1:9/hook", ["sign", "reply_draft"])
    assert exc.value.field == "verbs"
    with pytest.raises(DomainError):
        _subscribe(world, "ftp://127.0.0.1/hook", ["sign"])


def test_an_office_gets_the_events_of_its_own_sessions_only(world):
    other_office_unit = orgs.unit_create(name="区人大代表工委", kind=UnitKind.ASSIGNING_OFFICE)
    other_office = make_user("npc_office", "代表工委 钱进", (Role.ASSIGNING_OFFICE, other_office_unit))
    proposals.session_create(actor=other_office, name="区人大三届五次会议", body=Body.NPC, level=Level.DISTRICT,
                             year=2025, assigning_office=other_office_unit)
    with LoopbackHTTP() as receiver:
        theirs = services.subscription_create(actor=other_office, office=other_office_unit, name="热线",
                                              url=receiver.url, verbs=["assign", "sign"])[0]
        ours = _subscribe(world, receiver.url, ["assign", "sign"])
        lead, _ = assign(world, make_proposal(world))
        handling.assignment_sign(assignment=lead, actor=world.lead_office)
        services.deliver_due()
    assert Delivery.objects.filter(subscription=theirs).count() == 0
    assert Delivery.objects.filter(subscription=ours).count() == 3  # assign lead, assign co, sign
    with pytest.raises(PermissionDenied):
        services.subscription_create(actor=other_office, office=world.office_unit, name="越权", url=receiver.url,
                                     verbs=["sign"])
    with pytest.raises(NotFound):
        services.subscription_update(subscription=ours, actor=other_office, is_active=False)


def test_history_before_the_subscription_and_a_paused_subscription_are_not_pushed(world):
    lead, _ = assign(world, make_proposal(world))
    with LoopbackHTTP() as receiver:
        sub = _subscribe(world, receiver.url, ["assign", "sign"])
        services.deliver_due()
        assert receiver.requests == []  # the two assignments were made before it
        services.subscription_update(subscription=sub, actor=world.office, is_active=False)
        handling.assignment_sign(assignment=lead, actor=world.lead_office)
        services.deliver_due()
        assert receiver.requests == [] and not Delivery.objects.filter(subscription=sub).exists()


def test_an_event_rolled_back_is_never_pushed(world):
    lead, _ = assign(world, make_proposal(world))
    with LoopbackHTTP() as receiver:
        _subscribe(world, receiver.url, ["sign"])
        with pytest.raises(RuntimeError), transaction.atomic():
            handling.assignment_sign(assignment=lead, actor=world.lead_office)
            raise RuntimeError("the request failed after the change")
        services.deliver_due()
    assert receiver.requests == []


def test_the_secret_is_stored_encrypted_and_shown_only_when_made(world):
    sub, secret = services.subscription_create(actor=world.office, office=world.office_unit, name="省平台",
                                               url="http://127.0.0.1:9/hook", verbs=["sign"])
    assert len(secret) >= 32
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {EventSubscription._meta.db_table} WHERE id = %s", [sub.pk])
        stored = cursor.fetchone()[0]
    assert secret not in str(stored)
    assert EventSubscription.objects.get(pk=sub.pk).secret == secret
    _, new = services.subscription_update(subscription=sub, actor=world.office, new_secret=True)
    assert new and new != secret and EventSubscription.objects.get(pk=sub.pk).secret == new


def test_a_unit_cannot_subscribe_and_the_administrator_may_subscribe_for_everything(world):
    with pytest.raises(PermissionDenied):
        services.subscription_create(actor=world.lead_office, office=world.lead_unit, name="x",
                                     url="http://127.0.0.1:9/hook", verbs=["sign"])
    with pytest.raises(PermissionDenied):
        services.subscription_create(actor=world.office, office=None, name="x", url="http://127.0.0.1:9/hook",
                                     verbs=["sign"])
    assert services.subscription_create(actor=world.admin, office=None, name="x", url="http://127.0.0.1:9/hook",
                                        verbs=["sign"])[0].office is None


# --- API ------------------------------------------------------------------------------------------


def _api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, scope='write')[1]}")
    return client


def test_the_api_manages_subscriptions_and_shows_the_delivery_log(world):
    office = _api(world.office)
    with LoopbackHTTP(fail_first=1) as receiver:
        created = office.post("/api/v1/subscriptions", {"name": "12345热线", "url": receiver.url,
                                                        "verbs": ["sign"]}, format="json")
        assert created.status_code == 201, created.content
        body = created.json()
        assert body["office"] == world.office_unit.pk and len(body["secret"]) >= 32
        pk = body["id"]
        lead, _ = assign(world, make_proposal(world))
        handling.assignment_sign(assignment=lead, actor=world.lead_office)
        services.deliver_due()
        detail = office.get(f"/api/v1/subscriptions/{pk}").json()
        assert "secret" not in detail and detail["verbs"] == ["sign"]
        log = office.get(f"/api/v1/subscriptions/{pk}/deliveries").json()["results"]
        assert [(d["verb"], d["state"], d["attempts"], d["response_code"]) for d in log] == [
            ("sign", "retrying", 1, 500)]
        assert "HTTP 500" in log[0]["last_error"]
        paused = office.patch(f"/api/v1/subscriptions/{pk}", {"is_active": False}, format="json")
        assert paused.status_code == 200 and paused.json()["is_active"] is False and paused.json()["secret"] == ""
    unit = _api(world.lead_office)
    refused = unit.post("/api/v1/subscriptions", {"name": "x", "url": "http://127.0.0.1:9/", "verbs": ["sign"]},
                        format="json")
    assert refused.status_code == 403 and refused.json()["code"]
    assert unit.get("/api/v1/subscriptions").json()["results"] == []
    assert unit.get(f"/api/v1/subscriptions/{pk}").status_code == 404
    assert unit.get(f"/api/v1/subscriptions/{pk}/deliveries").status_code == 404
    assert _api(world.admin).get(f"/api/v1/subscriptions/{pk}/deliveries").status_code == 200
    bad = office.post("/api/v1/subscriptions", {"name": "x", "url": "http://127.0.0.1:9/", "verbs": ["reply_draft"]},
                      format="json")
    assert bad.status_code == 400


# --- pages ----------------------------------------------------------------------------------------


def test_the_office_adds_a_subscription_on_its_page_and_reads_its_log(world, client):
    client.force_login(world.office)
    page = client.get(reverse("supervision:subscriptions"))
    assert page.status_code == 200 and "事件推送" in page.content.decode() and "签收" in page.content.decode()
    response = client.post(reverse("supervision:subscriptions"), {
        "office": str(world.office_unit.pk), "name": "省平台", "url": "http://127.0.0.1:9/hook", "verbs": ["sign"],
        "secret": ""}, follow=True)
    sub = EventSubscription.objects.get()
    assert "签名密钥" in response.content.decode() and sub.secret in response.content.decode()
    lead, _ = assign(world, make_proposal(world))
    handling.assignment_sign(assignment=lead, actor=world.lead_office)
    services.deliver_due()  # nothing listens on port 9: a failed try, logged
    log = client.get(reverse("supervision:subscription", args=[sub.pk])).content.decode()
    assert "推送记录" in log and "等待重试" in log and "无法连接" in log
    client.post(reverse("supervision:subscription", args=[sub.pk]), {"do": "pause"})
    assert EventSubscription.objects.get().is_active is False
    client.force_login(world.lead_office)
    assert client.get(reverse("supervision:subscriptions")).status_code == 404
    assert client.get(reverse("supervision:subscription", args=[sub.pk])).status_code == 404
