"""Word documents built from the records: the reply letter, a proposal, and the assignment notice (交办通知).

The layout follows the common official-document conventions (GB/T 9704-2012): A4, 仿宋 body at 16 pt,
方正小标宋/宋体 title, 28 pt line spacing. Fonts fall back to what the reader's Word has.
"""
from __future__ import annotations

import io

from django.utils import timezone
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt


def _document() -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    style = doc.styles["Normal"]
    style.font.name = "仿宋_GB2312"
    style.font.size = Pt(16)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋_GB2312")
    style.paragraph_format.line_spacing = Pt(28)
    return doc


def _title(doc, text: str) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(text)
    run.font.size = Pt(22)
    run.font.name = "方正小标宋简体"
    run._element.rPr.rFonts.set(qn("w:eastAsia"), "方正小标宋简体")


def _body(doc, text: str) -> None:
    for line in (text or "").splitlines():
        line = line.strip()
        if line:
            p = doc.add_paragraph(line)
            p.paragraph_format.first_line_indent = Pt(32)


def _bytes(doc) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def reply_docx(reply) -> bytes:
    """The reply letter (答复函) of one reply version."""
    assignment = reply.assignment
    proposal = assignment.proposal
    doc = _document()
    _title(doc, f"关于{proposal.session.name}第{proposal.number}号{proposal.get_kind_display()}的答复")
    lead = proposal.lead_proposer
    if lead:
        doc.add_paragraph(f"{lead.name}{'委员' if proposal.kind == 'proposal' else '代表'}：")
    _body(doc, f"您提出的《{proposal.title}》收悉。现答复如下：")
    _body(doc, reply.body)
    if reply.reply_class:
        _body(doc, f"答复类别：{reply.reply_class}类")
    p = doc.add_paragraph(assignment.unit.name)
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    when = reply.sent_at or reply.approved_at or reply.created_at or timezone.now()
    p = doc.add_paragraph(f"{timezone.localtime(when):%Y年%m月%d日}")
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if reply.contact_person or reply.contact_phone:
        doc.add_paragraph(f"（联系人：{reply.contact_person}，联系电话：{reply.contact_phone}）")
    return _bytes(doc)


def proposal_docx(proposal) -> bytes:
    """A proposal as registered: number, title, proposers, body."""
    doc = _document()
    _title(doc, proposal.title)
    names = "、".join(link.proposer.name for link in proposal.proposer_links.select_related("proposer"))
    doc.add_paragraph(f"{proposal.session.name} 第{proposal.number}号{proposal.get_kind_display()}")
    doc.add_paragraph(f"{proposal.get_kind_display()}人：{names}")
    if proposal.category:
        doc.add_paragraph(f"类别：{proposal.category}")
    _body(doc, proposal.body)
    return _bytes(doc)


def co_opinion_docx(opinion) -> bytes:
    """A co-handler's opinion (会办意见)."""
    assignment = opinion.assignment
    proposal = assignment.proposal
    doc = _document()
    _title(doc, f"关于第{proposal.number}号{proposal.get_kind_display()}的会办意见")
    _body(doc, opinion.body)
    p = doc.add_paragraph(assignment.unit.name)
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if opinion.sent_at:
        p = doc.add_paragraph(f"{timezone.localtime(opinion.sent_at):%Y年%m月%d日}")
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return _bytes(doc)


def notice_docx(*, session, unit, rows: list[dict], today=None) -> bytes:
    """The assignment notice (交办通知) of one unit with its list."""
    today = today or timezone.localdate()
    doc = _document()
    _title(doc, f"关于交办{session.name}{'提案' if session.body == 'cppcc' else '建议'}的通知")
    doc.add_paragraph(f"{unit.name}：")
    counts = {r: sum(1 for row in rows if row["role"] == r) for r in ("主办", "分办", "会办")}
    _body(doc, (
        f"现将{session.name}交由你单位办理的{len(rows)}件"
        f"（其中主办{counts['主办']}件、分办{counts['分办']}件、会办{counts['会办']}件）交办给你们，"
        "请认真研究办理，按期答复，并在规定期限内签收；如认为不属于本单位职责，请在规定期限内申请调整。"
    ))
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ["序号", "编号", "案由", "办理方式", "答复期限"]):
        cell.text = text
    for i, row in enumerate(rows, start=1):
        cells = table.add_row().cells
        values = [str(i), row["number"], row["title"], row["role"],
                  row["reply_due"].strftime("%Y-%m-%d") if row.get("reply_due") else ""]
        for cell, text in zip(cells, values):
            cell.text = text
    p = doc.add_paragraph(session.assigning_office.name)
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    p = doc.add_paragraph(f"{today:%Y年%m月%d日}")
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return _bytes(doc)
