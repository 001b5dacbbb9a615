"""Verify an archive against its SHA-256 manifest; names every file that is missing, added or altered."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from banli.exchange.archive import verify_archive


class Command(BaseCommand):
    help = "按 SHA-256 校验清单核验归档包，指出被改动、缺失或多出的文件。"

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, **options):
        problems = verify_archive(options["path"])
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"核验未通过：{len(problems)} 个问题，首个：{problems[0]}")
        self.stdout.write(self.style.SUCCESS("核验通过：所有文件与校验清单一致。"))
