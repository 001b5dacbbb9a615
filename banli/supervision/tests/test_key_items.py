"""Key items (重点提案督办): a supervising leader, a tracking page, tighter thresholds, first in lists."""
import datetime as dt

import pytest

from banli.core.errors import DomainError, PermissionDenied
from banli.supervision import selectors, services
from banli.supervision.models import Supervision
from banli.supervision.tests.helpers import lead_item


@pytest.fixture
def item(world):
    return lead_item(world, reply_due=dt.date(2025, 12, 1))


def test_office_makes_an_item_a_key_item_with_its_leader(world, item):
    sup = services.supervision_create(actor=world.office, proposal=item.proposal, leader_name="副区长 林海",
                                      warning_days=["10", "3"])
    item.proposal.refresh_from_db()
    assert item.proposal.is_key and sup.warning_days == [10, 3]


def test_a_unit_cannot_make_key_items(world, item):
    with pytest.raises(PermissionDenied):
        services.supervision_create(actor=world.lead_office, proposal=item.proposal, leader_name="林海")


def test_bad_thresholds_are_refused_with_a_clear_message(world, item):
    with pytest.raises(DomainError, match="不是整数"):
        services.supervision_create(actor=world.office, proposal=item.proposal, leader_name="林海", warning_days=["x"])


def test_tracking_page_records_meetings_visits_and_notes(world, item, client):
    services.supervision_create(actor=world.office, proposal=item.proposal, leader_name="副区长 林海")
    client.force_login(world.lead_handler)
    response = client.post(f"/supervision/key/{item.proposal.pk}/",
                           {"kind": "visit", "happened_on": "2025-06-03", "text": "到新建幼儿园选址现场调研。"})
    assert response.status_code == 302
    page = client.get(f"/supervision/key/{item.proposal.pk}/").content.decode()
    assert "现场调研" in page and "到新建幼儿园选址现场调研。" in page and "副区长 林海" in page


def test_other_units_do_not_see_the_tracking_page(world, item, client):
    services.supervision_create(actor=world.office, proposal=item.proposal, leader_name="林海")
    client.force_login(world.other_office)
    assert client.get(f"/supervision/key/{item.proposal.pk}/").status_code == 404


def test_a_note_in_the_future_is_refused(world, item):
    sup = services.supervision_create(actor=world.office, proposal=item.proposal, leader_name="林海")
    with pytest.raises(DomainError, match="不能晚于今天"):
        services.supervision_note_add(actor=world.office, supervision=sup, kind="note",
                                      happened_on=dt.date.today() + dt.timedelta(days=3), text="x")


def test_office_designates_a_key_item_on_its_page(world, item, client):
    client.force_login(world.office)
    response = client.post(f"/supervision/key/{item.proposal.pk}/", {"leader_name": "区长 王军", "warning_days": "10，5"})
    assert response.status_code == 302
    assert Supervision.objects.get().warning_days == [10, 5]
    assert "区长 王军" in client.get("/supervision/key/").content.decode()


def test_key_items_come_first_in_the_urge_list(world, client):
    plain = lead_item(world, reply_due=dt.date(2025, 11, 1))
    key = lead_item(world, reply_due=dt.date(2025, 12, 1))
    services.supervision_create(actor=world.office, proposal=key.proposal, leader_name="林海")

    assert list(selectors.urgeable_assignments(world.office, world.lead_unit.pk)) == [key, plain]
