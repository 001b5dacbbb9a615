"""智能辅助: the periodic retraining job (run nightly by the scheduler or Celery beat)."""
from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from banli.assist import simindex, store
from banli.assist.choices import SuggestionTask
from banli.assist.services import assist_model_train
from banli.core.errors import DomainError

log = logging.getLogger(__name__)


@shared_task(name="assist.retrain_models")
def retrain_models() -> dict:
    """Retrain the category and routing models from the instance's own history; skip a task without data."""
    done = {}
    for task in (SuggestionTask.CATEGORY, SuggestionTask.ROUTING):
        try:
            meta = assist_model_train(task=task)
            done[task] = f"refused: {meta['version']}" if meta.get("refused") else meta["version"]
        except DomainError as exc:
            log.info("assist %s not retrained: %s", task, exc)
    return done


def retrain_if_stale(*, now=None) -> dict:
    """The embedded scheduler's retraining: retrain each task whose model is missing or older than
    BANLI_ASSIST_RETRAIN_HOURS (default 24), so new categories and assignments reach the suggestions daily
    without a broker. A task without enough history is tried again after the same interval, not every tick."""
    now = now or timezone.now()
    max_age = dt.timedelta(hours=settings.BANLI_ASSIST_RETRAIN_HOURS)
    done = {}
    for task in (SuggestionTask.CATEGORY, SuggestionTask.ROUTING):
        bundle = store.load_bundle(task)
        trained_at = dt.datetime.fromisoformat(bundle["meta"]["trained_at"]) if bundle else None
        tried_at = _last_attempt.get(task)
        if (trained_at and now - trained_at < max_age) or (tried_at and now - tried_at < max_age):
            continue
        _last_attempt[task] = now
        try:
            meta = assist_model_train(task=task, now=now)
            # A refused retraining (worse cross-validated figure) is logged; it is tried again after the interval.
            done[task] = f"refused: {meta['version']}" if meta.get("refused") else meta["version"]
        except DomainError as exc:
            done[task] = f"skipped: {exc}"
    return done


_last_attempt: dict[str, dt.datetime] = {}


@shared_task(name="assist.build_similar_index")
def build_similar_index() -> dict:
    """相似提案: build and publish the similarity index (started by a request that found it missing or stale)."""
    return simindex.build_index()


@shared_task(name="assist.similar_index_if_stale")
def similar_index_if_stale() -> dict | None:
    """相似提案: Celery beat's hourly round; builds only when the index is missing or stale."""
    return simindex.rebuild_if_stale()
