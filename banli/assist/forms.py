"""智能辅助: forms for recording decisions and checking drafts."""
import re

from django import forms

from banli.assist.models import AssistSetting


class CategoryDecisionForm(forms.Form):
    # One button per suggestion posts `label`; the free field has its own name, else the browser would send
    # both and the empty field would win.
    label = forms.CharField(label="类别", max_length=50, required=False)
    label_other = forms.CharField(label="改选类别", max_length=50, required=False)

    def clean(self):
        data = super().clean()
        data["label"] = (data.get("label") or data.get("label_other") or "").strip()
        if not data["label"]:
            raise forms.ValidationError("请选择或填写类别。")
        return data


class RoutingDecisionForm(forms.Form):
    lead = forms.CharField(label="主办单位", max_length=100)
    co = forms.CharField(label="会办单位", required=False, help_text="多个单位用顿号或逗号分隔")

    def clean_co(self):
        return [u.strip() for u in re.split(r"[、,，;；\s]+", self.cleaned_data.get("co") or "") if u.strip()]


class DraftCheckForm(forms.Form):
    body = forms.CharField(required=False)
    reply_class = forms.CharField(required=False, max_length=4)
    contact_person = forms.CharField(required=False, max_length=50)
    contact_phone = forms.CharField(required=False, max_length=30)


class AssistSettingForm(forms.ModelForm):
    class Meta:
        model = AssistSetting
        fields = ["category_min_score", "routing_min_score"]
        widgets = {f: forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "1"}) for f in fields}

    def _score(self, name):
        value = self.cleaned_data.get(name)
        if value is None or not 0 <= value <= 1:
            raise forms.ValidationError("请填写 0 到 1 之间的数，例如 0.6；0 表示所有建议都显示。")
        return value

    def clean_category_min_score(self):
        return self._score("category_min_score")

    def clean_routing_min_score(self):
        return self._score("routing_min_score")
