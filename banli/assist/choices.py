"""智能辅助: choices (stable keys, Chinese labels)."""
from django.db import models


class SuggestionTask(models.TextChoices):
    CATEGORY = "category", "类别建议"
    ROUTING = "routing", "交办建议"


class SuggestionOutcome(models.TextChoices):
    ACCEPTED = "accepted", "采纳"
    PARTLY = "partly", "部分采纳"
    OVERRIDDEN = "overridden", "改选"
    IGNORED = "ignored", "未理会"


class TrainingOutcome(models.TextChoices):
    INSTALLED = "installed", "已启用"
    REFUSED = "refused", "已拒绝（交叉验证成绩变差）"
