"""Sessions (届次会次), proposers and the proposals / suggestions they submit."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from encrypted_fields.fields import EncryptedCharField

from banli.proposals import search
from banli.proposals.choices import Body, Level, ProposalKind, ProposalStatus, ProposerKind


class Session(models.Model):
    """One meeting of a CPPCC or people's congress whose items are handled, e.g. 深圳市政协七届四次会议."""

    name = models.CharField("名称", max_length=100, unique=True)
    body = models.CharField("机构", max_length=10, choices=Body.choices)
    level = models.CharField("层级", max_length=12, choices=Level.choices)
    term = models.PositiveSmallIntegerField("届", default=1)
    meeting = models.PositiveSmallIntegerField("次", default=1)
    year = models.PositiveSmallIntegerField("年度")
    assigning_office = models.ForeignKey(
        "organizations.Unit", on_delete=models.PROTECT, related_name="sessions", verbose_name="交办机构"
    )
    reply_scheme = models.ForeignKey(
        "replies.ReplyClassScheme",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name="答复分类方案",
        help_text="留空则使用全国人大 A/B/C/D 四类方案",
    )
    is_active = models.BooleanField("进行中", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "届次会次"
        verbose_name_plural = "届次会次"
        ordering = ["-year", "name"]

    def __str__(self) -> str:
        return self.name


class Proposer(models.Model):
    """A member or deputy, or a body (民主党派, 工商联, 界别, 专委会) that submits items."""

    name = models.CharField("姓名/名称", max_length=100)
    kind = models.CharField("类型", max_length=10, choices=ProposerKind.choices, default=ProposerKind.MEMBER)
    sector = models.CharField("界别/代表团", max_length=100, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposer",
        verbose_name="登录账号",
    )
    # Personal information is encrypted at rest (keys: SECRET_KEY + BANLI_FIELD_KEYS); see banli.core.pii.
    phone = EncryptedCharField("电话", max_length=30, blank=True, null=True)
    email = models.EmailField("邮箱", blank=True)
    address = EncryptedCharField("地址", max_length=200, blank=True, null=True)
    id_number = EncryptedCharField("证件号码", max_length=30, blank=True, null=True)

    class Meta:
        verbose_name = "提案人/代表"
        verbose_name_plural = "提案人/代表"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ProposalQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        # Bulk writers skip the services; the search words of number, title and body are filled all the same.
        objs = list(objs)
        for obj in objs:
            if not obj.search_text:
                obj.search_text = search.search_text_for(number=obj.number, title=obj.title, body=obj.body)
        return super().bulk_create(objs, *args, **kwargs)


class Proposal(models.Model):
    """A proposal (提案) or suggestion (建议) with its number, title (案由), body and proposers."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="proposals", verbose_name="届次")
    kind = models.CharField("类型", max_length=12, choices=ProposalKind.choices, default=ProposalKind.PROPOSAL)
    number = models.CharField("编号", max_length=30)
    title = models.CharField("案由", max_length=300)
    body = models.TextField("正文", blank=True)
    category = models.CharField("类别", max_length=50, blank=True, db_index=True)
    is_key = models.BooleanField("重点提案", default=False, db_index=True)
    submitted_on = models.DateField("提交日期", null=True, blank=True)
    status = models.CharField(
        "状态",
        max_length=12,
        choices=ProposalStatus.choices,
        default=ProposalStatus.UNASSIGNED,
        db_index=True,
        help_text="由各交办记录的状态推导，勿手工修改",
    )
    merged_with = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_items", verbose_name="并案至"
    )
    proposers = models.ManyToManyField(Proposer, through="ProposalProposer", related_name="proposals")
    # Words of number, title, body and proposer names, segmented (banli.proposals.search), kept by the services:
    # PostgreSQL indexes it as a tsvector (GIN), so a two-character word like 教育 is found without a scan.
    search_text = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProposalQuerySet.as_manager()
    updated_at = models.DateTimeField(auto_now=True, db_index=True)  # the similar-proposals index reads changes by it

    class Meta:
        verbose_name = "提案建议"
        verbose_name_plural = "提案建议"
        ordering = ["session", "number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "kind", "number"], name="proposal_unique_number_in_session"),
        ]
        # The order of lists (the API's /proposals, exports): a page reads 50 entries instead of sorting them all.
        indexes = [
            models.Index(fields=["session", "number", "id"], name="proposal_session_number"),
            # The newest registrations (the registration page): read backwards, 20 entries.
            models.Index(fields=["created_at", "id"], name="proposal_created"),
        ]

    def __str__(self) -> str:
        return f"第{self.number}号 {self.title}"

    @property
    def kind_word(self) -> str:
        return self.get_kind_display()

    @property
    def lead_proposer(self) -> Proposer | None:
        link = self.proposer_links.filter(is_lead=True).select_related("proposer").first()
        return link.proposer if link else None


class ProposalProposer(models.Model):
    """A proposer's place on one item: the lead (领衔) or a co-signer (联名/附议)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="proposer_links")
    proposer = models.ForeignKey(Proposer, on_delete=models.PROTECT, related_name="proposal_links")
    is_lead = models.BooleanField("领衔", default=False)
    position = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "提案人署名"
        verbose_name_plural = "提案人署名"
        ordering = ["proposal", "position"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "proposer"], name="proposalproposer_unique"),
            models.UniqueConstraint(
                fields=["proposal"], condition=Q(is_lead=True), name="proposalproposer_one_lead"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposer}{'（领衔）' if self.is_lead else ''}"
