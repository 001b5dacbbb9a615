"""The ledger's filters (台账筛选): one FilterSet over assignments, shared by the ledger export and the API."""
from __future__ import annotations

import django_filters
from django.db.models import F, Q
from django.utils import timezone

from banli.handling.choices import AssignmentRole
from banli.handling.models import Assignment
from banli.handling.workflow import STATES
from banli.proposals.choices import ProposalKind

ANSWERING = ("lead", "split")


def overdue_q(today=None) -> Q:
    """Assignments whose reply (or co-opinion) is overdue: still missing after its due date, or given late."""
    today = today or timezone.localdate()
    answering = Q(role__in=ANSWERING, replied_at__isnull=True, reply_due__lt=today)
    late_reply = Q(role__in=ANSWERING, replied_at__isnull=False, replied_at__date__gt=F("reply_due"))
    co = Q(role=AssignmentRole.CO, opinion_sent_at__isnull=True, opinion_due__lt=today)
    late_co = Q(role=AssignmentRole.CO, opinion_sent_at__isnull=False, opinion_sent_at__date__gt=F("opinion_due"))
    return (answering | late_reply | co | late_co) & ~Q(state="withdrawn")


def is_overdue(assignment, today=None) -> bool:
    """The same rule as overdue_q for one loaded assignment (for export rows)."""
    today = today or timezone.localdate()
    if assignment.state == "withdrawn":
        return False
    if assignment.role in ANSWERING:
        if assignment.replied_at is None:
            return bool(assignment.reply_due and assignment.reply_due < today)
        return bool(assignment.reply_due and timezone.localdate(assignment.replied_at) > assignment.reply_due)
    if assignment.opinion_sent_at is None:
        return bool(assignment.opinion_due and assignment.opinion_due < today)
    return bool(assignment.opinion_due and timezone.localdate(assignment.opinion_sent_at) > assignment.opinion_due)


class LedgerFilter(django_filters.FilterSet):
    """Filters of the ledger: session, kind, unit (with its subunits), role, state, key items, category, overdue, text."""

    session = django_filters.NumberFilter(field_name="proposal__session_id", label="届次")
    kind = django_filters.ChoiceFilter(field_name="proposal__kind", choices=ProposalKind.choices, label="类型")
    unit = django_filters.NumberFilter(method="filter_unit", label="承办单位（含下级）")
    role = django_filters.ChoiceFilter(choices=AssignmentRole.choices, label="办理方式")
    state = django_filters.ChoiceFilter(choices=[(s.key, s.label) for s in STATES.values()], label="状态")
    is_key = django_filters.BooleanFilter(field_name="proposal__is_key", label="重点提案")
    category = django_filters.CharFilter(field_name="proposal__category", label="类别")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="是否逾期")
    proposal = django_filters.NumberFilter(field_name="proposal_id", label="提案建议")
    q = django_filters.CharFilter(method="filter_text", label="编号或案由")

    class Meta:
        model = Assignment
        fields: list[str] = []

    def filter_unit(self, queryset, name, value):
        from banli.organizations.models import Unit

        path = Unit.objects.filter(pk=value).values_list("path", flat=True).first()
        if path is None:
            return queryset.none()
        return queryset.filter(unit__path__startswith=path)

    def filter_overdue(self, queryset, name, value):
        q = overdue_q()
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_text(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(proposal__number__icontains=value) | Q(proposal__title__icontains=value))
