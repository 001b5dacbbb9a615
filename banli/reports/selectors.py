"""统计与考核: reads for the figure, dashboard and score pages, limited to what the user may read."""
from __future__ import annotations

from django.db.models import QuerySet

from banli.core import access
from banli.core.access import can_view_unit_report, note_refusal, report_scope
from banli.core.errors import NotFound
from banli.organizations.models import Unit
from banli.reports.figures import ASSIGNMENT, RATING


def report_sessions(user) -> QuerySet:
    """Sessions whose figures the user may read."""
    return access.report_sessions(user)


REPORT_NOT_FOUND = "找不到该届次或单位，或您没有查看其统计和考核得分的权限。"


def require_report_slice(user, *, session_id: int | None, unit_id: int | None):
    """The session and unit whose figures (or score) the user asks for, each None when not asked; NotFound,
    the same for /figures and /scores and the pages, when he may read no figures at all, or not these."""
    everything, offices, units = report_scope(user)
    session = unit = None
    refused = not (everything or offices or units)
    if not refused and session_id is not None:
        session = report_sessions(user).filter(pk=session_id).first()
        refused = session is None
    if not refused and unit_id is not None:
        unit = Unit.objects.filter(pk=unit_id).first()
        refused = unit is None or not can_view_unit_report(user, unit)
    if refused:
        note_refusal(user, "report not visible", session=session_id, unit=unit_id)
        raise NotFound(REPORT_NOT_FOUND)
    return session, unit


def report_units(user) -> QuerySet:
    """Handling units whose figures the user may read (the office: every handling unit; staff: their own)."""
    return access.report_units(user)


def default_unit(user):
    """The unit a unit-staff user reads by default (the first unit he works for), or None for the office."""
    everything, offices, units = report_scope(user)
    if everything or offices or not units:
        return None

    return Unit.objects.filter(path=units[0]).first()


def item_rows(figure_record: str, qs: QuerySet) -> QuerySet:
    """The item list's queryset with what its rows show, loaded in one query."""
    if figure_record == ASSIGNMENT:
        return qs.select_related("proposal", "unit").order_by("proposal__number", "id")
    if figure_record == RATING:
        return qs.select_related("assignment__proposal", "assignment__unit", "proposer").order_by(
            "assignment__proposal__number", "id")
    return qs.select_related("assignment__proposal", "assignment__unit").order_by("target_date", "id")
