"""Shared pytest configuration: fast settings, artifacts folder, the named test world."""
import os

import pytest


@pytest.fixture(autouse=True)
def _fast_settings(settings, tmp_path):
    from django.core.cache import cache

    cache.clear()  # rate-limit counters and throttles must not leak from one test into the next
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BANLI_ASSIST_DIR = tmp_path / "assist-models"  # no test trains into the instance's var/
    settings.BANLI_EVENT_ANCHOR_FILE = tmp_path / "event-anchors.jsonl"
    from banli.assist import tasks as assist_tasks

    assist_tasks._last_attempt.clear()
    from banli.core import tasks as core_tasks

    core_tasks._last_sweep.clear()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(scope="session", autouse=True)
def _session_clock():
    """BANLI_TEST_NOW=2026-12-03T16:30:00+00:00 runs the suite with the clock there (ticking), e.g. in the hours
    when the UTC date and the local (Asia/Shanghai) date differ, where date bugs hide."""
    start = os.environ.get("BANLI_TEST_NOW")
    if not start:
        yield
        return
    import time_machine

    with time_machine.travel(start, tick=True):
        yield


@pytest.fixture(scope="session")
def artifacts_dir():
    path = os.environ.get("BANLI_ARTIFACTS") or os.path.join(os.getcwd(), "var", "test-artifacts")
    os.makedirs(path, exist_ok=True)
    return path


@pytest.fixture
def world(db):
    """Named units and users per role (see banli.core.testing.build_world)."""
    from banli.core.testing import build_world

    return build_world()
