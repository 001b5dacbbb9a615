"""Pack every document and record of a session into a .zip with an index and a SHA-256 manifest."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from banli.exchange.archive import archive_path_for, build_archive
from banli.proposals.models import Session


class Command(BaseCommand):
    help = "生成届次归档包（.zip，含索引和 SHA-256 校验清单）。"

    def add_arguments(self, parser):
        parser.add_argument("session", help="届次 id 或名称")
        parser.add_argument("--out", default="", help="输出文件或目录（默认当前目录）")

    def handle(self, *args, **options):
        key = options["session"]
        session = Session.objects.filter(pk=int(key)).first() if key.isdigit() else Session.objects.filter(name=key).first()
        if session is None:
            raise CommandError(f"找不到届次「{key}」。")
        out = Path(options["out"] or ".")
        target = archive_path_for(session, out) if out.is_dir() else out
        summary = build_archive(session, target)
        self.stdout.write(self.style.SUCCESS(f"已生成 {target}：{summary['proposals']} 件，{summary['files']} 个文件。"))
