"""Proposal bodies from Word files, and the assignment notices per unit."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from docx import Document
from openpyxl import load_workbook

from banli.core.testing import PASSWORD, assign, make_proposal
from banli.exchange import services
from banli.exchange.models import ImportBatch
from banli.exchange.tests.conftest import docx_bytes
from banli.handling.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(world):
    a = make_proposal(world, number="20250001", title="关于增加学位的提案")
    b = make_proposal(world, number="20250002", title="关于社区医院的提案")
    c = make_proposal(world, number="20250003", title="关于加装电梯的提案")
    assign(world, a)
    return a, b, c


def bodies(world, files, dry_run=False):
    return services.import_bodies(actor=world.office, session=world.session, files=files, dry_run=dry_run)


def test_one_word_file_per_proposal_is_matched_by_the_number_in_its_name_or_first_lines(world, items):
    a, b, c = items
    files = [
        ("第20250001号 关于增加学位的提案.docx", docx_bytes(["关于增加学位的提案", "一、扩建学校。", "二、增加教师。"])),
        ("社区医院.docx", docx_bytes(["第20250002号", "关于社区医院的提案", "建议在每个街道建社区医院。"])),
    ]
    plan, written = bodies(world, files, dry_run=True)
    assert written is None and [p.number for p, _, _ in plan.updates] == ["20250001", "20250002"]
    plan, written = bodies(world, files)
    assert written == 2
    a.refresh_from_db(), b.refresh_from_db()
    assert a.body == "一、扩建学校。\n二、增加教师。"
    assert b.body == "建议在每个街道建社区医院。"
    assert Event.objects.filter(verb="proposal_update").count() == 2
    plan, written = bodies(world, files)
    assert written == 0 and plan.unchanged == ["20250001", "20250002"]
    assert Event.objects.filter(verb="proposal_update").count() == 2


def test_one_word_file_holding_many_proposals_is_split_at_each_number(world, items):
    a, b, c = items
    data = docx_bytes([
        "区政协提案汇编", "第20250001号", "关于增加学位的提案", "学位不足。", "建议扩建。",
        "第20250003号", "关于加装电梯的提案", "老旧小区没有电梯。",
    ])
    plan, written = bodies(world, [("汇编.docx", data)])
    assert written == 2, plan.errors
    a.refresh_from_db(), c.refresh_from_db()
    assert a.body == "学位不足。\n建议扩建。" and c.body == "老旧小区没有电梯。"


def test_a_word_file_without_a_known_number_is_an_error_and_nothing_is_written(world, items):
    files = [("第20250001号.docx", docx_bytes(["正文一"])), ("杂项.docx", docx_bytes(["没有编号的内容"]))]
    plan, written = bodies(world, files)
    assert written is None
    assert plan.errors == ["「杂项.docx」的文件名和开头几行中都找不到本届次已登记的编号，请在文件名中写明编号（如“第20250001号.docx”）。"]
    assert items[0].__class__.objects.get(pk=items[0].pk).body == "一、扩建学校。二、新建幼儿园。"


def test_the_bodies_page_previews_then_imports(world, items, client):
    client.login(username="office", password=PASSWORD)
    response = client.post("/exchange/bodies/", {"session": world.session.pk, "kind": "proposal",
                                                  "files": [SimpleUploadedFile("第20250002号.docx", docx_bytes(["新正文"]))]})
    html = response.content.decode()
    assert response.status_code == 200 and "确认导入 1 件正文" in html

    batch = ImportBatch.objects.get(kind="bodies")
    client.post("/exchange/bodies/", {"session": world.session.pk, "kind": "proposal", "confirm": "1", "batch": batch.pk})
    items[1].refresh_from_db()
    assert items[1].body == "新正文"


def test_the_assignment_notice_of_each_unit_prints_as_docx_and_xlsx(world, items, client):
    client.login(username="office", password=PASSWORD)
    page = client.get(f"/exchange/notices/{world.session.pk}/").content.decode()
    assert "区教育局" in page and "区住房和建设局" in page
    response = client.get(f"/exchange/notices/{world.session.pk}/{world.lead_unit.pk}.docx")
    assert response.status_code == 200
    doc = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "区教育局：" in text and "主办1件" in text
    assert doc.tables[0].rows[1].cells[2].text == "关于增加学位的提案"
    response = client.get(f"/exchange/notices/{world.session.pk}/{world.co_unit.pk}.xlsx")
    ws = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in ws[2]][:4] == ["序号", "编号", "案由", "办理方式"]
    assert [c.value for c in ws[3]][1:4] == ["20250001", "关于增加学位的提案", "会办"]
    client.logout()
    client.login(username="edu_office", password=PASSWORD)
    assert client.get(f"/exchange/notices/{world.session.pk}/{world.lead_unit.pk}.docx").status_code == 404
