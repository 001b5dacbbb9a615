"""督办催办: forms (input shape only; the rules live in services)."""
from django import forms
from django.utils import timezone

from banli.core.forms import BootstrapMixin
from banli.handling.models import Assignment
from banli.supervision.choices import DigestPeriod, NoteKind


class ChannelPreferenceForm(BootstrapMixin, forms.Form):
    email = forms.BooleanField(label="电子邮件", required=False)
    sms = forms.BooleanField(label="短信", required=False)
    digest = forms.ChoiceField(label="工作简报", choices=DigestPeriod.choices)


class SupervisionForm(BootstrapMixin, forms.Form):
    leader_name = forms.CharField(label="督办领导", max_length=50)
    warning_days = forms.CharField(label="预警工作日", required=False, help_text="用逗号分隔，如 10,5,3,1；留空用默认")
    note = forms.CharField(label="督办要求", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_warning_days(self):
        raw = self.cleaned_data["warning_days"].replace("，", ",")
        return [part.strip() for part in raw.split(",") if part.strip()]


class SupervisionNoteForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label="类型", choices=NoteKind.choices)
    happened_on = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    text = forms.CharField(label="内容", widget=forms.Textarea(attrs={"rows": 3}))


class UrgeForm(forms.Form):
    assignments = forms.ModelMultipleChoiceField(label="催办事项", queryset=None, widget=forms.CheckboxSelectMultiple,
                                                 error_messages={"required": "请至少选择一个需要催办的事项。"})
    message = forms.CharField(label="催办内容", max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                              error_messages={"required": "请填写催办内容。"})

    def __init__(self, *args, assignments=(), **kwargs):
        super().__init__(*args, **kwargs)

        field = self.fields["assignments"]
        field.queryset = assignments if hasattr(assignments, "model") else Assignment.objects.none()
        today = timezone.localdate()
        field.label_from_instance = lambda a: (
            f"{'【重点】' if a.proposal.is_key else ''}第{a.proposal.number}号 {a.proposal.title}"
            f"（{a.get_role_display()}，{a.state_label}，"
            + (f"期限 {a.next_due:%Y-%m-%d}{'，已逾期' if a.next_due < today else ''}）" if a.next_due else "无期限）")
        )
        # The overdue ones come ticked: they are what a 催办 is usually for (one unit's open items: few).
        field.initial = [a.pk for a in field.queryset if a.next_due and a.next_due < today]
        # The usual words of a 催办, to be changed as needed.
        self.fields["message"].initial = "请抓紧办理以下事项，在期限内完成；确有困难的，请及时说明情况或申请延期。"


class HolidayNoticeForm(forms.Form):
    year = forms.IntegerField(label="年份", min_value=2000, max_value=2100,
                              widget=forms.NumberInput(attrs={"class": "form-control", "style": "max-width:8rem"}),
                              error_messages={"required": "请填写年份。", "min_value": "年份不能早于2000年。",
                                              "max_value": "年份不能晚于2100年。", "invalid": "年份应为四位数字。"})
    notice = forms.CharField(label="放假通知", widget=forms.Textarea(attrs={"rows": 9, "class": "form-control"}),
                             error_messages={"required": "请粘贴国务院办公厅的放假安排通知。"},
                             help_text="粘贴“国务院办公厅关于某年部分节假日安排的通知”的正文，先预览，核对无误后保存；"
                                       "保存会替换该年已录入的安排。")


class HolidayDayForm(forms.Form):
    date = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
                           error_messages={"required": "请填写日期。", "invalid": "日期格式应为 2027-02-06。"})
    is_workday = forms.TypedChoiceField(label="这一天", choices=[("0", "放假"), ("1", "上班（调休）")],
                                        coerce=lambda v: v == "1", widget=forms.Select(attrs={"class": "form-select"}))
    name = forms.CharField(label="说明", max_length=50, required=False,
                           widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "如：春节"}))


class SubscriptionForm(BootstrapMixin, forms.Form):
    """An integrator's event subscription (出站推送): the office it belongs to, its address and its events."""

    office = forms.ChoiceField(label="交办机构")
    name = forms.CharField(label="名称", max_length=100, help_text="如“省平台对接”“12345 热线”")
    url = forms.URLField(label="推送地址", max_length=500, assume_scheme="https")
    verbs = forms.MultipleChoiceField(label="订阅事件", widget=forms.CheckboxSelectMultiple)
    secret = forms.CharField(label="签名密钥", required=False, max_length=200,
                             help_text="至少 16 个字符；留空由系统生成，只显示一次")

    def __init__(self, *args, offices=(), verbs=None, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].choices = [("" if o is None else str(o.pk), "全部事项（系统管理员）" if o is None else o.name)
                                         for o in offices]
        self.fields["verbs"].choices = list((verbs or {}).items())
        if editing:
            del self.fields["office"]
            del self.fields["secret"]
