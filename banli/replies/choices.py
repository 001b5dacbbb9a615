"""Choices for replies, reviews, ratings and commitments."""
from django.db import models


class Disclosure(models.TextChoices):
    FULL = "full", "全文公开"
    SUMMARY = "summary", "摘要公开"
    NONE = "none", "不公开"


class ReplyState(models.TextChoices):
    DRAFT = "draft", "草稿"
    IN_REVIEW = "in_review", "审核中"
    RETURNED = "returned", "已退回"
    APPROVED = "approved", "已签发"
    SENT = "sent", "已答复"


class CoOpinionState(models.TextChoices):
    DRAFT = "draft", "草稿"
    SENT = "sent", "已送主办单位"


class ReviewDecision(models.TextChoices):
    APPROVE = "approve", "同意"
    RETURN = "return", "退回"


class Rating(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class CommitmentState(models.TextChoices):
    OPEN = "open", "落实中"
    DONE = "done", "已落实"


NATIONAL_REPLY_CLASSES = [
    ("A", "已解决或基本解决"),
    ("B", "正在解决或列入计划解决"),
    ("C", "因条件限制需待以后解决"),
    ("D", "留作参考"),
]
