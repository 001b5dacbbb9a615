"""Files built in the tests with openpyxl / python-docx, as offices send them."""
import io

import pytest
from docx import Document
from openpyxl import Workbook

HEADERS = ["序号", "编号", "案由", "提案人", "类别", "主办单位", "会办单位", "分办单位", "是否重点"]


def xlsx_bytes(rows, headers=HEADERS, *, setup=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "交办清单"
    ws.append(headers)
    for row in rows:
        ws.append(row)
    if setup:
        setup(wb, ws)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def docx_bytes(paragraphs) -> bytes:
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


LIST_ROWS = [
    [1, "20250001", "关于增加学位供给的提案", "李委员、吴委员", "教育", "区教育局", "区住房和建设局", "", "是"],
    [2, "20250002", "关于社区医院建设的提案", "何委员", "卫生", "区卫生健康局", "", "", "否"],
    [3, "20250003", "关于老旧小区加装电梯的提案", "李委员", "城建", "", "区教育局", "区住房和建设局、区卫生健康局", ""],
]


@pytest.fixture
def list_file():
    return xlsx_bytes(LIST_ROWS)
