"""Admin for the log of suggestions taken or not (read-only: it measures the assistant)."""
from __future__ import annotations

from django.contrib import admin

from banli.assist.models import SuggestionDecision
from banli.core.admin import CaseRecordAdmin


@admin.register(SuggestionDecision)
class SuggestionDecisionAdmin(CaseRecordAdmin):
    list_display = ("proposal", "task", "outcome", "top1_hit", "top3_hit", "model_version", "decided_by", "decided_at")
    list_filter = ("task", "outcome", "top1_hit", "top3_hit", "model_version")
    search_fields = ("proposal__number", "proposal__title")
    list_select_related = ("proposal", "decided_by")
