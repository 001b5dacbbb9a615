"""办理流程: tasks (Celery beat at scale, the embedded scheduler by default)."""
from __future__ import annotations

from celery import shared_task

from banli.core import eventlog


@shared_task(name="handling.anchor_events")
def anchor_events_task() -> dict | None:
    """Today's anchor of the event chains (written once a day; a second run the same day writes nothing)."""
    return eventlog.anchor_due()
