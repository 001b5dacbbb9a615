"""Choices of the handling workflow. States and their labels/colours live in handling.workflow."""
from django.db import models


class AssignmentRole(models.TextChoices):
    LEAD = "lead", "主办"
    CO = "co", "会办"
    SPLIT = "split", "分办"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已同意"
    REJECTED = "rejected", "未同意"


class ContactPhase(models.TextChoices):
    BEFORE = "before", "办前"
    DURING = "during", "办中"
    AFTER = "after", "办后"


class ContactMethod(models.TextChoices):
    PHONE = "phone", "电话"
    MEETING = "meeting", "当面"
    FORUM = "forum", "座谈"
    VISIT = "visit", "走访/调研"
    EMAIL = "email", "邮件/函件"
    OTHER = "other", "其他"


class DeadlineStep(models.TextChoices):
    SIGN = "sign", "签收"
    ADJUST = "adjust", "申请调整"
    CO_OPINION = "co_opinion", "会办意见"
    REPLY = "reply", "答复"
    REPLY_MAX = "reply_max", "延期上限"
    FEEDBACK = "feedback", "反馈测评"
    REHANDLE = "rehandle", "重新办理"
    DISCLOSURE = "disclosure", "公开"


class DeadlineUnit(models.TextChoices):
    CALENDAR_DAYS = "calendar_days", "自然日"
    WORKING_DAYS = "working_days", "工作日"
    MONTHS = "months", "月"
    FIXED_DATE = "fixed_date", "固定日期"
