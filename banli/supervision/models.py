"""Supervision of key items (重点提案督办) and their tracking notes."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Supervision(models.Model):
    """A key item supervised by a named leader, tracked more closely than the others."""

    proposal = models.OneToOneField("proposals.Proposal", on_delete=models.PROTECT, related_name="supervision")
    leader_name = models.CharField("督办领导", max_length=50)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="督办领导账号"
    )
    warning_days = models.JSONField("预警工作日", default=list, blank=True, help_text="如 [10, 5, 1]；留空用默认")
    note = models.TextField("督办要求", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "重点督办"
        verbose_name_plural = "重点督办"

    def __str__(self) -> str:
        return f"督办：{self.proposal}"


class SupervisionNote(models.Model):
    """A dated progress entry on a key item: a meeting, a site visit or a note."""

    KINDS = [("meeting", "会议"), ("visit", "现场调研"), ("note", "进展")]

    supervision = models.ForeignKey(Supervision, on_delete=models.PROTECT, related_name="notes")
    kind = models.CharField("类型", max_length=8, choices=KINDS, default="note")
    happened_on = models.DateField("日期")
    text = models.TextField("内容")
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "督办记录"
        verbose_name_plural = "督办记录"
        ordering = ["happened_on", "id"]

    def __str__(self) -> str:
        return f"{self.happened_on} {self.get_kind_display()}"
