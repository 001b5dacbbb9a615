"""运行维护: what the health endpoint reads about processes that run elsewhere (beat, workers, schedulers)."""
from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last time a periodic job finished, written by whichever process ran it (beat worker or embedded
    scheduler), so that the health endpoint of any web server can tell whether the reminders are still going."""

    name = models.CharField(max_length=50, unique=True)
    at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "运行心跳"
        verbose_name_plural = "运行心跳"

    def __str__(self) -> str:
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"
