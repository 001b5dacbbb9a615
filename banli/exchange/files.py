"""Checks on uploaded files before any parser touches them: size, type, zip bombs, macros, encodings.

Every problem raises ImportFileError with a Chinese message that says what is wrong and what to do.
"""
from __future__ import annotations

import io
import re
import zipfile

from django.conf import settings

from banli.core.errors import DomainError

# A list of a year's proposals is a few thousand rows; more is a mistake (or an attack).
MAX_ROWS = 5000
# Excel itself stores at most 32,767 characters in a cell.
MAX_CELL_CHARS = 32_767
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ImportFileError(DomainError):
    """The file cannot be imported; nothing was written."""


def cell_name(row: int, column: int) -> str:
    from openpyxl.utils import get_column_letter  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written

    return f"第{row}行第{get_column_letter(column)}列"


def check_size(data: bytes, filename: str = "") -> None:
    limit = settings.BANLI_UPLOAD_MAX_BYTES
    if len(data) > limit:
        raise ImportFileError(
            f"文件「{filename}」大小为 {len(data) / 1024 / 1024:.1f} MB，超过上传上限 {limit / 1024 / 1024:.0f} MB，请拆分后再上传。"
        )
    if not data:
        raise ImportFileError(f"文件「{filename}」是空文件。")


def open_office_zip(data: bytes, filename: str, *, expect: str) -> zipfile.ZipFile:
    """Open an .xlsx/.docx container after checking it is one, is not a zip bomb and holds no macros.

    `expect` is "xlsx" or "docx".
    """
    check_size(data, filename)
    word = {"xlsx": "Excel 工作簿（.xlsx）", "docx": "Word 文档（.docx）"}[expect]
    if data.startswith(OLE_MAGIC):
        old = {"xlsx": ".xls", "docx": ".doc"}[expect]
        raise ImportFileError(f"「{filename}」是旧版 {old} 文件或加密文件，请在 Office 中另存为 {word} 后再上传。")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportFileError(f"「{filename}」不是{word}，请检查文件类型（不能只改扩展名）。")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ImportFileError(f"「{filename}」已损坏，无法打开，请重新保存后上传。") from exc
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_UNPACKED_BYTES or (info.file_size > 10 * 1024 * 1024 and ratio > MAX_RATIO):
            raise ImportFileError(
                f"「{filename}」解压后体积异常（{info.filename} 压缩比 {ratio:.0f} 倍），疑似压缩炸弹，已拒绝。"
            )
    names = {info.filename for info in infos}
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise ImportFileError(f"「{filename}」含有宏（VBA），出于安全原因不予接收，请另存为不含宏的{word}后再上传。")
    marker = {"xlsx": "xl/workbook.xml", "docx": "word/document.xml"}[expect]
    if "[Content_Types].xml" not in names or marker not in names:
        raise ImportFileError(f"「{filename}」不是{word}，请检查文件类型。")
    refuse_dtd(archive, filename)
    content_types = archive.read("[Content_Types].xml").decode("utf-8", "replace")
    if "macroEnabled" in content_types:
        raise ImportFileError(f"「{filename}」是启用宏的文件，出于安全原因不予接收，请另存为不含宏的{word}后再上传。")
    return archive


# Office files never carry a document type declaration. One in a part is either a damaged file or an attack: entity
# expansion (billion laughs), external entities reading local files or URLs (XXE). The XML parsers would expand or
# fail on them, so the part is refused before any parser sees it. UTF-16 parts are searched in their encoding too.
_DTD_MARKERS = tuple(marker.encode(encoding) for marker in ("<!DOCTYPE", "<!ENTITY")
                     for encoding in ("utf-8", "utf-16-le", "utf-16-be"))


def refuse_dtd(archive: zipfile.ZipFile, filename: str) -> None:
    """Refuse a container any of whose XML parts declares a DTD or an entity."""
    for info in archive.infolist():
        if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
            continue
        with archive.open(info) as part:
            tail = b""
            for chunk in iter(lambda: part.read(1 << 20), b""):
                window = tail + chunk
                if any(marker in window for marker in _DTD_MARKERS):
                    raise ImportFileError(
                        f"「{filename}」的内部文件 {info.filename} 含有 DTD 或实体声明（<!DOCTYPE/<!ENTITY），"
                        "正常的 Office 文件不会有这些内容，可能是被篡改或恶意构造的文件，已拒绝。"
                        "请用 Excel 或 WPS 打开后另存为新文件再上传。"
                    )
                tail = window[-32:]


_BAD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")


def decode_text(data: bytes, filename: str) -> str:
    """Decode a CSV: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 as saved by Chinese Excel."""
    check_size(data, filename)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        bad = _BAD_CONTROL.search(text)
        if bad is None:
            return text
        line = text.count("\n", 0, bad.start()) + 1
        raise ImportFileError(
            f"「{filename}」第{line}行含有无法识别的字符，文件编码可能不对或不是文本文件；请用 Excel 另存为"
            "“CSV UTF-8（逗号分隔）”或直接上传 .xlsx。"
        )
    # Name the line where UTF-8 decoding first fails: that is where the wrong encoding shows.
    try:
        data.decode("utf-8")
        line = 1
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
    raise ImportFileError(
        f"「{filename}」的文字编码无法识别（第{line}行起出现乱码），请用 Excel 另存为“CSV UTF-8（逗号分隔）”或直接上传 .xlsx。"
    )
