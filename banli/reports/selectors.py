"""统计与考核: reads for the figure, dashboard and score pages, limited to what the user may read."""
from __future__ import annotations

from django.db.models import QuerySet

from banli.core import access
from banli.core.access import report_scope


def report_sessions(user) -> QuerySet:
    """Sessions whose figures the user may read."""
    return access.report_sessions(user)


def report_units(user) -> QuerySet:
    """Handling units whose figures the user may read (the office: every handling unit; staff: their own)."""
    return access.report_units(user)


def default_unit(user):
    """The unit a unit-staff user reads by default (the first unit he works for), or None for the office."""
    everything, offices, units = report_scope(user)
    if everything or offices or not units:
        return None
    from banli.organizations.models import Unit

    return Unit.objects.filter(path=units[0]).first()


def item_rows(figure_record: str, qs: QuerySet) -> QuerySet:
    """The item list's queryset with what its rows show, loaded in one query."""
    from banli.reports.figures import ASSIGNMENT, RATING

    if figure_record == ASSIGNMENT:
        return qs.select_related("proposal", "unit").order_by("proposal__number", "id")
    if figure_record == RATING:
        return qs.select_related("assignment__proposal", "assignment__unit", "proposer").order_by(
            "assignment__proposal__number", "id")
    return qs.select_related("assignment__proposal", "assignment__unit").order_by("target_date", "id")
