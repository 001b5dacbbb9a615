"""Write a consistent snapshot of the instance (database + files + checksum manifest)."""
import datetime as dt
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from banli.core import backup
from banli.core.errors import DomainError


class Command(BaseCommand):
    help = "备份数据库和文件，附 SHA-256 校验清单"

    def add_arguments(self, parser):
        parser.add_argument("--out", default=None, help="备份目录（默认 var/backups/<时间>）")

    def handle(self, *args, out=None, **options):
        out_dir = Path(out) if out else Path(settings.VAR_DIR) / "backups" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        try:
            manifest = backup.create(out_dir)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps({"ok": True, "dir": str(out_dir), "files": manifest["files"]}, ensure_ascii=False))
