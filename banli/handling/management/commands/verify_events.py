"""Verify every hash chain of the event log and report the first broken link."""
import json

from django.core.management.base import BaseCommand

from banli.handling import eventlog


class Command(BaseCommand):
    help = "校验事件日志哈希链，报告第一处断裂"

    def add_arguments(self, parser):
        parser.add_argument("--stream", default=None, help="只校验一个流，如 proposal:12、security")

    def handle(self, *args, stream=None, **options):
        checked, broken = eventlog.verify(stream=stream)
        if broken is None:
            self.stdout.write(json.dumps({"ok": True, "checked": checked}, ensure_ascii=False))
            return
        self.stdout.write(json.dumps({"ok": False, "checked": checked, "stream": broken.stream,
                                      "event_id": broken.event_id, "problem": broken.problem}, ensure_ascii=False))
        raise SystemExit(1)
