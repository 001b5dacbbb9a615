"""Shared pytest configuration: fast settings, artifacts folder."""
import os

import pytest


@pytest.fixture(autouse=True)
def _fast_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(scope="session")
def artifacts_dir():
    path = os.environ.get("BANLI_ARTIFACTS") or os.path.join(os.getcwd(), "var", "test-artifacts")
    os.makedirs(path, exist_ok=True)
    return path
