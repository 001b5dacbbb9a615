"""工作台: the assigning office's registration forms (the action forms live in banli.actions.forms).

Forms only parse and validate input; the service they feed decides and writes.
"""
from __future__ import annotations

import re

from django import forms
from django.utils import timezone

from banli.core.forms import BootstrapMixin, textarea
from banli.organizations.models import Unit
from banli.proposals.choices import KIND_OF_BODY, Body, Level, ProposalKind
from banli.proposals.models import Session

# --- the assigning office ---------------------------------------------------------------------


class SessionForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label="届次名称", max_length=100, help_text="如：深圳市政协七届四次会议")
    body = forms.ChoiceField(label="机构", choices=Body.choices)
    level = forms.ChoiceField(label="层级", choices=Level.choices)
    term = forms.IntegerField(label="届", min_value=1, initial=1)
    meeting = forms.IntegerField(label="次", min_value=1, initial=1)
    year = forms.IntegerField(label="年度", min_value=1990, max_value=2100)
    assigning_office = forms.ModelChoiceField(label="交办机构", queryset=Unit.objects.none())

    def __init__(self, *args, offices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigning_office"].queryset = Unit.objects.filter(pk__in=[u.pk for u in offices])
        self.fields["year"].initial = timezone.localdate().year
        if len(offices) == 1:
            self.fields["assigning_office"].initial = offices[0].pk
        # An office registers the same body's next meeting each year: the form starts from its newest session (机构,
        # 层级, 届, the next 次), not on 全国 届1 次1.
        latest = (Session.objects.filter(assigning_office__in=[u.pk for u in offices])
                  .order_by("-year", "-created_at", "-id").first())
        if latest is not None:
            for name, value in (("body", latest.body), ("level", latest.level), ("term", latest.term),
                                ("meeting", latest.meeting + 1), ("assigning_office", latest.assigning_office_id)):
                self.fields[name].initial = value


class SessionSelect(forms.Select):
    """The session menu; each option names the kind its body receives (data-kind) and app.js sets the kind menu
    (data-kind-target) when the session changes: a 人大 session's items are 建议, a 政协 session's 提案."""

    kinds: dict = {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        kind = self.kinds.get(getattr(value, "value", value))
        if kind:
            option["attrs"]["data-kind"] = kind
        return option


class ProposalForm(BootstrapMixin, forms.Form):
    session = forms.ModelChoiceField(label="届次", queryset=Session.objects.none(), widget=SessionSelect)
    kind = forms.ChoiceField(label="类型", choices=ProposalKind.choices)
    number = forms.CharField(label="编号", max_length=30)
    title = forms.CharField(label="案由", max_length=300)
    proposers = forms.CharField(label="提案人/代表", help_text="领衔人在前，多人用顿号、逗号或换行分隔", widget=textarea(2))
    category = forms.CharField(label="类别", required=False, max_length=50)
    body = forms.CharField(label="正文", required=False, widget=textarea(8))
    is_key = forms.BooleanField(label="重点提案", required=False)

    def __init__(self, *args, sessions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sessions is not None:
            self.fields["session"].queryset = sessions
            widget = self.fields["session"].widget
            widget.kinds = {s.pk: KIND_OF_BODY.get(s.body, "") for s in sessions}
            widget.attrs["data-kind-target"] = self.add_prefix("kind")
            # A form that starts on a session starts on the kind it receives (unless the last registration said).
            chosen = self.initial.get("session")
            if chosen in widget.kinds and not self.initial.get("kind"):
                self.initial["kind"] = widget.kinds[chosen]

    def clean_proposers(self):
        names = [n.strip() for n in re.split(r"[、,，;；\n]+", self.cleaned_data["proposers"]) if n.strip()]
        if not names:
            raise forms.ValidationError("请至少填写一位提案人（领衔人）。")
        return names
