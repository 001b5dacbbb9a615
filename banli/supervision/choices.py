"""督办催办: choices (stable keys, Chinese labels)."""
from django.db import models


class ReminderKind(models.TextChoices):
    SIGN = "sign", "签收"
    OPINION = "opinion", "会办意见"
    REPLY = "reply", "答复"
    FEEDBACK = "feedback", "测评"
    COMMITMENT = "commitment", "落实事项"
    MANUAL = "manual", "人工催办"


class ReminderLevel(models.TextChoices):
    WARNING = "warning", "预警"
    OVERDUE = "overdue", "逾期"
    ESCALATED = "escalated", "逾期升级"
    MANUAL = "manual", "催办"


class Channel(models.TextChoices):
    EMAIL = "email", "电子邮件"
    SMS = "sms", "短信"
    WEBHOOK = "webhook", "工作群机器人"
    EVENT = "event", "外部系统推送"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    RETRYING = "retrying", "等待重试"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


class WebhookKind(models.TextChoices):
    WECOM = "wecom", "企业微信群机器人"
    DINGTALK = "dingtalk", "钉钉群机器人"


class DigestPeriod(models.TextChoices):
    WEEKLY = "weekly", "每周"
    DAILY = "daily", "每日"
    NONE = "none", "不接收"


class NoteKind(models.TextChoices):
    MEETING = "meeting", "会议"
    VISIT = "visit", "现场调研"
    NOTE = "note", "进展"
