"""`manage.py load_demo`: load the demo data set (idempotent); `--scale N`: N generated assignments (交办) with their
proposals and histories for load tests, optionally in parallel processes; ends with ANALYZE."""
from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from banli.demo.builder import DEMO_PASSWORD, demo_exists, load_demo
from banli.demo.scale import generate
from banli.reports.aggregates import rebuild


class Command(BaseCommand):
    help = ("载入演示数据（可重复执行，已载入则不做任何改动）；--scale N 生成 N 条交办（约 N/2.34 件提案及其办理过程）"
            "用于压力测试，--workers K 用 K 个进程并行写入，最后执行 ANALYZE")

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=0,
                            help="生成 N 条交办（每件提案平均约 2.34 条：主办或分办加会办），及提案、办理过程和事件（压力测试用）")
        parser.add_argument("--batch", type=int, default=2000, help="--scale 时每批写入的提案数")
        parser.add_argument("--seed", type=int, default=2026, help="--scale 时的随机种子")
        parser.add_argument("--workers", type=int, default=1, help="--scale 时并行写入的进程数（每个进程一个数据库连接）")

    def handle(self, *args, scale: int, batch: int, seed: int, workers: int, **options):
        if scale:
            return self.handle_scale(scale, batch, seed, workers)

        if demo_exists():
            self.stdout.write("演示数据已存在，未做任何改动。")
            return
        if not settings.DEMO_MODE:
            raise CommandError(
                "演示数据含公开的演示密码，只能在演示模式下载入：请设置环境变量 BANLI_DEMO=1 后重试（make demo 会自动设置）。"
            )
        started = time.monotonic()
        load_demo(log=lambda message: self.stdout.write(f"  {message}"))
        self.stdout.write(self.style.SUCCESS(
            f"演示数据已载入（{time.monotonic() - started:.1f} 秒）。演示账号密码均为 {DEMO_PASSWORD}，"
            f"运行 manage.py demo_accounts 查看账号。"
        ))

    def handle_scale(self, scale: int, batch: int, seed: int, workers: int):
        if scale < 0:
            raise CommandError("--scale 必须是正整数（要生成的交办条数）。")
        if not 1 <= workers <= 32:
            raise CommandError("--workers 应在 1 到 32 之间。")
        started = time.monotonic()
        result = generate(assignments=scale, batch_size=batch, seed=seed, workers=workers,
                          log=lambda message: self.stdout.write(f"  {message}"))

        rebuild()  # the bulk rows' events are past any cursor: the figure cells are recounted once
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            f"已生成 {result.proposals} 件提案、{result.assignments} 条交办、{result.events} 条事件"
            f"（{elapsed:.1f} 秒，届次「{result.session}」；已执行 ANALYZE 并重算统计汇总格）。"
        ))
