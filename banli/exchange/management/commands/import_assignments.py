"""Import an assignment list (交办清单) from .xlsx/.csv: dry run by default prints the plan; --apply imports."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from banli.core.errors import DomainError
from banli.exchange import importer, services
from banli.exchange.tables import read_table
from banli.organizations.models import User
from banli.proposals.models import Session


class Command(BaseCommand):
    help = "导入交办清单（.xlsx/.csv）。默认只预览（dry run），加 --apply 才导入。"

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--session", required=True, help="届次 id 或名称")
        parser.add_argument("--kind", default="proposal", choices=["proposal", "suggestion"])
        parser.add_argument("--actor", required=True, help="以哪个交办机构账号的名义导入（用户名）")
        parser.add_argument("--map", action="append", default=[], metavar="字段=表头",
                            help="指定列对应，如 --map number=提案号；未指定的按记住的或按表头推断")
        parser.add_argument("--unit", action="append", default=[], metavar="名称=单位id",
                            help="确认不能确定的单位名称")
        parser.add_argument("--apply", action="store_true", help="确认导入（全部成功或全部不导入）")

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"找不到文件 {path}")
        key = options["session"]
        session = Session.objects.filter(pk=int(key)).first() if key.isdigit() else Session.objects.filter(name=key).first()
        if session is None:
            raise CommandError(f"找不到届次「{key}」。")
        actor = User.objects.filter(username=options["actor"]).first()
        if actor is None:
            raise CommandError(f"找不到用户「{options['actor']}」。")
        data = path.read_bytes()
        try:
            table = read_table(data, path.name)
            mapping = importer.mapping_for(table.headers)
            for item in options["map"]:
                field, _, header = item.partition("=")
                mapping[field.strip()] = header.strip()
            answers = {}
            for item in options["unit"]:
                name, _, unit_id = item.partition("=")
                answers[name.strip()] = int(unit_id)
            plan, counts = services.import_list(actor=actor, session=session, filename=path.name, data=data,
                                                proposal_kind=options["kind"], mapping=mapping, answers=answers,
                                                dry_run=not options["apply"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        out = self.stdout
        out.write("列对应：" + "，".join(f"{importer.FIELD_BY_KEY[k].label}←{v}" for k, v in mapping.items() if v))
        for error in plan.errors:
            out.write(f"错误：{error}")
        for q in plan.questions:
            options_text = "；".join(f"{uid}={name}" for uid, name in q.candidates)
            out.write(f"待确认：第{'、'.join(map(str, q.rows))}行「{q.name}」可能是 {options_text}（用 --unit {q.name}=<id> 指定）")
        for warning in plan.warnings:
            out.write(f"提示：{warning}")
        for change in plan.changes:
            out.write(f"第{change.row}行 {change.text}")
        if not plan.ok:
            raise CommandError("清单有错误或待确认的单位，未导入任何数据。")
        if counts is None:
            out.write(f"预览：{len(plan.changes)} 项变化。加 --apply 导入。" if plan.changes else "没有需要导入的变化。")
        else:
            out.write(self.style.SUCCESS(f"已导入：{sum(counts.values())} 项变化。"))
