"""Delivery channels against real servers on loopback: SMTP, an SMS gateway and group robots; retries."""
import datetime as dt
import email
import email.policy
import urllib.parse

import pytest
from django.core import mail

from banli.core.testing import assign, make_proposal
from banli.handling.models import Assignment
from banli.supervision import channels, selectors, services
from banli.supervision.channels import DeliveryError, post_json
from banli.supervision.models import (
    ChannelPreference,
    Delivery,
    DeliveryAttempt,
    DeliveryQueue,
    Notification,
    UnitWebhook,
)
from banli.supervision.tests.helpers import LoopbackHTTP, LoopbackSMTP, at, frozen, give_contacts, lead_item

D = dt.date
DAY = D(2025, 10, 9)


@pytest.fixture
def warned(world):
    """A reply due tomorrow: the scan on 2025-10-09 warns the handler and the unit office."""
    give_contacts(world)
    world.item = lead_item(world, reply_due=D(2025, 10, 10))
    return world


def scan(now=None):
    with frozen(DAY):
        return services.scan_deadlines()


def scan_and_queue():
    """The scan, then the send step's first half: its deliveries queued (not yet sent)."""
    result = scan()
    with frozen(DAY):
        result.update(services.fan_out_pending())
    return result


def test_email_goes_to_the_handler_and_unit_office_with_a_direct_link(warned, settings):
    settings.BANLI_BASE_URL = "https://banli.example.gov.cn"
    scan()
    result = services.deliver_due(now=at(DAY))
    assert result == {"sent": 2, "failed": 0, "retrying": 0}
    assert sorted(m.to[0] for m in mail.outbox) == ["edu_handler@example.gov.cn", "edu_office@example.gov.cn"]
    message = mail.outbox[0]
    assert "答复预警" in message.subject and warned.item.proposal.number in message.subject
    assert f"https://banli.example.gov.cn/supervision/items/{warned.item.pk}/" in message.body
    assert "还有1个工作日" in message.body
    # and the same reminder sits in both users' notification centres
    assert Notification.objects.filter(user=warned.lead_handler, reminder__threshold=1).exists()
    assert services.deliver_due(now=at(DAY)) == {"sent": 0, "failed": 0, "retrying": 0}  # nothing twice


def test_each_kind_has_its_own_email_template(warned):
    # A second item at the same unit, still to be signed tomorrow. (It used to be the same item put back to
    # pending_sign, warned for signing and for its reply at once; an unsigned item now owes its signing only.)
    unsigned, _ = assign(warned, make_proposal(warned), co=False, now=at(D(2025, 7, 1)))
    Assignment.objects.filter(pk=unsigned.pk).update(sign_due=D(2025, 10, 10))
    scan()
    services.deliver_due(now=at(DAY))
    # The handler hears of the reply only; the unit office of both, in one message with each kind's words.
    by_address = {m.to[0]: m for m in mail.outbox}
    assert len(mail.outbox) == 2
    alone = by_address["edu_handler@example.gov.cn"]
    assert alone.subject.startswith("【答复预警】") and "请及时签收" not in alone.body
    both = by_address["edu_office@example.gov.cn"]
    assert both.subject == "【办理提醒】您有 2 件事项需要处理"
    sign_part, reply_part = (part for part in both.body.split("\n\n") if part.startswith(("1. ", "2. ")))
    assert {sign_part.split("】")[0][3:], reply_part.split("】")[0][3:]} == {"【签收预警", "【答复预警"}
    sign_text = sign_part if "签收预警" in sign_part else reply_part
    assert "请及时签收" in sign_text and "请及时签收" not in (reply_part if sign_text is sign_part else sign_part)


@pytest.fixture
def three_items(world):
    """Three replies due tomorrow at one unit: its office has three reminders to hear of on 2025-10-09."""
    give_contacts(world)
    world.items = [lead_item(world, reply_due=D(2025, 10, 10)) for _ in range(3)]
    return world


def test_reminders_for_one_address_go_out_as_one_message_each_recorded(three_items):
    scan()
    # one reminder row about the three items; the handler and the unit office each get one delivery of it
    assert services.deliver_due(now=at(DAY)) == {"sent": 2, "failed": 0, "retrying": 0}
    assert sorted(m.to[0] for m in mail.outbox) == ["edu_handler@example.gov.cn", "edu_office@example.gov.cn"]
    office_mail = next(m for m in mail.outbox if m.to[0] == "edu_office@example.gov.cn")
    assert office_mail.subject == "【办理提醒】您有 3 件事项需要处理"
    for item in three_items.items:
        assert f"/supervision/items/{item.pk}/" in office_mail.body and item.proposal.number in office_mail.body
    office_row = Delivery.objects.get(address="edu_office@example.gov.cn")
    assert office_row.state == "sent" and office_row.reminder.item_count == 3
    assert office_row.body.count("【答复预警】") == 3  # each item keeps its own words
    assert DeliveryAttempt.objects.filter(delivery=office_row).count() == 1
    assert services.deliver_due(now=at(DAY)) == {"sent": 0, "failed": 0, "retrying": 0}  # nothing twice


def test_a_message_carries_at_most_batch_max_items(three_items, monkeypatch):
    monkeypatch.setattr(services, "BATCH_MAX", 2)
    scan()
    services.deliver_due(now=at(DAY))
    subjects = sorted(m.subject for m in mail.outbox if m.to[0] == "edu_office@example.gov.cn")
    assert len(subjects) == 2 and "【办理提醒】您有 2 件事项需要处理" in subjects


def test_a_combined_text_message_is_short_and_points_to_the_notification_centre(three_items, settings, tmp_path):
    settings.BANLI_SMS_BACKEND = "file"
    settings.BANLI_SMS_FILE = str(tmp_path / "sms.log")
    settings.BANLI_BASE_URL = "https://banli.example.gov.cn"
    ChannelPreference.objects.create(user=three_items.lead_office, email=False, sms=True)
    ChannelPreference.objects.create(user=three_items.lead_handler, email=False, sms=False)
    scan()
    services.deliver_due(now=at(DAY))
    lines = (tmp_path / "sms.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert "您有 3 件事项需要处理" in lines[0] and "共 3 件" in lines[0]
    assert "https://banli.example.gov.cn/supervision/notifications/" in lines[0]
    assert len(lines[0]) < 400


def test_a_combined_message_that_fails_is_retried_for_every_item_it_carries(three_items, settings):
    settings.BANLI_DELIVERY_RETRY_SECONDS = 60
    settings.BANLI_DELIVERY_MAX_ATTEMPTS = 2
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens on the discard port
    scan()
    assert services.deliver_due(now=at(DAY))["retrying"] == 2  # the handler's and the office's, 3 items each
    assert services.deliver_due(now=at(DAY) + dt.timedelta(minutes=2))["failed"] == 2
    assert selectors.failed_deliveries(three_items.office).count() == 2


def test_email_through_a_real_smtp_server_on_loopback(warned, settings):
    with LoopbackSMTP() as smtp:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
        scan()
        assert services.deliver_due(now=at(DAY))["sent"] == 2
    assert len(smtp.messages) == 2
    parsed = email.message_from_bytes(smtp.messages[0]["data"], policy=email.policy.default)
    assert "答复预警" in parsed["Subject"]
    assert f"/supervision/items/{warned.item.pk}/" in parsed.get_content()
    assert DeliveryAttempt.objects.filter(ok=True).count() == 2


def test_an_unreachable_smtp_server_is_retried_and_then_shown_as_failed(warned, settings):
    with LoopbackSMTP() as smtp:
        port = smtp.port  # closed again below: nothing listens there any more
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    settings.BANLI_DELIVERY_MAX_ATTEMPTS = 2
    scan()
    now = at(DAY)
    assert services.deliver_due(now=now)["retrying"] == 2
    assert services.deliver_due(now=now + dt.timedelta(minutes=2))["failed"] == 2
    assert selectors.failed_deliveries(warned.office).count() == 2


def sms_world(world, settings, url):
    settings.BANLI_SMS_BACKEND = "http"
    settings.BANLI_SMS_HTTP_URL = url
    settings.BANLI_SMS_HTTP_TOKEN = "t0ken"
    for user in (world.lead_handler, world.lead_office):
        ChannelPreference.objects.create(user=user, email=False, sms=True)


def test_sms_gateway_failing_twice_is_retried_with_backoff_and_then_succeeds(warned, settings):
    settings.BANLI_DELIVERY_RETRY_SECONDS = 60
    with LoopbackHTTP(fail_first=2) as gateway:
        sms_world(warned, settings, gateway.url)
        ChannelPreference.objects.filter(user=warned.lead_office).update(sms=False)
        scan()
        now = at(DAY)
        assert services.deliver_due(now=now) == {"sent": 0, "failed": 0, "retrying": 1}
        # not yet: the first retry waits 60 s
        assert services.deliver_due(now=now + dt.timedelta(seconds=30)) == {"sent": 0, "failed": 0, "retrying": 0}
        assert services.deliver_due(now=now + dt.timedelta(seconds=61)) == {"sent": 0, "failed": 0, "retrying": 1}
        # the second retry waits 4 × 60 s
        assert services.deliver_due(now=now + dt.timedelta(seconds=200))["sent"] == 0
        assert services.deliver_due(now=now + dt.timedelta(seconds=61 + 241))["sent"] == 1
    delivery = Delivery.objects.get(channel="sms")
    assert delivery.state == "sent" and delivery.attempts == 3 and delivery.address == "13800000001"
    assert [a.ok for a in delivery.attempt_log.all()] == [False, False, True]
    assert len(gateway.requests) == 3
    request = gateway.requests[-1]
    assert request["headers"]["Authorization"] == "Bearer t0ken"
    assert request["json"]["phone"] == "13800000001" and "答复预警" in request["json"]["text"]


def test_a_gateway_that_always_fails_is_recorded_as_failed_and_shown_to_the_office(warned, settings, client):
    settings.BANLI_DELIVERY_RETRY_SECONDS = 0
    with LoopbackHTTP(always_fail=True) as robot:
        UnitWebhook.objects.create(unit=warned.lead_unit, kind="wecom", url=robot.url)
        scan()
        results = [services.deliver_due(now=at(DAY) + dt.timedelta(seconds=i)) for i in range(6)]
    hook = Delivery.objects.get(channel="webhook")
    assert hook.state == "failed" and hook.attempts == 4 and "HTTP 500" in hook.last_error
    assert DeliveryAttempt.objects.filter(delivery=hook).count() == 4 == len(robot.requests)
    assert sum(r["failed"] for r in results) == 1
    client.force_login(warned.office)
    page = client.get("/supervision/deliveries/failed/").content.decode()
    assert "工作群机器人" in page and "HTTP 500" in page
    client.force_login(warned.other_office)
    assert "HTTP 500" not in client.get("/supervision/deliveries/failed/").content.decode()


def test_the_office_can_resend_a_failed_delivery(warned, settings, client, django_capture_on_commit_callbacks):
    settings.BANLI_DELIVERY_RETRY_SECONDS = 0
    settings.BANLI_DELIVERY_MAX_ATTEMPTS = 1
    with LoopbackHTTP(fail_first=1) as robot:
        UnitWebhook.objects.create(unit=warned.lead_unit, kind="wecom", url=robot.url)
        scan()
        services.deliver_due(now=at(DAY))
        hook = Delivery.objects.get(channel="webhook")
        assert hook.state == "failed"
        client.force_login(warned.office)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/supervision/deliveries/{hook.pk}/retry/")
        assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.state == "sent" and hook.attempts == 2


def test_wecom_robot_receives_a_text_message(warned):
    with LoopbackHTTP(ok_body={"errcode": 0, "errmsg": "ok"}) as robot:
        UnitWebhook.objects.create(unit=warned.lead_unit, kind="wecom", url=robot.url)
        scan()
        assert services.deliver_due(now=at(DAY))["sent"] == 3  # two e-mails and the robot
    body = robot.requests[0]["json"]
    assert body["msgtype"] == "text" and "答复预警" in body["text"]["content"]


def test_dingtalk_robot_with_a_secret_gets_a_signed_url(warned):
    with LoopbackHTTP(ok_body={"errcode": 0}) as robot:
        UnitWebhook.objects.create(unit=warned.lead_unit, kind="dingtalk", url=robot.url + "?access_token=abc",
                                   secret="SEC123")
        scan()
        services.deliver_due(now=at(DAY))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(robot.requests[0]["path"]).query)
    assert query["access_token"] == ["abc"] and query["timestamp"] and query["sign"]


def test_a_robot_that_answers_an_error_code_is_a_failed_attempt(warned, settings):
    settings.BANLI_DELIVERY_MAX_ATTEMPTS = 1
    with LoopbackHTTP(ok_body={"errcode": 93000, "errmsg": "invalid webhook url"}) as robot:
        UnitWebhook.objects.create(unit=warned.lead_unit, kind="wecom", url=robot.url)
        scan()
        services.deliver_due(now=at(DAY))
    hook = Delivery.objects.get(channel="webhook")
    assert hook.state == "failed" and "93000" in hook.last_error


def test_the_office_can_force_sms_for_overdue_items(warned, settings, tmp_path):
    settings.BANLI_SMS_BACKEND = "file"
    settings.BANLI_SMS_FILE = str(tmp_path / "sms.log")
    settings.BANLI_FORCE_OVERDUE_CHANNELS = ["sms"]
    with frozen(D(2025, 10, 13)):
        services.scan_deadlines()
        services.fan_out_pending()
    assert set(Delivery.objects.filter(channel="sms").values_list("forced", flat=True)) == {True}
    services.deliver_due(now=at(D(2025, 10, 13)))
    lines = (tmp_path / "sms.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and "逾期" in lines[0]


def test_warnings_use_only_the_channels_the_user_chose(warned):
    ChannelPreference.objects.create(user=warned.lead_handler, email=False, sms=False)
    scan_and_queue()
    assert list(Delivery.objects.values_list("address", flat=True)) == ["edu_office@example.gov.cn"]
    assert Notification.objects.filter(user=warned.lead_handler).exists()  # the notification centre always


def test_two_workers_never_send_the_same_delivery_twice(warned):
    scan_and_queue()
    delivery = Delivery.objects.first()
    # a worker claimed it (attempts 0 → 1); a second worker holding the stale count loses the compare-and-set
    assert Delivery.objects.filter(pk=delivery.pk, attempts=0).update(attempts=1, state="sending") == 1
    assert Delivery.objects.filter(pk=delivery.pk, attempts=0).update(attempts=1, state="sending") == 0


def test_console_sms_backend_prints_the_message(capsys, settings):
    settings.BANLI_SMS_BACKEND = "console"
    assert channels.get_sms_backend().send("13800000000", "测试") == "已输出到控制台"
    assert "13800000000" in capsys.readouterr().out


def test_http_sms_backend_without_a_url_says_what_to_configure(settings):
    settings.BANLI_SMS_HTTP_URL = ""
    with pytest.raises(channels.DeliveryError, match="BANLI_SMS_HTTP_URL"):
        channels.HttpSmsBackend()


def test_a_push_address_that_is_not_http_is_refused_before_anything_is_opened(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("机密")
    for url in (f"file://{secret}", "ftp://127.0.0.1/x", "gopher://127.0.0.1/"):
        with pytest.raises(DeliveryError, match="必须以 http:// 或 https:// 开头"):
            post_json(url, {"text": "催办"})


def test_the_scan_leaves_notifications_and_deliveries_to_the_send_step_which_writes_them_once(warned):
    result = scan()
    assert result["created"] == 1 and not Delivery.objects.exists() and not Notification.objects.exists()
    assert DeliveryQueue.objects.filter(queued_at__isnull=True).count() == 1
    with frozen(DAY):
        # the handler and the unit office: one notification and one e-mail each
        assert services.fan_out_pending() == {"notifications": 2, "deliveries": 2}
        assert services.fan_out_pending() == {"notifications": 0, "deliveries": 0}
        assert scan()["created"] == 0
        assert services.fan_out_pending() == {"notifications": 0, "deliveries": 0}  # nothing new, nothing queued
    entry = DeliveryQueue.objects.get()
    assert Delivery.objects.count() == 2 and (entry.notifications, entry.deliveries) == (2, 2)
