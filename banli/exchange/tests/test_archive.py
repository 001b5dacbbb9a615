"""The archive round trip: archive a session, verify it, tamper one byte, verification names the file."""
import hashlib
import io
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from banli.core.testing import PASSWORD, assign, make_proposal, walk_to
from banli.exchange.archive import MANIFEST, build_archive, verify_archive
from banli.handling import services as handling
from banli.handling.models import Assignment, Event
from banli.replies import services as replies

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_session(world):
    """A session with an item walked to the end (reply versions, ratings, contacts, a commitment, a co-opinion)."""
    first = make_proposal(world, number="20250001")
    lead, co = assign(world, first)
    a = walk_to(world, lead, "in_progress")
    handling.contact_log(assignment=a, actor=world.lead_handler, phase="before", method="phone",
                         contacted_on=timezone.localdate(), people="李委员", summary="电话沟通")
    handling.assignment_sign(assignment=co, actor=world.co_office)
    co.refresh_from_db()
    handling.assignment_assign_section(assignment=co, actor=world.co_office, section=world.co_section)
    co.refresh_from_db()
    replies.co_opinion_send(assignment=co, actor=world.co_handler, body="同意。")
    a.refresh_from_db()
    walk_to_rest = make_proposal(world, number="20250002", title="关于社区医院的提案")
    lead2, _ = assign(world, walk_to_rest, co=False)
    walk_to(world, lead2, "closed")
    replies.commitment_record(assignment=Assignment.objects.get(pk=lead2.pk), actor=world.lead_handler,
                              description="年内完成", target_date=timezone.localdate())
    return world.session


def test_an_archive_holds_every_record_with_an_index_and_a_manifest(demo_session, tmp_path):
    path = tmp_path / "a.zip"
    summary = build_archive(demo_session, path)
    assert summary["proposals"] == 2
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        for name in ("index.xlsx", "session.json", MANIFEST, "提案_20250001/提案.docx", "提案_20250001/事件日志.json",
                     "提案_20250001/沟通记录.xlsx", "提案_20250001/测评.xlsx", "提案_20250001/落实事项.xlsx",
                     "提案_20250001/交办.json"):
            assert name in names, name
        assert any(n.startswith("提案_20250001/会办意见/") for n in names)
        assert any(n.startswith("提案_20250002/答复/区教育局_第1轮_v1_已答复") and n.endswith(".docx") for n in names)
        manifest = z.read(MANIFEST).decode()
        assert f"{hashlib.sha256(z.read('index.xlsx')).hexdigest()}  index.xlsx" in manifest
        assert len(manifest.splitlines()) == len(names) - 1


def test_archiving_never_changes_the_live_data(demo_session, tmp_path):
    before = (Event.objects.count(), list(Assignment.objects.values_list("id", "state", "version", "updated_at")))
    build_archive(demo_session, tmp_path / "a.zip")
    after = (Event.objects.count(), list(Assignment.objects.values_list("id", "state", "version", "updated_at")))
    assert before == after


def _tamper_one_byte(data: bytes, member: str) -> bytes:
    """Flip one byte inside the stored data of `member` (the zip's own CRC then fails too)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(member)
    header = data[info.header_offset:info.header_offset + 30]
    name_len = int.from_bytes(header[26:28], "little")
    extra_len = int.from_bytes(header[28:30], "little")
    at = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def test_round_trip_verify_then_tamper_one_byte_names_the_file(demo_session, tmp_path, capsys):
    path = tmp_path / "归档.zip"
    call_command("archive_session", str(demo_session.pk), "--out", str(path))
    call_command("verify_archive", str(path))
    assert "核验通过" in capsys.readouterr().out
    member = "提案_20250001/事件日志.json"
    path.write_bytes(_tamper_one_byte(path.read_bytes(), member))
    problems = verify_archive(path)
    assert len(problems) == 1 and problems[0].startswith(member)
    with pytest.raises(CommandError, match="事件日志.json"):
        call_command("verify_archive", str(path))


def test_a_member_rewritten_with_a_valid_zip_but_other_content_is_named(demo_session, tmp_path):
    path = tmp_path / "a.zip"
    build_archive(demo_session, path)
    out = tmp_path / "b.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "提案_20250002/提案.json":
                data = data.replace("社区医院".encode(), "社区诊所".encode())
            dst.writestr(item, data)
        dst.writestr("多出来的.txt", b"x")
    assert verify_archive(out) == ["提案_20250002/提案.json：校验值不符，文件已被改动。", "多出来的.txt：不在校验清单中（被添加）。"]


def test_the_office_downloads_the_archive_and_a_unit_cannot(demo_session, world, client):
    client.login(username="office", password=PASSWORD)
    response = client.get(f"/exchange/archive/{demo_session.pk}.zip")
    assert response.status_code == 200
    assert verify_archive(io.BytesIO(b"".join(response.streaming_content))) == []
    client.logout()
    client.login(username="edu_office", password=PASSWORD)
    assert client.get(f"/exchange/archive/{demo_session.pk}.zip").status_code == 404
