"""The page forms of the actions: they parse and validate, and clean to the shape the registry's call takes
(the same shape the API serializers give), e.g. a decision radio becomes `approve`."""
from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.functional import cached_property

from banli.core import access
from banli.core.forms import DATE, BootstrapMixin, textarea
from banli.handling.choices import ContactMethod, ContactPhase
from banli.handling.models import AdjustmentRequest, ExtensionRequest
from banli.handling.selectors import pending_request
from banli.organizations.choices import UnitKind
from banli.organizations.models import Unit, User
from banli.replies.choices import CommitmentState, Disclosure, Rating
from banli.replies.models import Commitment
from banli.replies.services import reply_classes_for


class ActionForm(BootstrapMixin, forms.Form):
    """An action's form; `assignment` gives choices that depend on the item (sections, handlers, classes)."""

    def __init__(self, *args, assignment=None, **kwargs):
        self.assignment = assignment
        super().__init__(*args, **kwargs)


class EmptyForm(ActionForm):
    pass


class ReasonForm(ActionForm):
    reason = forms.CharField(label="理由", widget=textarea(2))


class OptionalReasonForm(ActionForm):
    reason = forms.CharField(label="说明", required=False, widget=textarea(2))


class AdjustmentRequestForm(ActionForm):
    reason = forms.CharField(label="申请调整理由", widget=textarea(3), help_text="说明为何不属于本单位职责")
    suggested_unit = forms.ModelChoiceField(
        label="建议承办单位", required=False, queryset=Unit.objects.filter(kind=UnitKind.HANDLING_UNIT, is_active=True)
    )


class AssignSectionForm(ActionForm):
    section = forms.ModelChoiceField(label="主办科室", queryset=Unit.objects.none())
    handler = forms.ModelChoiceField(label="承办人", required=False, queryset=User.objects.none())
    co_sections = forms.ModelMultipleChoiceField(
        label="会办科室", required=False, queryset=Unit.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, assignment=None, **kwargs):
        super().__init__(*args, assignment=assignment, **kwargs)
        if assignment is not None:
            sections = Unit.objects.filter(kind=UnitKind.SECTION, path__startswith=assignment.unit.path, is_active=True)
            self.fields["section"].queryset = sections
            self.fields["co_sections"].queryset = sections
            self.fields["handler"].queryset = access.handler_users(assignment.unit).order_by("display_name", "username")
            self.fields["handler"].label_from_instance = lambda u: u.label

    def clean_co_sections(self):
        return list(self.cleaned_data.get("co_sections") or [])


class ContactForm(ActionForm):
    phase = forms.ChoiceField(label="阶段", choices=ContactPhase.choices)
    method = forms.ChoiceField(label="方式", choices=ContactMethod.choices)
    contacted_on = forms.DateField(label="日期", widget=DATE)
    people = forms.CharField(label="参加人员", max_length=300)
    summary = forms.CharField(label="情况摘要", widget=textarea(3))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacted_on"].initial = timezone.localdate()


class CoOpinionForm(ActionForm):
    body = forms.CharField(label="会办意见", widget=textarea(5))
    contact_person = forms.CharField(label="联系人", required=False, max_length=50)
    contact_phone = forms.CharField(label="联系电话", required=False, max_length=30)


class ReplyForm(ActionForm):
    """The draft; the page's second button ("保存并提交审核") also submits it."""

    reply_class = forms.ChoiceField(label="答复类别", required=False)
    disclosure = forms.ChoiceField(label="公开属性", choices=Disclosure.choices)
    disclosure_reason = forms.CharField(label="不公开理由", required=False, max_length=200)
    public_summary = forms.CharField(label="公开摘要", required=False, widget=textarea(2))
    body = forms.CharField(label="答复正文", widget=textarea(8))
    contact_person = forms.CharField(label="联系人", required=False, max_length=50)
    contact_phone = forms.CharField(label="联系电话", required=False, max_length=30)

    def __init__(self, *args, assignment=None, **kwargs):
        super().__init__(*args, assignment=assignment, **kwargs)
        choices = [("", "请选择")]
        if assignment is not None:
            choices += [(c.code, f"{c.code} 类：{c.label}") for c in reply_classes_for(assignment.proposal.session)]
        self.fields["reply_class"].choices = choices
        # Shown only where they apply (app.js); the service still checks them whatever the page showed.
        self.fields["disclosure_reason"].widget.attrs["data-show-when"] = f"disclosure:{Disclosure.SUMMARY},{Disclosure.NONE}"
        self.fields["public_summary"].widget.attrs["data-show-when"] = f"disclosure:{Disclosure.SUMMARY}"

    def clean(self):
        data = super().clean()
        # The submit button's name travels outside the prefix (it is the same button for every assignment).
        data["submit"] = bool(self.data.get("submit"))
        return data


class _Decision(ActionForm):
    """A yes/no decision shown as radios; cleaned to `approve`."""

    def clean(self):
        data = super().clean()
        if "decision" in data:
            data["approve"] = data.pop("decision") == "approve"
        return data


class ReviewForm(_Decision):
    decision = forms.ChoiceField(
        label="审核意见", choices=[("approve", "同意"), ("return", "退回修改")], widget=forms.RadioSelect, initial="approve"
    )
    reason = forms.CharField(label="意见/退回理由", required=False, widget=textarea(2))


class CoOpinionSignOffForm(_Decision):
    decision = forms.ChoiceField(
        label="审签意见", choices=[("approve", "同意，送主办单位"), ("return", "退回修改")], widget=forms.RadioSelect,
        initial="approve",
    )
    reason = forms.CharField(label="意见/退回理由", required=False, widget=textarea(2), help_text="退回时必填")


class FeedbackForm(ActionForm):
    attitude = forms.ChoiceField(label="办理态度", choices=Rating.choices, widget=forms.RadioSelect)
    result = forms.ChoiceField(label="办理结果", choices=Rating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label="意见建议", required=False, widget=textarea(3), help_text="选择“不满意”时必填")


class ExtensionRequestForm(ActionForm):
    requested_due = forms.DateField(label="申请延至", widget=DATE)
    reason = forms.CharField(label="延期理由", widget=textarea(2))


class DecisionForm(_Decision):
    decision = forms.ChoiceField(
        label="审批结果", choices=[("approve", "同意"), ("reject", "不同意")], widget=forms.RadioSelect, initial="approve"
    )
    note = forms.CharField(label="审批意见", required=False, widget=textarea(2), help_text="不同意时必填")


class _PendingRequestDecision(DecisionForm):
    """A decision on the unit's pending request, which the form shows above its fields (`request_lines`): who asked,
    when, why, and what (until now the office found the reason only in the history below the units)."""

    request_model: type = AdjustmentRequest
    related: tuple[str, ...] = ("requested_by",)

    def __init__(self, *args, assignment=None, **kwargs):
        super().__init__(*args, assignment=assignment, **kwargs)
        self.pending = None
        if assignment is not None:
            self.pending = pending_request(self.request_model, assignment, *self.related)

    @cached_property
    def request_lines(self) -> list[str]:
        r = self.pending
        if r is None:
            return []
        asked = f"{r.requested_by.label} 于 {timezone.localtime(r.requested_at):%Y-%m-%d %H:%M} 申请"
        return [asked, *self.request_details(r), f"理由：{r.reason}"]

    def request_details(self, request) -> list[str]:
        return []


class ExtensionDecideForm(_PendingRequestDecision):
    request_model = ExtensionRequest
    approved_due = forms.DateField(label="批准延至", required=False, widget=DATE, help_text="留空则按申请的日期")

    def request_details(self, request):
        due = self.assignment.reply_due
        return [f"申请延至 {request.requested_due:%Y-%m-%d}" + (f"（现答复期限 {due:%Y-%m-%d}）" if due else "")]


class AdjustmentDecideForm(_PendingRequestDecision):
    related = ("requested_by", "suggested_unit")
    new_unit = forms.ModelChoiceField(
        label="改交单位", required=False, queryset=Unit.objects.filter(kind=UnitKind.HANDLING_UNIT, is_active=True),
        help_text="同意调整时必选；已按申请建议的单位预选，可改",
    )

    def __init__(self, *args, assignment=None, **kwargs):
        super().__init__(*args, assignment=assignment, **kwargs)
        if assignment is not None:
            # Not back to the unit that asked to give it up; the unit it suggests comes chosen.
            field = self.fields["new_unit"]
            field.queryset = field.queryset.exclude(pk=assignment.unit_id)
            if self.pending is not None and self.pending.suggested_unit_id:
                field.initial = self.pending.suggested_unit_id

    def request_details(self, request):
        return [f"建议改交：{request.suggested_unit.name}"] if request.suggested_unit_id else ["未建议改交单位"]

    def clean(self):
        data = super().clean()
        data["reason"] = data.pop("note", "")
        return data


class CommitmentForm(ActionForm):
    description = forms.CharField(label="承诺落实事项", widget=textarea(2))
    target_date = forms.DateField(label="完成时限", widget=DATE)


class CommitmentCompleteForm(ActionForm):
    commitment = forms.TypedChoiceField(label="落实事项", coerce=int)
    note = forms.CharField(label="落实情况", widget=textarea(2))

    def __init__(self, *args, assignment=None, **kwargs):
        super().__init__(*args, assignment=assignment, **kwargs)
        if assignment is not None:
            self.fields["commitment"].choices = [
                (c.pk, f"{c.description[:40]}（{c.target_date:%Y-%m-%d}）")
                for c in Commitment.objects.filter(assignment=assignment, state=CommitmentState.OPEN)
                .order_by("target_date", "id")
            ]
