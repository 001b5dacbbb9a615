"""The public portal (no login): disclosed replies, searchable, with counts per unit and class."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from banli.core.access import can_withdraw_publication
from banli.core.errors import DomainError, PermissionDenied
from banli.portal import selectors, services


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def index(request):
    params = request.GET
    qs = selectors.search(session=_int(params.get("session")), unit=_int(params.get("unit")),
                          category=params.get("category", "")[:50], reply_class=params.get("class", "")[:4],
                          kind=params.get("kind", "")[:12], q=params.get("q", "")[:100])
    per_unit, per_class = selectors.counts(qs)
    page = Paginator(qs, 20).get_page(params.get("page"))
    sessions, units, categories = selectors.facets()
    query = params.copy()
    query.pop("page", None)
    # The counts beside the list narrow it: each unit and reply class links to the same search with it chosen.
    without = {}
    for name in ("unit", "class"):
        rest = query.copy()
        rest.pop(name, None)
        without[name] = rest.urlencode()
    chosen_class = params.get("class", "")[:4]
    return render(request, "portal/index.html", {
        "page": page, "per_unit": per_unit, "per_class": per_class, "sessions": sessions, "units": units,
        "categories": categories, "params": params, "query": query.urlencode(), "total": page.paginator.count,
        "unit_query": without["unit"], "class_query": without["class"], "chosen_class": chosen_class,
        "chosen_class_label": next((r["label"] for r in per_class if r["reply_class"] == chosen_class), ""),
    })


def detail(request, public_id: int):
    item = selectors.require_published(public_id)
    may_withdraw = request.user.is_authenticated and can_withdraw_publication(request.user, item.reply.assignment.proposal)
    return render(request, "portal/detail.html", {"item": item, "rounds": selectors.rounds_of(item),
                                                  "may_withdraw": may_withdraw})


@login_required
@require_POST
def withdraw(request, public_id: int):
    """The office takes a publication off the portal, with a reason."""
    item = selectors.require_published(public_id)
    try:
        services.public_reply_withdraw(publication=item, actor=request.user, reason=request.POST.get("reason", ""))
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        return render(request, "portal/detail.html", {"item": item, "rounds": selectors.rounds_of(item),
                                                      "may_withdraw": True}, status=400)
    messages.success(request, f"已撤回公开：第{item.number}号的答复不再在公开答复中显示。")
    return redirect("portal:index")
