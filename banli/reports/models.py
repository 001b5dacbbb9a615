"""统计与考核: evaluation rule sets configured by the office, bonus evidence, units' self-evaluations, summaries."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from banli.reports.choices import EvaluationState, RuleKind, RuleMode


class RuleSet(models.Model):
    """An evaluation rule set (考核评分细则): base points, deductions, bonus items and a cap.

    A rule set for a session applies to it; one with only an office applies to that office's sessions; one with
    neither is a shipped template any office may copy.
    """

    name = models.CharField("名称", max_length=100)
    office = models.ForeignKey(
        "organizations.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="交办机构"
    )
    session = models.ForeignKey(
        "proposals.Session", null=True, blank=True, on_delete=models.PROTECT, related_name="rule_sets",
        verbose_name="届次",
    )
    cap = models.DecimalField("总分上限", max_digits=6, decimal_places=2, default=100)
    description = models.TextField("说明", blank=True)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "考核评分细则"
        verbose_name_plural = "考核评分细则"
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session"], condition=Q(is_active=True, session__isnull=False),
                                    name="ruleset_one_active_per_session"),
        ]

    def __str__(self) -> str:
        return self.name


class Rule(models.Model):
    """One line of a rule set: which figure it reads, how it turns it into points, and the limits."""

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField("顺序", default=0)
    kind = models.CharField("类别", max_length=10, choices=RuleKind.choices)
    label = models.CharField("考核项目", max_length=100)
    metric = models.CharField("依据指标", max_length=40, blank=True,
                              help_text="统计指标代码（如 assigned、on_time_rate、key_led），或 entry 表示由交办机构录入并附佐证")
    mode = models.CharField("计分方式", max_length=10, choices=RuleMode.choices, default=RuleMode.FIXED)
    conditions = models.JSONField("条件", default=list, blank=True,
                                  help_text='如 [{"metric": "on_time_rate", "op": ">=", "value": 100}]；全部满足才得分')
    points = models.DecimalField("分值", max_digits=6, decimal_places=2, default=0,
                                 help_text="固定分，或每件/每条/每个百分点的分值（扣分项也填正数）")
    target = models.DecimalField("目标值", max_digits=6, decimal_places=2, null=True, blank=True,
                                 help_text="按差距计分时的目标，如 100（%）")
    tiers = models.JSONField("档次", default=list, blank=True, help_text='如 [{"min": 30, "points": 2}, {"min": 15, "points": 1}]')
    max_points = models.DecimalField("本项最多", max_digits=6, decimal_places=2, null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "考核项目"
        verbose_name_plural = "考核项目"
        ordering = ["rule_set", "position", "id"]

    def __str__(self) -> str:
        return self.label


class ScoreEntry(models.Model):
    """A bonus (or deduction) item the office enters with its evidence, e.g. 提供提案线索被采用2条."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="entries", verbose_name="考核项目")
    session = models.ForeignKey("proposals.Session", on_delete=models.PROTECT, related_name="+", verbose_name="届次")
    unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="单位")
    quantity = models.DecimalField("数量", max_digits=8, decimal_places=2)
    evidence = models.TextField("佐证材料")
    proposals = models.ManyToManyField("proposals.Proposal", blank=True, related_name="+", verbose_name="相关事项")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()

    class Meta:
        verbose_name = "考核加减分录入"
        verbose_name_plural = "考核加减分录入"
        ordering = ["entered_at", "id"]

    def __str__(self) -> str:
        return f"{self.rule} {self.quantity}"


class Evaluation(models.Model):
    """A unit's self-evaluation (自评) for a session: prepared from the rules, submitted by the unit, decided by the office."""

    session = models.ForeignKey("proposals.Session", on_delete=models.PROTECT, related_name="+", verbose_name="届次")
    unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="单位")
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="evaluations")
    state = models.CharField("状态", max_length=10, choices=EvaluationState.choices, default=EvaluationState.DRAFT)
    lines = models.JSONField("得分明细", default=list)
    computed_total = models.DecimalField("自评得分", max_digits=6, decimal_places=2, default=0)
    unit_note = models.TextField("单位说明", blank=True)
    prepared_at = models.DateTimeField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    office_total = models.DecimalField("核定得分", max_digits=6, decimal_places=2, null=True, blank=True)
    office_note = models.TextField("核定意见", blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = "单位自评"
        verbose_name_plural = "单位自评"
        constraints = [models.UniqueConstraint(fields=["session", "unit"], name="evaluation_one_per_unit_session")]

    def __str__(self) -> str:
        return f"{self.unit} {self.session} 自评"

    @property
    def final_total(self):
        return self.office_total if self.office_total is not None else self.computed_total


class SummaryDraft(models.Model):
    """A unit's annual handling summary (办理工作总结) being edited: its own sections; the figures stay computed."""

    session = models.ForeignKey("proposals.Session", on_delete=models.PROTECT, related_name="+", verbose_name="届次")
    unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="单位")
    addressee = models.CharField("主送机关", max_length=100, blank=True)
    practices = models.TextField("主要做法", blank=True)
    problems = models.TextField("存在问题", blank=True)
    next_steps = models.TextField("下一步打算", blank=True)
    typical = models.ManyToManyField("handling.Assignment", blank=True, related_name="+", verbose_name="典型案例")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "办理工作总结"
        verbose_name_plural = "办理工作总结"
        constraints = [models.UniqueConstraint(fields=["session", "unit"], name="summarydraft_one_per_unit_session")]

    def __str__(self) -> str:
        return f"{self.unit} {self.session} 办理工作总结"


class FigureCell(models.Model):
    """The figures of one cell (session × unit × lead section × handing-on unit × role × kind), kept from the event
    log by banli.reports.aggregates, so that figure pages and dashboards add up a few hundred cells instead of
    aggregating every assignment; `data` holds numerators, denominators, sums and the chart breakdowns."""

    session_id = models.IntegerField()
    unit_id = models.IntegerField()
    section_id = models.IntegerField(default=0)  # lead section, 0 when none
    parent_unit_id = models.IntegerField(default=0)  # the unit that handed the item on, 0 when the office assigned it
    role = models.CharField(max_length=8)
    kind = models.CharField(max_length=12)
    as_of = models.DateField()
    data = models.JSONField(default=dict)

    class Meta:
        verbose_name = "统计汇总格"
        verbose_name_plural = "统计汇总格"
        indexes = [models.Index(fields=["session_id", "unit_id"], name="figurecell_session_unit")]


class FigureCursor(models.Model):
    """The last event folded into the figure cells (one row)."""

    last_event_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = "统计汇总进度"
        verbose_name_plural = "统计汇总进度"
