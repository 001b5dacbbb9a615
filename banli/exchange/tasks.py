"""数据交换: background jobs. A confirmed list import runs in a Celery worker (queue `documents`) when a broker is
configured, else in a thread of the web process (the embedded mode), else inline (tests, BANLI_IMPORT_IN_BACKGROUND
off)."""
from __future__ import annotations

import threading

from celery import shared_task
from django.conf import settings
from django.db import connections

# The module, not its names: exchange.services imports this module back (a cycle).
from banli.exchange import services


@shared_task(name="exchange.import_list", acks_late=True)
def import_list_task(batch_id: int, actor_id: int) -> dict:
    return services.batch_import_run(batch_id=batch_id, actor_id=actor_id)


def _in_thread(batch_id: int, actor_id: int) -> None:
    try:
        services.batch_import_run(batch_id=batch_id, actor_id=actor_id)
    except Exception:  # recorded on the batch and logged by batch_import_run; a thread has no one to raise to
        pass
    finally:
        connections.close_all()  # this thread's own connections


def enqueue_import(*, batch_id: int, actor_id: int):
    """Start the import job where this deployment runs background work; returns the thread in the embedded mode."""
    if settings.CELERY_BROKER_URL:
        import_list_task.delay(batch_id, actor_id)
        return None
    if settings.BANLI_IMPORT_IN_BACKGROUND:
        thread = threading.Thread(target=_in_thread, args=(batch_id, actor_id), name=f"import-{batch_id}", daemon=True)
        thread.start()
        return thread
    import_list_task(batch_id, actor_id)
    return None
