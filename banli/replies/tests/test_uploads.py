"""Every upload of the reply pages is checked by content before anything is stored, kept under a random name
outside the web root, and downloaded only through a permission-checked view as an attachment."""
import io
import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from docx import Document
from msoffcrypto.format.ooxml import OOXMLFile
from openpyxl import Workbook

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling.models import Event
from banli.replies import services
from banli.replies.choices import DocumentKind
from banli.replies.documents import default_template_bytes
from banli.replies.models import CoOpinion, CoOpinionAttachment, DocumentTemplate
from banli.replies.tests.helpers import lead_and_co_in_progress

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _docx() -> bytes:
    buf = io.BytesIO()
    doc = Document()
    doc.add_paragraph("用地测算表")
    doc.save(buf)
    return buf.getvalue()


def _with_macros(data: bytes, folder: str, content_type: str) -> bytes:
    """The document as Office saves it macro-enabled: a VBA project part and the macroEnabled main type."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "[Content_Types].xml":
                body = re.sub(rb'ContentType="[^"]*\.main\+xml"', f'ContentType="{content_type}"'.encode(), body, count=1)
            dst.writestr(item, body)
        dst.writestr(f"{folder}/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1Attribute VB_Name = \"Module1\"")
    return out.getvalue()


def docm() -> bytes:
    return _with_macros(_docx(), "word", "application/vnd.ms-word.document.macroEnabled.main+xml")


def xlsm() -> bytes:
    buf = io.BytesIO()
    book = Workbook()
    book.active.append(["项目", "金额"])
    book.save(buf)
    return _with_macros(buf.getvalue(), "xl", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")


def encrypted_docx() -> bytes:
    """A real password-protected .docx (Office wraps it in an encrypted OLE container)."""
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(_docx())).encrypt("机密123", out)
    return out.getvalue()


def renamed_exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"This program cannot be run in DOS mode."


REFUSED = [
    ("测算表.docm", docm, "包含宏"),
    ("测算表.xlsm", xlsm, "包含宏"),
    ("加密答复.docx", encrypted_docx, "加密"),
    ("测算表.pdf", renamed_exe, "不支持的文件类型"),
]


@pytest.fixture
def co_item(world):
    return lead_and_co_in_progress(world)


def _stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(("name", "make", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_dangerous_attachment_is_refused_with_a_chinese_message_and_nothing_is_stored(
        world, client, co_item, settings, name, make, message):
    _, co = co_item
    client.force_login(world.co_handler)
    response = client.post(reverse("replies:co_opinion", args=[co.pk]), {
        "body": "同意主办单位意见。", "attachments": [SimpleUploadedFile("数据表.pdf", PDF), SimpleUploadedFile(name, make())],
    })
    assert response.status_code == 200
    page = response.content.decode()
    assert f"附件「{name}」未上传" in page and message in page
    co.refresh_from_db()
    assert co.state != "opinion_sent"
    assert not CoOpinion.objects.filter(assignment=co).exists() and not CoOpinionAttachment.objects.exists()
    assert _stored_files(settings) == []  # not even the harmless PDF sent with it


@pytest.mark.parametrize(("name", "make", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_dangerous_template_is_refused_and_nothing_is_stored(world, client, settings, name, make, message):
    client.force_login(world.lead_office)
    response = client.post(reverse("replies:templates"), {
        "unit": world.lead_unit.pk, "kind": DocumentKind.PROPOSAL_REPLY, "file": SimpleUploadedFile(name, make()),
    })
    assert response.status_code == 200
    page = response.content.decode()
    assert f"模板文件「{name}」未上传" in page and message in page
    # Said as an alert above the form whose fields are labelled (it was a bare paragraph and bare controls).
    alert = page.split('id="upload-template"', 1)[1].split('role="alert">', 1)[1].split("</div>", 1)[0]
    assert f"模板文件「{name}」未上传" in alert
    assert '<label class="form-label small mb-1" for="tpl-file">' in page
    assert not DocumentTemplate.objects.exists() and _stored_files(settings) == []


def test_a_template_must_be_a_word_document_even_when_the_file_is_a_valid_pdf(world):
    with pytest.raises(services.DomainError, match="只接受：Word"):
        services.document_template_upload(unit=world.lead_unit, kind=DocumentKind.PROPOSAL_REPLY,
                                          file=SimpleUploadedFile("模板.docx", PDF), actor=world.lead_office)


def test_allowed_attachments_are_stored_under_random_names_outside_the_web_root(world, client, co_item, settings):
    _, co = co_item
    client.force_login(world.co_handler)
    client.post(reverse("replies:co_opinion", args=[co.pk]), {
        "body": "同意。", "attachments": [SimpleUploadedFile("../../用地表.pdf", PDF),
                                         SimpleUploadedFile("测算说明.docx", _docx()),
                                         SimpleUploadedFile("照片.exe", PDF)]})
    attachments = list(CoOpinionAttachment.objects.order_by("id"))
    assert [a.name for a in attachments] == ["用地表.pdf", "测算说明.docx", "照片.pdf"]  # the real kind's extension
    for attachment in attachments:
        assert re.fullmatch(r"private/replies/coopinionattachment/[0-9a-f]{32}\.(pdf|docx)", attachment.file.name)
        path = Path(attachment.file.path).resolve()
        assert path.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
        assert not path.is_relative_to(Path(settings.STATIC_ROOT).resolve())
        assert client.get(settings.MEDIA_URL + attachment.file.name).status_code == 404  # no direct URL
        assert client.get(settings.STATIC_URL + attachment.file.name).status_code == 404


def _attachment(world, co_item):
    _, co = co_item
    opinion = services.co_opinion_send(assignment=co, actor=world.co_handler, body="同意。",
                                       attachments=[SimpleUploadedFile("用地表.pdf", PDF)])
    return opinion.attachments.get()


def _assert_download(response, body: bytes, filename: str):
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == body
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(filename)}"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_an_attachment_downloads_only_for_those_who_may_read_the_opinion(world, client, co_item):
    attachment = _attachment(world, co_item)
    url = reverse("replies:co_opinion_attachment", args=[attachment.pk])
    for allowed in (world.co_handler, world.lead_handler, world.office):
        client.force_login(allowed)
        response = client.get(url)
        _assert_download(response, PDF, "用地表.pdf")
        assert response["Content-Type"] == "application/pdf"
    for refused in (world.other_handler, world.other_proposer, world.proposer):
        client.force_login(refused)
        assert client.get(url).status_code == 404
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_file_stored_under_an_old_date_path_still_downloads(world, client, co_item, settings):
    attachment = _attachment(world, co_item)
    old = Path(settings.MEDIA_ROOT) / "coopinions/attachments/2025/用地表.pdf"
    old.parent.mkdir(parents=True)
    old.write_bytes(PDF + b"old")
    CoOpinionAttachment.objects.filter(pk=attachment.pk).update(file="coopinions/attachments/2025/用地表.pdf")
    client.force_login(world.lead_handler)
    _assert_download(client.get(reverse("replies:co_opinion_attachment", args=[attachment.pk])), PDF + b"old",
                     "用地表.pdf")


def test_an_uploaded_template_downloads_only_for_those_who_maintain_it(world, client):
    assign(world, make_proposal(world))  # the office maintains the templates of the units it assigns to
    content = default_template_bytes(DocumentKind.PROPOSAL_REPLY)
    template = services.document_template_upload(unit=world.lead_unit, kind=DocumentKind.PROPOSAL_REPLY,
                                                 actor=world.lead_office, file=ContentFile(content, name="教育局.docx"))
    assert re.fullmatch(r"private/replies/documenttemplate/[0-9a-f]{32}\.docx", template.file.name)
    url = reverse("replies:template_file", args=[template.pk])
    for allowed in (world.lead_office, world.office, world.admin):
        client.force_login(allowed)
        _assert_download(client.get(url), content, f"{template}模板.docx")
    for refused in (world.lead_handler, world.other_office, world.proposer):
        client.force_login(refused)
        assert client.get(url).status_code == 404


def test_a_paper_forms_scan_is_checked_stored_privately_and_shown_only_to_the_office_unit_and_rater(world, client):
    proposal = make_proposal(world)
    lead, _ = assign(world, proposal)
    lead = walk_to(world, lead, "replied")
    with pytest.raises(services.DomainError, match="测评表扫描件「表.pdf」未上传"):
        services.feedback_record_paper(assignment=lead, actor=world.office, proposer=world.co_proposer_record,
                                       attitude="satisfied", result="satisfied",
                                       scanned_form=SimpleUploadedFile("表.pdf", renamed_exe()))
    feedback = services.feedback_record_paper(assignment=lead, actor=world.office, proposer=world.co_proposer_record,
                                              attitude="satisfied", result="satisfied",
                                              scanned_form=SimpleUploadedFile("表.pdf", PDF))
    assert re.fullmatch(r"private/replies/feedback/[0-9a-f]{32}\.pdf", feedback.scanned_form.name)
    url = reverse("replies:feedback_scan", args=[feedback.pk])
    client.force_login(world.office)
    assert url in client.get(reverse("workbench:proposal", args=[proposal.pk])).content.decode()
    for allowed in (world.office, world.lead_handler, world.co_proposer):
        client.force_login(allowed)
        _assert_download(client.get(url), PDF, f"测评表扫描件_{feedback.pk}.pdf")
    for refused in (world.proposer, world.other_handler, world.admin):  # the co-signer's form is his own
        client.force_login(refused)
        assert client.get(url).status_code == 404


def test_a_refused_download_is_a_security_event_even_though_it_answers_404(world, client, co_item):
    attachment = _attachment(world, co_item)
    client.force_login(world.other_handler)
    assert client.get(reverse("replies:co_opinion_attachment", args=[attachment.pk]),
                      REMOTE_ADDR="10.1.1.9").status_code == 404
    event = Event.objects.filter(verb="security.denied", actor=world.other_handler).get()
    assert event.client_ip == "10.1.1.9" and event.payload["co_opinion"] == attachment.opinion_id
    assert event.payload["path"] == reverse("replies:co_opinion_attachment", args=[attachment.pk])


def test_downloads_of_attachments_are_rate_limited(world, client, co_item, settings, still_clock):
    attachment = _attachment(world, co_item)
    settings.BANLI_RATE_EXPORT = "3/m"
    cache.clear()
    client.force_login(world.lead_handler)
    url = reverse("replies:co_opinion_attachment", args=[attachment.pk])
    assert [client.get(url).status_code for _ in range(5)] == [200, 200, 200, 429, 429]
