"""Manual 催办: the office urges one unit about several items, with a message; logged and counted."""
import datetime as dt
import re

import pytest
import time_machine
from django.core import mail

from banli.core.errors import DomainError, PermissionDenied
from banli.core.testing import assign, make_proposal
from banli.handling.models import Event
from banli.supervision import selectors, services
from banli.supervision.models import Notification, Reminder
from banli.supervision.tests.helpers import give_contacts, lead_item


@pytest.fixture
def items(world):
    give_contacts(world)
    return [lead_item(world, reply_due=dt.date(2025, 12, 1)) for _ in range(2)]


def test_office_urges_a_unit_about_several_items_with_a_message(world, items, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reminders = services.urge_send(actor=world.office, assignments=items, message="请本周内报送办理进展。")
    assert len(reminders) == 2 and {r.batch for r in reminders} == {reminders[0].batch}
    assert Event.objects.filter(verb="urge", reason="请本周内报送办理进展。").count() == 2
    assert Notification.objects.filter(user=world.lead_office, reminder__kind="manual").count() == 2
    assert any("交办机构催办：请本周内报送办理进展。" in m.body for m in mail.outbox)
    assert selectors.urge_counts_by_unit() == {world.lead_unit.pk: 2}


def test_a_unit_cannot_urge(world, items):
    with pytest.raises(PermissionDenied):
        services.urge_send(actor=world.lead_office, assignments=items, message="催")
    assert not Reminder.objects.exists()


def test_urging_needs_a_message_and_at_least_one_item(world, items):
    with pytest.raises(DomainError, match="催办内容"):
        services.urge_send(actor=world.office, assignments=items, message="  ")
    with pytest.raises(DomainError, match="至少选择一个"):
        services.urge_send(actor=world.office, assignments=[], message="请加快")


def test_one_urge_goes_to_one_unit(world, items):
    _, co = assign(world, make_proposal(world), lead=False)
    with pytest.raises(DomainError, match="一个单位"):
        services.urge_send(actor=world.office, assignments=[items[0], co], message="请加快")
    assert not Event.objects.filter(verb="urge").exists()


def test_urge_page_lists_the_units_items_and_sends(world, items, client):
    client.force_login(world.office)
    page = client.get(f"/supervision/urge/?unit={world.lead_unit.pk}").content.decode()
    assert items[0].proposal.number in page
    response = client.post("/supervision/urge/", {"unit": world.lead_unit.pk,
                                                  "assignments": [items[0].pk, items[1].pk], "message": "请加快"})
    assert response.status_code == 302
    assert Reminder.objects.filter(kind="manual").count() == 2


def test_urge_page_shows_a_clear_message_when_nothing_is_chosen(world, items, client):
    client.force_login(world.office)
    page = client.post("/supervision/urge/", {"unit": world.lead_unit.pk, "message": "请加快"}).content.decode()
    assert "请至少选择一个需要催办的事项" in page


def test_units_do_not_see_the_urge_page(world, client):
    client.force_login(world.lead_office)
    assert client.get("/supervision/urge/").status_code == 404


def test_the_urge_page_starts_with_whom_to_urge_and_ticks_the_overdue_items(world, items, client):
    # The page showed a bare unit menu and nothing else; the items' dates were the reply deadline even for an
    # item still waiting to be signed.
    later = lead_item(world, reply_due=dt.date(2099, 12, 1))
    client.force_login(world.office)
    with time_machine.travel(dt.datetime(2026, 1, 5, 9, tzinfo=dt.timezone.utc), tick=False):
        page = client.get("/supervision/urge/").content.decode()
        overview = page.split('id="urge-overview"', 1)[1].split("</table>", 1)[0]
        row = re.search(rf"<td>{world.lead_unit.name}</td>(.*?)</tr>", overview, re.S).group(1)
        assert re.findall(r'<td class="text-end[^"]*">(\d+)</td>', row) == ["2", "0", "3"]  # overdue, soon, open
        assert f'href="?unit={world.lead_unit.pk}"' in row
        page = client.get(f"/supervision/urge/?unit={world.lead_unit.pk}").content.decode()
    ticked = set(re.findall(r'<input type="checkbox" name="assignments" value="(\d+)"[^>]*checked', page))
    assert ticked == {str(items[0].pk), str(items[1].pk)} and str(later.pk) not in ticked
    assert f"期限 {items[0].next_due:%Y-%m-%d}，已逾期" in page
    assert "请抓紧办理以下事项" in page  # the usual words, to be changed
