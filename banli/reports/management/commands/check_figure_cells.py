"""`manage.py check_figure_cells`: the maintained figure cells against a full recount from the raw rows."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from banli.reports import aggregates


class Command(BaseCommand):
    help = "核对统计汇总格与按原始记录的完整重算是否一致（--rebuild 先全部重算）"

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="先按原始记录重建全部汇总格（批量载入数据后使用）")

    def handle(self, *args, rebuild: bool, **options):
        if rebuild:
            self.stdout.write(f"已重建：{aggregates.rebuild()}")
        else:
            self.stdout.write(f"已汇入新事件：{aggregates.refresh()}")
        problems = aggregates.check()
        for line in problems[:50]:
            self.stdout.write(line)
        if problems:
            raise CommandError(f"{len(problems)} 个汇总格与完整重算不一致。")
        self.stdout.write(self.style.SUCCESS("统计汇总格与完整重算一致。"))
