"""The notification centre, channel settings, digests and the embedded scheduler."""
import datetime as dt
import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from banli.core.errors import DomainError
from banli.handling.models import Assignment
from banli.supervision import services
from banli.supervision.models import ChannelPreference, Digest, Notification, Reminder
from banli.supervision.tests.helpers import frozen, give_contacts, lead_item

D = dt.date


@pytest.fixture
def reminded(world):
    give_contacts(world)
    world.item = lead_item(world, reply_due=D(2025, 10, 10))
    with frozen(D(2025, 10, 9)):
        services.scan_deadlines()
        services.fan_out_pending()
    return world


def test_notification_centre_lists_the_users_own_notifications(reminded, client, django_assert_max_num_queries):
    client.force_login(reminded.lead_handler)
    with django_assert_max_num_queries(12):
        page = client.get("/supervision/notifications/").content.decode()
    assert "答复预警" in page and "未读 1 条" in page
    client.force_login(reminded.other_office)
    assert "答复预警" not in client.get("/supervision/notifications/").content.decode()


def test_opening_a_notification_marks_it_read_and_goes_to_the_item(reminded, client):
    note = Notification.objects.get(user=reminded.lead_handler)
    client.force_login(reminded.lead_handler)
    response = client.post(f"/supervision/notifications/{note.pk}/read/", {"go": "1"})
    assert response.url == f"/supervision/items/{reminded.item.pk}/"
    note.refresh_from_db()
    assert note.read_at is not None
    page = client.get(response.url).content.decode()
    assert "还有1个工作日" in page


def test_a_user_cannot_mark_someone_elses_notification(reminded, client):
    note = Notification.objects.get(user=reminded.lead_handler)
    client.force_login(reminded.lead_office)
    client.post(f"/supervision/notifications/{note.pk}/read/")
    note.refresh_from_db()
    assert note.read_at is None


def test_item_page_is_hidden_from_other_units(reminded, client):
    client.force_login(reminded.other_office)
    assert client.get(f"/supervision/items/{reminded.item.pk}/").status_code == 404


def test_user_chooses_channels(reminded, client):
    client.force_login(reminded.lead_handler)
    response = client.post("/supervision/preferences/", {"sms": "on", "digest": "daily"})
    assert response.status_code == 302
    pref = ChannelPreference.objects.get(user=reminded.lead_handler)
    assert (pref.email, pref.sms, pref.digest) == (False, True, "daily")


def test_the_settings_pages_show_labelled_bootstrap_fields(reminded, client):
    # They were Django's bare as_p paragraphs ("电子邮件: [ ]") with browser-default controls and buttons.
    client.force_login(reminded.lead_handler)
    html = client.get("/supervision/preferences/").content.decode()
    assert '<div class="form-check"><input type="checkbox" name="email" class="form-check-input"' in html
    assert '<label class="form-check-label" for="id_email">电子邮件</label>' in html
    assert '<label class="form-label" for="id_digest">工作简报</label><select name="digest" class="form-select"' in html
    assert '<button class="btn btn-banli">保存</button>' in html
    assert "<p>" not in html.split("<form", 1)[1].split("</form>", 1)[0]


def test_sms_needs_a_phone_number(world):
    with pytest.raises(DomainError, match="手机号码"):
        services.channel_preference_set(user=world.lead_handler, email=False, sms=True, digest="weekly")


def test_weekly_digest_for_leaders_and_the_office_once_per_week(reminded):
    Assignment.objects.filter(pk=reminded.item.pk).update(reply_due=D(2025, 10, 1))
    with frozen(D(2025, 10, 13)):
        first = services.digests_send(period="weekly")
        again = services.digests_send(period="weekly")
        services.deliver_due()
    assert first["digests"] == 3 and again["digests"] == 0  # the unit's two leaders and the office
    digest = Digest.objects.get(user=reminded.lead_leader)
    assert digest.data["overdue_count"] == 1 and digest.data["overdue"][0]["days_late"] == 4
    assert Notification.objects.filter(digest__isnull=False).count() == 3
    subjects = [m.subject for m in mail.outbox if "简报" in m.subject]
    assert len(subjects) == 2  # by e-mail to those with an address on file (the head has none)


def test_daily_digest_only_for_those_who_asked(reminded):
    services.channel_preference_set(user=reminded.office, email=True, sms=False, digest="daily")
    with frozen(D(2025, 10, 14)):
        result = services.digests_send(period="daily")
        weekly = services.digests_send(period="weekly")
    assert result["digests"] == 1 and Digest.objects.get(period="daily").user == reminded.office
    assert weekly["digests"] == 2  # the two leaders; the office chose daily instead


def test_digest_page_shows_its_figures_to_its_owner_only(reminded, client):
    with frozen(D(2025, 10, 13)):
        services.digests_send(period="weekly")
    digest = Digest.objects.get(user=reminded.office)
    client.force_login(reminded.office)
    assert "工作简报" in client.get(f"/supervision/digests/{digest.pk}/").content.decode()
    client.force_login(reminded.lead_leader)
    assert client.get(f"/supervision/digests/{digest.pk}/").status_code == 404


def test_embedded_scheduler_runs_one_round(world):
    give_contacts(world)
    lead_item(world, reply_due=D(2025, 10, 10))
    out = StringIO()
    with frozen(D(2025, 10, 13), hour=9):  # a Monday after the digest hour
        call_command("run_scheduler", "--once", stdout=out)
    result = json.loads(out.getvalue())
    assert result["scan"]["created"] == 1 and result["weekly_digest"]["digests"] == 3
    assert Reminder.objects.get().threshold == -2


def test_send_digests_command(reminded):
    out = StringIO()
    call_command("send_digests", "--period", "weekly", "--date", "2025-10-13", stdout=out)
    assert json.loads(out.getvalue())["digests"] == 3
