"""Public reads: only PublicReply rows whose reply is still sent and disclosed; no login, no personal data."""
from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404

from banli.organizations.models import Unit
from banli.portal.models import PublicReply
from banli.proposals.models import Session


def published():
    # Defence in depth: the copy exists only for disclosed replies, and the join re-checks it.
    return PublicReply.objects.filter(reply__state="sent", reply__disclosure__in=["full", "summary"],
                                      disclosure__in=["full", "summary"], withdrawn_at__isnull=True)


def latest_rounds(qs):
    """One entry per item and unit: a re-handled item's earlier rounds are shown inside its entry, not beside it."""
    later = published().filter(reply__assignment_id=OuterRef("reply__assignment_id"), round__gt=OuterRef("round"))
    return qs.exclude(Exists(later))


def rounds_of(item) -> list:
    """Every published round of the item's assignment, first round first."""
    return list(published().filter(reply__assignment_id=item.reply.assignment_id).order_by("round", "id"))


def search(*, session=None, unit=None, category: str = "", reply_class: str = "", kind: str = "", q: str = ""):
    qs = latest_rounds(published()).select_related("session", "unit")
    if session:
        qs = qs.filter(session_id=session)
    if unit:
        qs = qs.filter(unit_id=unit)
    if category:
        qs = qs.filter(category=category)
    if reply_class:
        qs = qs.filter(reply_class=reply_class)
    if kind:
        qs = qs.filter(kind=kind)
    for word in (q or "").split()[:5]:
        # Only published (redacted) text is searched, so a hidden phone number finds nothing.
        qs = qs.filter(Q(title__icontains=word) | Q(proposal_title__icontains=word) | Q(text__icontains=word)
                       | Q(number__icontains=word) | Q(unit__name__icontains=word))
    return qs


def counts(qs):
    """Replies per unit and per class for the current search."""
    per_unit = list(qs.order_by().values("unit__name").annotate(n=Count("id")).order_by("-n", "unit__name"))
    per_class = list(qs.order_by().values("reply_class").annotate(n=Count("id")).order_by("reply_class"))
    return per_unit, per_class


def facets():
    """Sessions, units and categories that have published replies (for the search form)."""
    base = published()
    sessions = Session.objects.filter(pk__in=base.values("session_id")).order_by("-year", "name")
    units = Unit.objects.filter(pk__in=base.values("unit_id")).order_by("sort_order", "name")
    # order_by() first: the model's ordering would make DISTINCT count each reply date apart (交通 ×6).
    categories = [c for c in base.order_by("category").values_list("category", flat=True).distinct() if c]
    return sessions, units, categories


def require_published(public_id: int):
    item = published().select_related("session", "unit", "reply").filter(pk=public_id).first()
    if item is None:
        raise Http404("没有该公开答复。")
    return item
