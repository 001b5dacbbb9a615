"""Admin for supervision of key items (case records: read-only)."""
from __future__ import annotations

from django.contrib import admin

from banli.core.admin import CaseRecordAdmin, CaseRecordInline
from banli.supervision import messages
from banli.supervision.models import (
    ChannelPreference,
    Delivery,
    DeliveryAttempt,
    DeliveryQueue,
    Digest,
    Notification,
    Reminder,
    ReminderPolicy,
    Supervision,
    SupervisionNote,
    EventSubscription,
    UnitWebhook,
)


class NoteInline(CaseRecordInline):
    model = SupervisionNote
    fields = ("happened_on", "kind", "text", "written_by")
    readonly_fields = fields
    show_change_link = False


@admin.register(Supervision)
class SupervisionAdmin(CaseRecordAdmin):
    list_display = ("proposal", "leader_name", "leader", "created_by", "created_at")
    search_fields = ("proposal__number", "proposal__title", "leader_name")
    list_select_related = ("proposal", "leader", "created_by")
    inlines = [NoteInline]


@admin.register(SupervisionNote)
class SupervisionNoteAdmin(CaseRecordAdmin):
    list_display = ("supervision", "kind", "happened_on", "written_by")
    list_filter = ("kind",)
    search_fields = ("supervision__proposal__number", "text")
    list_select_related = ("supervision__proposal", "written_by")


# --- reminders and their deliveries: records of what was sent, read-only ---------------------------


@admin.register(Reminder)
class ReminderAdmin(CaseRecordAdmin):
    list_display = ("created_at", "kind", "level", "item_key", "unit", "due_date", "threshold", "created_by")
    list_filter = ("kind", "level")
    search_fields = ("item_key", "assignment__proposal__number", "message")
    list_select_related = ("unit", "created_by")
    raw_id_fields = ("assignment", "commitment")


@admin.register(Notification)
class NotificationAdmin(CaseRecordAdmin):
    list_display = ("created_at", "user", "level", "shown_title", "read_at")
    list_filter = ("level", "is_key")
    search_fields = ("title", "reminder__item_key", "user__username")
    list_select_related = ("user", *messages.RELATED)
    raw_id_fields = ("reminder", "digest")


class AttemptInline(CaseRecordInline):
    model = DeliveryAttempt
    fields = ("number", "started_at", "ok", "detail")
    readonly_fields = fields
    show_change_link = False


@admin.register(Delivery)
class DeliveryAdmin(CaseRecordAdmin):
    list_display = ("created_at", "channel", "address", "subject", "state", "attempts", "next_attempt_at")
    list_filter = ("channel", "state", "forced")
    search_fields = ("address", "subject")
    raw_id_fields = ("reminder", "digest")
    inlines = [AttemptInline]


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(CaseRecordAdmin):
    list_display = ("delivery", "number", "started_at", "ok")
    list_filter = ("ok",)
    list_select_related = ("delivery",)


@admin.register(DeliveryQueue)
class DeliveryQueueAdmin(CaseRecordAdmin):
    list_display = ("created_at", "token", "queued_at", "deliveries")


@admin.register(Digest)
class DigestAdmin(CaseRecordAdmin):
    list_display = ("period_start", "period", "user", "created_at")
    list_filter = ("period",)
    list_select_related = ("user",)


# --- configuration: editable ---------------------------------------------------------------------


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(admin.ModelAdmin):
    list_display = ("office", "warning_days", "key_warning_days", "escalate_after_days", "force_overdue_channels",
                    "max_attempts")


@admin.register(UnitWebhook)
class UnitWebhookAdmin(admin.ModelAdmin):
    list_display = ("unit", "kind", "is_active")
    list_filter = ("kind", "is_active")


@admin.register(ChannelPreference)
class ChannelPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "email", "sms", "digest")
    list_filter = ("email", "sms", "digest")
    raw_id_fields = ("user",)


@admin.register(EventSubscription)
class EventSubscriptionAdmin(admin.ModelAdmin):
    """Read-only here: subscriptions are kept on their page (and the API), which write the event and never show
    the secret again."""

    list_display = ("name", "office", "url", "is_active", "created_at")
    list_filter = ("is_active",)
    fields = ("name", "office", "url", "verbs", "is_active", "cursor", "created_by", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
