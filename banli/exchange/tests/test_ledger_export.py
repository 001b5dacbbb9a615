"""The ledger export: office column layout, frozen header, autofilter, widths, real dates, filters, CSV."""
import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from banli.core.testing import PASSWORD, assign, make_proposal, walk_to
from banli.exchange import ledger
from banli.exchange.ledger import HEADERS
from banli.handling import services as handling
from banli.handling.models import Assignment
from banli.proposals import services as proposals
from banli.proposals.models import Proposal

pytestmark = pytest.mark.django_db

EXPECTED = ["序号", "届次", "提案号", "案由", "提案人", "主办单位", "会办单位", "承办科室", "承办人", "签收时间",
            "答复时间", "答复类别", "满意度", "状态", "是否逾期", "并案", "首轮不满意处理", "提案人电话"]


@pytest.fixture
def ledger_world(world):
    first = make_proposal(world, number="20250001", title="关于增加学位的提案")
    lead, co = assign(world, first)
    walk_to(world, lead, "rated")
    second = make_proposal(world, number="20250002", title="关于社区医院的提案", proposers=[world.other_proposer_record])
    handling.assignment_create(proposal=second, unit=world.other_unit, role="lead", actor=world.office)
    return world


def _download(client, user, url):
    client.login(username=user.username, password=PASSWORD)
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_the_xlsx_has_the_office_layout_with_real_dates_frozen_header_and_filters(client, ledger_world):
    w = ledger_world
    data = _download(client, w.office, "/exchange/ledger.xlsx")
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == EXPECTED == HEADERS
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:R4"
    assert ws.column_dimensions["D"].width == 48
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert len(rows) == 3
    lead = next(r for r in rows if r[13] == "已测评")
    assert lead[5] == "区教育局"
    assert lead[:5] == [lead[0], w.session.name, "20250001", "关于增加学位的提案", "李委员、吴委员"]
    assert lead[6] == "区住房和建设局" and lead[7] == "基础教育科" and lead[8] == w.lead_handler.label
    assert isinstance(lead[9], dt.datetime) and isinstance(lead[10], dt.datetime)
    assert ws.cell(row=rows.index(lead) + 2, column=10).number_format == "yyyy-mm-dd"
    assert lead[11:15] == ["A", "满意", "已测评", "否"]
    co = next(r for r in rows if r[6] == "区住房和建设局" and r[5] == "区教育局" and r is not lead)
    assert co[13] == "待签收" and co[9] is None
    assert [r[0] for r in rows] == [1, 2, 3]


def test_the_export_follows_the_ledgers_filters(client, ledger_world):
    w = ledger_world
    data = _download(client, w.office, f"/exchange/ledger.xlsx?unit={w.other_unit.pk}")
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2, values_only=True))
    assert [r[3] for r in rows] == ["关于社区医院的提案"]
    data = _download(client, w.office, "/exchange/ledger.xlsx?state=rated")
    assert len(list(load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2))) == 1


def test_a_unit_exports_only_what_it_sees(client, ledger_world):
    data = _download(client, ledger_world.other_handler, "/exchange/ledger.xlsx")
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2, values_only=True))
    assert [r[3] for r in rows] == ["关于社区医院的提案"]


def test_the_csv_streams_with_a_bom_and_iso_dates(client, ledger_world):
    client.login(username="office", password=PASSWORD)
    response = client.get("/exchange/ledger.csv")
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == EXPECTED and len(rows) == 4
    lead = next(r for r in rows if r[13] == "已测评")
    assert dt.date.fromisoformat(lead[9]) and lead[11] == "A"


def test_the_export_says_which_items_are_merged_and_into_which(client, ledger_world):
    w = ledger_world
    first, second = Proposal.objects.get(number="20250001"), Proposal.objects.get(number="20250002")
    proposals.proposal_merge(actor=w.office, proposal=second, into=first)
    rows = list(load_workbook(io.BytesIO(_download(client, w.office, "/exchange/ledger.xlsx"))).active
                .iter_rows(min_row=2, values_only=True))
    merge = EXPECTED.index("并案")
    assert {(r[2], r[merge]) for r in rows} == {("20250001", "主件（第20250002号并入）"),
                                                ("20250002", "并入第20250001号")}


def test_the_ledger_rows_take_a_constant_number_of_queries(ledger_world, django_assert_max_num_queries):
    for i in range(10):
        p = make_proposal(ledger_world, title=f"提案{i}")
        assign(ledger_world, p)
    with django_assert_max_num_queries(9):  # also the proposers' phones and who may see them in full
        rows = list(ledger.ledger_rows(Assignment.objects.order_by("id"), viewer=ledger_world.office))
    assert len(rows) == 23
