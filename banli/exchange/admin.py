"""Admin for import batches and learned column mappings (read-only: imports go through the import pages)."""
from __future__ import annotations

from django.contrib import admin

from banli.core.admin import CaseRecordAdmin
from banli.exchange.models import ColumnMapping, ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(CaseRecordAdmin):
    list_display = ("filename", "kind", "session", "proposal_kind", "state", "created_by", "created_at", "imported_at")
    list_filter = ("kind", "state", "proposal_kind", "session")
    search_fields = ("filename", "session__name", "sha256")
    list_select_related = ("session", "created_by")


@admin.register(ColumnMapping)
class ColumnMappingAdmin(CaseRecordAdmin):
    list_display = ("header_key", "updated_at")
    search_fields = ("header_key",)
