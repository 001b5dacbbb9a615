"""Supervision of key items (重点提案督办) and their tracking notes."""
from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.db import models
from encrypted_fields.fields import EncryptedCharField

from banli.supervision.choices import (
    Channel,
    DeliveryState,
    DigestPeriod,
    ReminderKind,
    ReminderLevel,
    WebhookKind,
)
from banli.supervision.messages import render_message


class Supervision(models.Model):
    """A key item supervised by a named leader, tracked more closely than the others."""

    proposal = models.OneToOneField("proposals.Proposal", on_delete=models.PROTECT, related_name="supervision")
    leader_name = models.CharField("督办领导", max_length=50)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="督办领导账号"
    )
    warning_days = models.JSONField("预警工作日", default=list, blank=True, help_text="如 [10, 5, 1]；留空用默认")
    note = models.TextField("督办要求", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "重点督办"
        verbose_name_plural = "重点督办"

    def __str__(self) -> str:
        return f"督办：{self.proposal}"


class SupervisionNote(models.Model):
    """A dated progress entry on a key item: a meeting, a site visit or a note."""

    KINDS = [("meeting", "会议"), ("visit", "现场调研"), ("note", "进展")]

    supervision = models.ForeignKey(Supervision, on_delete=models.PROTECT, related_name="notes")
    kind = models.CharField("类型", max_length=8, choices=KINDS, default="note")
    happened_on = models.DateField("日期")
    text = models.TextField("内容")
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "督办记录"
        verbose_name_plural = "督办记录"
        ordering = ["happened_on", "id"]

    def __str__(self) -> str:
        return f"{self.happened_on} {self.get_kind_display()}"


class ReminderPolicy(models.Model):
    """How an assigning office wants reminders: warning thresholds, escalation and forced channels.

    An office without a row gets the defaults from settings (BANLI_WARNING_DAYS and friends).
    """

    office = models.OneToOneField(
        "organizations.Unit", on_delete=models.PROTECT, related_name="reminder_policy",
        verbose_name="交办机构",
    )
    warning_days = models.JSONField("预警工作日", default=list, blank=True, help_text="到期前多少个工作日预警，如 [5, 1]")
    key_warning_days = models.JSONField("重点提案预警工作日", default=list, blank=True, help_text="如 [10, 5, 3, 1]")
    escalate_after_days = models.PositiveSmallIntegerField(
        "逾期升级(工作日)", default=3, help_text="逾期满多少个工作日后同时提醒单位领导和交办机构"
    )
    force_overdue_channels = models.JSONField(
        "逾期强制渠道", default=list, blank=True, help_text="逾期事项不论个人设置都要使用的渠道，如 [\"sms\"]"
    )
    max_attempts = models.PositiveSmallIntegerField("最多发送次数", default=4)

    class Meta:
        verbose_name = "催办规则"
        verbose_name_plural = "催办规则"
        constraints = [
            models.CheckConstraint(condition=models.Q(max_attempts__gte=1), name="reminderpolicy_attempts_positive"),
        ]

    def __str__(self) -> str:
        return f"催办规则：{self.office}"


class Reminder(models.Model):
    """One warning or overdue notice about a unit's items, or one manual 催办 about one item.

    The deadline scan writes one row per group of items that reach the same threshold of the same kind on
    the same day for the same unit, handler, session and key flag (a proposer's rating: the same proposal):
    `items` lists them (",12,57,", assignment ids; commitment ids for a commitment), `item_count` counts them,
    and `assignment` / `commitment` is the group's first item, which carries everything the fan-out reads
    (handler, proposal, session, key flag). An item is in one group per (kind, threshold) it reaches (see
    scan.py: the scan leaves out items an earlier group already holds), so each warning reaches it once.
    `threshold` counts working days: 5 and 1 are warnings before the due date, -1, -2, … the days overdue
    (one per working day), 0 a manual reminder. The unique constraint (`item_key` is "a<id>" or "c<id>" for one item,
    "u<unit>:a<first id>" for a group)
    is what makes two scans racing create a group once.
    """

    kind = models.CharField("类型", max_length=12, choices=ReminderKind.choices)
    level = models.CharField("级别", max_length=10, choices=ReminderLevel.choices)
    item_key = models.CharField(max_length=24, help_text="a<交办id> 或 c<落实事项id>")
    # Indexes are kept to what is read (see Meta): a first scan inserts tens of thousands of rows at once.
    assignment = models.ForeignKey("handling.Assignment", on_delete=models.PROTECT, related_name="reminders",
                                   db_index=False)
    commitment = models.ForeignKey(
        "replies.Commitment", null=True, blank=True, on_delete=models.PROTECT, related_name="reminders",
        db_index=False,
    )
    unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, related_name="reminders", db_index=False)
    due_date = models.DateField("期限", null=True, blank=True, help_text="一组事项中最早的期限")
    threshold = models.SmallIntegerField("阈值(工作日)", default=0)
    items = models.TextField("事项", blank=True, default="", help_text="逗号分隔的交办（落实事项）id，首尾带逗号")
    item_count = models.PositiveIntegerField("事项数", default=1)
    scan_date = models.DateField("生成日期")
    scan_token = models.CharField(max_length=32, editable=False)
    batch = models.CharField(max_length=32, blank=True, help_text="同一次人工催办")
    message = models.TextField("催办内容", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "催办提醒"
        verbose_name_plural = "催办提醒"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item_key", "kind", "due_date", "threshold"],
                condition=~models.Q(kind="manual"),
                name="reminder_once_per_item_threshold",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "kind", "created_at"], name="reminder_unit_kind_time"),
            models.Index(fields=["assignment", "created_at"], name="reminder_assignment_time"),
            models.Index(fields=["scan_token"], name="reminder_scan_token"),
            models.Index(fields=["batch"], condition=~models.Q(batch=""), name="reminder_batch"),
            models.Index(fields=["commitment"], condition=models.Q(commitment__isnull=False),
                         name="reminder_commitment"),
            models.Index(fields=["created_by"], condition=models.Q(created_by__isnull=False),
                         name="reminder_created_by"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}{self.get_level_display()} {self.item_key} {self.threshold}"

    @property
    def item_ids(self) -> list[int]:
        """The ids the row is about (assignments; commitments for a commitment), the first item first."""
        ids = [int(part) for part in self.items.split(",") if part]
        return ids or [self.commitment_id if self.commitment_id else self.assignment_id]

    @property
    def days_late(self) -> int:
        return -self.threshold if self.threshold < 0 else 0


class Digest(models.Model):
    """A weekly or daily summary for one leader or office user; one per user, period and start date."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests")
    period = models.CharField("周期", max_length=8, choices=DigestPeriod.choices)
    period_start = models.DateField("起始日期")
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "工作简报"
        verbose_name_plural = "工作简报"
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "period", "period_start"], name="digest_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.get_period_display()}简报 {self.period_start} {self.user}"


class Notification(models.Model):
    """An in-app message in a user's notification centre (通知中心)."""

    # user: indexed by notification_user_unread; digest: by a partial index (most rows are reminders');
    # a first scan inserts tens of thousands of rows at once, so no index is kept twice.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                             db_index=False)
    reminder = models.ForeignKey(Reminder, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications",
                                 db_index=False)  # indexed by notification_once_per_reminder (reminder first)
    digest = models.ForeignKey(Digest, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications",
                               db_index=False)
    level = models.CharField("级别", max_length=10, choices=ReminderLevel.choices, default=ReminderLevel.WARNING)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=300, blank=True)
    is_key = models.BooleanField("重点提案", default=False)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-is_key", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["reminder", "user"], condition=models.Q(reminder__isnull=False),
                                    name="notification_once_per_reminder"),
            models.UniqueConstraint(fields=["user", "digest"], condition=models.Q(digest__isnull=False),
                                    name="notification_once_per_digest"),
        ]
        indexes = [
            models.Index(fields=["user", "read_at", "created_at"], name="notification_user_unread"),
            models.Index(fields=["digest"], condition=models.Q(digest__isnull=False), name="notification_digest"),
        ]

    def __str__(self) -> str:
        return self.title or f"通知 #{self.pk}"

    @cached_property
    def message(self) -> tuple[str, str]:
        """(title, body): stored for a digest, rendered from the reminder's template for a reminder."""
        if self.title or self.reminder_id is None:
            return self.title, self.body

        return render_message(self.reminder, user=self.user)

    @property
    def shown_title(self) -> str:
        return self.message[0]

    shown_title.fget.short_description = "标题"

    @property
    def shown_body(self) -> str:
        return self.message[1]


class ChannelPreference(models.Model):
    """Which channels a user wants besides the notification centre, and which digest."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_preference")
    email = models.BooleanField("电子邮件", default=True)
    sms = models.BooleanField("短信", default=False)
    digest = models.CharField("工作简报", max_length=8, choices=DigestPeriod.choices, default=DigestPeriod.WEEKLY)

    class Meta:
        verbose_name = "通知渠道设置"
        verbose_name_plural = "通知渠道设置"

    def __str__(self) -> str:
        return f"{self.user} 的通知设置"


class UnitWebhook(models.Model):
    """A unit's enterprise-messaging group robot (企业微信 / 钉钉) that receives its reminders."""

    unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, related_name="webhooks")
    kind = models.CharField("类型", max_length=10, choices=WebhookKind.choices)
    url = models.URLField("机器人地址", max_length=500)
    secret = models.CharField("加签密钥", max_length=200, blank=True, help_text="钉钉机器人“加签”安全设置的密钥")
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "工作群机器人"
        verbose_name_plural = "工作群机器人"

    def __str__(self) -> str:
        return f"{self.unit} {self.get_kind_display()}"


class EventSubscription(models.Model):
    """An integrator's address (a provincial platform, a 12345 hotline system) that receives signed JSON for the
    event verbs it chose, of the items its owner may see: an assigning office's sessions, or every item for a
    subscription the administrator keeps (`office` empty)."""

    office = models.ForeignKey(
        "organizations.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="event_subscriptions",
        verbose_name="交办机构", help_text="留空：系统管理员的订阅（全部事项）",
    )
    name = models.CharField("名称", max_length=100)
    url = models.URLField("推送地址", max_length=500)
    verbs = models.JSONField("订阅事件", default=list)
    # Encrypted at rest like personal data: the secret must be read back to sign each delivery.
    secret = EncryptedCharField("签名密钥", max_length=200)
    is_active = models.BooleanField("启用", default=True)
    cursor = models.BigIntegerField(default=0, help_text="已检查到的事件编号（此前的事件已生成推送）")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "事件推送订阅"
        verbose_name_plural = "事件推送订阅"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One message to send on one channel (e-mail, SMS, group robot), with its retries; never silently lost."""

    channel = models.CharField("渠道", max_length=8, choices=Channel.choices)
    # Indexes are kept to what is read (see Meta): a first scan inserts tens of thousands of rows at once.
    dedupe_key = models.CharField(max_length=80, help_text="同一消息同一渠道只发一次")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             db_index=False)
    webhook = models.ForeignKey(UnitWebhook, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries",
                                db_index=False)
    subscription = models.ForeignKey(EventSubscription, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="deliveries", db_index=False)
    event = models.ForeignKey("handling.Event", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              db_index=False)
    response_code = models.PositiveSmallIntegerField("响应码", null=True, blank=True)
    address = models.CharField("地址", max_length=500)
    subject = models.CharField("标题", max_length=200)
    body = models.TextField("内容")
    reminder = models.ForeignKey(Reminder, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries")
    digest = models.ForeignKey(Digest, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries",
                               db_index=False)
    office = models.ForeignKey(
        "organizations.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="负责查看发送失败的交办机构", db_index=False,
    )
    forced = models.BooleanField("强制渠道", default=False)
    state = models.CharField("状态", max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField("已尝试次数", default=0)
    max_attempts = models.PositiveSmallIntegerField("最多次数", default=4)
    next_attempt_at = models.DateTimeField("下次尝试")
    last_error = models.TextField("最近错误", blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "消息发送"
        verbose_name_plural = "消息发送"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["dedupe_key"], name="delivery_once_per_key")]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_state_next"),
            models.Index(fields=["office", "state"], name="delivery_office_state"),
            models.Index(fields=["user"], condition=models.Q(user__isnull=False), name="delivery_user"),
            models.Index(fields=["webhook"], condition=models.Q(webhook__isnull=False), name="delivery_webhook"),
            models.Index(fields=["subscription", "created_at"], condition=models.Q(subscription__isnull=False),
                         name="delivery_subscription"),
            models.Index(fields=["digest"], condition=models.Q(digest__isnull=False), name="delivery_digest"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.address}"


class DeliveryQueue(models.Model):
    """The reminders of one scan whose notifications and deliveries the send step has still to write (an
    outbox of one row per scan): the scan stays short, and a crash between the scan and the send step loses
    nothing."""

    token = models.CharField(max_length=32, unique=True, help_text="该次扫描的提醒的 scan_token")
    created_at = models.DateTimeField()
    queued_at = models.DateTimeField(null=True, blank=True)
    notifications = models.PositiveIntegerField("生成的站内通知数", default=0)
    deliveries = models.PositiveIntegerField("生成的发送数", default=0)

    class Meta:
        verbose_name = "待生成发送"
        verbose_name_plural = "待生成发送"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at"], condition=models.Q(queued_at__isnull=True),
                                name="deliveryqueue_pending")]

    def __str__(self) -> str:
        return f"{self.token} {'已生成' if self.queued_at else '待生成'}"


class DeliveryAttempt(models.Model):
    """One try at sending a delivery and what came of it."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField("第几次")
    started_at = models.DateTimeField()
    ok = models.BooleanField("成功")
    detail = models.TextField("结果", blank=True)
    response_code = models.PositiveSmallIntegerField("响应码", null=True, blank=True)

    class Meta:
        verbose_name = "发送记录"
        verbose_name_plural = "发送记录"
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="deliveryattempt_unique_number")]

    def __str__(self) -> str:
        return f"#{self.number} {'成功' if self.ok else '失败'}"
