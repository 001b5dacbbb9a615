"""The scan through a real Celery worker with Redis on 127.0.0.1:6379 as broker and result backend."""
import datetime as dt
import socket
import uuid

import pytest
from celery import Celery, current_app
from celery.contrib.testing.worker import start_worker

import banli.supervision.tasks  # noqa: F401 - registers the shared tasks with every app
from banli.core.testing import build_world
from banli.supervision.models import Notification, Reminder
from banli.supervision.tests.helpers import give_contacts, lead_item

REDIS = ("127.0.0.1", 6379)


def redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def celery_worker_app():
    if not redis_up():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379 (CI starts redis-server; start one to run this test)")

    # An app of its own (the project's app stays eager for the other tests) and a queue of its own, so that
    # a parallel test run or another engineer's worker never takes these tasks.
    app = Celery("banli-test", set_as_current=False)
    app.conf.update(broker_url="redis://127.0.0.1:6379/15", result_backend="redis://127.0.0.1:6379/15",
                    task_always_eager=False, task_default_queue=f"banli-test-{uuid.uuid4().hex[:8]}",
                    broker_connection_retry_on_startup=False)
    app.finalize()
    # start_worker makes its app the current and default one; the project's (eager) app must be both again after,
    # or the next tests' `.delay()` would go to this test's broker and never run.
    project_app = current_app._get_current_object()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"):
            yield app
    finally:
        project_app.set_current()
        project_app.set_default()


@pytest.mark.django_db(transaction=True)
def test_the_scan_runs_through_a_worker_and_a_second_run_creates_nothing(celery_worker_app):
    scan_deadlines_task = celery_worker_app.tasks["banli.supervision.tasks.scan_deadlines_task"]
    world = build_world()
    give_contacts(world)
    lead_item(world, reply_due=dt.date(2025, 10, 10))
    pending = scan_deadlines_task.delay(today="2025-10-09")
    assert type(pending).__name__ == "AsyncResult"  # sent to the broker, not run eagerly in this thread
    first = pending.get(timeout=60)
    second = scan_deadlines_task.delay(today="2025-10-09").get(timeout=60)
    assert first["created"] == 1 and first["sent"] == 2
    assert second["created"] == 0 and second["sent"] == 0
    assert Reminder.objects.count() == 1
    assert Notification.objects.count() == 2
