"""智能辅助: what the office decided when shown a suggestion, so that the suggestions' accuracy can be reported."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from banli.assist.choices import SuggestionOutcome, SuggestionTask


class SuggestionDecision(models.Model):
    """One suggestion (category or routing) shown for a proposal and the decision taken: accepted or overridden."""

    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.PROTECT, related_name="assist_decisions", verbose_name="提案建议"
    )
    task = models.CharField("类型", max_length=10, choices=SuggestionTask.choices)
    suggested = models.JSONField("系统建议", default=list, help_text="按得分排序的建议及理由")
    decided = models.JSONField("实际决定", default=dict)
    outcome = models.CharField("结果", max_length=12, choices=SuggestionOutcome.choices)
    top1_hit = models.BooleanField("首选命中", default=False)
    top3_hit = models.BooleanField("前三命中", default=False)
    model_version = models.CharField("模型版本", max_length=40, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="决定人")
    decided_at = models.DateTimeField("决定时间", auto_now_add=True)

    class Meta:
        verbose_name = "智能建议采纳记录"
        verbose_name_plural = "智能建议采纳记录"
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["task", "decided_at"], name="assist_decision_task_time")]

    def __str__(self) -> str:
        return f"{self.get_task_display()} {self.proposal_id} {self.get_outcome_display()}"
