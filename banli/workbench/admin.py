"""Admin for users' notification read positions (read-only)."""
from __future__ import annotations

from django.contrib import admin

from banli.core.admin import CaseRecordAdmin
from banli.workbench.models import NotificationCursor


@admin.register(NotificationCursor)
class NotificationCursorAdmin(CaseRecordAdmin):
    list_display = ("user", "updated_at")
    search_fields = ("user__username", "user__display_name")
    list_select_related = ("user",)
