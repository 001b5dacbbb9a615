"""智能辅助: what the office decided when shown a suggestion, so that the suggestions' accuracy can be reported."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from banli.assist.choices import SuggestionOutcome, SuggestionTask, TrainingOutcome


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


class AssistSetting(models.Model):
    """An assigning office's thresholds: a suggestion whose score is below them is not shown (abstention)."""

    office = models.OneToOneField("organizations.Unit", on_delete=models.CASCADE, related_name="assist_setting",
                                  verbose_name="交办机构")
    category_min_score = models.FloatField("类别建议最低把握度", default=0.0,
                                           help_text="0 至 1；低于此得分的类别建议不显示")
    routing_min_score = models.FloatField("交办建议最低把握度", default=0.0,
                                          help_text="0 至 1；低于此得分的主办单位建议不显示")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   null=True, blank=True, verbose_name="修改人")
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "智能辅助设置"
        verbose_name_plural = "智能辅助设置"
        constraints = [
            models.CheckConstraint(condition=models.Q(category_min_score__gte=0, category_min_score__lte=1,
                                                      routing_min_score__gte=0, routing_min_score__lte=1),
                                   name="assist_setting_scores_in_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.office} 智能辅助设置"


class ModelTraining(models.Model):
    """One training of a model: its own cross-validated figures and whether it replaced the model in use."""

    task = models.CharField("类型", max_length=10, choices=SuggestionTask.choices)
    version = models.CharField("模型版本", max_length=40)
    trained_at = models.DateTimeField("训练时间")
    rows = models.PositiveIntegerField("训练样本数")
    unlabelled = models.PositiveIntegerField("无标注文本数", default=0)
    cv = models.JSONField("交叉验证成绩", default=dict, help_text="训练集内部交叉验证（macro_f1、accuracy、top3_accuracy）")
    previous_macro_f1 = models.FloatField("原模型成绩", null=True, blank=True)
    outcome = models.CharField("结果", max_length=10, choices=TrainingOutcome.choices)
    reason = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "模型训练记录"
        verbose_name_plural = "模型训练记录"
        ordering = ["-trained_at", "-id"]
        indexes = [models.Index(fields=["task", "trained_at"], name="assist_training_task_time")]

    def __str__(self) -> str:
        return f"{self.get_task_display()} {self.version} {self.get_outcome_display()}"
