"""The ledger's filter widgets are rendered in Python for speed: their markup must stay Django's own."""
from __future__ import annotations

import re
from urllib.parse import urlencode

import django_filters.widgets
import pytest
from django import forms
from django.http import QueryDict
from django.template import engines

from banli.handling.models import Assignment
from banli.ledger.filtersets import FastCSVSelect, FastSelect, FastTextInput, LedgerFilter


def _tags(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


CHOICES = [("", "全部"), ("a&b", '甲"乙'), ("<c>", "丙'丁")]


@pytest.mark.parametrize("value", ["", 'a"<b&\'c', "教育 第20240104号", None])
def test_the_keyword_box_is_djangos_text_input(value):
    attrs = {"placeholder": "编号、案由", "class": "form-control form-control-sm", "id": "id_q"}
    assert FastTextInput(attrs).render("q", value) == forms.TextInput(attrs).render("q", value)


@pytest.mark.parametrize("value", ["", "a&b", "<c>", ["a&b", "<c>"], None])
def test_the_menus_are_djangos_select(value):
    attrs = {"class": "form-select form-select-sm", "id": "id_unit"}
    assert _tags(FastSelect(attrs, choices=CHOICES).render("unit", value)) == _tags(
        forms.Select(attrs, choices=CHOICES).render("unit", value))


@pytest.mark.parametrize("value", [[], ["-due"], ["due", "number"]])
def test_the_sort_menu_is_django_filters_csv_select(value):
    original = type("CSVSelect", (django_filters.widgets.BaseCSVWidget, forms.Select), {})
    choices = [("", "默认"), ("due", "期限（升序）"), ("-due", "期限（降序）")]
    fast, slow = FastCSVSelect(choices=choices), original(choices=choices)
    assert _tags(fast.render("ordering", value)) == _tags(slow.render("ordering", value))
    if len(value) > 1:  # several keys: the text box keeps them all
        assert 'value="due,number"' in fast.render("ordering", value)


def test_every_filter_widget_of_the_form_renders_in_python(db):
    form = LedgerFilter({}, queryset=Assignment.objects.none()).form
    kinds = {type(field.widget) for field in form.fields.values()}
    assert kinds <= {FastSelect, FastTextInput, FastCSVSelect}, kinds


@pytest.mark.parametrize("data", [{}, {"q": 'a"<b', "state": "in_progress", "ordering": "-due", "is_key": "true"},
                                  {"state": "不存在的状态", "unit": "0"}])
def test_the_filter_fields_are_the_templates_markup(db, data):
    """LedgerFilter.fields_html writes what the ledger's template loop over the form wrote."""
    template = engines["django"].from_string(
        '{% for field in filter.form %}<div class="col-6 col-md-3 col-xl-2"><label class="form-label small mb-0" '
        'for="{{ field.id_for_label }}">{{ field.label }}</label>{{ field }}</div>{% endfor %}')
    filterset = LedgerFilter(QueryDict(urlencode(data)), queryset=Assignment.objects.none())
    assert _tags(filterset.fields_html()) == _tags(template.render({"filter": filterset}))
    assert filterset.fields_html().count('<div class="col-6') == len(filterset.form.fields)
