"""Celery application: workers run the same task functions the embedded mode runs in-process."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "banli.settings")
app = Celery("banli")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
