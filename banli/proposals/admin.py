"""Admin for sessions, proposers and proposals (proposals are case records: read-only here)."""
from __future__ import annotations

from django import forms
from django.contrib import admin

from banli.core.admin import CaseRecordAdmin, CaseRecordInline
from banli.core.pii import PII_FIELDS, mask_phone, masked, may_see_full
from banli.core.security import log
from banli.proposals.models import Proposal, ProposalProposer, Proposer, Session


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    """Sessions are registered through the services; here only their scheme and activity can change."""

    list_display = ("name", "body", "level", "year", "term", "meeting", "assigning_office", "reply_scheme", "is_active")
    list_filter = ("body", "level", "year", "is_active")
    search_fields = ("name",)
    list_select_related = ("assigning_office", "reply_scheme")
    readonly_fields = ("name", "body", "level", "year", "term", "meeting", "assigning_office", "created_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MaskedProposerForm(forms.ModelForm):
    """The proposer's form for whoever may not see his personal values in full (the system administrator): each
    value shows masked beside an empty input; a value typed in replaces it, an empty input keeps it."""

    class Meta:
        model = Proposer
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

        for name, label in PII_FIELDS.items():
            if name not in self.fields:
                continue
            self.initial[name] = ""
            current = masked(self.instance, name) if self.instance.pk else ""
            self.fields[name].required = False
            self.fields[name].help_text = (f"现为 {current}（已隐去部分）；填写即替换，留空保持不变。"
                                           if current else "尚未登记；填写即登记。")

    def clean(self):
        data = super().clean()
        for name in ("phone", "id_number", "address"):
            if name in self.fields and not (data.get(name) or "").strip():
                data[name] = getattr(self.instance, name)  # left empty: the stored value stays
        return data


@admin.register(Proposer)
class ProposerAdmin(admin.ModelAdmin):
    """Proposers' contact details and their sign-in account may be maintained here; personal values show in
    full only to who may see them (banli.core.pii), masked for the system administrator."""

    list_display = ("name", "kind", "sector", "user", "masked_phone")
    list_filter = ("kind", "sector")
    search_fields = ("name", "sector", "user__username")  # phones are encrypted: not searchable, never listed in full
    list_select_related = ("user",)
    autocomplete_fields = ("user",)

    def has_delete_permission(self, request, obj=None):
        return False

    def _full(self, request, obj) -> bool:
        return obj is None or may_see_full(request.user, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if not self._full(request, obj):
            kwargs["form"] = MaskedProposerForm
        return super().get_form(request, obj, change, **kwargs)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Where the form shows the contact details in full (to who may see them), each opening is logged as a
        full view, like a reveal on the proposal page."""
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = Proposer.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        if request.method == "GET" and response.status_code == 200 and obj is not None and self._full(request, obj):
            log("pii_view", user=request.user, request=request,
                payload={"proposer": int(object_id), "fields": list(PII_FIELDS), "via": "admin"})
        return response

    @admin.display(description="电话")
    def masked_phone(self, obj):
        return mask_phone(obj.phone)


class ProposerLinkInline(CaseRecordInline):
    model = ProposalProposer
    fields = ("proposer", "is_lead", "position")
    readonly_fields = fields
    show_change_link = False


@admin.register(Proposal)
class ProposalAdmin(CaseRecordAdmin):
    list_display = ("number", "title", "kind", "session", "category", "is_key", "status", "submitted_on")
    list_filter = ("session", "kind", "status", "is_key", "category")
    search_fields = ("number", "title", "body", "proposers__name")
    list_select_related = ("session",)
    inlines = [ProposerLinkInline]  # banli.handling.admin adds the assignments (handling sits above proposals)


@admin.register(ProposalProposer)
class ProposalProposerAdmin(CaseRecordAdmin):
    list_display = ("proposal", "proposer", "is_lead", "position")
    list_filter = ("is_lead",)
    search_fields = ("proposal__number", "proposal__title", "proposer__name")
    list_select_related = ("proposal", "proposer")
