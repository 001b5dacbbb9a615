"""Reply letters and co-opinions as .docx in the official document layout of GB/T 9704-2012.

Layout (GB/T 9704-2012 §5, §7): A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm, giving a
156 × 225 mm text block of 22 lines × 28 characters; title 2号 小标宋, body 3号 仿宋_GB2312, level-1
headings 黑体 and level-2 楷体; page numbers 4号 半角 宋体 between em dashes ("— 1 —"), odd pages right,
even pages left. Fonts are written by name (w:eastAsia as well as w:ascii/w:hAnsi), so the document
names them even on a machine where they are not installed; Word and LibreOffice then substitute.

Two ways to produce a document, same context:
- `build_document(ctx)`: the built-in layout, used when the unit has uploaded no template;
- `render_template(file, ctx)`: an office-edited .docx with docxtpl placeholders ({{ title }}, {{p body }}…).
`default_template_bytes(kind)` writes the built-in layout with placeholders: the starting point the office
downloads, edits in Word and uploads again (shipped in `doc_templates/`).
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

# Font names as the standard and government templates spell them.
FONT_TITLE = "方正小标宋简体"
FONT_BODY = "仿宋_GB2312"
FONT_HEADING_1 = "黑体"
FONT_HEADING_2 = "楷体_GB2312"
FONT_PAGE_NUMBER = "宋体"
FONT_LATIN = "Times New Roman"

# Chinese font sizes (字号) in points.
SIZE_2 = Pt(22)   # 二号: title
SIZE_3 = Pt(16)   # 三号: body
SIZE_4 = Pt(14)   # 四号: page numbers, 版记

PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(37), Mm(35), Mm(28), Mm(26)
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
# 225 mm of text height holds 22 lines (28.95 pt each in theory); 28.5 pt leaves the slack LibreOffice and
# Word need to really place 22 lines on a page, and 23 lines would not fit.
LINE_PITCH = Pt(28.5)
CHAR_PITCH_PT = 156 / CHARS_PER_LINE / 25.4 * 72  # ≈ 15.79 pt per character

HEADING_1 = re.compile(r"^[一二三四五六七八九十]+、")
HEADING_2 = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")

KIND_PROPOSAL_REPLY = "proposal_reply"
KIND_SUGGESTION_REPLY = "suggestion_reply"
KIND_CO_OPINION = "co_opinion"


@dataclass
class LetterContext:
    """Everything a reply letter or co-opinion shows; the same names are the template placeholders."""

    title: str
    body: str
    unit_name: str
    salutation: str = ""
    class_mark: str = ""
    doc_number: str = ""
    signer: str = ""
    is_upward: bool = False
    date: str = ""
    contact_person: str = ""
    contact_phone: str = ""
    cc: list[str] = field(default_factory=list)
    printer: str = ""
    attachments: list[str] = field(default_factory=list)

    @property
    def contact_line(self) -> str:
        if not (self.contact_person or self.contact_phone):
            return ""
        return f"（联系人：{self.contact_person}，联系电话：{self.contact_phone}）"

    @property
    def cc_line(self) -> str:
        return f"抄送：{'，'.join(self.cc)}。" if self.cc else ""

    def as_template_context(self) -> dict:
        return {
            "title": self.title, "unit_name": self.unit_name, "salutation": self.salutation,
            "class_mark": self.class_mark, "doc_number": self.doc_number, "signer": self.signer,
            "is_upward": self.is_upward, "date": self.date, "contact_person": self.contact_person,
            "contact_phone": self.contact_phone, "contact_line": self.contact_line, "cc": self.cc,
            "cc_line": self.cc_line, "printer": self.printer, "attachments": self.attachments,
            "body_text": self.body,
        }


# --- low-level helpers ---------------------------------------------------------------------------


def set_run_font(run, east_asia: str, size=None, *, latin: str | None = None, bold: bool | None = None,
                 colour: RGBColor | None = None) -> None:
    """Name the font for Chinese (w:eastAsia) and Latin text, so it is named even when not installed."""
    run.font.name = latin or east_asia
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:ascii"), latin or east_asia)
    fonts.set(qn("w:hAnsi"), latin or east_asia)
    if size is not None:
        run.font.size = size
    if bold is not None:
        run.font.bold = bold
    if colour is not None:
        run.font.color.rgb = colour


def _style_font(style, east_asia: str, size, latin: str) -> None:
    style.font.name = latin
    style.font.size = size
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)


def _grid_spacing(paragraph, *, exact=True, first_line_chars: int = 0, align=None) -> None:
    fmt = paragraph.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if exact:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = LINE_PITCH
    if first_line_chars:
        fmt.first_line_indent = Pt(16 * first_line_chars)
    if align is not None:
        paragraph.alignment = align


def _border(paragraph, edge: str, *, colour: str = "000000", size: int = 8) -> None:
    """A rule under or over a paragraph (the red 分隔线 under the 版头, the lines of the 版记)."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    line = OxmlElement(f"w:{edge}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size))
    line.set(qn("w:space"), "1")
    line.set(qn("w:color"), colour)
    borders.append(line)


def _add_text(container, text: str, east_asia: str, size, *, align=None, first_line_chars: int = 0,
              bold=None, colour=None, exact=True):
    paragraph = container.add_paragraph()
    _grid_spacing(paragraph, exact=exact, first_line_chars=first_line_chars, align=align)
    if text:
        set_run_font(paragraph.add_run(text), east_asia, size, latin=FONT_LATIN if east_asia == FONT_BODY else None,
                     bold=bold, colour=colour)
    return paragraph


def add_body(container, text: str) -> None:
    """Body paragraphs: 3号 仿宋, two-character first-line indent; "一、" lines 黑体, "（一）" lines 楷体."""
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        font = FONT_BODY
        if HEADING_1.match(line):
            font = FONT_HEADING_1
        elif HEADING_2.match(line):
            font = FONT_HEADING_2
        _add_text(container, line, font, SIZE_3, first_line_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)


def _page_number_paragraph(footer, align) -> None:
    """"— 1 —": 4号 半角 宋体 digits between em dashes, via a PAGE field."""
    paragraph = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    paragraph.alignment = align
    fmt = paragraph.paragraph_format
    # One character's space from the edge of the text block (GB/T 9704 §7.5).
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        fmt.right_indent = Pt(14)
    else:
        fmt.left_indent = Pt(14)

    def text(value: str) -> None:
        set_run_font(paragraph.add_run(value), FONT_PAGE_NUMBER, SIZE_4, latin=FONT_PAGE_NUMBER)

    def field_char(kind: str) -> None:
        run = paragraph.add_run()
        set_run_font(run, FONT_PAGE_NUMBER, SIZE_4, latin=FONT_PAGE_NUMBER)
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        run._r.append(element)

    text("— ")
    field_char("begin")
    instr_run = paragraph.add_run()
    set_run_font(instr_run, FONT_PAGE_NUMBER, SIZE_4, latin=FONT_PAGE_NUMBER)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    instr_run._r.append(instr)
    field_char("separate")
    text("1")
    field_char("end")
    text(" —")


def _setup_page(document) -> None:
    section = document.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    section.header_distance = Mm(15)
    section.footer_distance = Mm(21)
    # The document grid: 22 lines of 28 characters.
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    # A line grid only: LibreOffice lays a 16 pt character over two cells of a 15.8 pt character grid,
    # so the 28 characters come from condensing each character by 0.25 pt (156 mm / 28 = 15.79 pt).
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH.pt * 20)))
    normal = document.styles["Normal"]
    _style_font(normal, FONT_BODY, SIZE_3, FONT_LATIN)
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(round((CHAR_PITCH_PT - 16) * 20) - 1))
    normal.element.get_or_add_rPr().append(spacing)
    # Odd pages number on the right, even pages on the left.
    document.settings.odd_and_even_pages_header_footer = True
    _page_number_paragraph(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number_paragraph(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)


RED = RGBColor(0xFF, 0x00, 0x00)


def _compose(document, ctx: LetterContext, *, body_placeholder: bool = False, template_tags: bool = False) -> None:
    """Lay out 版头, 主体 and 版记 in `document` (page set-up already done)."""
    right, centre, left = WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT
    # 版头: class mark top right of page one, issuing body in red, number (and signer for upward letters).
    _add_text(document, ctx.class_mark, FONT_HEADING_1, SIZE_3, align=right)
    _add_text(document, ctx.unit_name, FONT_TITLE, Pt(26), align=centre, colour=RED, exact=False)
    if template_tags:
        _add_text(document, "{%p if is_upward %}", FONT_BODY, SIZE_3)
    if ctx.is_upward or template_tags:
        number = document.add_paragraph()
        _grid_spacing(number, align=left)
        number.paragraph_format.left_indent = Pt(16)
        set_run_font(number.add_run(ctx.doc_number), FONT_BODY, SIZE_3, latin=FONT_LATIN)
        set_run_font(number.add_run("\t签发人："), FONT_BODY, SIZE_3, latin=FONT_LATIN)
        set_run_font(number.add_run(ctx.signer), FONT_HEADING_2, SIZE_3)
        number.paragraph_format.tab_stops.add_tab_stop(Mm(120))
        _border(number, "bottom", colour="FF0000", size=12)
    if template_tags:
        _add_text(document, "{%p else %}", FONT_BODY, SIZE_3)
    if not ctx.is_upward or template_tags:
        number = _add_text(document, ctx.doc_number, FONT_BODY, SIZE_3, align=centre)
        _border(number, "bottom", colour="FF0000", size=12)
    if template_tags:
        _add_text(document, "{%p endif %}", FONT_BODY, SIZE_3)
    _add_text(document, "", FONT_BODY, SIZE_3)
    # 主体: title, addressee, body, attachments, issuer and date, contact line.
    _add_text(document, ctx.title, FONT_TITLE, SIZE_2, align=centre, exact=False)
    _add_text(document, "", FONT_BODY, SIZE_3)
    if ctx.salutation:
        _add_text(document, ctx.salutation, FONT_BODY, SIZE_3, align=left)
    if body_placeholder:
        _add_text(document, "{{p body }}", FONT_BODY, SIZE_3, first_line_chars=2)
    else:
        add_body(document, ctx.body)
    _add_text(document, "", FONT_BODY, SIZE_3)
    for i, name in enumerate(ctx.attachments, start=1):
        label = "附件：" if i == 1 else "　　　"
        _add_text(document, f"{label}{i}．{name}", FONT_BODY, SIZE_3, first_line_chars=2)
    if ctx.attachments:
        _add_text(document, "", FONT_BODY, SIZE_3)
    for line in (ctx.unit_name, ctx.date):
        paragraph = _add_text(document, line, FONT_BODY, SIZE_3, align=right)
        paragraph.paragraph_format.right_indent = Pt(16 * 4)
    if ctx.contact_line:
        _add_text(document, ctx.contact_line, FONT_BODY, SIZE_3, first_line_chars=2)
    # 版记: 抄送 and 印发 between rules, 4号 仿宋.
    _add_text(document, "", FONT_BODY, SIZE_3)
    if ctx.cc_line:
        cc = _add_text(document, ctx.cc_line, FONT_BODY, SIZE_4, align=left)
        cc.paragraph_format.left_indent = Pt(14)
        cc.paragraph_format.right_indent = Pt(14)
        _border(cc, "top", size=8)
    if ctx.printer:
        printed = _add_text(document, ctx.printer, FONT_BODY, SIZE_4, align=left)
        printed.paragraph_format.left_indent = Pt(14)
        _border(printed, "top", size=4)
        _border(printed, "bottom", size=8)


def build_document(ctx: LetterContext):
    """The built-in layout filled with `ctx`: a python-docx Document."""
    document = Document()
    _setup_page(document)
    _compose(document, ctx)
    return document


def to_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def default_template_bytes(kind: str) -> bytes:
    """The built-in layout with docxtpl placeholders: what the office downloads, edits and uploads."""
    addressee = "{{ salutation }}"
    ctx = LetterContext(
        title="{{ title }}", body="", unit_name="{{ unit_name }}", salutation=addressee,
        class_mark="{{ class_mark }}", doc_number="{{ doc_number }}", signer="{{ signer }}",
        date="{{ date }}", contact_person="{{ contact_person }}", contact_phone="{{ contact_phone }}",
    )
    document = Document()
    _setup_page(document)
    _compose(document, ctx, body_placeholder=True, template_tags=True)
    # Conditional 版记 lines: written as template tags, not as filled text.
    document.add_paragraph("{%p if cc_line %}")
    cc = _add_text(document, "{{ cc_line }}", FONT_BODY, SIZE_4, align=WD_ALIGN_PARAGRAPH.LEFT)
    cc.paragraph_format.left_indent = Pt(14)
    _border(cc, "top", size=8)
    _border(cc, "bottom", size=8)
    document.add_paragraph("{%p endif %}")
    printed = _add_text(document, "{{ printer }}", FONT_BODY, SIZE_4, align=WD_ALIGN_PARAGRAPH.LEFT)
    printed.paragraph_format.left_indent = Pt(14)
    _border(printed, "bottom", size=8)
    # The contact line is printed by {{ contact_line }} so that an empty contact leaves no brackets.
    for paragraph in document.paragraphs:
        if paragraph.text.startswith("（联系人："):
            for run in paragraph.runs[1:]:
                run.text = ""
            paragraph.runs[0].text = "{{ contact_line }}"
    _ = kind  # one layout for every kind today; kept as a parameter so kinds can diverge
    return to_bytes(document)


def render_template(template_file, ctx: LetterContext) -> bytes:
    """Fill an office-edited template (docxtpl placeholders) with `ctx`; the body keeps its heading fonts."""
    from docxtpl import DocxTemplate  # noqa: PLC0415 - slow to load: only when a template is filled

    template = DocxTemplate(template_file)
    body = template.new_subdoc()
    add_body(body, ctx.body)
    context = ctx.as_template_context()
    context["body"] = body
    template.render(context, autoescape=True)
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()
