"""Shared admin building blocks: case records are read-only there, every write goes through services."""
from __future__ import annotations

from django.contrib import admin


class CaseRecordAdmin(admin.ModelAdmin):
    """Read-only admin for case records (提案、交办、答复、测评、事件…): inspect anything, change nothing.

    Case records change only through the services, which check roles and write the event log.
    """

    show_full_result_count = False  # no COUNT(*) over the whole table on every filter
    list_per_page = 50

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseRecordInline(admin.TabularInline):
    """Read-only inline rows of a case record."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
