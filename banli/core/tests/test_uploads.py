"""Uploads are checked by content, not by name; macros, encrypted files and zip bombs are refused."""
import io
import zipfile

import pytest
from docx import Document
from openpyxl import Workbook

from banli.core.errors import DomainError
from banli.core.uploads import bytes_upload, validate_upload


def _docx_bytes():
    buf = io.BytesIO()
    doc = Document()
    doc.add_paragraph("答复")
    doc.save(buf)
    return buf.getvalue()


def _xlsx_bytes():
    buf = io.BytesIO()
    Workbook().save(buf)
    return buf.getvalue()


def _with_macro(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("word/vbaProject.bin", b"\x00macro")
    return out.getvalue()


def test_real_documents_pass_whatever_their_name(settings):
    assert validate_upload(bytes_upload(_docx_bytes(), "答复.pdf")).key == "docx"
    assert validate_upload(bytes_upload(_xlsx_bytes(), "list.bin")).key == "xlsx"
    assert validate_upload(bytes_upload(b"%PDF-1.7\n...", "x.docx")).key == "pdf"


def test_an_executable_renamed_to_docx_is_refused():
    with pytest.raises(DomainError, match="不支持的文件类型"):
        validate_upload(bytes_upload(b"MZ\x90\x00" + b"\x00" * 100, "答复.docx"))


def test_a_document_with_macros_is_refused_with_a_clear_message():
    with pytest.raises(DomainError, match="包含宏"):
        validate_upload(bytes_upload(_with_macro(_docx_bytes()), "答复.docx"))


def test_an_encrypted_or_legacy_office_file_is_refused():
    with pytest.raises(DomainError, match="加密的或旧版"):
        validate_upload(bytes_upload(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "答复.docx"))


def test_a_zip_bomb_is_refused_before_it_is_expanded():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<x/>")
        z.writestr("word/document.xml", b"0" * (250 * 1024 * 1024))
    with pytest.raises(DomainError, match="压缩炸弹"):
        validate_upload(bytes_upload(out.getvalue(), "bomb.docx"))


def test_size_limit_and_allow_list_are_enforced(settings):
    settings.BANLI_UPLOAD_MAX_BYTES = 1024
    with pytest.raises(DomainError, match="文件过大"):
        validate_upload(bytes_upload(b"%PDF-" + b"0" * 2000, "big.pdf"))
    with pytest.raises(DomainError, match="只接受：Word"):
        validate_upload(bytes_upload(b"%PDF-1.4", "x.pdf"), allowed=("docx",))
