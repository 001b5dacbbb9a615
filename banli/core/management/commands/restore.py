"""Restore a backup made by `backup` into an empty instance, after verifying its checksums."""
import json

from django.core.management.base import BaseCommand, CommandError

from banli.core import backup
from banli.core.errors import DomainError


class Command(BaseCommand):
    help = "把备份恢复到空实例（先校验清单）"

    def add_arguments(self, parser):
        parser.add_argument("backup_dir")
        parser.add_argument("--verify-only", action="store_true", help="只校验，不恢复（不需要私钥）")
        parser.add_argument("--identity", default=None, help="解密私钥文件（默认 BANLI_BACKUP_IDENTITY_FILE）")

    def handle(self, *args, backup_dir, verify_only=False, identity=None, **options):
        try:
            manifest = backup.verify(backup_dir) if verify_only else backup.restore(backup_dir, identity_file=identity)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps({"ok": True, "verified_only": verify_only, "created_at": manifest["created_at"]},
                                     ensure_ascii=False))
