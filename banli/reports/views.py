"""统计与考核: figure pages, item lists, dashboard, scores and the annual summary. Views stay thin."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from banli.core.access import can_view_unit_report, report_scope
from banli.core.errors import DomainError
from banli.reports import figures, selectors


def _slice_for(request) -> figures.Slice:
    """The slice asked for, limited to what the user may read; unit staff default to their own unit."""
    sl = figures.slice_from_params(request.GET)
    if sl.unit_id:
        from banli.organizations.models import Unit

        unit = Unit.objects.filter(pk=sl.unit_id).first()
        if unit is None or not can_view_unit_report(request.user, unit):
            raise Http404("找不到该单位，或您没有查看其统计的权限。")
    else:
        unit = selectors.default_unit(request.user)
        if unit is not None:
            from dataclasses import replace

            sl = replace(sl, unit_id=unit.pk)
    return sl.for_user(request.user)


def _require_reader(request):
    everything, offices, units = report_scope(request.user)
    if not (everything or offices or units):
        raise Http404("您没有查看统计的权限。")


def figure_link(figure: figures.Figure, sl: figures.Slice, part: str = "numerator") -> str:
    params = sl.as_params()
    if part != "numerator":
        params["part"] = part
    return reverse("reports:items", args=[figure.key]) + "?" + urlencode(params)


@login_required
def figures_page(request):
    """Every figure of a slice with its definition, each linked to the items it counts."""
    _require_reader(request)
    try:
        sl = _slice_for(request)
    except DomainError as exc:
        return HttpResponseBadRequest(exc.message)
    values = figures.compute(sl)
    rows = []
    for key, v in values.items():
        f = v.figure
        rows.append({
            "value": v, "figure": f, "record": figures.RECORD_LABELS[f.record],
            "num_url": figure_link(f, sl), "den_url": figure_link(f, sl, "denominator") if f.denominator is not None else "",
        })
    return render(request, "reports/figures.html", {
        "rows": rows, "slice": sl, "classes": figures.reply_classes(sl), "class_url": _class_url(sl),
        **_filter_context(request, sl),
    })


def _class_url(sl) -> str:
    return reverse("reports:items", args=["reply_class"]) + "?" + urlencode(sl.as_params())


def _filter_context(request, sl) -> dict:
    from banli.proposals.choices import ProposalKind

    return {
        "sessions": selectors.report_sessions(request.user), "units": selectors.report_units(request.user),
        "kinds": ProposalKind.choices, "roles": [("lead", "主办"), ("co", "会办"), ("split", "分办")],
        "params": sl.as_params(),
    }


@login_required
def figure_items(request, key: str):
    """The items a figure counts (its numerator, or with part=denominator its denominator)."""
    _require_reader(request)
    try:
        sl = _slice_for(request)
    except DomainError as exc:
        return HttpResponseBadRequest(exc.message)
    part = request.GET.get("part", "numerator")
    if key == "reply_class":
        code = request.GET.get("code", "")
        qs = figures.items_of_class(sl, code)
        figure = figures.Figure("reply_class", f"{code}类答复件数", "最后一轮答复为该类别的主办、分办件",
                                numerator=figures.REPLIED)
    else:
        figure = figures.FIGURES.get(key)
        if figure is None:
            raise Http404("没有这个统计指标。")
        qs = figures.items(figure, sl.resolve(), part)
    qs = selectors.item_rows(figure.record, qs)
    params = sl.as_params()
    if key == "reply_class":
        params["code"] = request.GET.get("code", "")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "reports/items.html", {
        "figure": figure, "part": part, "page": page, "record": figure.record,
        "record_label": figures.RECORD_LABELS[figure.record], "params": params,
        "back": reverse("reports:figures") + "?" + urlencode(sl.as_params()),
    })
