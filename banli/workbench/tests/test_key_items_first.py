"""Key items (重点提案: marked key, or under supervision) come first in the workbench lists and the ledger's default
order, with a 重点 badge; within equal key-ness the due-date order stays."""
import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.models import Assignment
from banli.supervision.services import supervision_create
from banli.workbench import selectors
from banli.workbench.services import proposal_mark_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(world):
    """Four items waiting for the lead unit's signature, due on days 1..4; the 3rd is key, the 4th supervised."""
    today = timezone.localdate()
    made = []
    for i in range(4):
        p = make_proposal(world, number=f"2025K{i + 1}", title=f"关于第{i + 1}件事项的提案")
        lead, _ = assign(world, p, co=False)
        Assignment.objects.filter(pk=lead.pk).update(sign_due=today + dt.timedelta(days=i + 1))
        made.append(p)
    # Through the services, which keep the key flag the lists order by on each assignment.
    proposal_mark_key(actor=world.office, proposal=made[2], is_key=True)
    supervision_create(actor=world.office, proposal=made[3], leader_name="副区长 陈明")
    # Supervised but no longer flagged: still a key item.
    made[3].refresh_from_db()
    proposal_mark_key(actor=world.office, proposal=made[3], is_key=False)
    return made


EXPECTED = ["2025K3", "2025K4", "2025K1", "2025K2"]


def _numbers(html, section=None):
    if section:
        html = html.split(f'id="sec-{section}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r"第(2025K\d)号", html)


def test_the_unit_office_sees_key_items_first_then_by_due_date_with_a_badge(client, world, items):
    client.force_login(world.lead_office)
    html = client.get(reverse("workbench:home")).content.decode()
    assert _numbers(html, "to_sign") == EXPECTED
    section = html.split('id="sec-to_sign"', 1)[1].split("</section>", 1)[0]
    assert section.count("data-key-item") == 2


def test_the_office_sees_key_items_first_among_unsigned_items_and_requests(client, world, items):
    client.force_login(world.office)
    html = client.get(reverse("workbench:home")).content.decode()
    assert _numbers(html, "unsigned") == EXPECTED
    for p in (items[0], items[3]):  # the ordinary item asks first
        lead = p.assignments.get()
        handling.adjustment_request(assignment=lead, actor=world.lead_office, reason="不属于本单位职责")
    html = client.get(reverse("workbench:home")).content.decode()
    assert _numbers(html, "adjustments") == ["2025K4", "2025K1"]


def test_the_proposer_sees_his_key_items_first(client, world, items):
    client.force_login(world.proposer)
    html = client.get(reverse("workbench:home")).content.decode()
    assert _numbers(html, "my_items") == ["2025K3", "2025K4", "2025K1", "2025K2"]
    assert "data-key-item" in html


def test_the_ledger_puts_key_items_first_by_default_and_its_export_too(client, world, items):
    client.force_login(world.office)
    html = client.get(reverse("workbench:ledger")).content.decode()
    numbers = re.findall(r'#assignment-\d+">(2025K\d)</a>', html)
    assert numbers == EXPECTED
    assert html.count("data-key-item") == 2
    response = client.get(reverse("exchange:ledger_xlsx"))
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in rows] == EXPECTED
    # A sort the user chooses is his: by number.
    html = client.get(reverse("workbench:ledger"), {"ordering": "number"}).content.decode()
    assert re.findall(r'#assignment-\d+">(2025K\d)</a>', html) == ["2025K1", "2025K2", "2025K3", "2025K4"]


def test_the_key_filter_counts_supervised_items_as_key(client, world, items):
    client.force_login(world.office)
    html = client.get(reverse("workbench:ledger"), {"is_key": "true"}).content.decode()
    assert re.findall(r'#assignment-\d+">(2025K\d)</a>', html) == ["2025K3", "2025K4"]
    html = client.get(reverse("workbench:ledger"), {"is_key": "false"}).content.decode()
    assert re.findall(r'#assignment-\d+">(2025K\d)</a>', html) == ["2025K1", "2025K2"]


def test_a_workbench_row_shows_due_date_item_unit_handler_state_and_next_step_with_the_title_escaped(client, world):
    """The lists' rows are written in Python (workbench.ledger_html); they say what the template said, escaped."""
    p = make_proposal(world, number="2025X1", title="关于<script>alert(1)</script>的提案")
    lead, _ = assign(world, p, co=False)
    walk_to(world, lead, "in_progress")
    due = timezone.localdate() + dt.timedelta(days=30)
    Assignment.objects.filter(pk=lead.pk).update(next_due=due, round=2)
    client.force_login(world.lead_handler)
    html = client.get(reverse("workbench:home")).content.decode()
    section = html.split('id="sec-mine"', 1)[1].split("</section>", 1)[0]
    row = re.search(r'<tr data-light="green">.*?</tr>', section, re.S).group(0)
    assert due.isoformat() in row
    assert f'/proposals/{p.pk}/#assignment-{lead.pk}' in row and "第2025X1号" in row
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row and "<script>alert" not in section
    assert world.lead_unit.name in row and "（主办）" in row and world.lead_handler.label in row
    assert "办理中" in row and "第2轮" in row
    assert "沟通并起草答复" in row and "下一步" in section  # the handler's list has a next-step column


def test_a_short_list_sorted_here_is_in_the_order_an_index_gives_a_long_one(world, items):
    """The workbench reads a short list whole and sorts it here (selectors.SECTION_SORT_HERE), a long one from the
    order index: both give the ledger's default order, key items with something due first, then the deadline (none
    last), then the id. A closed key item (2025K5) walks with the closed ordinary one, after the open items."""
    for number, key in (("2025K5", True), ("2025K6", False)):
        done = walk_to(world, assign(world, make_proposal(world, number=number), co=False)[0], "closed")
        Assignment.objects.filter(pk=done.pk).update(key_item=key)
    qs = Assignment.objects.filter(unit=world.lead_unit)
    assert not qs.filter(proposal__number__in=["2025K5", "2025K6"], next_due__isnull=False).exists()
    here = selectors._section_ids(qs, qs.count())
    indexed = selectors._section_ids(qs, selectors.SECTION_SORT_HERE + 1)
    numbers = dict(Assignment.objects.values_list("pk", "proposal__number"))
    assert [numbers[pk] for pk in here] == ["2025K3", "2025K4", "2025K1", "2025K2", "2025K5", "2025K6"]
    assert here == indexed


def test_the_offices_overdue_count_per_unit_equals_a_recount_of_the_rows(world):
    """The office's 逾期事项（按单位）: one row per unit with overdue items, most first, each count equal to the unit's
    rows whose current deadline has passed (read from the deadline index alone on PostgreSQL)."""
    today = timezone.localdate()
    for i in range(5):
        lead, co = assign(world, make_proposal(world, number=f"2025Y{i + 1}"))
        # Three of the lead unit's, one of the co unit's overdue; a deadline today is not overdue yet.
        Assignment.objects.filter(pk=lead.pk).update(next_due=today - dt.timedelta(days=1) if i < 3 else today)
        Assignment.objects.filter(pk=co.pk).update(next_due=today - dt.timedelta(days=9) if i == 0 else None,
                                                     next_due_kind="opinion" if i == 0 else "")
    section = {s.key: s for s in selectors.office_workbench(world.office, selectors.Clock.now(today))}["overdue_units"]
    assert [(r["unit_id"], r["unit__name"], r["n"]) for r in section.rows] == [
        (world.lead_unit.pk, "区教育局", 3), (world.co_unit.pk, "区住房和建设局", 1)]
    assert section.count == 4


@pytest.mark.parametrize("sort_here", [5000, 3])
def test_a_units_list_read_narrow_first_has_the_count_and_rows_of_one_counted_first(world, items, monkeypatch,
                                                                                    sort_here):
    """A unit's lists are read narrow first (their length is the count) unless longer than SECTION_SORT_HERE, then
    counted and read from the order index: either way the count and the rows are those of the office's way."""
    monkeypatch.setattr(selectors, "SECTION_SORT_HERE", sort_here)
    walk_to(world, assign(world, make_proposal(world, number="2025K7"), co=False)[0], "signed")
    clock = selectors.Clock.now()
    qs = Assignment.objects.filter(unit=world.lead_unit, state="pending_sign")
    first = selectors._section("to_sign", "待签收", qs, clock, narrow_first=True)
    counted = selectors._section("to_sign", "待签收", qs, clock)
    assert first.count == counted.count == 4
    assert [r.pk for r in first.rows] == [r.pk for r in counted.rows]
    assert _numbers(first.rows_html) == EXPECTED
