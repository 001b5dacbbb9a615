"""Admin for supervision of key items (case records: read-only)."""
from __future__ import annotations

from django.contrib import admin

from banli.core.admin import CaseRecordAdmin, CaseRecordInline
from banli.supervision.models import Supervision, SupervisionNote


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
