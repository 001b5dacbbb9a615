"""Issue 17.8: an .xlsx whose XML declares a DTD or entities (billion laughs, XXE) or uses an undefined entity is
refused with a Chinese message, on the import page and in `manage.py import_assignments`; nothing is written."""
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from banli.core.testing import PASSWORD
from banli.exchange.models import ImportBatch
from banli.exchange.tests.conftest import LIST_ROWS, xlsx_bytes
from banli.handling.models import Assignment
from banli.proposals.models import Proposal

pytestmark = pytest.mark.django_db

SHEET = "xl/worksheets/sheet1.xml"
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _rewrite(data: bytes, member: str, change) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            target.writestr(info.filename, change(body) if info.filename == member else body)
    return out.getvalue()


def _with(prolog: bytes, reference: bytes, member: str = SHEET, encoding: str = "utf-8") -> bytes:
    def change(body):
        body = body.split(b"?>", 1)[1] if body.startswith(b"<?xml") else body
        text = (prolog + body.replace(b"<t>", b"<t>" + reference, 1)).decode("utf-8")
        if encoding != "utf-8":
            text = text.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')
        return text.encode(encoding)

    return _rewrite(xlsx_bytes(LIST_ROWS), member, change)


EVIL = {
    "billion_laughs": (_with(BILLION_LAUGHS, b"&lol3;"), "DTD 或实体声明"),
    "xxe": (_with(XXE, b"&xxe;"), "DTD 或实体声明"),
    "xxe_utf16": (_with(XXE, b"&xxe;", encoding="utf-16"), "DTD 或实体声明"),
    "doctype_in_workbook": (_with(b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "b">]>', b"", "xl/workbook.xml"),
                            "DTD 或实体声明"),
    "undefined_entity": (_with(b"", b"&nowhere;"), "不是有效的 Excel 格式"),
}


@pytest.mark.parametrize("name", EVIL)
def test_the_import_page_refuses_the_file_with_a_message(world, client, name):
    data, expected = EVIL[name]
    client.login(username=world.office.username, password=PASSWORD)
    response = client.post("/exchange/import/", {"session": world.session.pk, "kind": "proposal",
                                                 "file": SimpleUploadedFile(f"{name}.xlsx", data)})
    assert response.status_code == 400
    html = response.content.decode()
    assert expected in html and "另存为" in html
    assert "lollol" not in html and "root:" not in html
    assert ImportBatch.objects.count() == 0 and Proposal.objects.count() == 0 and Assignment.objects.count() == 0


@pytest.mark.parametrize("name", EVIL)
def test_the_import_command_refuses_the_file_without_a_traceback(world, tmp_path, name):
    data, expected = EVIL[name]
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(data)
    with pytest.raises(CommandError) as caught:
        call_command("import_assignments", str(path), "--session", str(world.session.pk), "--actor", "office",
                     "--apply")
    assert expected in str(caught.value)
    assert Proposal.objects.count() == 0 and Assignment.objects.count() == 0
