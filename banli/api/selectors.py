"""Reads for the API: the figures of a slice of assignments the user may see (DESIGN.md §5)."""
from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from banli.core import access
from banli.handling.models import ContactRecord

ANSWERING = ("lead", "split")


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 6) if denominator else None


def figures(user, *, session_id: int | None = None, unit_id: int | None = None) -> dict:
    """Counts by role and state plus the rates, over the live assignments the user may see."""
    from banli.organizations.models import Unit
    from banli.replies.models import Commitment, Feedback

    qs = access.visible_assignments(user).exclude(state="withdrawn")
    if session_id:
        qs = qs.filter(proposal__session_id=session_id)
    if unit_id:
        path = Unit.objects.filter(pk=unit_id).values_list("path", flat=True).first() or "/none/"
        qs = qs.filter(unit__path__startswith=path)
    by_role_and_state: dict[str, dict[str, int]] = defaultdict(dict)
    by_role: dict[str, int] = defaultdict(int)
    by_state: dict[str, int] = defaultdict(int)
    for row in qs.values("role", "state").annotate(n=Count("id")).order_by("role", "state"):
        by_role_and_state[row["role"]][row["state"]] = row["n"]
        by_role[row["role"]] += row["n"]
        by_state[row["state"]] += row["n"]
    total = sum(by_role.values())
    answering = qs.filter(role__in=ANSWERING)
    agg = answering.aggregate(
        n=Count("id"),
        replied=Count("id", filter=Q(replied_at__isnull=False)),
        on_time=Count("id", filter=Q(replied_at__isnull=False, replied_at__date__lte=F("reply_due"))),
    )
    # 沟通率: a contact before the reply (any contact while not yet replied).
    agg["contacted"] = (
        ContactRecord.objects.filter(assignment__in=answering.values("pk"))
        .filter(Q(assignment__replied_at__isnull=True) | Q(contacted_on__lte=TruncDate("assignment__replied_at")))
        .values("assignment_id").distinct().count()
    )
    closed = qs.filter(Q(state="closed") | Q(role="co", state="opinion_sent")).count()
    ratings = Feedback.objects.filter(assignment__in=qs.values("pk")).aggregate(
        n=Count("id"),
        satisfied=Count("id", filter=Q(result="satisfied")),
        basic=Count("id", filter=Q(result__in=["satisfied", "basic"])),
    )
    today = timezone.localdate()
    commitments = Commitment.objects.filter(assignment__in=qs.values("pk")).aggregate(
        due=Count("id", filter=Q(target_date__lte=today) | Q(state="done")),
        done=Count("id", filter=Q(state="done")),
    )
    return {
        "session": session_id,
        "unit": unit_id,
        "total": total,
        "by_role": dict(by_role),
        "by_state": dict(by_state),
        "by_role_and_state": {k: dict(v) for k, v in by_role_and_state.items()},
        "reply_rate": _rate(agg["replied"], agg["n"]),
        "on_time_rate": _rate(agg["on_time"], agg["n"]),
        "closed_rate": _rate(closed, total),
        "satisfied_rate": _rate(ratings["satisfied"], ratings["n"]),
        "satisfied_or_basic_rate": _rate(ratings["basic"], ratings["n"]),
        "contact_rate": _rate(agg["contacted"], agg["n"]),
        "commitment_rate": _rate(commitments["done"], commitments["due"]),
    }
