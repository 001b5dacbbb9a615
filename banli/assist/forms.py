"""智能辅助: forms for recording decisions and checking drafts."""
from django import forms


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
        import re

        return [u.strip() for u in re.split(r"[、,，;；\s]+", self.cleaned_data.get("co") or "") if u.strip()]


class DraftCheckForm(forms.Form):
    body = forms.CharField(required=False)
    reply_class = forms.CharField(required=False, max_length=4)
    contact_person = forms.CharField(required=False, max_length=50)
    contact_phone = forms.CharField(required=False, max_length=30)
