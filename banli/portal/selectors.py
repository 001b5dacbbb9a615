"""Public reads: only PublicReply rows whose reply is still sent and disclosed; no login, no personal data."""
from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404

from banli.organizations.models import Unit
from banli.portal.models import PublicReply
from banli.proposals.models import Session
from banli.replies.choices import NATIONAL_REPLY_CLASSES
from banli.replies.models import ReplyClass


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
    per_unit = list(qs.order_by().values("unit_id", "unit__name").annotate(n=Count("id")).order_by("-n", "unit__name"))
    per_class = list(qs.order_by().values("reply_class").annotate(n=Count("id")).order_by("reply_class"))
    labels = class_labels(qs)
    for row in per_class:
        row["label"] = labels.get(row["reply_class"], "")
    return per_unit, per_class


def class_labels(qs) -> dict[str, str]:
    """What each reply class code means to a reader (A: 已解决或基本解决), from the schemes of the sessions the
    replies belong to (the national A-D where a session keeps none); a code two schemes read differently shows both."""
    schemes = set(Session.objects.filter(pk__in=qs.order_by().values("session_id"))
                  .values_list("reply_scheme_id", flat=True))
    found: dict[str, list[str]] = {}
    if None in schemes:
        for code, label in NATIONAL_REPLY_CLASSES:
            found.setdefault(code, []).append(label)
    rows = ReplyClass.objects.filter(scheme_id__in=[s for s in schemes if s is not None]).order_by("position", "id")
    for code, label in rows.values_list("code", "label"):
        if label not in found.setdefault(code, []):
            found[code].append(label)
    return {code: "／".join(labels) for code, labels in found.items()}


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
