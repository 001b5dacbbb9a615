"""智能辅助: the periodic retraining job (run nightly by the scheduler or Celery beat)."""
from __future__ import annotations

import logging

from celery import shared_task

from banli.assist.choices import SuggestionTask
from banli.core.errors import DomainError

log = logging.getLogger(__name__)


@shared_task(name="assist.retrain_models")
def retrain_models() -> dict:
    """Retrain the category and routing models from the instance's own history; skip a task without data."""
    from banli.assist.services import assist_model_train

    done = {}
    for task in (SuggestionTask.CATEGORY, SuggestionTask.ROUTING):
        try:
            done[task] = assist_model_train(task=task)["version"]
        except DomainError as exc:
            log.info("assist %s not retrained: %s", task, exc)
    return done
