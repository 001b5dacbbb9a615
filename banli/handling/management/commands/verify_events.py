"""Verify every keyed hash chain of the event log and every daily anchor; report the first break."""
import json

from django.core.management.base import BaseCommand

from banli.core import eventlog


class Command(BaseCommand):
    help = "校验事件日志哈希链（含密钥签名）和每日锚点，报告第一处断裂"

    def add_arguments(self, parser):
        parser.add_argument("--stream", default=None, help="只校验一个流，如 proposal:12、security")
        parser.add_argument("--anchors", default=None, help="锚点文件（默认 BANLI_EVENT_ANCHOR_FILE）")

    def handle(self, *args, stream=None, anchors=None, **options):
        checked, broken = eventlog.verify(stream=stream)
        if broken is not None:
            self.stdout.write(json.dumps({"ok": False, "checked": checked, "stream": broken.stream,
                                          "event_id": broken.event_id, "problem": broken.problem}, ensure_ascii=False))
            raise SystemExit(1)
        anchored, problem = eventlog.verify_anchors(path=anchors) if stream is None else (0, None)
        if problem is not None:
            self.stdout.write(json.dumps({"ok": False, "checked": checked, "anchors": anchored,
                                          "anchor_line": problem.line, "anchor_at": problem.at,
                                          "problem": problem.problem}, ensure_ascii=False))
            raise SystemExit(1)
        self.stdout.write(json.dumps({"ok": True, "checked": checked, "anchors": anchored}, ensure_ascii=False))
