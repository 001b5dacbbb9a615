"""The 数据交换 page: each session's downloads as a list, each saying what it holds (the three links sat one per line
with a stray 「·」 between them in the card's column layout)."""
import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_each_sessions_downloads_are_listed_with_what_they_hold(client, world):
    client.force_login(world.office)
    html = client.get(reverse("exchange:index")).content.decode()
    card = html.split(f"<h2 class=\"h6\">{world.session.name}</h2>", 1)[1].split("</div></div>", 1)[0]
    items = re.findall(r"<li><a href=\"([^\"]+)\">(.*?)</a> <span class=\"small text-body-secondary\">(.*?)</span></li>", card)
    assert [(label, bool(note)) for _, label, note in items] == [("交办通知", True), ("本届台账", True), ("下载归档包", True)]
    assert reverse("exchange:archive", args=[world.session.pk]) == items[2][0]
    assert "·" not in card
