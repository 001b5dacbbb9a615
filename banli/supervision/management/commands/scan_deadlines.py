"""Run one deadline scan by hand (or from cron) and print what it did as one JSON line."""
import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from banli.supervision import services


class Command(BaseCommand):
    help = "扫描期限：生成预警/逾期提醒并发送，输出一行 JSON"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="按该日期扫描 (YYYY-MM-DD)，默认今天")
        parser.add_argument("--no-send", action="store_true", help="只生成提醒、站内通知和待发消息，不发送")

    def handle(self, *args, **options):
        today = None
        if options["date"]:
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"--date 应为 YYYY-MM-DD，收到 {options['date']!r}") from exc
        result = services.scan_deadlines(today=today)
        result.update(services.fan_out_pending())
        if options["no_send"]:
            result.update({"sent": 0, "failed": 0, "retrying": 0})
        else:
            result.update(services.deliver_due())
        self.stdout.write(json.dumps(result, ensure_ascii=False))
