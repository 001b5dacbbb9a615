from django.contrib import admin

from banli.core.admin import CaseRecordAdmin
from banli.portal.models import PublicReply


@admin.register(PublicReply)
class PublicReplyAdmin(CaseRecordAdmin):
    list_display = ("title", "unit", "reply_class", "disclosure", "replied_on", "published_at")
    list_filter = ("disclosure", "reply_class")
    search_fields = ("title", "number", "unit__name")
    list_select_related = ("unit",)
