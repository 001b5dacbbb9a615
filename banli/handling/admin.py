"""Admin for assignments and their records (read-only) and the deadline configuration (editable)."""
from __future__ import annotations

from django.contrib import admin

from banli.core.admin import CaseRecordAdmin, CaseRecordInline
from banli.handling.choices import AssignmentState
from banli.handling.models import (
    AdjustmentRequest,
    Assignment,
    ContactRecord,
    DeadlinePolicy,
    Event,
    ExtensionRequest,
    HolidayOverride,
    SectionAssignment,
)
from banli.handling.workflow import STATES
from banli.proposals.admin import ProposalAdmin


class StateFilter(admin.SimpleListFilter):
    """Filter by workflow state, labelled in Chinese from the workflow module."""

    title = "状态"
    parameter_name = "state"
    LIVE = "live"  # every state but 已撤回: the rows the ledger lists when no state is chosen

    def lookups(self, request, model_admin):
        return [(self.LIVE, "除已撤回外")] + [(state.key, state.label) for state in STATES.values()]

    def queryset(self, request, queryset):
        if self.value() == self.LIVE:
            return queryset.exclude(state=AssignmentState.WITHDRAWN)
        if self.value():
            return queryset.filter(state=self.value())
        return queryset


class SectionInline(CaseRecordInline):
    model = SectionAssignment
    fields = ("section", "handler")
    readonly_fields = fields
    show_change_link = False


class ContactInline(CaseRecordInline):
    model = ContactRecord
    fields = ("phase", "method", "contacted_on", "people", "summary", "recorded_by")
    readonly_fields = fields


class EventInline(CaseRecordInline):
    model = Event
    fk_name = "assignment"
    fields = ("created_at", "verb", "from_state", "to_state", "actor", "actor_role", "reason")
    readonly_fields = fields
    ordering = ("created_at", "id")


@admin.register(Assignment)
class AssignmentAdmin(CaseRecordAdmin):
    list_display = (
        "proposal_number", "proposal_title", "unit", "role", "state_name", "round", "key_item", "next_due",
        "assigned_at", "sign_due", "reply_due", "replied_at", "closed_at",
    )
    list_filter = (StateFilter, "role", "proposal__session", "unit")
    search_fields = ("proposal__number", "proposal__title", "unit__name", "handler__display_name")
    list_select_related = ("proposal", "unit")
    inlines = [SectionInline, ContactInline, EventInline]

    @admin.display(description="编号", ordering="proposal__number")
    def proposal_number(self, obj):
        return obj.proposal.number

    @admin.display(description="案由")
    def proposal_title(self, obj):
        return obj.proposal.title[:40]

    @admin.display(description="状态", ordering="state")
    def state_name(self, obj):
        return obj.state_label


@admin.register(SectionAssignment)
class SectionAssignmentAdmin(CaseRecordAdmin):
    list_display = ("assignment", "section", "handler")
    search_fields = ("assignment__proposal__number", "section__name")
    list_select_related = ("assignment__proposal", "assignment__unit", "section", "handler")


class _RequestAdmin(CaseRecordAdmin):
    list_display = ("__str__", "assignment", "status", "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("assignment__proposal__number", "assignment__proposal__title", "assignment__unit__name", "reason")
    list_select_related = ("assignment__proposal", "assignment__unit", "requested_by", "decided_by")


@admin.register(AdjustmentRequest)
class AdjustmentRequestAdmin(_RequestAdmin):
    list_display = _RequestAdmin.list_display + ("suggested_unit",)


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(_RequestAdmin):
    list_display = _RequestAdmin.list_display + ("requested_due", "approved_due")


@admin.register(ContactRecord)
class ContactRecordAdmin(CaseRecordAdmin):
    list_display = ("assignment", "phase", "method", "contacted_on", "people", "recorded_by")
    list_filter = ("phase", "method")
    search_fields = ("assignment__proposal__number", "assignment__unit__name", "people", "summary")
    list_select_related = ("assignment__proposal", "assignment__unit", "recorded_by")


@admin.register(Event)
class EventAdmin(CaseRecordAdmin):
    list_display = ("created_at", "verb", "proposal_number", "assignment_unit", "from_state", "to_state", "actor", "actor_role")
    list_filter = ("verb", "actor_role")
    search_fields = ("verb", "proposal__number", "actor__username", "reason")
    list_select_related = ("proposal", "assignment__unit", "actor")
    ordering = ("-created_at", "-id")

    @admin.display(description="编号")
    def proposal_number(self, obj):
        return obj.proposal.number if obj.proposal_id else ""

    @admin.display(description="单位")
    def assignment_unit(self, obj):
        return obj.assignment.unit.name if obj.assignment_id else ""


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = ("session", "kind", "step", "unit", "amount", "fixed_date")
    list_filter = ("session", "kind", "step", "unit")
    search_fields = ("session__name",)
    list_select_related = ("session",)


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "name")
    list_filter = ("is_workday",)
    search_fields = ("name",)
    date_hierarchy = "date"


class AssignmentInline(CaseRecordInline):
    model = Assignment

    fields = ("unit", "role", "state_name", "round", "parent", "assigned_at", "reply_due", "replied_at", "closed_at")
    readonly_fields = fields
    fk_name = "proposal"

    @admin.display(description="状态")
    def state_name(self, obj):
        return obj.state_label


# The proposal's page in the admin lists its assignments: added here, since the handling app sits above proposals.
ProposalAdmin.inlines = [*ProposalAdmin.inlines, AssignmentInline]
