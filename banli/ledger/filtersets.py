"""The ledger's filters (django-filter); every filter lives in the URL so a view can be bookmarked and shared."""
from __future__ import annotations

import copy
import re

import django_filters
import django_filters.widgets
from django import forms
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.http import QueryDict
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from banli.core import access
from banli.core.html import escape
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment
from banli.handling.workflow import STATES
from banli.ledger.keyset import default_order
from banli.ledger.selectors import ledger_assignments, overdue_q
from banli.organizations.choices import UnitKind
from banli.organizations.models import RoleGrant, Unit
from banli.proposals.choices import ProposalKind
from banli.proposals.models import Session
from banli.proposals.search import matching_proposals_q
from banli.replies.choices import UnsatisfiedOutcome
from banli.replies.selectors import first_round_unsatisfied_q

CACHED_CHOICES = ("session", "unit", "handler")
CHOICES_KEY = "ledger-choices:"
CHOICES_SECONDS = 60


def cached_choices(name: str, field) -> list:
    """A filter menu's (value, label) options, kept a minute and dropped whenever a session, unit, user or role
    grant changes here (another server process sees the change within the minute)."""
    key = CHOICES_KEY + name
    choices = cache.get(key)
    if choices is None:
        choices = [("" if value == "" else str(value), str(label)) for value, label in field.choices]
        cache.set(key, choices, CHOICES_SECONDS)
    return choices


def forget_choices(**kwargs) -> None:
    cache.delete_many([CHOICES_KEY + name for name in CACHED_CHOICES])


def _connect_choice_signals():

    for model in (Session, Unit, RoleGrant, get_user_model()):
        post_save.connect(forget_choices, sender=model, dispatch_uid=f"ledger-choices-save-{model.__name__}")
        post_delete.connect(forget_choices, sender=model, dispatch_uid=f"ledger-choices-delete-{model.__name__}")


_connect_choice_signals()


def _fresh(filter_, model, parent):
    """A request's copy of a declared filter: shallow, with its own `extra` and no cached form field."""
    fresh = copy.copy(filter_)
    fresh.extra = dict(filter_.extra)
    fresh.__dict__.pop("_field", None)
    fresh.model, fresh.parent = model, parent
    if filter_.method is not None:
        fresh.__dict__.pop("filter", None)
        fresh.method = filter_.method  # django-filter binds a method filter to its own instance
    return fresh


class FastSelect(forms.Select):
    """Django's Select, rendered in Python rather than through a template per option (the ledger's menus list
    every unit and handler; as templates they cost more than the page's queries). Same markup."""

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        selected = {"" if v is None else str(v) for v in (value if isinstance(value, (list, tuple)) else [value])}
        parts = []
        for v, label in self.choices:
            v = "" if v is None else str(v)
            mark = ""
            if v in selected:
                mark = " selected"
                if not self.allow_multiple_selected:  # as Django: a single menu marks its first match only
                    selected = set()
            parts.append(f'<option value="{escape(v)}"{mark}>{escape(label)}</option>')
        options = "".join(parts)
        attributes = format_html_join("", ' {}="{}"', ((k, v) for k, v in final.items() if v not in (None, False)))
        return mark_safe(f'<select name="{escape(name)}"{attributes}>{options}</select>')  # noqa: S308 - escaped


class FastCSVSelect(django_filters.widgets.BaseCSVWidget, FastSelect):
    """django-filter's CSVSelect (the sort menu) with FastSelect's rendering; several sort keys fall back to its
    text box as before."""


class FastTextInput(forms.TextInput):
    """Django's TextInput rendered in Python (the keyword box). Same markup as its template."""

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        value = self.format_value(value)
        shown = "" if value is None else f' value="{escape(value)}"'
        attributes = format_html_join("", ' {}="{}"', ((k, v) for k, v in final.items() if v not in (None, False)))
        return mark_safe(f'<input type="{self.input_type}" name="{escape(name)}"{shown}{attributes}>')  # noqa: S308


class ChineseOrderingFilter(django_filters.OrderingFilter):
    """The sort menu in Chinese: django-filter's "(descending)" suffix is not translated."""

    def build_choices(self, fields, labels):
        choices = []
        for field, param in fields.items():
            label = labels.get(field, param)
            choices += [(param, f"{label}（升序）"), (f"-{param}", f"{label}（降序）")]
        return choices


class LedgerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="关键词", method="filter_text", widget=forms.TextInput(attrs={"placeholder": "编号、案由、正文或提案人，如：教育"}))
    session = django_filters.ModelChoiceFilter(label="届次", field_name="session", queryset=Session.objects.all(),
                                               empty_label="全部届次")
    kind = django_filters.ChoiceFilter(label="类型", field_name="proposal__kind", choices=ProposalKind.choices,
                                       empty_label="全部类型")
    unit = django_filters.ModelChoiceFilter(label="承办单位", method="filter_unit", empty_label="全部单位",
                                            queryset=Unit.objects.filter(kind=UnitKind.HANDLING_UNIT))
    role = django_filters.ChoiceFilter(label="办理方式", choices=AssignmentRole.choices, empty_label="全部方式")
    state = django_filters.ChoiceFilter(label="状态", choices=[(s.key, s.label) for s in STATES.values()],
                                        empty_label="全部状态")
    reply_class = django_filters.ChoiceFilter(label="答复类别", choices=[(c, f"{c} 类") for c in "ABCD"], empty_label="全部类别")
    is_key = django_filters.ChoiceFilter(label="重点提案", method="filter_key", empty_label="全部",
                                         choices=[("true", "仅重点提案"), ("false", "非重点提案")])
    overdue = django_filters.ChoiceFilter(label="逾期", method="filter_overdue", empty_label="全部",
                                          choices=[("true", "已逾期"), ("false", "未逾期")])
    unsatisfied = django_filters.ChoiceFilter(label="首轮不满意", method="filter_unsatisfied", empty_label="全部",
                                              choices=[("any", "首轮测评不满意（全部）")] + UnsatisfiedOutcome.choices)
    handler = django_filters.ModelChoiceFilter(label="承办人", field_name="handler", empty_label="全部承办人",
                                               queryset=access.handler_users())
    ordering = ChineseOrderingFilter(
        label="排序",
        empty_label="默认（在办的重点优先，按期限）",
        fields=(("due", "due"), ("proposal__number", "number"), ("unit__name", "unit"), ("state", "state"),
                ("assigned_at", "assigned")),
        # django-filter keys field_labels by the model field, not by the URL parameter.
        field_labels={"due": "期限", "proposal__number": "编号", "unit__name": "单位", "state": "状态",
                      "assigned_at": "交办时间"},
    )

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, today=None):
        # django-filter's own __init__ deep-copies every filter (with its querysets and choice lists) for each
        # request; a filter keeps no per-request state here but its parent and model, so a shallow copy will do.
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {name: _fresh(filter_, queryset.model, self) for name, filter_ in self.base_filters.items()}
        self.today = today
        for name in CACHED_CHOICES:
            # The menus' options from the cache (the lists are the same for everyone); the field keeps its queryset,
            # so a chosen value is still checked against the database.
            field = self.form.fields.get(name)
            if isinstance(field, forms.ModelChoiceField):
                field.widget.choices = cached_choices(name, field)

    @classmethod
    def _form_class(cls):
        # The form class is the same for every request (its fields' querysets are static): made once per process,
        # not by type() per request. Each form instance still deep-copies its fields (Django's Form does).
        form_class = cls.__dict__.get("_cached_form_class")
        if form_class is None:
            fields = {name: _fresh(filter_, Assignment, None).field for name, filter_ in cls.base_filters.items()}
            fields["handler"].label_from_instance = lambda u: u.label
            for field in fields.values():
                # Every widget rendered in Python (a template per widget and per option cost more than the page's
                # queries); the markup is Django's.
                widget = field.widget
                if isinstance(widget, django_filters.widgets.BaseCSVWidget) and isinstance(widget, forms.Select):
                    widget.__class__ = FastCSVSelect  # django-filter makes the sort menu's class on the fly
                else:
                    widget.__class__ = {forms.Select: FastSelect, forms.TextInput: FastTextInput}.get(
                        type(widget), type(widget))
                field.widget.attrs.setdefault("class", "form-control form-control-sm" if isinstance(field.widget, forms.TextInput) else "form-select form-select-sm")
            form_class = type(f"{cls.__name__}Form", (cls._meta.form,), fields)
            cls._cached_form_class = form_class
        return form_class

    def get_form_class(self):
        return self._form_class()

    def fields_html(self) -> SafeString:
        """The filter form's fields, a column each with its label, as the ledger's template wrote them: made here
        (the widgets already render in Python) where a dozen template variables per field cost more than the rest
        of the layout."""
        columns = (f'<div class="col-6 col-md-3 col-xl-2"><label class="form-label small mb-0" '
                   f'for="{escape(field.id_for_label)}">{escape(field.label)}</label>{field}</div>'
                   for field in self.form)
        return mark_safe("\n".join(columns))  # noqa: S308 - label and id escaped, the widget renders escaped

    def filter_text(self, queryset, name, value):
        # Words of number, title, body and proposer names; an index serves it on PostgreSQL (proposals.search).
        value = value.strip()
        if not value:
            return queryset
        # "第20240104号" is how a clerk writes a number; the stored number (and the search words) are the digits.
        value = " ".join(re.sub(r"^第(.+)号$", r"\1", word) for word in value.split())
        return queryset.filter(matching_proposals_q(value, "proposal__"))

    def filter_unit(self, queryset, name, value):
        if not value:
            return queryset
        # The unit's subtree resolved to ids first: a plain unit_id IN (…) that the (unit, order) index serves.
        return queryset.filter(unit_id__in=access.units_with_assignments(Unit.objects.filter(path__startswith=value.path)))

    def filter_key(self, queryset, name, value):
        if value not in ("true", "false"):
            return queryset
        return queryset.filter(key_item=value == "true")  # marked key or under supervision

    def filter_unsatisfied(self, queryset, name, value):
        # Rated 不满意 in the first round: all of them, or by what became of them (ledger_assignments annotates it).
        if value == "any":
            return queryset.filter(first_round_unsatisfied_q())
        if value in UnsatisfiedOutcome.values:
            return queryset.filter(unsatisfied_outcome=value)
        return queryset

    def filter_overdue(self, queryset, name, value):
        if value not in ("true", "false"):
            return queryset
        q = overdue_q(self.today or timezone.localdate())
        return queryset.filter(q) if value == "true" else queryset.exclude(q)

    @property
    def qs(self):
        qs = super().qs
        if not self.data.get("ordering"):
            # Key items (重点提案) with something due first, then by due date: the expressions over stored columns
            # that the ledger's indexes are built on (keyset.default_order).
            qs = qs.order_by(*default_order(qs.model))
        elif qs.query.order_by:
            qs = qs.order_by(*qs.query.order_by, "id")
        return qs


def filtered_ledger(request, *, today=None) -> LedgerFilter:
    """The ledger as `request.user` sees it with the filters of the URL.

    The page and its Excel/CSV export both start here, so an export holds exactly the rows of the view.
    Withdrawn assignments (re-assigned after an adjustment) show only when a state is chosen.
    """
    base = ledger_assignments(request.user)
    if not request.GET.get("state"):
        base = base.exclude(state=AssignmentState.WITHDRAWN)
    return LedgerFilter(request.GET, queryset=base, request=request, today=today)
