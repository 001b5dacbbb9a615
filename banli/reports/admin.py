"""Admin for evaluation rule sets (configuration) and scores, self-evaluations and summaries (read-only)."""
from __future__ import annotations

from django.contrib import admin

from banli.core.admin import CaseRecordAdmin
from banli.reports.models import Evaluation, Rule, RuleSet, ScoreEntry, SummaryDraft


class RuleInline(admin.TabularInline):
    model = Rule
    fields = ("position", "kind", "label", "metric", "mode", "points", "target", "max_points", "note")
    extra = 0


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    list_display = ("name", "office", "session", "cap", "is_active", "created_at")
    list_filter = ("is_active", "session")
    search_fields = ("name", "office__name", "session__name")
    list_select_related = ("office", "session")
    inlines = [RuleInline]


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("rule_set", "position", "kind", "label", "metric", "mode", "points")
    list_filter = ("kind", "mode", "rule_set")
    search_fields = ("label", "metric", "rule_set__name")
    list_select_related = ("rule_set",)


@admin.register(ScoreEntry)
class ScoreEntryAdmin(CaseRecordAdmin):
    list_display = ("rule", "session", "unit", "quantity", "entered_by", "entered_at")
    list_filter = ("session",)
    search_fields = ("unit__name", "rule__label", "evidence")
    list_select_related = ("rule", "session", "unit", "entered_by")


@admin.register(Evaluation)
class EvaluationAdmin(CaseRecordAdmin):
    list_display = ("unit", "session", "rule_set", "state", "computed_total", "office_total", "submitted_at",
                    "decided_at")
    list_filter = ("state", "session")
    search_fields = ("unit__name", "session__name")
    list_select_related = ("unit", "session", "rule_set")


@admin.register(SummaryDraft)
class SummaryDraftAdmin(CaseRecordAdmin):
    list_display = ("unit", "session", "addressee", "updated_by", "updated_at")
    list_filter = ("session",)
    search_fields = ("unit__name", "session__name", "addressee")
    list_select_related = ("unit", "session", "updated_by")
