"""Co-opinions, replies with their versions and review chain, proposers' feedback and commitments."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from banli.core.uploads import random_name
from banli.organizations.choices import Role
from banli.replies.choices import (
    DeliveryKind,
    DocumentKind,
    StepKind,
    CoOpinionState,
    CommitmentState,
    Disclosure,
    Rating,
    ReplyState,
    ReviewDecision,
)


class ReplyClassScheme(models.Model):
    """A scheme of reply classes: the national A–D, or a local scheme with three classes."""

    name = models.CharField("名称", max_length=50, unique=True)

    class Meta:
        verbose_name = "答复分类方案"
        verbose_name_plural = "答复分类方案"

    def __str__(self) -> str:
        return self.name


class ReplyClass(models.Model):
    """One class of a scheme, e.g. A 已解决或基本解决."""

    scheme = models.ForeignKey(ReplyClassScheme, on_delete=models.CASCADE, related_name="classes")
    code = models.CharField("代码", max_length=4)
    label = models.CharField("含义", max_length=50)
    position = models.PositiveSmallIntegerField(default=0)
    needs_commitment = models.BooleanField("须跟踪落实", default=False)

    class Meta:
        verbose_name = "答复类别"
        verbose_name_plural = "答复类别"
        ordering = ["scheme", "position"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="replyclass_unique_code")]

    def __str__(self) -> str:
        return f"{self.code}类 {self.label}"


class ReviewChain(models.Model):
    """A unit's configured review chain for replies (科室 → 办公室核稿 → 分管领导 → 主要领导签发)."""

    unit = models.OneToOneField("organizations.Unit", on_delete=models.CASCADE, related_name="review_chain")
    # Off by default: one person approving two steps of one reply (e.g. a deputy signing as head) is refused.
    allow_same_reviewer = models.BooleanField("允许同一人审核多个环节", default=False)
    # When on, the unit's 会办意见 waits for its leader's sign-off (审签) before the lead unit sees it.
    co_opinion_needs_leader = models.BooleanField("会办意见须经本单位领导审签", default=False)

    class Meta:
        verbose_name = "审核链"
        verbose_name_plural = "审核链"

    def __str__(self) -> str:
        return f"{self.unit} 审核链"


class ReviewChainStep(models.Model):
    """One step of a review chain: its name, the role that takes it and, optionally, the named people who may."""

    chain = models.ForeignKey(ReviewChain, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField("顺序")
    name = models.CharField("环节", max_length=30)
    role = models.CharField("审核角色", max_length=20, choices=Role.choices)
    kind = models.CharField("环节类型", max_length=10, choices=StepKind.choices, default=StepKind.REVIEW)
    checklist_required = models.BooleanField("须填核稿清单", default=False)
    # Named people (e.g. the unit's 主要领导) narrow the step to them; empty: anyone holding the role in the unit.
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name="指定审核人")

    class Meta:
        verbose_name = "审核环节"
        verbose_name_plural = "审核环节"
        ordering = ["chain", "position"]
        constraints = [models.UniqueConstraint(fields=["chain", "position"], name="reviewchainstep_unique_position")]

    def __str__(self) -> str:
        return self.name


class CoOpinion(models.Model):
    """A co-handling unit's written opinion (会办意见), sent to the lead unit by its own deadline."""

    assignment = models.ForeignKey(
        "handling.Assignment", on_delete=models.PROTECT, related_name="co_opinions", verbose_name="会办交办"
    )
    round = models.PositiveSmallIntegerField(default=1)
    body = models.TextField("意见内容")
    contact_person = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    state = models.CharField(max_length=8, choices=CoOpinionState.choices, default=CoOpinionState.DRAFT)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    document = models.FileField(upload_to=random_name, blank=True)
    doc_number = models.CharField("文号", max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The co unit's leader who signed it off (or returned it), when the unit's setting asks for it.
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name="审签领导",
    )
    signed_at = models.DateTimeField("审签时间", null=True, blank=True)
    return_reason = models.TextField("退回理由", blank=True)

    class Meta:
        verbose_name = "会办意见"
        verbose_name_plural = "会办意见"
        ordering = ["assignment", "round", "id"]

    def __str__(self) -> str:
        return f"会办意见 #{self.pk}"


class Reply(models.Model):
    """One version of a lead or split unit's reply letter (答复函); a signed-off version is frozen."""

    assignment = models.ForeignKey(
        "handling.Assignment", on_delete=models.PROTECT, related_name="replies", verbose_name="交办"
    )
    round = models.PositiveSmallIntegerField("办理轮次", default=1)
    version = models.PositiveSmallIntegerField("版本", default=1)
    state = models.CharField("状态", max_length=10, choices=ReplyState.choices, default=ReplyState.DRAFT)
    reply_class = models.CharField("答复类别", max_length=4, blank=True)
    disclosure = models.CharField("公开属性", max_length=8, choices=Disclosure.choices, default=Disclosure.FULL)
    disclosure_reason = models.CharField("不公开理由", max_length=200, blank=True)
    public_summary = models.TextField("公开摘要", blank=True)
    body = models.TextField("答复正文")
    contact_person = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    review_position = models.PositiveSmallIntegerField("当前审核环节", default=0)
    adopted_opinions = models.ManyToManyField(CoOpinion, blank=True, related_name="adopted_in", verbose_name="吸收的会办意见")
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    document = models.FileField(upload_to=random_name, blank=True)
    doc_number = models.CharField("文号", max_length=60, blank=True)
    signer = models.CharField("签发人", max_length=50, blank=True)
    is_upward = models.BooleanField("上行文（标注签发人）", default=False)
    cc = models.JSONField("抄送", default=list, blank=True)
    revised_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="revisions", verbose_name="修订自"
    )

    class Meta:
        verbose_name = "答复"
        verbose_name_plural = "答复"
        ordering = ["assignment", "round", "version"]
        # The replies in review (a few thousand of hundreds of thousands): the workbench's 待核稿 / 待审核 lists.
        indexes = [models.Index(fields=["assignment"], condition=Q(state="in_review"), name="reply_in_review"),
                   # The returned ones (as few): the handler's 被退回修改的答复, which scanned every reply (30-40 ms).
                   models.Index(fields=["assignment", "round"], condition=Q(state="returned"), name="reply_returned")]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "round", "version"], name="reply_unique_version"),
            models.CheckConstraint(
                condition=~Q(state__in=["in_review", "approved", "sent"]) | ~Q(reply_class=""),
                name="reply_class_required_after_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"答复 {self.assignment_id} 第{self.round}轮 v{self.version}"

    @property
    def is_frozen(self) -> bool:
        return self.state in (ReplyState.APPROVED, ReplyState.SENT)


class ReviewRecord(models.Model):
    """One review decision on a reply version: approve or return with a reason, with the office's checklist."""

    reply = models.ForeignKey(Reply, on_delete=models.PROTECT, related_name="reviews")
    position = models.PositiveSmallIntegerField("环节顺序")
    step_name = models.CharField("环节", max_length=30)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField("结论", max_length=8, choices=ReviewDecision.choices)
    reason = models.TextField("意见", blank=True)
    checklist = models.JSONField("核稿清单", default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "审核记录"
        verbose_name_plural = "审核记录"
        ordering = ["reply", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["reply", "position"], name="reviewrecord_once_per_step"),
        ]

    def __str__(self) -> str:
        return f"{self.step_name} {self.get_decision_display()}"


class Feedback(models.Model):
    """One proposer's rating of a reply (征询意见表): 办理态度 and 办理结果, comment required when 不满意."""

    assignment = models.ForeignKey("handling.Assignment", on_delete=models.PROTECT, related_name="feedbacks")
    reply = models.ForeignKey(Reply, on_delete=models.PROTECT, related_name="feedbacks")
    proposer = models.ForeignKey("proposals.Proposer", on_delete=models.PROTECT, related_name="feedbacks")
    round = models.PositiveSmallIntegerField(default=1)
    attitude = models.CharField("办理态度", max_length=12, choices=Rating.choices)
    result = models.CharField("办理结果", max_length=12, choices=Rating.choices)
    comment = models.TextField("意见建议", blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()
    contacted_before = models.BooleanField("答复前是否与您沟通", null=True, blank=True)
    on_paper = models.BooleanField("纸质测评表代录", default=False)
    scanned_form = models.FileField("测评表扫描件", upload_to=random_name, blank=True)

    class Meta:
        verbose_name = "测评"
        verbose_name_plural = "测评"
        ordering = ["assignment", "round", "id"]
        # The 不满意 ratings (a few percent): the workbench's 测评不满意待处理 list starts from them.
        indexes = [models.Index(fields=["assignment", "round"], condition=Q(result="unsatisfied"), name="feedback_unsatisfied")]
        constraints = [
            models.UniqueConstraint(fields=["reply", "proposer"], name="feedback_once_per_proposer_and_reply"),
            models.CheckConstraint(
                condition=~(Q(attitude="unsatisfied") | Q(result="unsatisfied")) | ~Q(comment=""),
                name="feedback_comment_required_when_unsatisfied",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposer} {self.get_result_display()}"


class Commitment(models.Model):
    """What a reply promised (落实事项), with a target date, followed until done."""

    assignment = models.ForeignKey("handling.Assignment", on_delete=models.PROTECT, related_name="commitments")
    reply = models.ForeignKey(Reply, null=True, blank=True, on_delete=models.PROTECT, related_name="commitments")
    description = models.TextField("承诺事项")
    target_date = models.DateField("完成时限", db_index=True)
    state = models.CharField("状态", max_length=8, choices=CommitmentState.choices, default=CommitmentState.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    done_note = models.TextField("落实情况", blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    section = models.ForeignKey(
        "organizations.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="责任科室"
    )
    progress_note = models.TextField("最新进展", blank=True)
    progress_at = models.DateTimeField("进展更新时间", null=True, blank=True)

    class Meta:
        verbose_name = "落实事项"
        verbose_name_plural = "落实事项"
        ordering = ["target_date", "id"]
        indexes = [models.Index(fields=["state", "target_date"], name="commitment_state_target")]

    def __str__(self) -> str:
        return self.description[:30]


class DocumentTemplate(models.Model):
    """An office-edited .docx template (docxtpl placeholders) for one unit and kind; no unit: every unit."""

    unit = models.ForeignKey("organizations.Unit", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="document_templates", verbose_name="单位")
    kind = models.CharField("文书类型", max_length=20, choices=DocumentKind.choices)
    file = models.FileField("模板文件", upload_to=random_name)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "文书模板"
        verbose_name_plural = "文书模板"
        ordering = ["unit_id", "kind", "-uploaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "kind"], condition=Q(is_active=True),
                                    name="documenttemplate_one_active"),
        ]

    def __str__(self) -> str:
        return f"{self.unit or '通用'} {self.get_kind_display()}"


class CoOpinionAttachment(models.Model):
    """A file sent with a co-opinion (data tables, plans)."""

    opinion = models.ForeignKey(CoOpinion, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=random_name)
    name = models.CharField("文件名", max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "会办意见附件"
        verbose_name_plural = "会办意见附件"
        ordering = ["opinion", "id"]

    def __str__(self) -> str:
        return self.name


class DraftComment(models.Model):
    """A proposer's comment on the draft shared with him (征求意见稿) before sign-off."""

    reply = models.ForeignKey(Reply, on_delete=models.PROTECT, related_name="draft_comments")
    proposer = models.ForeignKey("proposals.Proposer", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField("意见")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "征求意见稿意见"
        verbose_name_plural = "征求意见稿意见"
        ordering = ["reply", "created_at", "id"]

    def __str__(self) -> str:
        return self.body[:30]


class ReplyDelivery(models.Model):
    """One copy of a sent reply: to a proposer (each co-signer his own), the assigning office or a 抄送 body."""

    reply = models.ForeignKey(Reply, on_delete=models.PROTECT, related_name="deliveries")
    kind = models.CharField("送达对象", max_length=10, choices=DeliveryKind.choices)
    proposer = models.ForeignKey("proposals.Proposer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="reply_copies")
    unit = models.ForeignKey("organizations.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("名称", max_length=100)
    delivered_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "答复送达"
        verbose_name_plural = "答复送达"
        ordering = ["reply", "kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["reply", "proposer"], condition=Q(proposer__isnull=False),
                                    name="replydelivery_once_per_proposer"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"


class FeedbackCallback(models.Model):
    """The office's callback to a proposer (回访复核) that confirms or questions his rating."""

    feedback = models.ForeignKey(Feedback, on_delete=models.PROTECT, related_name="callbacks")
    confirmed = models.BooleanField("确认测评结果")
    note = models.TextField("回访情况")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "回访复核"
        verbose_name_plural = "回访复核"
        ordering = ["feedback", "created_at", "id"]

    def __str__(self) -> str:
        return self.note[:30]
