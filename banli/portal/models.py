"""The public portal's own copy of disclosed replies: only what may be published, already redacted.

The portal never reads replies directly: a reply reaches the public only by being copied here when it is
sent with 全文公开 or 摘要公开, so drafts, undisclosed replies, contact details and redacted text are not in
any table the portal queries.
"""
from django.db import models


class PublicReply(models.Model):
    """One disclosed reply as the public sees it (全文 or 摘要, personal data removed)."""

    reply = models.OneToOneField("replies.Reply", on_delete=models.PROTECT, related_name="publication")
    session = models.ForeignKey("proposals.Session", on_delete=models.PROTECT, related_name="+", verbose_name="届次")
    unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="承办单位")
    kind = models.CharField("类型", max_length=12)
    number = models.CharField("编号", max_length=30)
    title = models.CharField("标题", max_length=300)
    proposal_title = models.CharField("案由", max_length=300)
    category = models.CharField("类别", max_length=50, blank=True, db_index=True)
    reply_class = models.CharField("答复类别", max_length=4)
    disclosure = models.CharField("公开属性", max_length=8)
    text = models.TextField("公开内容")
    round = models.PositiveSmallIntegerField(default=1)
    replied_on = models.DateField("答复日期")
    published_at = models.DateTimeField("公开时间")
    # The office may take a publication down (e.g. a personal detail slipped through); the row stays as a record.
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey("organizations.User", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name="撤回人")
    withdraw_reason = models.CharField("撤回理由", max_length=300, blank=True)

    class Meta:
        verbose_name = "公开答复"
        verbose_name_plural = "公开答复"
        ordering = ["-replied_on", "-id"]
        indexes = [models.Index(fields=["session", "unit"], name="publicreply_session_unit")]
        constraints = [
            models.CheckConstraint(condition=models.Q(disclosure__in=["full", "summary"]),
                                   name="publicreply_only_disclosed"),
        ]

    def __str__(self) -> str:
        return self.title
