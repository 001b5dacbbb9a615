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
    PENDING = "pending", "待本单位领导审签"
    RETURNED = "returned", "领导已退回"
    SENT = "sent", "已送主办单位"


class ReviewDecision(models.TextChoices):
    APPROVE = "approve", "同意"
    RETURN = "return", "退回"


class Rating(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class UnsatisfiedOutcome(models.TextChoices):
    """What became of an item a proposer rated 不满意 in the first round (the last round counts)."""

    PENDING = "pending", "待重新办理或决定"
    REHANDLING = "rehandling", "重新办理中"
    SATISFIED = "satisfied", "重新办理后满意"
    BASIC = "basic", "重新办理后基本满意"
    UNSATISFIED = "unsatisfied", "重新办理后仍不满意"
    CLOSED_AS_IS = "closed_as_is", "交办机构决定按现状办结"


class CommitmentState(models.TextChoices):
    OPEN = "open", "落实中"
    DONE = "done", "已落实"


class StepKind(models.TextChoices):
    REVIEW = "review", "审核"
    CONSULT = "consult", "征求意见稿"


class DocumentKind(models.TextChoices):
    PROPOSAL_REPLY = "proposal_reply", "提案答复函"
    SUGGESTION_REPLY = "suggestion_reply", "建议答复函"
    CO_OPINION = "co_opinion", "会办意见"


class DeliveryKind(models.TextChoices):
    PROPOSER = "proposer", "提案人/代表"
    OFFICE = "office", "交办机构"
    CC = "cc", "抄送"


# The office's check list (核稿): every item must pass before the step approves.
CHECKLIST_ITEMS = [
    ("point_by_point", "逐条答复"),
    ("wording", "文字"),
    ("format", "格式"),
    ("disclosure", "公开属性"),
]


NATIONAL_REPLY_CLASSES = [
    ("A", "已解决或基本解决"),
    ("B", "正在解决或列入计划解决"),
    ("C", "因条件限制需待以后解决"),
    ("D", "留作参考"),
]
