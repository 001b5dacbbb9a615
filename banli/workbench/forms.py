"""工作台: short forms, one per action on an assignment, plus the assigning office's registration forms.

Forms only parse and validate input; the service they feed decides and writes.
"""
from __future__ import annotations

from django import forms
from django.utils import timezone

from banli.handling.choices import ContactMethod, ContactPhase
from banli.organizations.choices import Role, UnitKind
from banli.organizations.models import Unit, User
from banli.proposals.choices import Body, Level, ProposalKind
from banli.proposals.models import Session
from banli.replies.choices import Disclosure, Rating

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _textarea(rows=3, **attrs):
    return forms.Textarea(attrs={"rows": rows, **attrs})


class BootstrapMixin:
    """Give every widget Bootstrap's classes (forms stay plain Django forms)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if getattr(field, "max_length", None):
                # The browser's maxlength cuts a pasted text without a word; the server refuses it with the limit.
                widget.attrs.pop("maxlength", None)
                if not field.help_text and field.max_length >= 100:
                    field.help_text = f"最多 {field.max_length} 字"
            if isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
                continue
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


class ActionForm(BootstrapMixin, forms.Form):
    """An action's form; `assignment` gives choices that depend on the item (sections, handlers, classes)."""

    def __init__(self, *args, assignment=None, **kwargs):
        self.assignment = assignment
        super().__init__(*args, **kwargs)


class EmptyForm(ActionForm):
    pass


class ReasonForm(ActionForm):
    reason = forms.CharField(label="理由", widget=_textarea(2))


class OptionalReasonForm(ActionForm):
    reason = forms.CharField(label="说明", required=False, widget=_textarea(2))


class AdjustmentRequestForm(ActionForm):
    reason = forms.CharField(label="申请调整理由", widget=_textarea(3), help_text="说明为何不属于本单位职责")
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
            self.fields["handler"].queryset = User.objects.filter(
                grants__role=Role.HANDLER, grants__unit__path__startswith=assignment.unit.path
            ).distinct().order_by("display_name", "username")
            self.fields["handler"].label_from_instance = lambda u: u.label


class ContactForm(ActionForm):
    phase = forms.ChoiceField(label="阶段", choices=ContactPhase.choices)
    method = forms.ChoiceField(label="方式", choices=ContactMethod.choices)
    contacted_on = forms.DateField(label="日期", widget=DATE)
    people = forms.CharField(label="参加人员", max_length=300)
    summary = forms.CharField(label="情况摘要", widget=_textarea(3))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacted_on"].initial = timezone.localdate()


class CoOpinionForm(ActionForm):
    body = forms.CharField(label="会办意见", widget=_textarea(5))
    contact_person = forms.CharField(label="联系人", required=False, max_length=50)
    contact_phone = forms.CharField(label="联系电话", required=False, max_length=30)


class ReplyForm(ActionForm):
    reply_class = forms.ChoiceField(label="答复类别", required=False)
    disclosure = forms.ChoiceField(label="公开属性", choices=Disclosure.choices)
    disclosure_reason = forms.CharField(label="不公开理由", required=False, max_length=200)
    public_summary = forms.CharField(label="公开摘要", required=False, widget=_textarea(2))
    body = forms.CharField(label="答复正文", widget=_textarea(8))
    contact_person = forms.CharField(label="联系人", required=False, max_length=50)
    contact_phone = forms.CharField(label="联系电话", required=False, max_length=30)

    def __init__(self, *args, assignment=None, **kwargs):
        super().__init__(*args, assignment=assignment, **kwargs)
        choices = [("", "请选择")]
        if assignment is not None:
            from banli.replies.services import reply_classes_for

            choices += [(c.code, f"{c.code} 类：{c.label}") for c in reply_classes_for(assignment.proposal.session)]
        self.fields["reply_class"].choices = choices


class ReviewForm(ActionForm):
    decision = forms.ChoiceField(
        label="审核意见", choices=[("approve", "同意"), ("return", "退回修改")], widget=forms.RadioSelect, initial="approve"
    )
    reason = forms.CharField(label="意见/退回理由", required=False, widget=_textarea(2))


class FeedbackForm(ActionForm):
    attitude = forms.ChoiceField(label="办理态度", choices=Rating.choices, widget=forms.RadioSelect)
    result = forms.ChoiceField(label="办理结果", choices=Rating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label="意见建议", required=False, widget=_textarea(3), help_text="选择“不满意”时必填")


class ExtensionRequestForm(ActionForm):
    requested_due = forms.DateField(label="申请延至", widget=DATE)
    reason = forms.CharField(label="延期理由", widget=_textarea(2))


class DecisionForm(ActionForm):
    decision = forms.ChoiceField(
        label="审批结果", choices=[("approve", "同意"), ("reject", "不同意")], widget=forms.RadioSelect, initial="approve"
    )
    note = forms.CharField(label="审批意见", required=False, widget=_textarea(2), help_text="不同意时必填")


class ExtensionDecideForm(DecisionForm):
    approved_due = forms.DateField(label="批准延至", required=False, widget=DATE, help_text="留空则按申请的日期")


class AdjustmentDecideForm(DecisionForm):
    new_unit = forms.ModelChoiceField(
        label="改交单位", required=False, queryset=Unit.objects.filter(kind=UnitKind.HANDLING_UNIT, is_active=True),
        help_text="同意调整时必选",
    )


class CommitmentForm(ActionForm):
    description = forms.CharField(label="承诺落实事项", widget=_textarea(2))
    target_date = forms.DateField(label="完成时限", widget=DATE)


class CommitmentCompleteForm(ActionForm):
    commitment = forms.ChoiceField(label="落实事项")
    note = forms.CharField(label="落实情况", widget=_textarea(2))

    def __init__(self, *args, assignment=None, **kwargs):
        super().__init__(*args, assignment=assignment, **kwargs)
        if assignment is not None:
            from banli.replies.models import Commitment

            self.fields["commitment"].choices = [
                (c.pk, f"{c.description[:40]}（{c.target_date:%Y-%m-%d}）")
                for c in Commitment.objects.filter(assignment=assignment, state="open").order_by("target_date", "id")
            ]


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


class ProposalForm(BootstrapMixin, forms.Form):
    session = forms.ModelChoiceField(label="届次", queryset=Session.objects.none())
    kind = forms.ChoiceField(label="类型", choices=ProposalKind.choices)
    number = forms.CharField(label="编号", max_length=30)
    title = forms.CharField(label="案由", max_length=300)
    proposers = forms.CharField(label="提案人/代表", help_text="领衔人在前，多人用顿号、逗号或换行分隔", widget=_textarea(2))
    category = forms.CharField(label="类别", required=False, max_length=50)
    body = forms.CharField(label="正文", required=False, widget=_textarea(8))
    is_key = forms.BooleanField(label="重点提案", required=False)

    def __init__(self, *args, sessions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sessions is not None:
            self.fields["session"].queryset = sessions

    def clean_proposers(self):
        import re

        names = [n.strip() for n in re.split(r"[、,，;；\n]+", self.cleaned_data["proposers"]) if n.strip()]
        if not names:
            raise forms.ValidationError("请至少填写一位提案人（领衔人）。")
        return names
