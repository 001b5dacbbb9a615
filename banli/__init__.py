"""Banli 办理."""
from banli.celery import app as celery_app

__all__ = ["celery_app"]
