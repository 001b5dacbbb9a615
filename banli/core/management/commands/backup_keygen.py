"""Make an age key pair for the backups: the private key into a 0600 file (to keep off this host), the public key
printed (to set as BANLI_BACKUP_RECIPIENTS)."""
import os
from pathlib import Path

import pyrage
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "生成备份加密密钥对：私钥写入文件（0600，应离开本机保存），打印公钥（设为 BANLI_BACKUP_RECIPIENTS）"

    def add_arguments(self, parser):
        parser.add_argument("--identity", required=True, help="私钥文件路径（不能已存在）")

    def handle(self, *args, identity, **options):
        path = Path(identity)
        if path.exists():
            raise CommandError(f"{path} 已存在，不会覆盖（覆盖会使已有备份无法解密）。")
        key = pyrage.x25519.Identity.generate()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(f"# public key: {key.to_public()}\n{key}\n")
        self.stdout.write(str(key.to_public()))
