"""工作台: models."""
from django.conf import settings
from django.db import models


class NotificationCursor(models.Model):
    """How far a user has read the event log in his notifications centre (events after it are unread)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_cursor")
    last_seen_event_id = models.BigIntegerField("已读至事件", default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "通知已读位置"
        verbose_name_plural = "通知已读位置"

    def __str__(self) -> str:
        return f"{self.user} 已读至 #{self.last_seen_event_id}"
