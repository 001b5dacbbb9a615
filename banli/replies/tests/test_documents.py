"""Reply letters and co-opinions as .docx in the GB/T 9704-2012 layout, from the built-in layout and templates."""
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.html import escape
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from pypdf import PdfReader

from banli.core.errors import DomainError, PermissionDenied
from banli.core.testing import PASSWORD, assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.replies import documents, letters, services
from banli.replies.choices import DocumentKind
from banli.replies.models import DocumentTemplate
from banli.replies.tests.helpers import east_asia_font, open_docx, signed_off_reply

TITLE_PATTERN = re.compile(r"^关于(?P<session>.+)第(?P<number>\d+)号(?P<kind>提案|建议)的(?P<what>答复|会办意见)$")


def _close(a, b, tolerance=Mm(0.5)):
    return abs(int(a) - int(b)) <= tolerance


def _paragraph(doc, predicate):
    return next(p for p in doc.paragraphs if predicate(p.text))


def assert_official_layout(doc, *, title_kind="提案", what="答复"):
    section = doc.sections[0]
    assert _close(section.page_width, Mm(210)) and _close(section.page_height, Mm(297))
    assert _close(section.top_margin, Mm(37)) and _close(section.bottom_margin, Mm(35))
    assert _close(section.left_margin, Mm(28)) and _close(section.right_margin, Mm(26))
    title = _paragraph(doc, lambda t: t.startswith("关于") and t.endswith(what))
    match = TITLE_PATTERN.match(title.text)
    assert match and match["kind"] == title_kind and match["what"] == what
    assert east_asia_font(title.runs[0]) == "方正小标宋简体"
    assert title.runs[0].font.size == Pt(22)
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    return title


def test_reply_letter_has_the_official_page_layout_fonts_class_mark_and_contact_line(world):
    reply = signed_off_reply(world, number="20250101")
    doc = open_docx(letters.reply_docx(reply))
    title = assert_official_layout(doc)
    assert title.text == f"关于{world.session.name}第20250101号提案的答复"
    first = doc.paragraphs[0]
    assert first.text == "A类" and first.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert east_asia_font(first.runs[0]) == "黑体"
    body = _paragraph(doc, lambda t: t.startswith("经研究"))
    assert east_asia_font(body.runs[0]) == "仿宋_GB2312" and body.runs[0].font.size == Pt(16)
    contact = _paragraph(doc, lambda t: t.startswith("（联系人"))
    assert contact.text == "（联系人：张敏，联系电话：0755-12345678）"
    cc = _paragraph(doc, lambda t: t.startswith("抄送"))
    assert cc.text == "抄送：区政府督查室。"
    number = _paragraph(doc, lambda t: "提复〔" in t)
    assert re.fullmatch(r"区教育局提复〔\d{4}〕1号", number.text)
    assert "李委员、吴委员：" in [p.text for p in doc.paragraphs]


def test_document_grid_is_22_lines_of_28_characters_and_page_numbers_carry_dashes(world):
    doc = open_docx(letters.reply_docx(signed_off_reply(world)))
    grid = doc.sections[0]._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines"
    pitch = int(grid.get(qn("w:linePitch"))) / 20
    text_height = 225 / 25.4 * 72
    assert pitch * 22 <= text_height < pitch * 23
    footer = doc.sections[0].footer.paragraphs[0]
    assert footer.text.startswith("— ") and footer.text.endswith(" —")
    assert footer.runs[0].font.size == Pt(14)
    assert footer.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert doc.sections[0].even_page_footer.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT
    normal = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert normal.get(qn("w:eastAsia")) == "仿宋_GB2312"


def test_headings_of_level_one_are_heiti_and_level_two_kaiti():
    ctx = documents.LetterContext(title="关于某会议第1号提案的答复", body="一、总体情况\n（一）学位供给\n正文。",
                                  unit_name="区教育局")
    doc = documents.build_document(ctx)
    fonts = {p.text: east_asia_font(p.runs[0]) for p in doc.paragraphs if p.runs}
    assert fonts["一、总体情况"] == "黑体"
    assert fonts["（一）学位供给"] == "楷体_GB2312"
    assert fonts["正文。"] == "仿宋_GB2312"


def test_suggestion_reply_is_titled_as_an_answer_to_a_suggestion(world):
    reply = signed_off_reply(world, number="20250102", kind="suggestion")
    doc = open_docx(letters.reply_docx(reply))
    assert_official_layout(doc, title_kind="建议")
    assert any("建复〔" in p.text for p in doc.paragraphs)
    assert any(p.text.endswith("代表、吴委员代表：") or p.text.endswith("代表：") for p in doc.paragraphs)


def test_upward_letter_names_its_signer_beside_the_issuing_number(world):
    reply = signed_off_reply(world)
    reply.is_upward = True
    doc = open_docx(letters.render(letters.reply_context(reply), reply.assignment.unit, DocumentKind.PROPOSAL_REPLY))
    line = _paragraph(doc, lambda t: "签发人：" in t)
    assert line.text.endswith("签发人：郑华")  # the head signed the last step
    assert "提复〔" in line.text


def test_signing_off_fixes_number_and_signer_and_freezes_the_document(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reply = signed_off_reply(world)
    reply.refresh_from_db()
    assert reply.signer == "郑华" and reply.doc_number.endswith("1号")
    assert reply.document.name.endswith(".docx")
    frozen = letters.reply_docx(reply)
    # A template uploaded after sign-off does not change the signed letter.
    services.document_template_upload(unit=world.lead_unit, kind=DocumentKind.PROPOSAL_REPLY, actor=world.lead_office,
                                      file=io.BytesIO(documents.default_template_bytes(DocumentKind.PROPOSAL_REPLY)))
    assert letters.reply_docx(reply) == frozen
    services.reply_freeze_document(reply_id=reply.pk)  # running the job twice keeps the first document
    reply.refresh_from_db()
    assert letters.reply_docx(reply) == frozen


def test_second_reply_of_a_unit_in_a_year_gets_the_next_number(world):
    first = signed_off_reply(world)
    second = signed_off_reply(world)
    assert first.doc_number.endswith("〕1号") and second.doc_number.endswith("〕2号")


def test_co_opinion_document_has_its_own_title_number_and_addressee(world):
    proposal = make_proposal(world, number="20250103")
    _, co = assign(world, proposal)

    co = handling.assignment_sign(assignment=co, actor=world.co_office)
    co = handling.assignment_assign_section(assignment=co, actor=world.co_office, section=world.co_section,
                                            handler=world.co_handler)
    opinion = services.co_opinion_send(assignment=co, actor=world.co_handler, body="一、建议统筹用地。\n我局将配合。",
                                       contact_person="赵磊", contact_phone="0755-87654321")
    doc = open_docx(letters.co_opinion_docx(opinion))
    title = assert_official_layout(doc, what="会办意见")
    assert title.text == f"关于{world.session.name}第20250103号提案的会办意见"
    assert "区教育局：" in [p.text for p in doc.paragraphs]
    assert re.fullmatch(r"区住房和建设局会办〔\d{4}〕1号", opinion.doc_number)
    assert any(p.text == opinion.doc_number for p in doc.paragraphs)
    assert any(p.text == "（联系人：赵磊，联系电话：0755-87654321）" for p in doc.paragraphs)


def test_office_template_with_placeholders_is_used_for_its_unit(world):
    base = Document(io.BytesIO(documents.default_template_bytes(DocumentKind.PROPOSAL_REPLY)))
    base.add_paragraph("本单位自定义版式 {{ doc_number }}")
    buffer = io.BytesIO()
    base.save(buffer)
    buffer.seek(0)
    buffer.name = "教育局答复函.docx"
    services.document_template_upload(unit=world.lead_unit, kind=DocumentKind.PROPOSAL_REPLY, file=buffer,
                                      actor=world.lead_office)
    reply = signed_off_reply(world, number="20250104")
    doc = open_docx(letters.reply_docx(reply))
    assert_official_layout(doc)
    assert f"本单位自定义版式 {reply.doc_number}" in [p.text for p in doc.paragraphs]
    heading_free_body = _paragraph(doc, lambda t: t.startswith("经研究"))
    assert east_asia_font(heading_free_body.runs[0]) == "仿宋_GB2312"
    assert doc.paragraphs[0].text == "A类"
    assert any(p.text == "（联系人：张敏，联系电话：0755-12345678）" for p in doc.paragraphs)


def test_a_broken_template_is_refused_with_a_clear_message(world):
    broken = io.BytesIO(b"not a word file")
    with pytest.raises(DomainError, match="模板文件未上传：不支持的文件类型"):
        services.document_template_upload(unit=world.lead_unit, kind=DocumentKind.PROPOSAL_REPLY, file=broken,
                                          actor=world.lead_office)

    unclosed = Document()
    unclosed.add_paragraph("{{ title ")
    broken = io.BytesIO()
    unclosed.save(broken)
    broken.seek(0)
    with pytest.raises(DomainError, match="模板无法使用"):
        services.document_template_upload(unit=world.lead_unit, kind=DocumentKind.PROPOSAL_REPLY, file=broken,
                                          actor=world.lead_office)
    assert not DocumentTemplate.objects.exists()


def test_another_units_office_cannot_upload_a_template_for_the_unit(world):
    with pytest.raises(PermissionDenied):
        services.document_template_upload(unit=world.lead_unit, kind=DocumentKind.PROPOSAL_REPLY, actor=world.other_office,
                                          file=io.BytesIO(documents.default_template_bytes(DocumentKind.PROPOSAL_REPLY)))


@pytest.mark.parametrize("kind", DocumentKind.values)
def test_templates_shipped_in_the_repository_render(kind):
    shipped = Path(documents.__file__).parent / "doc_templates" / f"{kind}.docx"
    ctx = documents.LetterContext(title="关于某会议第1号提案的答复", body="正文。", unit_name="区教育局",
                                  class_mark="B类", contact_person="张敏", contact_phone="123")
    doc = open_docx(documents.render_template(io.BytesIO(shipped.read_bytes()), ctx))
    texts = [p.text for p in doc.paragraphs]
    assert "B类" in texts and "关于某会议第1号提案的答复" in texts and "正文。" in texts
    assert not any("{{" in t or "{%" in t for t in texts)


def test_reply_letter_converts_to_pdf_with_libreoffice_and_keeps_its_text(world, tmp_path, artifacts_dir):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: run `make system-deps` (Debian libreoffice-writer-nogui)")

    reply = signed_off_reply(world, number="20250105")
    # Paragraphs of 54 characters fill exactly two lines: 2 indent + 26, then 28.
    reply.body = "\n".join(["经研究，现答复如下：", "一、总体情况"] + [("我局高度重视逐条研究落实" * 5)[:54]] * 30)
    source = tmp_path / "reply.docx"
    source.write_bytes(letters.render(letters.reply_context(reply), reply.assignment.unit, DocumentKind.PROPOSAL_REPLY))
    result = subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(source)],
        capture_output=True, timeout=180,
    )
    pdf = tmp_path / "reply.pdf"
    assert pdf.exists(), result.stderr.decode(errors="replace")
    shutil.copy(pdf, Path(artifacts_dir) / "reply-letter.pdf")
    reader = PdfReader(str(pdf))
    assert 2 <= len(reader.pages) <= 4
    # A full middle page holds 22 body lines and its page number (GB/T 9704: 22 lines of 28 characters).
    assert len(reader.pages[1].extract_text().splitlines()) == 23
    assert max(len(line.strip()) for line in reader.pages[1].extract_text().splitlines()) == 28
    first = reader.pages[0]
    width, height = float(first.mediabox.width), float(first.mediabox.height)
    assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2
    text = "".join(page.extract_text() for page in reader.pages).replace(" ", "").replace("\n", "")
    assert "A类" in text
    assert "第20250105号提案的答复" in text
    assert "联系人：张敏" in text
    assert "—2—" in text.replace(" ", "")


def test_reply_docx_download_is_for_those_who_may_read_the_reply(world, client):

    reply = signed_off_reply(world)
    url = reverse("replies:reply_docx", args=[reply.pk])
    client.login(username=world.lead_handler.username, password=PASSWORD)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    for outsider in (world.other_office, world.proposer, world.co_handler):
        client.login(username=outsider.username, password=PASSWORD)
        assert client.get(url).status_code == 404, outsider


@pytest.mark.parametrize("typed", ["李委员、吴委员：", "李文涛委员:"])
def test_a_salutation_typed_by_the_clerk_is_printed_once_and_the_page_shows_the_document(world, client, typed):

    proposal = make_proposal(world, number="20250177")
    lead = walk_to(world, assign(world, proposal)[0], "in_progress")
    reply = services.reply_save_draft(assignment=lead, actor=world.lead_handler, reply_class="A",
                                      body=f"{typed}\n    经研究，现答复如下：\n一、已扩建学校。")
    doc = open_docx(letters.reply_docx(reply))
    texts = [p.text for p in doc.paragraphs if p.text.strip()]
    salutations = [t for t in texts if t.endswith("：") and "委员" in t]
    assert salutations == [typed.rstrip(":：") + "："]  # once, as the clerk wrote it
    assert texts[texts.index(salutations[0]) + 1] == "经研究，现答复如下："
    # The on-screen preview lists the document's paragraphs, in order, nothing more and nothing less.
    client.force_login(world.lead_office)
    html = client.get(reverse("replies:review", args=[reply.pk])).content.decode()
    shown = [m.strip() for m in re.findall(r"<p class=\"letter-line[^\"]*\" data-letter-line>(.*?)</p>", html)]

    assert shown == [escape(t) for t in texts]


def test_a_body_without_a_salutation_gets_the_generated_one(world):
    reply = signed_off_reply(world, number="20250178")
    texts = [p.text for p in open_docx(letters.reply_docx(reply)).paragraphs]
    assert texts.count("李委员、吴委员：") == 1
    assert letters.split_typed_salutation("一、关于学位：\n已扩建。", "X：") == ("X：", "一、关于学位：\n已扩建。")


@pytest.mark.parametrize("closing", ["区教育局\n2026年12月1日", "教育局\n二〇二六年十二月一日", "2026年12月1日"])
def test_a_signature_typed_at_the_end_of_the_body_is_printed_once(world, closing):
    # Clerks close the text as on paper, with the unit's name and the date; the letter prints its own signature.
    world.lead_unit.short_name = "教育局"
    world.lead_unit.save()
    proposal = make_proposal(world, number="20250179")
    lead = walk_to(world, assign(world, proposal)[0], "in_progress")
    reply = services.reply_save_draft(assignment=lead, actor=world.lead_handler, reply_class="A",
                                      body=f"经研究，现答复如下：\n一、已扩建学校。\n\n{closing}\n")
    texts = [p.text.strip() for p in open_docx(letters.reply_docx(reply)).paragraphs if p.text.strip()]
    end = texts.index("一、已扩建学校。")
    # The body's last line, then the letter's own signature and date, once; nothing of the typed closing.
    assert texts[end + 1] == "区教育局" and letters.TYPED_DATE.match(texts[end + 2]), texts[end:]
    assert "教育局" not in texts and not letters.TYPED_DATE.match(texts[end + 3]) and texts[end + 3] != "区教育局"


def test_only_a_closing_date_or_the_units_own_name_is_taken_as_a_typed_signature(world):
    unit = world.lead_unit
    kept = ["一、已扩建学校。", "一、已扩建学校。\n区住房和建设局", "请于2026年12月1日前完成。", "区教育局负责落实。"]
    for body in kept:
        assert letters.strip_typed_signature(body, unit) == body
    assert letters.strip_typed_signature("正文。\n区教育局\n2026年12月1日", unit) == "正文。"
    assert letters.strip_typed_signature("正文。\n区教育局", unit) == "正文。"
