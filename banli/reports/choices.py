"""统计与考核: choices (stable keys, Chinese labels)."""
from django.db import models


class RuleKind(models.TextChoices):
    BASE = "base", "基础分"
    DEDUCTION = "deduction", "扣分项"
    BONUS = "bonus", "加分项"


class RuleMode(models.TextChoices):
    FIXED = "fixed", "满足条件得固定分"
    PER = "per", "按数量计分（每件/每条）"
    TIERS = "tiers", "按档次计分"
    SHORTFALL = "shortfall", "按差距计分（每低于目标1个百分点）"


class EvaluationState(models.TextChoices):
    DRAFT = "draft", "待单位确认提交"
    SUBMITTED = "submitted", "已提交，待交办机构核定"
    CONFIRMED = "confirmed", "交办机构已确认"
    CORRECTED = "corrected", "交办机构已核定调整"


ENTRY_METRIC = "entry"
OPERATORS = {">=": "≥", "<=": "≤", "==": "=", ">": ">", "<": "<"}
