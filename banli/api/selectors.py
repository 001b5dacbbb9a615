"""Reads for the API: the figures of a slice of assignments the user may see.

The rates are the ones defined once in banli.reports.figures (DESIGN.md §5); the API only reshapes them
(percentages 0–100, like the score rules, with four decimals instead of the pages' one) and adds counts by
role and state.
"""
from __future__ import annotations

from collections import defaultdict

from django.db.models import Count

from banli.reports import figures as defs

# The rates the API gives, under the keys the score rules and their evidence use (banli.reports.figures).
RATES = ("reply_rate", "on_time_rate", "close_rate", "satisfaction_rate", "basic_satisfaction_rate", "contact_rate",
         "fulfilment_rate")


def _percent(value) -> float | None:
    if not value.denominator:
        return None
    return round(100 * value.numerator / value.denominator, 4)


def figures(user, *, session_id: int | None = None, unit_id: int | None = None) -> dict:
    """Counts by role and state plus the rates, over the live assignments the user may see."""
    sl = defs.Slice(session_id=session_id, unit_id=unit_id).resolve().for_user(user)
    values = defs.compute(sl)
    by_role_and_state: dict[str, dict[str, int]] = defaultdict(dict)
    by_role: dict[str, int] = defaultdict(int)
    by_state: dict[str, int] = defaultdict(int)
    rows = defs.record_queryset(defs.ASSIGNMENT, sl).values("role", "state").annotate(n=Count("id"))
    for row in rows.order_by("role", "state"):
        by_role_and_state[row["role"]][row["state"]] = row["n"]
        by_role[row["role"]] += row["n"]
        by_state[row["state"]] += row["n"]
    return {
        "session": session_id,
        "unit": unit_id,
        "total": sum(by_role.values()),
        "by_role": dict(by_role),
        "by_state": dict(by_state),
        "by_role_and_state": {k: dict(v) for k, v in by_role_and_state.items()},
        **{key: _percent(values[key]) for key in RATES},
    }
