"""Read an uploaded .xlsx or .csv into a table of text cells, refusing what would import badly.

Refused, with the row and column named: formulas, merged cells, hidden sheets, blank rows between data rows,
too many rows, over-long cells. Nothing is guessed: the office fixes the file and uploads it again.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from xml.etree import ElementTree

from banli.exchange.files import (
    MAX_CELL_CHARS,
    MAX_ROWS,
    ImportFileError,
    cell_name,
    decode_text,
    open_office_zip,
)


@dataclass
class Table:
    """The header row and the data rows of one sheet, every cell as stripped text."""

    headers: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (row number in the file, cells)
    sheet: str = ""


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def _xlsx_text(value) -> str:
    """A cell's text with the file format's character escapes undone: Excel writes a carriage return typed in a
    cell as ``_x000D_`` (OOXML's _xHHHH_ escape), which openpyxl leaves in the text; line breaks become \n."""
    if isinstance(value, str) and "_x" in value:
        from openpyxl.utils.escape import unescape  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written

        value = unescape(value).replace("\r\n", "\n").replace("\r", "\n")
    return _text(value)


_MERGE = re.compile(rb'<mergeCell\s+ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')


def _sheet_paths(archive) -> dict[str, str]:
    """Sheet name → path of its XML part, from the workbook and its relationships."""
    workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    targets = dict(re.findall(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
    targets.update({k: v for v, k in re.findall(r'<Relationship[^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)})
    result = {}
    for name, rid in re.findall(r'<sheet[^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', workbook):
        target = targets.get(rid, "")
        result[name] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return result


def _finish(headers_row: tuple[int, list[str]] | None, rows: list[tuple[int, list[str]]], sheet: str,
            filename: str) -> Table:
    if headers_row is None:
        raise ImportFileError(f"「{filename}」中没有数据，请检查是否选错了文件。")
    # Trailing blank rows are harmless; a blank row between data rows often means a list pasted in two parts.
    while rows and not any(rows[-1][1]):
        rows.pop()
    previous = headers_row[0]
    for number, cells in rows:
        if number > previous + 1:  # rows absent from the file are blank rows too
            number, cells = previous + 1, []
        previous = number
        if not any(cells):
            raise ImportFileError(
                f"「{filename}」第{number}行是空行，空行之后的数据可能是另一份清单；请删除空行（或把清单分开）后再导入。"
            )
    if not rows:
        raise ImportFileError(f"「{filename}」只有表头（第{headers_row[0]}行），没有数据行。")
    header_number, headers = headers_row
    seen = {}
    for column, name in enumerate(headers, start=1):
        if name and name in seen:
            raise ImportFileError(
                f"{cell_name(header_number, column)}的表头「{name}」与{cell_name(header_number, seen[name])}重复，请修改表头。"
            )
        seen[name] = column
    width = len(headers)
    padded = [(n, (cells + [""] * width)[:width]) for n, cells in rows]
    for number, cells in rows:
        for column in range(width + 1, len(cells) + 1):
            if cells[column - 1]:
                raise ImportFileError(f"{cell_name(number, column)}有内容但没有表头，请补上表头或删除该列。")
    return Table(headers=headers, rows=padded, sheet=sheet)


def read_xlsx(data: bytes, filename: str = "清单.xlsx") -> Table:
    """The first sheet of an .xlsx as a Table."""
    from openpyxl import load_workbook  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written

    archive = open_office_zip(data, filename, expect="xlsx")
    paths = _sheet_paths(archive)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ImportFileError(f"「{filename}」无法读取（{type(exc).__name__}），请用 Excel 打开后重新保存为 .xlsx 再上传。") from exc
    try:
        hidden = [ws.title for ws in workbook.worksheets if ws.sheet_state != "visible"]
        if hidden:
            raise ImportFileError(
                f"「{filename}」含有隐藏的工作表「{'」「'.join(hidden)}」，为免漏导或误导，请删除或取消隐藏后再导入。"
            )
        ws = workbook.worksheets[0]
        part = paths.get(ws.title)
        if part and part in archive.namelist():
            match = _MERGE.search(archive.read(part))
            if match:
                ref = match.group(1).decode()
                from openpyxl.utils.cell import (  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written
                    column_index_from_string,
                    coordinate_from_string,
                )

                col, row = coordinate_from_string(ref.split(":")[0])
                raise ImportFileError(
                    f"工作表「{ws.title}」{cell_name(row, column_index_from_string(col))}起有合并单元格（{ref}），"
                    "请取消合并，并在每一行填写完整后再导入。"
                )
        if ws.max_row and ws.max_row > MAX_ROWS + 1:
            raise ImportFileError(
                f"工作表「{ws.title}」共有 {ws.max_row} 行，超过单次导入上限 {MAX_ROWS} 行，请分批导入。"
            )
        headers_row = None
        rows: list[tuple[int, list[str]]] = []
        for row in ws.iter_rows():
            cells = []
            number = None
            for cell in row:
                if getattr(cell, "row", None) is None:
                    cells.append("")
                    continue
                number = cell.row
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=") and cell.data_type == "f"):
                    raise ImportFileError(
                        f"工作表「{ws.title}」{cell_name(cell.row, cell.column)}是公式（{str(cell.value)[:40]}），"
                        "请复制后“选择性粘贴为数值”再导入。"
                    )
                text = _xlsx_text(cell.value)
                if len(text) > MAX_CELL_CHARS:
                    raise ImportFileError(
                        f"工作表「{ws.title}」{cell_name(cell.row, cell.column)}内容过长（{len(text):,} 字），"
                        f"每个单元格最多 {MAX_CELL_CHARS:,} 字；提案正文请改用 Word 文件导入。"
                    )
                cells.append(text)
            while cells and not cells[-1]:
                cells.pop()
            if number is None:
                continue
            if headers_row is None:
                if any(cells):
                    headers_row = (number, cells)
                continue
            rows.append((number, cells))
            if len(rows) > MAX_ROWS:
                raise ImportFileError(f"工作表「{ws.title}」数据超过单次导入上限 {MAX_ROWS} 行，请分批导入。")
        return _finish(headers_row, rows, ws.title, filename)
    except ImportFileError:
        raise
    except ElementTree.ParseError as exc:
        # The sheet is read lazily: a part that is not well-formed XML (an undefined entity &x;, a cut-off
        # tag) only shows here, while the rows are read.
        raise ImportFileError(
            f"「{filename}」的工作表内容不是有效的 Excel 格式（{str(exc)[:80]}），可能已损坏或被改动；"
            "请用 Excel 或 WPS 打开后另存为新的 .xlsx 再上传。"
        ) from exc
    finally:
        workbook.close()


def read_csv(data: bytes, filename: str = "清单.csv") -> Table:
    """A CSV list as a Table (UTF-8 or GB18030; commas, or tabs when the file uses them)."""
    text = decode_text(data, filename)
    dialect = "excel-tab" if text.split("\n", 1)[0].count("\t") > text.split("\n", 1)[0].count(",") else "excel"
    headers_row = None
    rows: list[tuple[int, list[str]]] = []
    try:
        reader = csv.reader(io.StringIO(text), dialect=dialect)
        for number, raw in enumerate(reader, start=1):
            cells = [c.strip() for c in raw]
            for column, value in enumerate(cells, start=1):
                if len(value) > MAX_CELL_CHARS:
                    raise ImportFileError(f"{cell_name(number, column)}内容过长（{len(value):,} 字），每格最多 {MAX_CELL_CHARS:,} 字。")
                if value.startswith("=") and len(value) > 1:
                    raise ImportFileError(f"{cell_name(number, column)}是公式（{value[:40]}），请改为数值后再导入。")
            while cells and not cells[-1]:
                cells.pop()
            if headers_row is None:
                if any(cells):
                    headers_row = (number, cells)
                continue
            rows.append((number, cells))
            if len(rows) > MAX_ROWS:
                raise ImportFileError(f"「{filename}」数据超过单次导入上限 {MAX_ROWS} 行，请分批导入。")
    except csv.Error as exc:
        raise ImportFileError(f"「{filename}」第{reader.line_num}行格式有误（{exc}），请检查引号是否成对。") from exc
    return _finish(headers_row, rows, "", filename)


def read_table(data: bytes, filename: str) -> Table:
    """Dispatch on the file name; anything but .xlsx and .csv is refused."""
    lower = (filename or "").lower()
    if lower.endswith(".xlsx"):
        return read_xlsx(data, filename)
    if lower.endswith(".csv") or lower.endswith(".txt"):
        return read_csv(data, filename)
    if lower.endswith((".xls", ".xlsm", ".et", ".ods")):
        raise ImportFileError(f"「{filename}」不是 .xlsx 文件，请在 Excel 中另存为“Excel 工作簿（.xlsx）”后再上传。")
    raise ImportFileError(f"不支持「{filename}」这种文件，请上传 Excel 工作簿（.xlsx）或 CSV 文件。")
