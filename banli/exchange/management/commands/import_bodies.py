"""Import proposal bodies from .docx files (one per proposal, or one holding many)."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from banli.core.errors import DomainError
from banli.exchange import services
from banli.organizations.models import User
from banli.proposals.models import Session


class Command(BaseCommand):
    help = "从 Word 文件导入提案正文。默认只预览，加 --apply 才导入。"

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+")
        parser.add_argument("--session", required=True)
        parser.add_argument("--kind", default="proposal", choices=["proposal", "suggestion"])
        parser.add_argument("--actor", required=True)
        parser.add_argument("--apply", action="store_true")

    def handle(self, *args, **options):
        key = options["session"]
        session = Session.objects.filter(pk=int(key)).first() if key.isdigit() else Session.objects.filter(name=key).first()
        actor = User.objects.filter(username=options["actor"]).first()
        if session is None or actor is None:
            raise CommandError("找不到届次或用户。")
        files = [(Path(p).name, Path(p).read_bytes()) for p in options["paths"]]
        try:
            plan, written = services.import_bodies(actor=actor, session=session, files=files,
                                                   proposal_kind=options["kind"], dry_run=not options["apply"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for error in plan.errors:
            self.stdout.write(f"错误：{error}")
        for proposal, body, source in plan.updates:
            self.stdout.write(f"第{proposal.number}号 ← {source}（{len(body)} 字）")
        if not plan.ok:
            raise CommandError("有错误，未导入任何正文。")
        self.stdout.write(f"已导入 {written} 件正文。" if written is not None else f"预览：{len(plan.updates)} 件。加 --apply 导入。")
