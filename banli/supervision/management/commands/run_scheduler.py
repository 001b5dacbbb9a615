"""The embedded scheduler: runs the periodic jobs in one process beside the web server, no broker needed.

Every BANLI_SCHEDULER_INTERVAL seconds it scans deadlines and sends what is due; at BANLI_DIGEST_HOUR it
sends the daily digests and, on Mondays, the weekly ones; once a day it retrains the assist models, keeps the
similar-proposals index current, and
removes stored files no row points at. Every job is idempotent (unique reminders,
digests and deliveries in the database), so a restart, a second scheduler or a cron job running
`manage.py scan_deadlines` beside it never sends anything twice.
"""
import json
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string

from banli.assist import simindex
from banli.assist.tasks import retrain_if_stale
from banli.core.tasks import sweep_if_due
from banli.core.eventlog import anchor_due
from banli.supervision import services
from banli.supervision.choices import DigestPeriod
from banli.supervision.tasks import run_scan


def tick(now=None) -> dict:
    """One round of the periodic jobs."""
    now = now or timezone.now()
    result = {"at": now.isoformat(), "scan": run_scan()}
    local = timezone.localtime(now)
    if local.hour >= settings.BANLI_DIGEST_HOUR:
        result["daily_digest"] = services.digests_send(period=DigestPeriod.DAILY, now=now)
        if local.weekday() == 0:
            result["weekly_digest"] = services.digests_send(period=DigestPeriod.WEEKLY, now=now)
        result["digest_delivery"] = services.deliver_due(now=now)
    retrained = retrain_if_stale(now=now)
    if retrained:
        result["assist_retrain"] = retrained
    # 相似提案: a missing or stale index is rebuilt beside the scheduler (a thread), never holding up the scan.
    similar = simindex.rebuild_if_stale(now=now, start=simindex.enqueue_build)
    if similar is not None:
        result["similar_index"] = similar
    swept = sweep_if_due(now=now)
    if swept is not None:
        result["file_sweep"] = swept
    anchor = anchor_due(now=now)
    if anchor is not None:
        result["event_anchor"] = anchor
    # Jobs of apps above this one (e.g. the figure cells of reports), named in settings like Celery beat's tasks.
    for name, path in settings.BANLI_SCHEDULER_JOBS.items():
        result[name] = import_string(path)()
    return result


class Command(BaseCommand):
    help = "内置调度：定时扫描期限、发送提醒和工作简报（无需 Redis/Celery）"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="只运行一轮后退出")
        parser.add_argument("--interval", type=int, default=None, help="间隔秒数，默认 BANLI_SCHEDULER_INTERVAL")

    def handle(self, *args, **options):
        interval = options["interval"] or settings.BANLI_SCHEDULER_INTERVAL
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        while not stop.is_set():
            try:
                self.stdout.write(json.dumps(tick(), ensure_ascii=False))
            except Exception as exc:  # keep the scheduler alive; the next round retries (jobs are idempotent)
                self.stderr.write(f"调度任务出错：{type(exc).__name__}: {exc}")
            if options["once"]:
                break
            stop.wait(interval)
            close_old_connections()  # a long-running process must not hold a stale connection
