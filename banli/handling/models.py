"""Assignments (交办) and everything that happens to them: requests, contacts, deadlines and the event log."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from banli.handling import deadlines
from banli.handling.choices import (
    AssignmentRole,
    AssignmentState,
    ContactMethod,
    ContactPhase,
    DeadlineStep,
    DeadlineUnit,
    DueKind,
    RequestStatus,
    STATE_COLOURS,
)
from banli.proposals.choices import ProposalKind


class AssignmentQuerySet(models.QuerySet):
    """Keeps next_due / next_due_kind equal to deadlines.next_due() on every write that goes through the ORM:
    an UPDATE that sets the state or a due column recomputes them in the same statement, bulk_create fills them."""

    def update(self, **kwargs):
        if deadlines.NEXT_DUE_INPUTS & kwargs.keys() and "next_due" not in kwargs:
            kwargs.update(deadlines.next_due_updates(kwargs))
        return super().update(**kwargs)

    update.queryset_only = True

    def refresh_next_due(self) -> int:
        """Recompute the stored next deadline of these rows from their columns (one UPDATE)."""
        return super().update(**deadlines.next_due_updates())

    refresh_next_due.queryset_only = True

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.next_due, obj.next_due_kind = deadlines.next_due(obj)
            obj.fill_copied_columns()  # bulk writers skip save(); the proposal's session and key flag all the same
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs, fields = list(objs), list(fields)
        if deadlines.NEXT_DUE_INPUTS & set(fields):
            for obj in objs:
                obj.next_due, obj.next_due_kind = deadlines.next_due(obj)
            fields = [*fields, "next_due", "next_due_kind"]
        return super().bulk_update(objs, fields, *args, **kwargs)


class Assignment(models.Model):
    """One proposal handed to one unit in one role (lead / co / split); its state and deadlines live here."""

    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.PROTECT, related_name="assignments", verbose_name="提案建议"
    )
    unit = models.ForeignKey(
        "organizations.Unit", on_delete=models.PROTECT, related_name="assignments", verbose_name="承办单位"
    )
    role = models.CharField("办理方式", max_length=8, choices=AssignmentRole.choices)
    state = models.CharField("状态", max_length=24, choices=AssignmentState.choices, default=AssignmentState.PENDING_SIGN,
                             db_index=True)
    round = models.PositiveSmallIntegerField("办理轮次", default=1)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handed_on",
        verbose_name="上级交办",
        help_text="在本单位下级内再交办时指向上级交办记录",
    )
    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        verbose_name="调整自",
    )
    lead_section = models.ForeignKey(
        "organizations.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="section_assignments",
        verbose_name="主办科室",
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_assignments",
        verbose_name="承办人",
    )
    assigned_at = models.DateTimeField("交办时间")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name="交办人"
    )
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    replied_at = models.DateTimeField("答复时间", null=True, blank=True)
    opinion_sent_at = models.DateTimeField("会办意见送达时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    # Deadlines are columns: the scanner finds due rows with one indexed query.
    sign_due = models.DateField("签收期限", null=True, blank=True)
    adjust_due = models.DateField("申请调整期限", null=True, blank=True)
    opinion_due = models.DateField("会办意见期限", null=True, blank=True)
    reply_due = models.DateField("答复期限", null=True, blank=True)
    reply_due_original = models.DateField("原答复期限", null=True, blank=True)
    reply_due_max = models.DateField("延期上限", null=True, blank=True)
    feedback_due = models.DateField("测评期限", null=True, blank=True)
    # The deadline owed next and its kind, as deadlines.next_due() computes them from the columns above; kept
    # by every write (see AssignmentQuerySet and save()) so lists, the scan and reports read one indexed column.
    next_due = models.DateField("当前期限", null=True, blank=True, editable=False)
    next_due_kind = models.CharField("当前期限类型", max_length=8, choices=DueKind.choices, blank=True, default="",
                                     editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Copies of the proposal's session and key flag (marked key or supervised), kept by the services that change
    # them, so the ledger filters and orders on this row alone and an index serves its pages.
    session = models.ForeignKey("proposals.Session", null=True, on_delete=models.PROTECT, related_name="+",
                                editable=False, verbose_name="届次")
    key_item = models.BooleanField("重点提案", default=False, editable=False)

    class Meta:
        verbose_name = "交办"
        verbose_name_plural = "交办"
        ordering = ["proposal_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "unit"],
                condition=~Q(state=AssignmentState.WITHDRAWN),
                name="assignment_one_live_per_unit",
            ),
            models.CheckConstraint(condition=Q(role__in=AssignmentRole.values), name="assignment_role_valid"),
            models.CheckConstraint(condition=Q(state__in=AssignmentState.values), name="assignment_state_valid"),
            models.CheckConstraint(
                condition=Q(next_due__isnull=True, next_due_kind="")
                | Q(next_due__isnull=False, next_due_kind__in=DueKind.values),
                name="assignment_next_due_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "sign_due"], name="assignment_state_sign_due"),
            models.Index(fields=["state", "opinion_due"], name="assignment_state_opinion_due"),
            models.Index(fields=["state", "reply_due"], name="assignment_state_reply_due"),
            models.Index(fields=["state", "feedback_due"], name="assignment_state_feedback_due"),
            # A unit's lists by state (the workbench's sections: their counts and their rows' order keys) read from
            # the index alone: the 会办意见待送 count and ids of a unit at a million, 2,627 rows, 5.8 + 5.8 -> 1 + 1 ms.
            models.Index(fields=["unit", "state"], include=["role", "key_item", "next_due", "id"],
                         name="assignment_unit_state"),
            # The scan's range query and the ledger's due order: only rows that owe a deadline are indexed. The unit
            # and session ride along, so the office's overdue count per unit reads the index alone (22-43 -> 5 ms
            # over 12,181 overdue rows of a million, where the rows lay on 9,550 table pages).
            models.Index(fields=["next_due"], include=["unit_id", "session_id"], condition=Q(next_due__isnull=False),
                         name="assignment_next_due"),
            # The answered items (the few a 不满意 rating can apply to) by id and round, read without the table:
            # the workbench's 测评不满意 list matches them against the 不满意 ratings (55 -> 3 ms at a million).
            models.Index(fields=["id", "round"], condition=Q(state__in=[AssignmentState.REPLIED, AssignmentState.RATED]),
                         name="assignment_answered_round"),
        ]

    objects = AssignmentQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.proposal.number} → {self.unit}（{self.get_role_display()}）"

    def fill_copied_columns(self) -> None:
        """Copy the proposal's session (and key flag, for a new row) when not set."""
        if self.session_id is None and self.proposal_id is not None:
            self.session_id = self.proposal.session_id
            if self.pk is None and not self.key_item:
                self.key_item = bool(self.proposal.is_key)

    def save(self, *args, **kwargs):
        self.fill_copied_columns()
        self.next_due, self.next_due_kind = deadlines.next_due(self)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and deadlines.NEXT_DUE_INPUTS & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "next_due", "next_due_kind"}
        super().save(*args, **kwargs)

    @property
    def state_label(self) -> str:
        return AssignmentState(self.state).label

    @property
    def state_colour(self) -> str:
        return STATE_COLOURS[self.state]

    @property
    def answers(self) -> bool:
        """Lead and split units write a reply; co units send an opinion."""
        return self.role in (AssignmentRole.LEAD, AssignmentRole.SPLIT)


class SectionAssignment(models.Model):
    """A co-handling section inside the unit (会办处室) with its handler."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="co_sections")
    section = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="会办科室")
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="承办人"
    )

    class Meta:
        verbose_name = "会办科室"
        verbose_name_plural = "会办科室"
        constraints = [
            models.UniqueConstraint(fields=["assignment", "section"], name="sectionassignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.section}"


class AdjustmentRequest(models.Model):
    """A unit's request that an item be handed elsewhere (申请调整/退回), decided by the assigning office."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="adjustment_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField("理由")
    suggested_unit = models.ForeignKey(
        "organizations.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="建议承办单位"
    )
    previous_state = models.CharField(max_length=24)
    status = models.CharField("审批状态", max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)
    new_assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="调整后的交办"
    )

    class Meta:
        verbose_name = "调整申请"
        verbose_name_plural = "调整申请"
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"], condition=Q(status="pending"), name="adjustmentrequest_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"调整申请 #{self.pk}"


class ExtensionRequest(models.Model):
    """A unit's request for a later reply deadline (申请延期); the due date moves only when approved."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="extension_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField("理由")
    requested_due = models.DateField("申请延至")
    status = models.CharField("审批状态", max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    approved_due = models.DateField("批准延至", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"], condition=Q(status="pending"), name="extensionrequest_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"延期申请 #{self.pk}"


class ContactRecord(models.Model):
    """A contact with the proposers (沟通记录): before, during or after handling, by phone, meeting, visit…"""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="contacts")
    phase = models.CharField("阶段", max_length=8, choices=ContactPhase.choices)
    method = models.CharField("方式", max_length=8, choices=ContactMethod.choices)
    contacted_on = models.DateField("日期")
    people = models.CharField("参加人员", max_length=300)
    summary = models.TextField("情况摘要")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "沟通记录"
        verbose_name_plural = "沟通记录"
        ordering = ["contacted_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_phase_display()}沟通 {self.contacted_on}"


class DeadlinePolicy(models.Model):
    """How one deadline step is counted for a session and kind: days, working days, months or a fixed date."""

    session = models.ForeignKey("proposals.Session", on_delete=models.CASCADE, related_name="deadline_policies")
    kind = models.CharField("类型", max_length=12, choices=ProposalKind.choices)
    step = models.CharField("环节", max_length=12, choices=DeadlineStep.choices)
    unit = models.CharField("计算方式", max_length=16, choices=DeadlineUnit.choices)
    amount = models.PositiveIntegerField("数量", default=0)
    fixed_date = models.DateField("固定日期", null=True, blank=True)

    class Meta:
        verbose_name = "期限规则"
        verbose_name_plural = "期限规则"
        constraints = [
            models.UniqueConstraint(fields=["session", "kind", "step"], name="deadlinepolicy_unique_step"),
            models.CheckConstraint(
                condition=~Q(unit="fixed_date") | Q(fixed_date__isnull=False),
                name="deadlinepolicy_fixed_date_required",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session} {self.get_kind_display()} {self.get_step_display()}"


class HolidayOverride(models.Model):
    """An administrator's correction of the holiday calendar for a day (a year the package does not know yet)."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("是否工作日")
    name = models.CharField("说明", max_length=50, blank=True)

    class Meta:
        verbose_name = "节假日调整"
        verbose_name_plural = "节假日调整"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.name}"


class Event(models.Model):
    """One row of the append-only event log: who did what to which item, when, why, and the state change.

    Rows form hash chains, one per stream (a proposal's events, security events, system events): each row
    stores the hash of the previous row of its stream, so `verify_events` finds any row changed or removed.
    """

    proposal = models.ForeignKey(
        "proposals.Proposal", null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    # The assignment's handling unit, copied when the row is written (an assignment keeps its unit for life: an
    # adjustment makes a new assignment), so a unit's events are one index range (unit, id): its notification
    # centre and its /api/v1/events read the newest of them without joining a province's assignments.
    unit = models.ForeignKey("organizations.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             db_index=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_role = models.CharField(max_length=20, blank=True)
    verb = models.CharField(max_length=40, db_index=True)
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24, blank=True)
    reason = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)
    client_ip = models.CharField("客户端地址", max_length=45, blank=True)
    stream = models.CharField(max_length=40, db_index=True, default="system")
    prev_hash = models.CharField(max_length=64, default="")
    hash = models.CharField(max_length=64, default="")
    # How `hash` was computed: 2 = HMAC-SHA-256 with BANLI_EVENT_KEY (every row written since the key was introduced);
    # empty = plain SHA-256, only for rows written before (eventlog.verify accepts those up to the keying marker).
    scheme = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "事件"
        verbose_name_plural = "事件日志"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["proposal", "created_at"], name="event_proposal_time"),
            models.Index(fields=["assignment", "created_at"], name="event_assignment_time"),
            models.Index(fields=["stream", "id"], name="event_stream_id"),
            models.Index(fields=["unit", "id"], condition=models.Q(unit__isnull=False), name="event_unit_id"),
            # A unit's unread notifications (the menu's badge, every page): its events of the last fortnight,
            # newest first, found in the fortnight's range of this index whatever order the rows were written in.
            models.Index(fields=["unit", "created_at", "id"], condition=models.Q(unit__isnull=False),
                         name="event_unit_time"),
            # The few proposal-level events every handling unit hears of (access.UNIT_PROPOSAL_EVENT_VERBS): the
            # notification feed finds them without reading every event of the unit's proposals.
            models.Index(fields=["proposal"], condition=models.Q(assignment__isnull=True, verb__in=["merge", "unmerge"]),
                         name="event_proposal_merge"),
        ]
        constraints = [
            # Two writers racing on one stream cannot both chain to the same predecessor.
            models.UniqueConstraint(fields=["stream", "prev_hash"], name="event_chain_no_fork"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.verb}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise RuntimeError("事件日志只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("事件日志只能追加，不能删除")
