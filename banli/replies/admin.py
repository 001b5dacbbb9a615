"""Admin for reply classes and review chains (configuration) and for co-opinions, replies, reviews,
feedback and commitments (case records: read-only)."""
from __future__ import annotations

from django.contrib import admin

from banli.core.admin import CaseRecordAdmin, CaseRecordInline
from banli.replies.models import (
    CoOpinionAttachment,
    DocumentTemplate,
    DraftComment,
    FeedbackCallback,
    ReplyDelivery,
    CoOpinion,
    Commitment,
    Feedback,
    Reply,
    ReplyClass,
    ReplyClassScheme,
    ReviewChain,
    ReviewChainStep,
    ReviewRecord,
)


class ReplyClassInline(admin.TabularInline):
    model = ReplyClass
    fields = ("position", "code", "label", "needs_commitment")
    extra = 0


@admin.register(ReplyClassScheme)
class ReplyClassSchemeAdmin(admin.ModelAdmin):
    list_display = ("name", "class_codes")
    search_fields = ("name",)
    inlines = [ReplyClassInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("classes")

    @admin.display(description="类别")
    def class_codes(self, obj):
        return " / ".join(f"{c.code} {c.label}" for c in obj.classes.all())


@admin.register(ReplyClass)
class ReplyClassAdmin(admin.ModelAdmin):
    list_display = ("scheme", "code", "label", "position", "needs_commitment")
    list_filter = ("scheme", "needs_commitment")
    search_fields = ("code", "label", "scheme__name")
    list_select_related = ("scheme",)


class ReviewChainStepInline(admin.TabularInline):
    model = ReviewChainStep
    fields = ("position", "name", "role")
    extra = 0


@admin.register(ReviewChain)
class ReviewChainAdmin(admin.ModelAdmin):
    list_display = ("unit", "step_names")
    search_fields = ("unit__name",)
    list_select_related = ("unit",)
    autocomplete_fields = ("unit",)
    inlines = [ReviewChainStepInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("steps")

    @admin.display(description="审核环节")
    def step_names(self, obj):
        return " → ".join(f"{s.name}（{s.get_role_display()}）" for s in obj.steps.all())


@admin.register(ReviewChainStep)
class ReviewChainStepAdmin(admin.ModelAdmin):
    list_display = ("chain", "position", "name", "role")
    list_filter = ("role",)
    search_fields = ("chain__unit__name", "name")
    list_select_related = ("chain__unit",)


@admin.register(CoOpinion)
class CoOpinionAdmin(CaseRecordAdmin):
    list_display = ("__str__", "proposal_number", "unit", "round", "state", "contact_person", "sent_at")
    list_filter = ("state", "round")
    search_fields = ("assignment__proposal__number", "assignment__unit__name", "body", "contact_person")
    list_select_related = ("assignment__proposal", "assignment__unit")

    @admin.display(description="编号")
    def proposal_number(self, obj):
        return obj.assignment.proposal.number

    @admin.display(description="会办单位")
    def unit(self, obj):
        return obj.assignment.unit


class ReviewRecordInline(CaseRecordInline):
    model = ReviewRecord
    fields = ("position", "step_name", "reviewer", "decision", "reason", "created_at")
    readonly_fields = fields
    show_change_link = False


@admin.register(Reply)
class ReplyAdmin(CaseRecordAdmin):
    list_display = (
        "__str__", "proposal_number", "unit", "round", "version", "state", "reply_class", "disclosure", "sent_at",
    )
    list_filter = ("state", "reply_class", "disclosure", "round")
    search_fields = ("assignment__proposal__number", "assignment__proposal__title", "assignment__unit__name", "body")
    list_select_related = ("assignment__proposal", "assignment__unit")
    inlines = [ReviewRecordInline]

    @admin.display(description="编号")
    def proposal_number(self, obj):
        return obj.assignment.proposal.number

    @admin.display(description="承办单位")
    def unit(self, obj):
        return obj.assignment.unit


@admin.register(ReviewRecord)
class ReviewRecordAdmin(CaseRecordAdmin):
    list_display = ("reply", "position", "step_name", "reviewer", "decision", "created_at")
    list_filter = ("decision", "step_name")
    search_fields = ("reply__assignment__proposal__number", "reviewer__display_name", "reason")
    list_select_related = ("reply", "reviewer")


@admin.register(Feedback)
class FeedbackAdmin(CaseRecordAdmin):
    list_display = ("assignment", "proposer", "round", "attitude", "result", "submitted_at")
    list_filter = ("attitude", "result", "round")
    search_fields = ("assignment__proposal__number", "proposer__name", "comment")
    list_select_related = ("assignment__proposal", "assignment__unit", "proposer")


@admin.register(Commitment)
class CommitmentAdmin(CaseRecordAdmin):
    list_display = ("description_short", "assignment", "target_date", "state", "done_at")
    list_filter = ("state",)
    search_fields = ("description", "assignment__proposal__number", "assignment__unit__name")
    list_select_related = ("assignment__proposal", "assignment__unit")

    @admin.display(description="承诺事项")
    def description_short(self, obj):
        return obj.description[:40]


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(admin.ModelAdmin):
    """Templates are uploaded on the templates page, where the file is checked; here they can only be switched off."""

    list_display = ("__str__", "unit", "kind", "is_active", "uploaded_by", "uploaded_at")
    readonly_fields = ("unit", "kind", "file", "uploaded_by", "uploaded_at")

    def has_add_permission(self, request):
        return False

    list_filter = ("kind", "is_active")
    search_fields = ("unit__name",)
    list_select_related = ("unit", "uploaded_by")


@admin.register(CoOpinionAttachment)
class CoOpinionAttachmentAdmin(CaseRecordAdmin):
    list_display = ("name", "opinion", "uploaded_by", "uploaded_at")
    search_fields = ("name", "opinion__assignment__proposal__number")
    list_select_related = ("opinion", "uploaded_by")


@admin.register(DraftComment)
class DraftCommentAdmin(CaseRecordAdmin):
    list_display = ("reply", "proposer", "created_at")
    search_fields = ("body", "proposer__name")
    list_select_related = ("reply", "proposer")


@admin.register(ReplyDelivery)
class ReplyDeliveryAdmin(CaseRecordAdmin):
    list_display = ("reply", "kind", "name", "delivered_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("name", "reply__assignment__proposal__number")
    list_select_related = ("reply",)


@admin.register(FeedbackCallback)
class FeedbackCallbackAdmin(CaseRecordAdmin):
    list_display = ("feedback", "confirmed", "recorded_by", "created_at")
    list_filter = ("confirmed",)
    search_fields = ("note",)
    list_select_related = ("feedback", "recorded_by")
