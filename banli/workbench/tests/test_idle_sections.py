"""The workbench shows the lists that hold work; the empty ones share one line instead of a table each."""
import re

import pytest
from django.urls import reverse

from banli.core.testing import assign, make_proposal

pytestmark = pytest.mark.django_db


def test_empty_work_lists_share_one_line_and_lists_with_work_keep_their_table(client, world):
    assign(world, make_proposal(world))  # the lead unit's office has one item to sign, nothing else
    client.force_login(world.lead_office)
    html = client.get(reverse("workbench:home")).content.decode()
    tables = re.findall(r'<section class="card mb-3 shadow-sm" id="sec-(\w+)"', html)
    assert tables == ["to_sign"]
    idle = html.split('id="idle-sections"', 1)[1].split("</section>", 1)[0]
    assert idle.count('<span id="sec-') >= 3 and "暂无待办" in idle
    assert 'id="sec-to_sign"' not in idle
    assert "暂无。" not in html  # no empty table anywhere
    # Every count card still leads to its list or to its place in the line.
    for key in re.findall(r'href="#sec-(\w+)"', html):
        assert html.count(f'id="sec-{key}"') == 1, key
