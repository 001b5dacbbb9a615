"""The streamed .xlsx (exchange.xlsx_stream): the first bytes leave before any row is read, and the file is a
workbook spreadsheet programs open: header, frozen row, widths, autofilter, real dates, text kept as text."""
import datetime as dt
import io

from openpyxl import load_workbook

from banli.exchange.ledger import HEADERS, LEDGER_COLUMNS, xlsx_chunks
from banli.exchange.xlsx_stream import column_letter, stream_xlsx


def test_the_first_chunk_leaves_before_the_first_row_is_read():
    read = []

    def rows():
        for i in range(1000):
            read.append(i)
            yield [i, f"第{i}行"]

    chunks = stream_xlsx(["序号", "名称"], rows())
    first = next(chunks)
    assert first.startswith(b"PK") and read == []
    rest = b"".join(chunks)
    assert len(read) == 1000
    ws = load_workbook(io.BytesIO(first + rest)).active
    assert ws.max_row == 1001 and ws.cell(row=1001, column=2).value == "第999行"


def test_the_ledger_workbook_keeps_its_layout_dates_and_safe_text():
    row = [1, "第十四届一次会议", "20250001", "=HYPERLINK(\"http://x\")", "李委员\x07", None, "", "", "", dt.date(2025, 3, 4),
           None, "A", "满意", "已测评", "否", "", "138****0000"]
    data = b"".join(xlsx_chunks(iter([row])))
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.title == "台账"
    assert [c.value for c in ws[1]] == HEADERS
    assert ws[1][0].font.b and ws[1][0].fill.fgColor.rgb.endswith("DDE4EE")
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{column_letter(len(HEADERS))}2"
    assert ws.column_dimensions["D"].width == dict(LEDGER_COLUMNS)["案由"]
    values = [c.value for c in ws[2]]
    assert values[0] == 1 and values[2] == "20250001"
    assert values[3] == "'=HYPERLINK(\"http://x\")"  # a formula-looking text stays text
    assert values[4] == "李委员"  # a control character XML cannot hold is dropped
    assert values[5] is None
    assert values[9] == dt.datetime(2025, 3, 4) and ws.cell(row=2, column=10).number_format == "yyyy-mm-dd"


def test_column_letters():
    assert [column_letter(i) for i in (1, 17, 26, 27, 52, 703)] == ["A", "Q", "Z", "AA", "AZ", "AAA"]
