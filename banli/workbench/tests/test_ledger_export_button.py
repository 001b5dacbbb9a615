"""The ledger's 导出Excel button downloads exactly the rows of the current filtered view, as the user may see them."""
import html as html_lib
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from banli.core.testing import assign, make_proposal
from banli.handling import services as handling
from banli.workbench.tests.test_query_counts import bulk_items

pytestmark = pytest.mark.django_db

NUMBER, UNIT_LEAD, UNIT_CO, STATE = 2, 5, 6, 13  # columns of the exported sheet (0-based)


def _page(client, params):
    response = client.get(reverse("workbench:ledger"), params)
    assert response.status_code == 200
    text = response.content.decode()
    numbers = re.findall(r'#assignment-\d+">([^<]+)</a>', text)
    href = html_lib.unescape(re.search(r'id="ledger-export" href="([^"]+)"', text).group(1))
    return numbers, href


def _download(client, href):
    response = client.get(href)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [row for row in sheet.iter_rows(min_row=2, values_only=True)]


@pytest.mark.parametrize("params", [
    {},
    {"q": "教育事项1", "ordering": "-number"},
    {"state": "in_progress", "role": "lead"},
    {"overdue": "true"},
])
def test_the_export_button_downloads_the_rows_of_the_filtered_view(client, world, params):
    bulk_items(world, 24)
    client.force_login(world.office)
    numbers, href = _page(client, params)
    assert href.startswith(reverse("exchange:ledger_xlsx"))
    rows = _download(client, href)
    assert numbers, "the filter must leave some rows to compare"
    assert [r[NUMBER] for r in rows] == numbers  # same rows, same order
    if "state" in params:
        assert {r[STATE] for r in rows} == {"办理中"}


def test_the_export_button_follows_the_filter_after_an_htmx_refresh(client, world):
    bulk_items(world, 12)
    client.force_login(world.office)
    fragment = client.get(reverse("workbench:ledger"), {"unit": world.co_unit.pk}, HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="ledger-table").content.decode()
    assert "<html" not in fragment
    href = html_lib.unescape(re.search(r'id="ledger-export" href="([^"]+)"', fragment).group(1))
    rows = _download(client, href)
    assert len(rows) == 12 and {r[UNIT_CO] for r in rows} == {"区住房和建设局"}


def test_a_unit_exports_only_its_own_rows_and_outsiders_get_nothing(client, world):
    bulk_items(world, 6)
    other = make_proposal(world, title="关于社区医院的提案", proposers=[world.other_proposer_record])
    assign(world, other, co=False)
    client.force_login(world.other_handler)
    numbers, href = _page(client, {})
    assert numbers == [] and _download(client, href) == []
    client.force_login(world.co_office)
    numbers, href = _page(client, {})
    rows = _download(client, href)
    # The unit's ledger lists its own assignments (the scope is `unit_id IN (…)` on the row, issue 18), nothing else.
    assert len(rows) == 6 and [r[NUMBER] for r in rows] == numbers
    assert other.number not in {r[NUMBER] for r in rows}
    client.logout()
    assert client.get(href).status_code == 302


def test_withdrawn_assignments_are_left_out_of_both_unless_their_state_is_chosen(client, world):
    p = make_proposal(world, title="关于撤回事项的提案")
    lead, _ = assign(world, p, co=False)
    handling.assignment_withdraw(assignment=lead, actor=world.office, reason="交办有误")
    client.force_login(world.office)
    numbers, href = _page(client, {})
    assert numbers == [] and _download(client, href) == []
    numbers, href = _page(client, {"state": "withdrawn"})
    assert numbers == [p.number] and [r[NUMBER] for r in _download(client, href)] == [p.number]
