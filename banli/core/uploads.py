"""Uploaded files: checked by content against an allow-list, size-limited, stored under random names outside
the web root, and served only through permission-checked views as attachments.
"""
from __future__ import annotations

import datetime as dt
import os
import uuid
import zipfile
import zlib
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.http import FileResponse, Http404
from django.utils.encoding import escape_uri_path

from banli.core.errors import DomainError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office and encrypted OOXML containers


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    content_type: str
    extension: str


KINDS = {
    "pdf": Kind("pdf", "PDF 文件", "application/pdf", ".pdf"),
    "docx": Kind("docx", "Word 文档（.docx）", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xlsx": Kind("xlsx", "Excel 表格（.xlsx）", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "png": Kind("png", "PNG 图片", "image/png", ".png"),
    "jpeg": Kind("jpeg", "JPEG 图片", "image/jpeg", ".jpg"),
}
DEFAULT_ALLOWED = ("pdf", "docx", "xlsx", "png", "jpeg")
MAX_ZIP_ENTRIES = 2000
MAX_ZIP_UNCOMPRESSED = 200 * 1024 * 1024
# Parts that carry VBA or Excel 4 (XLM) macros in a .docm/.xlsm, whatever the file is called.
MACRO_PARTS = ("vbaproject.bin", "vbadata.xml")


def _ooxml_kind(head: bytes, data_file) -> str:
    data_file.seek(0)
    try:
        with zipfile.ZipFile(data_file) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_ZIP_UNCOMPRESSED:
                raise DomainError("文件解压后过大或包含的条目过多，疑似压缩炸弹，已拒绝。")
            names = {i.filename for i in infos}
            content_types = b""
            if "[Content_Types].xml" in names and archive.getinfo("[Content_Types].xml").file_size < 1024 * 1024:
                content_types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise DomainError("文件已损坏，无法打开，请重新保存后再上传。") from exc
    if "[Content_Types].xml" not in names:
        raise DomainError("不支持的文件类型：压缩包不是 Word/Excel 文档。")
    lowered = {n.lower() for n in names}
    if (b"macroenabled" in content_types.lower() or any(n.endswith(MACRO_PARTS) or "/macrosheets/" in n for n in lowered)):
        raise DomainError("文件包含宏，出于安全原因不能上传。请另存为不含宏的 .docx / .xlsx 后再上传。")
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    raise DomainError("不支持的 Office 文件类型，请上传 .docx 或 .xlsx。")


def sniff(data_file) -> str | None:
    """The file's kind from its first bytes (never from its name); None for anything else."""
    data_file.seek(0)
    head = data_file.read(16)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(OLE_MAGIC):
        raise DomainError("文件是加密的或旧版（.doc/.xls）Office 文件，不能上传。请取消密码并另存为 .docx / .xlsx。")
    if head.startswith(b"PK\x03\x04"):
        return _ooxml_kind(head, data_file)
    return None


def _size(uploaded) -> int:
    size = getattr(uploaded, "size", None)
    if size is None:  # a plain file object (services called from code and tests)
        uploaded.seek(0, os.SEEK_END)
        size = uploaded.tell()
        uploaded.seek(0)
    return size


def validate_upload(uploaded, *, allowed=DEFAULT_ALLOWED, max_bytes: int | None = None) -> Kind:
    """Check size and content of an uploaded file; a DomainError says what to fix."""
    limit = max_bytes or settings.BANLI_UPLOAD_MAX_BYTES
    if uploaded is None:
        raise DomainError("请选择要上传的文件。")
    size = _size(uploaded)
    if size > limit:
        raise DomainError(f"文件过大（{size / 1048576:.1f} MB），上限为 {limit / 1048576:.0f} MB。")
    if size == 0:
        raise DomainError("文件是空的，请检查后重新上传。")
    key = sniff(uploaded)
    uploaded.seek(0)
    names = "、".join(KINDS[k].label for k in allowed)
    if key is None:
        raise DomainError(f"不支持的文件类型（按文件内容判断，与扩展名无关）。这里只接受：{names}。")
    if key not in allowed:
        raise DomainError(f"这里只接受：{names}；所选文件是{KINDS[key].label}。")
    return KINDS[key]


def random_name(instance, filename: str) -> str:
    """upload_to: a random name under the model's folder; the original name is kept elsewhere if needed.

    Only the extension survives, and callers pass the one of the sniffed kind, never the uploader's.
    """
    folder = f"{instance._meta.app_label}/{instance._meta.model_name}"
    ext = os.path.splitext(filename)[1].lower()[:10]
    if not ext[1:].isalnum():
        ext = ""
    return f"private/{folder}/{uuid.uuid4().hex}{ext}"


def offered_name(original: str, kind: Kind) -> str:
    """The name a download is offered under: the uploader's name (no folders) with the extension of its real kind."""
    base = os.path.basename((original or "").replace("\\", "/")).strip() or "附件"
    stem = os.path.splitext(base)[0] or "附件"
    return f"{stem[:150]}{kind.extension}"


def content_type_for(name: str) -> str:
    """The content type of a stored file from the extension it was stored under (set from its sniffed kind)."""
    ext = os.path.splitext(name or "")[1].lower()
    for kind in KINDS.values():
        if ext == kind.extension or (kind.key == "jpeg" and ext == ".jpeg"):
            return kind.content_type
    return "application/octet-stream"


def store(fieldfile, uploaded, kind: Kind) -> None:
    """Save a checked upload under a random name with its real kind's extension (the instance is not saved)."""
    uploaded.seek(0)
    fieldfile.save(f"upload{kind.extension}", uploaded, save=False)


def attachment_response(fieldfile, download_name: str, content_type: str | None = None) -> FileResponse:
    """Serve a stored file as a download: attachment disposition, no sniffing, no caching by proxies."""
    if not fieldfile:
        raise Http404("文件不存在。")
    try:
        fieldfile.open("rb")
    except FileNotFoundError as exc:
        raise Http404("文件不存在或已被移除。") from exc
    response = FileResponse(fieldfile, as_attachment=True, filename=download_name,
                            content_type=content_type or content_type_for(fieldfile.name))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{escape_uri_path(download_name)}"
    return response


def bytes_upload(data: bytes, name: str = "file"):
    """An in-memory upload for services and tests."""
    return SimpleUploadedFile(name, data)




# --- orphans -------------------------------------------------------------------------------------

PRIVATE_DIR = "private"


def referenced_names() -> set[str]:
    """Every stored name a FileField of any model points at (the files that must stay)."""
    names: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                rows = model._default_manager.exclude(**{field.name: ""}).values_list(field.name, flat=True)
                names.update(name for name in rows.iterator(chunk_size=5000) if name)
    return names


def sweep_orphans(*, older_than: dt.timedelta = dt.timedelta(hours=24), now: dt.datetime | None = None,
                  dry_run: bool = False) -> dict:
    """Remove stored files no row points at: left by a transaction that rolled back after its file was
    written (the row is gone, the file is not) or by a crash. Only files older than `older_than` go, so
    a file whose transaction is still open is never touched."""
    root = os.path.join(settings.MEDIA_ROOT, PRIVATE_DIR)
    cutoff = (now or dt.datetime.now(dt.timezone.utc)).timestamp() - older_than.total_seconds()
    keep = referenced_names()
    result = {"checked": 0, "removed": 0, "bytes": 0, "dry_run": dry_run}
    for folder, _dirs, files in os.walk(root):
        for filename in files:
            path = os.path.join(folder, filename)
            name = os.path.relpath(path, settings.MEDIA_ROOT).replace(os.sep, "/")
            result["checked"] += 1
            try:
                stat = os.stat(path)
            except FileNotFoundError:
                continue
            if name in keep or stat.st_mtime > cutoff:
                continue
            result["removed"] += 1
            result["bytes"] += stat.st_size
            if not dry_run:
                os.remove(path)
    return result
