"""数据交换: remembered column mappings and uploaded lists on their way through dry run and import."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from banli.core.uploads import random_name
from banli.exchange.choices import BatchKind, BatchState
from banli.proposals.choices import ProposalKind


class ColumnMapping(models.Model):
    """Which column of an uploaded list holds which field, remembered by the list's header row."""

    header_key = models.CharField(max_length=64, unique=True)
    headers = models.JSONField("表头", default=list)
    mapping = models.JSONField("对应关系", default=dict, help_text="字段 → 表头")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "导入列对应"
        verbose_name_plural = "导入列对应"

    def __str__(self) -> str:
        return "、".join(self.headers[:5])


class ImportBatch(models.Model):
    """One uploaded file (a list or Word bodies) between upload, dry run and import."""

    kind = models.CharField("类型", max_length=10, choices=BatchKind.choices, default=BatchKind.LIST)
    session = models.ForeignKey("proposals.Session", on_delete=models.PROTECT, related_name="+", verbose_name="届次")
    proposal_kind = models.CharField("提案/建议", max_length=12, choices=ProposalKind.choices, default=ProposalKind.PROPOSAL)
    filename = models.CharField("文件名", max_length=255)
    file = models.FileField(upload_to=random_name)
    sha256 = models.CharField(max_length=64)
    mapping = models.JSONField(default=dict, blank=True)
    answers = models.JSONField("单位确认", default=dict, blank=True)
    state = models.CharField("状态", max_length=10, choices=BatchState.choices, default=BatchState.UPLOADED)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField("未完成原因", blank=True)
    fill_categories = models.BooleanField("按建议填入类别", default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename
