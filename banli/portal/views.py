"""The public portal (no login): disclosed replies, searchable, with counts per unit and class."""
from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from banli.portal import selectors


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
    return render(request, "portal/index.html", {
        "page": page, "per_unit": per_unit, "per_class": per_class, "sessions": sessions, "units": units,
        "categories": categories, "params": params, "query": query.urlencode(), "total": page.paginator.count,
    })


def detail(request, public_id: int):
    return render(request, "portal/detail.html", {"item": selectors.require_published(public_id)})
