"""A new reply or 会办意见 starts with the writer's usual 联系人 and 联系电话: the clerk typed his own name and desk
phone into every letter."""
import re

import pytest
from django.urls import reverse

from banli.replies import services as replies
from banli.replies.tests.helpers import lead_and_co_in_progress, lead_in_progress

pytestmark = pytest.mark.django_db


def _value(html, prefix, field):
    found = re.search(rf'name="{prefix}-{field}"[^>]*?(?: value="([^"]*)")?[^>]*>', html)
    assert found, field
    return found.group(1) or ""


def test_a_new_reply_starts_with_the_contact_of_the_writers_last_letter(client, world):
    earlier, _ = lead_in_progress(world, number="20250801")
    replies.reply_save_draft(assignment=earlier, actor=world.lead_handler, body="答复正文",
                             contact_person="王小明", contact_phone="0755-12345678")
    lead, _ = lead_in_progress(world, number="20250802")
    client.force_login(world.lead_handler)
    html = client.get(reverse("workbench:proposal", args=[lead.proposal_id])).content.decode()
    prefix = f"a{lead.pk}-submit_reply"
    assert _value(html, prefix, "contact_person") == "王小明"
    assert _value(html, prefix, "contact_phone") == "0755-12345678"
    # Its own saved draft keeps what was saved there.
    replies.reply_save_draft(assignment=lead, actor=world.lead_handler, body="草稿", contact_person="李四",
                             contact_phone="")
    html = client.get(reverse("workbench:proposal", args=[lead.proposal_id])).content.decode()
    assert _value(html, prefix, "contact_person") == "李四" and _value(html, prefix, "contact_phone") == ""


def test_a_first_letter_starts_with_the_name_and_phone_on_the_account(client, world):
    world.co_handler.display_name, world.co_handler.phone = "刘工", "13800000000"
    world.co_handler.save()
    _, co = lead_and_co_in_progress(world)
    client.force_login(world.co_handler)
    html = client.get(reverse("workbench:proposal", args=[co.proposal_id])).content.decode()
    prefix = f"a{co.pk}-send_co_opinion"
    assert _value(html, prefix, "contact_person") == "刘工"
    assert _value(html, prefix, "contact_phone") == "13800000000"
