"""The workbench shows the lists that hold work; the empty ones share one line instead of a table each."""
import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from banli.core.testing import assign, make_proposal
from banli.handling.models import Assignment

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


def test_the_leaders_figures_card_is_not_a_red_count_and_says_how_many_are_overdue(client, world):
    # A deputy head's card read a red 36 (all his units' items) because 3 were overdue: a red number is a count of
    # problems everywhere else on the page.
    lead, _ = assign(world, make_proposal(world))
    Assignment.objects.filter(pk=lead.pk).update(next_due=timezone.localdate() - dt.timedelta(days=3))
    client.force_login(world.lead_leader)
    html = client.get(reverse("workbench:home")).content.decode()
    card = html.split('data-count="figures"', 1)[0].rsplit("<a ", 1)[1]
    assert "is-red" not in card
    figures = html.split('data-count="figures"', 1)[1].split("</a>", 1)[0]
    assert "其中逾期 1 件" in figures
