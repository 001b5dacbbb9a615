"""Bad files: each is refused with a Chinese message naming the row and column when there is one,
and nothing is imported."""
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from banli.core.testing import PASSWORD
from banli.exchange import services
from banli.exchange.files import ImportFileError
from banli.exchange.models import ImportBatch
from banli.exchange.tests.conftest import LIST_ROWS, docx_bytes, xlsx_bytes
from banli.handling.models import Assignment, Event
from banli.proposals.models import Proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def refused(world):
    """`refused(data, filename)` → the message; asserts nothing at all was written."""

    def check(data, filename="清单.xlsx"):
        events = Event.objects.count()
        with pytest.raises(ImportFileError) as caught:
            services.import_list(actor=world.office, session=world.session, filename=filename, data=data)
        assert Proposal.objects.count() == 0 and Assignment.objects.count() == 0
        assert Event.objects.count() == events
        return caught.value.message

    return check


def test_a_file_of_the_wrong_type_is_refused(refused):
    assert refused(b"%PDF-1.4 ...", "清单.pdf") == "不支持「清单.pdf」这种文件，请上传 Excel 工作簿（.xlsx）或 CSV 文件。"
    assert "不是Excel 工作簿（.xlsx），请检查文件类型" in refused("编号,案由".encode(), "改了扩展名.xlsx")
    assert "旧版 .xls 文件" in refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "旧表.xlsx")
    assert "另存为“Excel 工作簿（.xlsx）”" in refused(b"whatever", "旧表.xls")


def test_formulas_are_refused_naming_the_cell(refused):
    def formula(wb, ws):
        ws["I3"] = "=IF(E3=\"卫生\",\"是\",\"否\")"

    message = refused(xlsx_bytes(LIST_ROWS, setup=formula))
    assert message.startswith("工作表「交办清单」第3行第I列是公式")
    assert "选择性粘贴为数值" in message


def test_merged_cells_are_refused_naming_the_range(refused):
    def merge(wb, ws):
        ws.merge_cells("F3:F4")

    assert refused(xlsx_bytes(LIST_ROWS, setup=merge)) == (
        "工作表「交办清单」第3行第F列起有合并单元格（F3:F4），请取消合并，并在每一行填写完整后再导入。"
    )


def test_a_blank_row_between_data_rows_is_refused_but_trailing_ones_are_ignored(refused, world):
    rows = [LIST_ROWS[0], [None] * 9, LIST_ROWS[1]]
    assert refused(xlsx_bytes(rows)).startswith("「清单.xlsx」第3行是空行")
    plan, counts = services.import_list(actor=world.office, session=world.session, filename="x.xlsx",
                                        data=xlsx_bytes([LIST_ROWS[0], [None] * 9, [None] * 9]), dry_run=True)
    assert plan.ok and plan.row_count == 1


def test_a_hidden_sheet_is_refused(refused):
    def hide(wb, ws):
        wb.create_sheet("历年清单").sheet_state = "hidden"

    assert refused(xlsx_bytes(LIST_ROWS, setup=hide)) == (
        "「清单.xlsx」含有隐藏的工作表「历年清单」，为免漏导或误导，请删除或取消隐藏后再导入。"
    )


def test_twenty_thousand_rows_are_refused(refused):
    rows = [[i, f"2025{i:05d}", "案由", "李委员", "", "区教育局", "", "", ""] for i in range(20_000)]
    assert refused(xlsx_bytes(rows)) == "工作表「交办清单」共有 20001 行，超过单次导入上限 5000 行，请分批导入。"


def test_a_cell_of_one_megabyte_is_refused_naming_the_cell(refused):
    # Excel (and openpyxl) cut a cell at 32,767 characters; a crafted file need not: patch the XML.
    rows = [list(LIST_ROWS[0]), list(LIST_ROWS[1])]
    rows[1][2] = "PLACEHOLDER"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes(rows))) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, data.replace(b"PLACEHOLDER", ("长" * (1024 * 1024)).encode()))
    message = refused(out.getvalue())
    assert message.startswith("工作表「交办清单」第3行第C列内容过长（1,048,576 字）")


def test_a_zip_bomb_is_refused_before_it_is_unpacked(refused):
    good = xlsx_bytes(LIST_ROWS[:1])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/media/padding.bin", b"\0" * (60 * 1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    assert "疑似压缩炸弹" in refused(out.getvalue())


def test_a_workbook_with_macros_is_refused(refused):
    good = xlsx_bytes(LIST_ROWS[:1])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/vbaProject.bin", b"VBA")
    assert "含有宏（VBA）" in refused(out.getvalue())


def test_a_csv_in_an_unknown_encoding_is_refused_naming_the_line(refused):
    data = "编号,案由,提案人,主办单位\n".encode() + "20250001,关于,李委员,区教育局\n".encode("utf-16-le")
    message = refused(data, "清单.csv")
    assert "第2行" in message and "另存为“CSV UTF-8（逗号分隔）”" in message


def test_a_csv_with_a_formula_is_refused(refused):
    data = "编号,案由,提案人,主办单位\n20250001,=HYPERLINK(\"x\"),李委员,区教育局\n".encode()
    assert refused(data, "清单.csv").startswith("第2行第B列是公式")


def test_an_empty_or_header_only_file_is_refused(refused):
    assert refused(xlsx_bytes([])) == "「清单.xlsx」只有表头（第1行），没有数据行。"
    assert refused(b"", "x.csv") == "文件「x.csv」是空文件。"


def test_an_upload_over_the_size_limit_is_refused(refused, settings):
    settings.BANLI_UPLOAD_MAX_BYTES = 1024
    assert "超过上传上限" in refused(xlsx_bytes(LIST_ROWS))


def test_the_upload_page_shows_the_reason_and_keeps_nothing(world, client):

    client.login(username="office", password=PASSWORD)

    def merge(wb, ws):
        ws.merge_cells("F3:F4")

    response = client.post("/exchange/import/", {"session": world.session.pk, "kind": "proposal",
                                                 "file": SimpleUploadedFile("清单.xlsx", xlsx_bytes(LIST_ROWS, setup=merge))})
    assert response.status_code == 400
    assert "第3行第F列起有合并单元格" in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_a_word_file_with_macros_is_refused_for_bodies(world):
    good = docx_bytes(["第20250001号", "正文"])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("word/vbaProject.bin", b"VBA")
    plan, written = services.import_bodies(actor=world.office, session=world.session, files=[("第20250001号.docx", out.getvalue())])
    assert written is None
    assert plan.errors == ["「第20250001号.docx」含有宏（VBA），出于安全原因不予接收，请另存为不含宏的Word 文档（.docx）后再上传。"]
    plan, _ = services.import_bodies(actor=world.office, session=world.session, files=[("a.docm", good)])
    assert "不是 .docx 文件" in plan.errors[0]
