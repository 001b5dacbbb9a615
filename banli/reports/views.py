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


HEADLINE = ["assigned", "reply_rate", "on_time_rate", "close_rate", "satisfaction_rate", "basic_satisfaction_rate",
            "contact_rate", "fulfilment_rate", "overdue"]


def _chart_opts(request) -> dict:
    return {k: request.GET.get(k) for k in ("rate", "min", "weeks") if request.GET.get(k)}


@login_required
def dashboard(request):
    """The assigning office's dashboard (all units) or a unit's (its own, by section)."""
    from banli.reports import charts

    _require_reader(request)
    try:
        sl = _slice_for(request)
    except DomainError as exc:
        return HttpResponseBadRequest(exc.message)
    sl = sl.resolve()
    opts = _chart_opts(request)
    tables = charts.build_all(sl, opts)
    values = figures.compute(sl)
    headline = []
    for key in HEADLINE:
        v = values[key]
        v.url = figure_link(v.figure, sl)
        headline.append(v)
    unit = None
    if sl.unit_id:
        from banli.organizations.models import Unit

        unit = Unit.objects.get(pk=sl.unit_id)
    query = urlencode({**sl.as_params(), **opts})
    score_url = summary_url = ""
    # SCORE_LINKS
    return render(request, "reports/dashboard.html", {
        "heading": f"{unit.name} 办理统计看板" if unit else "交办机构统计看板",
        "tables": tables, "chart_data": [t.as_json() for t in tables], "headline": headline, "query": query,
        "score_url": score_url, "summary_url": summary_url, **_filter_context(request, sl),
        "params": {**sl.as_params(), **opts},
    })


def _xlsx_response(content: bytes, filename: str):
    from urllib.parse import quote

    from django.http import HttpResponse

    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@login_required
def chart_xlsx(request, key: str):
    """One chart's numbers as a workbook."""
    from banli.reports import charts

    _require_reader(request)
    if key not in charts.CHARTS:
        raise Http404("没有这个图表。")
    try:
        sl = _slice_for(request).resolve()
    except DomainError as exc:
        return HttpResponseBadRequest(exc.message)
    table = charts.build(key, sl, _chart_opts(request))
    return _xlsx_response(charts.to_xlsx([table]), f"{table.title}.xlsx")


@login_required
def dashboard_xlsx(request):
    """Every chart's numbers and every figure, one sheet each."""
    from banli.reports import charts

    _require_reader(request)
    try:
        sl = _slice_for(request).resolve()
    except DomainError as exc:
        return HttpResponseBadRequest(exc.message)
    values = figures.compute(sl)
    summary = charts.Table("figures", "统计指标", ["指标", "数值", "分子", "分母", "计算口径"], [
        [v.figure.name, v.display, v.numerator, v.denominator, v.figure.formula] for v in values.values()])
    tables = [summary, *charts.build_all(sl, _chart_opts(request))]
    return _xlsx_response(charts.to_xlsx(tables), "统计看板.xlsx")
