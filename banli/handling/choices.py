"""Choices of the handling workflow: stable keys, Chinese labels (and, for states, a colour)."""
from django.db import models


class AssignmentState(models.TextChoices):
    PENDING_SIGN = "pending_sign", "待签收"
    ADJUSTMENT_REQUESTED = "adjustment_requested", "申请调整中"
    SIGNED = "signed", "已签收"
    IN_PROGRESS = "in_progress", "办理中"
    OPINION_SENT = "opinion_sent", "已送会办意见"
    REPLY_REVIEW = "reply_review", "答复审核中"
    REPLIED = "replied", "已答复"
    RATED = "rated", "已测评"
    REHANDLING = "rehandling", "重新办理中"
    CLOSED = "closed", "已办结"
    WITHDRAWN = "withdrawn", "已撤回"


# The Bootstrap colour each state's badge wears (as netbox's ChoiceSet carries one per choice).
STATE_COLOURS: dict[str, str] = {
    AssignmentState.PENDING_SIGN: "warning",
    AssignmentState.ADJUSTMENT_REQUESTED: "orange",
    AssignmentState.SIGNED: "info",
    AssignmentState.IN_PROGRESS: "primary",
    AssignmentState.OPINION_SENT: "success",
    AssignmentState.REPLY_REVIEW: "purple",
    AssignmentState.REPLIED: "teal",
    AssignmentState.RATED: "cyan",
    AssignmentState.REHANDLING: "danger",
    AssignmentState.CLOSED: "success",
    AssignmentState.WITHDRAWN: "secondary",
}

def state_label(key: str) -> str:
    """The Chinese label of an assignment state (the key itself when it is none of them)."""
    return AssignmentState(key).label if key in AssignmentState.values else key


# States an assignment never leaves.
FINAL_STATES = frozenset({AssignmentState.OPINION_SENT, AssignmentState.CLOSED, AssignmentState.WITHDRAWN})


class DueKind(models.TextChoices):
    """Which deadline an assignment owes next (Assignment.next_due_kind); blank when it owes none."""

    SIGN = "sign", "签收"
    OPINION = "opinion", "会办意见"
    REPLY = "reply", "答复"
    FEEDBACK = "feedback", "测评"


class AssignmentRole(models.TextChoices):
    LEAD = "lead", "主办"
    CO = "co", "会办"
    SPLIT = "split", "分办"


# The order an item's units are named in everywhere (主办, 分办, 会办); handling.selectors.role_rank sorts by it in SQL.
ROLE_ORDER = {AssignmentRole.LEAD: 0, AssignmentRole.SPLIT: 1, AssignmentRole.CO: 2}


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
