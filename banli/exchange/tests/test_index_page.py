"""The 数据交换 page: each session's downloads as a list, each saying what it holds (the three links sat one per line
with a stray 「·」 between them in the card's column layout)."""
import re

import pytest
from django.urls import reverse

from banli.proposals import services as proposal_services
from banli.proposals.choices import Body, Level

pytestmark = pytest.mark.django_db


def test_each_sessions_downloads_are_listed_with_what_they_hold(client, world):
    client.force_login(world.office)
    html = client.get(reverse("exchange:index")).content.decode()
    card = html.split(f"<h2 class=\"h6\">{world.session.name}</h2>", 1)[1].split("</div></div>", 1)[0]
    items = re.findall(r"<li><a href=\"([^\"]+)\">(.*?)</a> <span class=\"small text-body-secondary\">(.*?)</span></li>", card)
    assert [(label, bool(note)) for _, label, note in items] == [("交办通知", True), ("本届台账", True), ("下载归档包", True)]
    assert reverse("exchange:archive", args=[world.session.pk]) == items[2][0]
    assert "·" not in card


def test_the_import_form_starts_on_the_kind_the_session_receives_and_keeps_what_was_posted(client, world):
    # The form began on the first session (a 人大 one) and on 提案: a list of deputies' 建议 imported as 提案.
    npc = proposal_services.session_create(actor=world.office, name="区人大三届三次会议", body=Body.NPC,
                                           level=Level.DISTRICT, year=world.session.year, assigning_office=world.office_unit)
    client.force_login(world.office)
    html = client.get(reverse("exchange:import_upload")).content.decode()
    options = dict(re.findall(r'<option value="(\d+)" data-kind="(\w+)"', html))
    assert options == {str(npc.pk): "suggestion", str(world.session.pk): "proposal"}
    chosen = re.search(r'<option value="(\d+)" data-kind="\w+" selected>', html).group(1)
    assert re.search(rf'<option value="{options[chosen]}" selected>', html)
    assert 'data-kind-target="kind"' in html
    # An upload refused (no file) comes back on the session and kind the office chose.
    response = client.post(reverse("exchange:import_upload"), {"session": world.session.pk, "kind": "suggestion"})
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(rf'<option value="{world.session.pk}" data-kind="proposal" selected>', html)
    assert '<option value="suggestion" selected>' in html


def test_the_register_form_follows_the_sessions_body_for_the_kind(client, world):
    world.session.is_active = False
    world.session.save()
    npc = proposal_services.session_create(actor=world.office, name="区人大三届三次会议", body=Body.NPC,
                                           level=Level.DISTRICT, year=world.session.year, assigning_office=world.office_unit)
    proposal_services.proposal_create(actor=world.office, session=npc, number="0101", title="关于增设站点的建议",
                                      body="建议增设。", proposers=[world.proposer_record], kind="suggestion")
    client.force_login(world.office)
    html = client.get(reverse("workbench:register")).content.decode()
    assert 'name="p-number" value="0102"' in html  # the next 建议 number, not the 提案 sequence
    kinds = html.split('id="id_p-kind"', 1)[1].split("</select>", 1)[0]
    assert '<option value="suggestion" selected>' in kinds  # the only active session is a 人大 one
    assert re.search(rf'<option value="{npc.pk}" selected data-kind="suggestion">', html)
    assert 'data-kind-target="p-kind"' in html
