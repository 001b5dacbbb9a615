"""Shared form helpers (plain Django forms styled for Bootstrap)."""
from __future__ import annotations

from django import forms

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def textarea(rows=3, **attrs):
    return forms.Textarea(attrs={"rows": rows, **attrs})


class BootstrapMixin:
    """Give every widget Bootstrap's classes (forms stay plain Django forms); `{{ form }}` renders each field with
    its bound label, help text and errors (core/templates/forms/bootstrap.html)."""

    template_name = "forms/bootstrap.html"

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
