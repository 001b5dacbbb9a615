"""Send the weekly (or daily) digests once; running it again in the same period sends nothing."""
import datetime as dt
import json

from django.core.management.base import BaseCommand

from banli.supervision import services
from banli.supervision.choices import DigestPeriod


class Command(BaseCommand):
    help = "生成并发送工作简报（每周/每日）"

    def add_arguments(self, parser):
        parser.add_argument("--period", choices=[DigestPeriod.WEEKLY, DigestPeriod.DAILY], default=DigestPeriod.WEEKLY)
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None)

    def handle(self, *args, **options):
        result = services.digests_send(period=options["period"], today=options["date"])
        result.update(services.deliver_due())
        self.stdout.write(json.dumps(result, ensure_ascii=False))
