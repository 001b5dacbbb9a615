"""Append the heads of every event chain (the daily anchor) to BANLI_EVENT_ANCHOR_FILE and the banli.anchor log."""
import json

from django.core.management.base import BaseCommand

from banli.core import eventlog


class Command(BaseCommand):
    help = "导出事件日志各链末端（每日锚点）到 BANLI_EVENT_ANCHOR_FILE，供 verify_events 核对"

    def add_arguments(self, parser):
        parser.add_argument("--file", default=None, help="锚点文件（默认 BANLI_EVENT_ANCHOR_FILE）")

    def handle(self, *args, file=None, **options):
        self.stdout.write(json.dumps(eventlog.anchor_create(path=file), ensure_ascii=False))
