"""`manage.py sweep_files`: remove stored files no row points at (older than --hours); prints one JSON line."""
import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from banli.core import uploads


class Command(BaseCommand):
    help = "清理无记录引用的存储文件（事务回滚或中断后遗留的上传文件）"

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=24, help="只清理早于此小时数的文件（默认 24）")
        parser.add_argument("--dry-run", action="store_true", help="只统计，不删除")

    def handle(self, *args, hours: float, dry_run: bool, **options):
        if hours < 0:
            raise CommandError("--hours 不能为负数。")
        result = uploads.sweep_orphans(older_than=dt.timedelta(hours=hours), dry_run=dry_run)
        self.stdout.write(json.dumps(result, ensure_ascii=False))
