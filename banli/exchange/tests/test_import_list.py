"""Importing an assignment list: columns, dry run, all-or-nothing import through the services, re-import."""
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from banli.core.errors import DomainError, PermissionDenied
from banli.core.testing import PASSWORD
from banli.exchange import importer, services
from banli.exchange.tables import read_table
from banli.exchange.tests.conftest import HEADERS, LIST_ROWS, xlsx_bytes
from banli.handling import services as handling
from banli.handling.models import Assignment, Event
from banli.organizations.services import unit_add_alias
from banli.proposals.models import Proposal

pytestmark = pytest.mark.django_db


def run(world, data, *, dry_run=False, answers=None, filename="清单.xlsx"):
    return services.import_list(actor=world.office, session=world.session, filename=filename, data=data,
                                dry_run=dry_run, answers=answers)


def _live(proposal):
    return sorted((a.unit.name, a.role) for a in proposal.assignments.exclude(state="withdrawn").select_related("unit"))


def test_the_dry_run_shows_every_change_and_writes_nothing(world, list_file):
    events = Event.objects.count()
    plan, counts = run(world, list_file, dry_run=True)
    assert counts is None and plan.ok
    assert plan.counts() == {"register": 3, "assign": 6}
    texts = [c.text for c in plan.changes]
    assert "登记第20250001号「关于增加学位供给的提案」（李委员、吴委员）" in texts
    assert "第20250003号交办「区住房和建设局」分办" in texts
    assert Proposal.objects.count() == 0 and Event.objects.count() == events


def test_the_import_registers_and_assigns_through_the_services_with_events(world, list_file):
    plan, counts = run(world, list_file)
    assert counts == {"register": 3, "assign": 6}
    p1 = Proposal.objects.get(number="20250001")
    assert p1.is_key and p1.category == "教育" and p1.status == "assigned"
    assert [link.proposer.name for link in p1.proposer_links.all()] == ["李委员", "吴委员"]
    assert _live(p1) == [("区住房和建设局", "co"), ("区教育局", "lead")]
    assert _live(Proposal.objects.get(number="20250003")) == [
        ("区住房和建设局", "split"), ("区卫生健康局", "split"), ("区教育局", "co")]
    assert Event.objects.filter(verb="register").count() == 3
    assert Event.objects.filter(verb="assign").count() == 6
    assert Event.objects.filter(verb="import_list").count() == 1
    assert all(a.reply_due for a in Assignment.objects.all())


def test_importing_the_same_file_again_changes_nothing(world, list_file):
    run(world, list_file)
    events = Event.objects.count()
    plan, counts = run(world, list_file)
    assert plan.changes == [] and counts == {}
    assert Event.objects.filter(verb__in=["register", "assign", "proposal_update", "withdraw"]).count() == 9
    assert Event.objects.count() == events + 1  # only the import_list record itself


def test_a_corrected_file_updates_only_what_changed(world, list_file):
    run(world, list_file)
    rows = [list(r) for r in LIST_ROWS]
    rows[0][2] = "关于增加中小学学位供给的提案"  # title corrected
    rows[0][6] = "区卫生健康局"  # co unit corrected
    rows[1][8] = "是"  # now a key item
    before = {a.pk for a in Assignment.objects.all()}
    plan, counts = run(world, xlsx_bytes(rows))
    assert counts == {"update": 2, "withdraw": 1, "assign": 1}, [c.text for c in plan.changes]
    p1 = Proposal.objects.get(number="20250001")
    assert p1.title == "关于增加中小学学位供给的提案"
    assert _live(p1) == [("区卫生健康局", "co"), ("区教育局", "lead")]
    assert Proposal.objects.get(number="20250002").is_key
    assert Assignment.objects.filter(pk__in=before, state="withdrawn").count() == 1
    assert Event.objects.filter(verb="proposal_update").count() == 2
    assert run(world, xlsx_bytes(rows))[0].changes == []


def test_a_signed_assignment_is_not_withdrawn_by_a_corrected_file(world, list_file):
    run(world, list_file)
    co = Assignment.objects.get(proposal__number="20250001", role="co")
    handling.assignment_sign(assignment=co, actor=world.co_office)
    rows = [list(r) for r in LIST_ROWS]
    rows[0][6] = ""
    plan, counts = run(world, xlsx_bytes(rows))
    assert counts == {}
    assert any("已签收" in w for w in plan.warnings)


def test_unit_names_match_across_full_width_punctuation_and_aliases(world):
    rows = [
        [1, "20250011", "甲", "李委员", "", "区教育局　", "区住房和建设局（）", "", ""],
        [2, "20250012", "乙", "李委员", "", "教育局", "", "", ""],  # a registered alias of 区教育局
        [3, "20250013", "丙", "李委员", "", "ＱＵ卫生健康局".replace("ＱＵ", "区"), "", "", ""],
    ]
    plan, counts = run(world, xlsx_bytes(rows))
    assert plan.ok, (plan.errors, plan.questions)
    assert counts == {"register": 3, "assign": 4}


def test_an_unsure_unit_name_is_asked_and_the_answer_can_be_remembered_as_an_alias(world):
    rows = [[1, "20250021", "甲", "李委员", "", "龙岗区教育局", "", "", ""]]
    plan, counts = run(world, xlsx_bytes(rows))
    assert counts is None and not plan.errors
    [question] = plan.questions
    assert question.name == "龙岗区教育局" and question.rows == [2]
    assert question.candidates == [(world.lead_unit.pk, "区教育局")]
    assert Proposal.objects.count() == 0
    plan, counts = run(world, xlsx_bytes(rows), answers={"龙岗区教育局": world.lead_unit.pk})
    assert counts == {"register": 1, "assign": 1}

    unit_add_alias(unit=world.lead_unit, alias="龙岗区教育局", actor=world.office)
    rows2 = [[1, "20250022", "乙", "李委员", "", "龙岗区教育局", "", "", ""]]
    assert run(world, xlsx_bytes(rows2), dry_run=True)[0].ok


def test_an_unknown_unit_is_an_error_naming_the_row_and_nothing_is_written(world):
    rows = [LIST_ROWS[0], [2, "20250002", "乙", "李委员", "", "区外星局", "", "", ""]]
    plan, counts = run(world, xlsx_bytes(rows))
    assert counts is None
    assert plan.errors == ["第3行的单位「区外星局」在单位库中找不到，请改正名称，或先在单位管理中添加该单位（也可为现有单位登记别名）。"]
    assert Proposal.objects.count() == 0


def test_bad_cells_are_named_by_row_and_column(world):
    rows = [
        [1, "", "甲", "李委员", "", "区教育局", "", "", ""],
        [2, "20250002", "", "李委员", "", "区教育局", "", "", "也许"],
        [3, "20250003", "丙", "", "", "区教育局、区卫生健康局", "", "", ""],
        [4, "20250003", "丁", "何委员", "", "", "", "", ""],
    ]
    plan, _ = run(world, xlsx_bytes(rows))
    assert "第2行第B列（编号）为空，请填写编号。" in plan.errors
    assert "第3行第C列（案由）为空，请填写案由。" in plan.errors
    assert "第3行第I列（是否重点）「也许」应为“是”或“否”。" in plan.errors
    assert "第4行第D列（提案人）为空，请至少填写领衔人。" in plan.errors
    assert any(e.startswith("第4行第F列（主办单位）有 2 个单位") for e in plan.errors)
    assert "第5行编号「20250003」与第4行重复。" in plan.errors
    assert Proposal.objects.count() == 0


def test_a_refusal_by_a_service_rolls_back_the_whole_import(world, list_file, monkeypatch):
    real = handling.assignment_create_many
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the second chunk, after the first one was written
            raise DomainError("单位「区卫生健康局」已停用，不能交办。")
        return real(**kwargs)

    monkeypatch.setattr(importer, "CHUNK_ROWS", 1)
    monkeypatch.setattr(handling, "assignment_create_many", flaky)
    events = Event.objects.count()
    with pytest.raises(importer.ImportFileError, match="本次导入未写入任何数据"):
        run(world, list_file)
    assert Proposal.objects.count() == 0 and Assignment.objects.count() == 0 and Event.objects.count() == events


def test_columns_are_guessed_from_other_wordings_and_a_mapping_is_remembered_by_header(world):
    headers = ["提案号", "题目", "领衔人", "主办", "协办", "备注"]
    data = xlsx_bytes([["20250031", "甲", "李委员", "区教育局", "", "x"]], headers=headers)
    table = read_table(data, "a.xlsx")
    assert importer.guess_mapping(table.headers) == {
        "number": "提案号", "title": "题目", "proposers": "领衔人", "lead_units": "主办", "co_units": "协办"}
    batch = services.batch_create(actor=world.office, session=world.session, filename="a.xlsx", data=data)
    services.batch_set_mapping(batch=batch, actor=world.office,
                               mapping={"number": "提案号", "title": "备注", "proposers": "领衔人", "lead_units": "主办"})
    assert importer.mapping_for(headers)["title"] == "备注"
    again = services.batch_create(actor=world.office, session=world.session, filename="b.xlsx", data=data)
    assert again.mapping["title"] == "备注"


def test_only_the_sessions_assigning_office_may_import(world, list_file):
    for user in (world.lead_office, world.admin, world.proposer):
        with pytest.raises(PermissionDenied):
            services.import_list(actor=user, session=world.session, filename="x.xlsx", data=list_file)


def test_csv_lists_in_utf8_and_gbk_import_alike(world):
    text = "编号,案由,提案人,主办单位\n20250041,关于公交线路的提案,李委员,区教育局\n"
    plan, counts = run(world, text.encode("gb18030"), filename="清单.csv")
    assert counts == {"register": 1, "assign": 1}
    plan, counts = run(world, ("\ufeff" + text).encode("utf-8"), filename="清单.csv")
    assert counts == {}


def test_the_management_command_previews_then_imports(world, list_file, tmp_path, capsys):
    path = tmp_path / "清单.xlsx"
    path.write_bytes(list_file)
    call_command("import_assignments", str(path), "--session", str(world.session.pk), "--actor", "office")
    out = capsys.readouterr().out
    assert "预览：9 项变化" in out and Proposal.objects.count() == 0
    call_command("import_assignments", str(path), "--session", world.session.name, "--actor", "office", "--apply")
    assert "已导入：9 项变化" in capsys.readouterr().out and Proposal.objects.count() == 3
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx_bytes([[1, "9", "x", "李委员", "", "区外星局", "", "", ""]]))
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command("import_assignments", str(bad), "--session", str(world.session.pk), "--actor", "office", "--apply")


def test_the_import_pages_go_from_upload_to_columns_to_preview_to_import(world, client, list_file):

    client.login(username="office", password=PASSWORD)
    assert client.get("/exchange/").status_code == 200
    response = client.post("/exchange/import/", {"session": world.session.pk, "kind": "proposal",
                                                 "file": SimpleUploadedFile("清单.xlsx", list_file)})
    assert response.status_code == 302 and "/columns/" in response["Location"]
    page = client.get(response["Location"])
    assert page.status_code == 200 and "案由" in page.content.decode()
    fields = {f"field_{k}": v for k, v in importer.guess_mapping(HEADERS).items()}
    preview_url = client.post(response["Location"], fields)["Location"]
    preview = client.get(preview_url).content.decode()
    assert "将要执行的变化（9 项）" in preview and Proposal.objects.count() == 0
    client.post(preview_url, {"confirm": "1"})
    assert Proposal.objects.count() == 3
    assert "没有需要导入的变化" in client.get(preview_url).content.decode()


def test_an_unsure_name_is_answered_on_the_preview_page(world, client):

    client.login(username="office", password=PASSWORD)
    data = xlsx_bytes([[1, "20250051", "甲", "李委员", "", "龙岗区教育局", "", "", ""]])
    location = client.post("/exchange/import/", {"session": world.session.pk, "kind": "proposal",
                                                 "file": SimpleUploadedFile("清单.xlsx", data)})["Location"]
    preview_url = client.post(location, {f"field_{k}": v for k, v in importer.guess_mapping(HEADERS).items()})["Location"]
    assert "「龙岗区教育局」" in client.get(preview_url).content.decode()
    client.post(preview_url, {"answer": "1", "unit_龙岗区教育局": world.lead_unit.pk, "remember": "1"})
    world.lead_unit.refresh_from_db()
    assert "龙岗区教育局" in world.lead_unit.aliases
    client.post(preview_url, {"confirm": "1"})
    assert _live(Proposal.objects.get(number="20250051")) == [("区教育局", "lead")]


def test_units_and_proposers_cannot_open_the_import_pages(world, client):
    client.login(username="edu_office", password=PASSWORD)
    assert client.get("/exchange/import/").status_code == 403


def test_line_breaks_excel_escapes_as_x000d_come_back_as_line_breaks():
    """Excel stores a carriage return typed in a cell as _x000D_; openpyxl leaves the escape in the text."""
    plain = xlsx_bytes([["20250041", "关于甲的提案\r\n（第二行）", "李委员", "区教育局", "", "价格_x005F_x0041_"]],
                       headers=["提案号", "题目", "领衔人", "主办", "协办", "备注"])
    escaped = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain)) as source, zipfile.ZipFile(escaped, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name.startswith("xl/worksheets/"):
                assert b"&#13;" in data
                data = data.replace(b"&#13;", b"_x000D_")
            target.writestr(name, data)
    table = read_table(escaped.getvalue(), "a.xlsx")
    number, title, *_, remark = table.rows[0][1]
    assert title == "关于甲的提案\n（第二行）"
    assert remark == "价格_x0041_"  # Excel's escape of a literal "_x" stays literal text
