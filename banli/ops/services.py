"""运行维护: writes (heartbeats of the periodic jobs)."""
from __future__ import annotations

from django.utils import timezone

from banli.ops.models import Heartbeat


def heartbeat_record(*, name: str, detail: dict | None = None, now=None) -> Heartbeat:
    """Note that the periodic job `name` has just finished (one row per job, overwritten)."""
    beat, _ = Heartbeat.objects.update_or_create(name=name, defaults={"at": now or timezone.now(),
                                                                      "detail": detail or {}})
    return beat
