"""公共: background jobs (Celery beat at scale, the embedded scheduler by default)."""
from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from banli.core import uploads

SWEEP_EVERY = dt.timedelta(hours=24)


@shared_task(name="core.sweep_orphan_files")
def sweep_orphan_files() -> dict:
    """Remove stored files no row points at (older than a day)."""
    return uploads.sweep_orphans()


def sweep_if_due(*, now=None) -> dict | None:
    """The embedded scheduler's daily sweep: at most once every 24 hours per process."""
    now = now or timezone.now()
    last = _last_sweep.get("at")
    if last and now - last < SWEEP_EVERY:
        return None
    _last_sweep["at"] = now

    return uploads.sweep_orphans(now=now)


_last_sweep: dict[str, dt.datetime] = {}
