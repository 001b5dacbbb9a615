"""督办催办: background jobs. The same functions run in a Celery worker or in the embedded scheduler."""
from __future__ import annotations

import datetime as dt

from celery import shared_task

from banli.ops.services import heartbeat_record
from banli.supervision import services


def run_scan(today: str | None = None) -> dict:
    """One scan, then the sending of what it queued (after the scan's transaction has committed)."""
    result = services.scan_deadlines(today=dt.date.fromisoformat(today) if today else None)
    result.update(services.fan_out_pending())
    result.update(services.deliver_due())
    heartbeat_record(name="deadline_scan", detail=result)
    return result


@shared_task(name="banli.supervision.tasks.scan_deadlines_task")
def scan_deadlines_task(today: str | None = None) -> dict:
    return run_scan(today)


@shared_task(name="banli.supervision.tasks.deliver_due_task")
def deliver_due_task() -> dict:
    result = services.deliver_due()
    heartbeat_record(name="delivery", detail=result)
    return result


@shared_task(name="banli.supervision.tasks.send_digests_task")
def send_digests_task(period: str = "weekly", today: str | None = None) -> dict:
    result = services.digests_send(period=period, today=dt.date.fromisoformat(today) if today else None)
    result.update(services.deliver_due())
    return result
