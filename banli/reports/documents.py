"""Documents of the reports app: the 自评表 (.xlsx, .docx) and the annual handling summary (.docx).

The .docx files use the official layout (GB/T 9704-2012) of banli.replies.documents: A4, 37/35/28/26 mm
margins, 22 lines of 28 characters, title 2号 小标宋, body 3号 仿宋, "一、" 黑体, "（一）" 楷体.
"""
from __future__ import annotations

import io

from django.utils import timezone
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from banli.core.cells import safe_row
from banli.replies import documents as gb
from banli.reports.scoring import fmt


def _gb_document():

    document = Document()
    gb._setup_page(document)
    return document, gb


def _title(document, gb, text: str) -> None:
    gb._add_text(document, text, gb.FONT_TITLE, gb.SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER, exact=False)
    gb._add_text(document, "", gb.FONT_BODY, gb.SIZE_3)


def _line(document, gb, text: str, *, left=False) -> None:
    gb._add_text(document, text, gb.FONT_BODY, gb.SIZE_3, align=WD_ALIGN_PARAGRAPH.LEFT if left else None,
                 first_line_chars=0 if left else 2)


def _sign_off(document, gb, unit_name: str, date_text: str) -> None:
    gb._add_text(document, "", gb.FONT_BODY, gb.SIZE_3)
    for text in (unit_name, date_text):
        paragraph = gb._add_text(document, text, gb.FONT_BODY, gb.SIZE_3, align=WD_ALIGN_PARAGRAPH.RIGHT)
        paragraph.paragraph_format.right_indent = Pt(16 * 4)


def _to_bytes(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _cn_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- 自评表 ------------------------------------------------------------------------------------------


def _evaluation_rows(evaluation) -> list[list[str]]:
    rows = []
    for i, line in enumerate(evaluation.lines, start=1):
        points = line["points"]
        shown = fmt(points) if line.get("kind") != "bonus" or points <= 0 else f"+{fmt(points)}"
        items = "；".join(f"第{p['number']}号 {p['title']}" for p in line.get("proposals") or [])
        evidence = line["evidence"] + (f"。相关事项：{items}" if items else "")
        rows.append([str(i), line["item"], shown, evidence])
    return rows


def _evaluation_footer(evaluation) -> list[str]:
    out = [f"自评得分：{fmt(evaluation.computed_total)}分"]
    if evaluation.unit_note:
        out.append(f"单位说明：{evaluation.unit_note}")
    if evaluation.office_total is not None:
        out.append(f"交办机构核定得分：{fmt(evaluation.office_total)}分（{evaluation.office_note}）")
    elif evaluation.state == "confirmed":
        out.append(f"交办机构已确认自评得分{fmt(evaluation.computed_total)}分。" + (
            f"（{evaluation.office_note}）" if evaluation.office_note else ""))
    out.append(f"状态：{evaluation.get_state_display()}")
    return out


def evaluation_xlsx(evaluation) -> bytes:
    """The 自评表 as a workbook: one row per scored line with its evidence."""
    from openpyxl import Workbook  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written

    wb = Workbook()
    ws = wb.active
    ws.title = "自评表"
    ws.append(safe_row([f"{evaluation.unit.name}{evaluation.session.name}办理工作自评表"]))
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(safe_row([f"评分细则：{evaluation.rule_set.name}"]))
    ws.append(["序号", "考核项目", "得分", "依据与佐证"])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for row in _evaluation_rows(evaluation):
        ws.append(safe_row(row))
    ws.append([])
    for text in _evaluation_footer(evaluation):
        ws.append(safe_row([text]))
    for col, width in zip("ABCD", (6, 36, 10, 80)):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=4):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def evaluation_docx(evaluation) -> bytes:
    """The 自评表 as an official-layout document with a table of the lines."""
    document, gb = _gb_document()
    _title(document, gb, f"{evaluation.unit.name}{evaluation.session.name}办理工作自评表")
    _line(document, gb, f"评分细则：{evaluation.rule_set.name}", left=True)
    table = document.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ["序号", "考核项目", "得分", "依据与佐证"]):
        gb.set_run_font(cell.paragraphs[0].add_run(text), gb.FONT_HEADING_1, Pt(12))
    for row in _evaluation_rows(evaluation):
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            gb.set_run_font(cell.paragraphs[0].add_run(text), gb.FONT_BODY, Pt(12), latin=gb.FONT_LATIN)
    gb._add_text(document, "", gb.FONT_BODY, gb.SIZE_3)
    for text in _evaluation_footer(evaluation):
        _line(document, gb, text)
    _sign_off(document, gb, evaluation.unit.name, _cn_date(timezone.localdate()))
    return _to_bytes(document)


# --- 办理工作总结 -------------------------------------------------------------------------------------


def summary_docx(summary) -> bytes:
    """The annual handling summary in the official layout, structured like the seeds."""
    document, gb = _gb_document()
    _title(document, gb, summary.title)
    if summary.addressee:
        _line(document, gb, f"{summary.addressee}：", left=True)
    _line(document, gb, summary.opening)
    for heading, paragraphs in summary.sections:
        gb.add_body(document, heading)
        for text in paragraphs:
            gb.add_body(document, text)
    _sign_off(document, gb, summary.unit.name, _cn_date(summary.date))
    return _to_bytes(document)
