"""Personal information: encrypted at rest, masked by default, full view only for those who need it, logged."""
import json

import pytest
from django.db import connection
from django.urls import reverse
from encrypted_fields.fields import EncryptedFieldMixin

from banli.core import pii
from banli.core.errors import PermissionDenied
from banli.core.testing import PASSWORD, assign, make_proposal
from banli.handling.models import Event
from banli.organizations import services as orgs
from banli.proposals.models import Proposer

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(world):
    p = world.proposer_record
    p.phone, p.id_number, p.address = "13812340000", "440301199001011234", "深圳市龙岗区龙城街道某某路1号"
    p.save()
    assign(world, make_proposal(world))
    return p


def test_encrypted_columns_hold_no_plaintext(member):
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, id_number, address FROM proposals_proposer WHERE id = %s", [member.pk])
        raw = cursor.fetchone()
    for stored, plain in zip(raw, ["13812340000", "440301199001011234", "深圳市龙岗区龙城街道某某路1号"]):
        assert plain not in stored and "1234" not in stored
    assert Proposer.objects.get(pk=member.pk).phone == "13812340000"


def test_values_are_masked_by_default():
    assert pii.mask_phone("13800000000") == "138****0000"
    assert pii.mask_id_number("440301199001011234") == "4403**********1234"
    assert pii.mask_address("深圳市龙岗区龙城街道某某路1号").endswith("****")


def test_the_full_value_is_shown_only_to_those_who_need_it_and_each_view_is_logged(world, member):
    for allowed in (world.office, world.lead_handler, world.co_office, world.proposer):
        assert pii.reveal(allowed, member, "phone") == "13812340000"
    assert Event.objects.filter(verb="security.pii_view").count() == 4
    for refused in (world.other_handler, world.other_proposer, world.admin):
        with pytest.raises(PermissionDenied):
            pii.reveal(refused, member, "phone")


def test_key_rotation_keeps_old_values_readable(member, settings):
    field = Proposer._meta.get_field("phone")
    old_keys = settings.SALT_KEY
    settings.SALT_KEY = ["banli-field-key-2", *old_keys]
    for name in ("keys", "f"):
        field.__dict__.pop(name, None)
    try:
        assert Proposer.objects.get(pk=member.pk).phone == "13812340000"  # decrypts with the old key
        member.phone = "13900001111"
        member.save()  # encrypts with the new first key
        assert Proposer.objects.get(pk=member.pk).phone == "13900001111"
    finally:
        settings.SALT_KEY = old_keys
        for name in ("keys", "f"):
            field.__dict__.pop(name, None)
    assert isinstance(field, EncryptedFieldMixin)


def test_a_proposer_downloads_everything_banli_holds_about_him(world, member, client):
    client.login(username="member_li", password=PASSWORD)
    response = client.get("/me/data.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["proposer"]["phone"] == "13812340000"
    assert [item["title"] for item in data["items"]] == ["关于增加学位供给的提案"]
    assert Event.objects.filter(verb="security.export", actor=world.proposer).exists()


def _contact_urls(member, proposal_id):
    return (reverse("proposer_contact", args=[proposal_id, member.pk]),
            reverse("proposer_contact_reveal", args=[proposal_id, member.pk, "phone"]))


def test_the_proposal_page_shows_contacts_masked_and_reveals_one_value_to_the_handler_with_a_log(world, member, client):
    proposal = member.proposal_links.get().proposal
    card, reveal = _contact_urls(member, proposal.pk)
    client.force_login(world.lead_handler)
    assert card in client.get(f"/proposals/{proposal.pk}/").content.decode()
    page = client.get(card).content.decode()
    assert "138****0000" in page and "13812340000" not in page and "440301199001011234" not in page
    assert "显示完整" in page
    shown = client.post(reveal, REMOTE_ADDR="10.3.3.3").content.decode()
    assert "13812340000" in shown and "4403**********1234" in shown  # only the one value asked for
    event = Event.objects.get(verb="security.pii_view")
    assert (event.actor, event.client_ip, event.payload["field"]) == (world.lead_handler, "10.3.3.3", "phone")


def test_the_administrator_sees_contacts_masked_and_cannot_reveal_them(world, member, client):
    proposal = member.proposal_links.get().proposal
    card, reveal = _contact_urls(member, proposal.pk)
    client.force_login(world.admin)
    page = client.get(card).content.decode()
    assert "138****0000" in page and "显示完整" not in page
    response = client.post(reveal)
    assert response.status_code == 403 and "13812340000" not in response.content.decode()
    assert not Event.objects.filter(verb="security.pii_view").exists()
    assert Event.objects.filter(verb="security.denied", actor=world.admin).exists()


def test_another_unit_cannot_learn_who_signed_the_item(world, member, client):
    proposal = member.proposal_links.get().proposal
    card, reveal = _contact_urls(member, proposal.pk)
    client.force_login(world.other_handler)
    assert client.get(card).status_code == 404 and client.post(reveal).status_code == 404


def test_the_system_administrator_sees_masked_values_in_the_admin_and_can_still_replace_them(member, client):
    """README: administrators see masked values. The admin's edit form holds no full number in any input; a new
    number typed in replaces the stored one, an empty input keeps it; nothing was seen in full, nothing logged."""

    root = orgs.user_create(username="root", password=PASSWORD, display_name="超级管理员", is_superuser=True)
    client.force_login(root)
    listing = client.get(reverse("admin:proposals_proposer_changelist")).content.decode()
    assert "13812340000" not in listing
    url = reverse("admin:proposals_proposer_change", args=[member.pk])
    page = client.get(url).content.decode()
    assert "13812340000" not in page and "138****0000" in page
    assert "440301199001011234" not in page and "龙城街道某某路" not in page
    assert not Event.objects.filter(verb="security.pii_view").exists()
    form = client.get(url).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.update({"name": member.name, "kind": member.kind, "sector": member.sector or "", "user": member.user_id or "",
                 "email": member.email or "", "phone": ""})
    assert client.post(url, data).status_code == 302
    assert Proposer.objects.get(pk=member.pk).phone == "13812340000"  # left empty: kept
    data["phone"] = "13900001111"
    assert client.post(url, data).status_code == 302
    assert Proposer.objects.get(pk=member.pk).phone == "13900001111"  # typed in: replaced
