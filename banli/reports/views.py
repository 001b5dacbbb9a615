"""统计与考核: figure pages, item lists, dashboard, scores and the annual summary. Views stay thin."""
from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from banli.core import access
from banli.core.access import can_manage_scores, can_submit_evaluation, can_view_area_summary, can_view_unit_report
from banli.core.errors import DomainError
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment
from banli.organizations.models import Unit
from banli.proposals.choices import ProposalKind
from banli.proposals.models import Session
from banli.reports import aggregates, area, charts, documents, figures, scoring, selectors, services, summary
from banli.reports.choices import RuleKind, RuleMode
from banli.reports.models import Evaluation, Rule, SummaryDraft


def _render(request, template: str, context: dict):
    """Render a reports page with the main navigation's 统计 item marked."""
    return render(request, template, {"nav": "reports", **context})


def _slice_for(request) -> figures.Slice:
    """The slice asked for, limited to what the user may read; unit staff default to their own unit."""
    sl = figures.slice_from_params(request.GET)
    if sl.unit_id:
        unit = Unit.objects.filter(pk=sl.unit_id).first()
        if unit is None or not can_view_unit_report(request.user, unit):
            raise Http404("找不到该单位，或您没有查看其统计的权限。")
    else:
        unit = selectors.default_unit(request.user)
        if unit is not None:
            sl = replace(sl, unit_id=unit.pk)
    return sl.for_user(request.user)


def _require_reader(request):
    if not access.can_read_reports(request.user):
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
    sl = _slice_for(request)
    src = aggregates.source_for(sl)
    values = src.compute(sl)
    rows = []
    for key, v in values.items():
        f = v.figure
        rows.append({
            "value": v, "figure": f, "record": figures.RECORD_LABELS[f.record],
            "num_url": figure_link(f, sl), "den_url": figure_link(f, sl, "denominator") if f.denominator is not None else "",
        })
    return _render(request, "reports/figures.html", {
        "rows": rows, "slice": sl, "classes": src.reply_classes(sl), "class_url": _class_url(sl),
        "from_cells": isinstance(src, aggregates.CellSource),
        **_filter_context(request, sl),
    })


def _class_url(sl) -> str:
    return reverse("reports:items", args=["reply_class"]) + "?" + urlencode(sl.as_params())


def _filter_context(request, sl) -> dict:
    return {
        "sessions": selectors.report_sessions(request.user), "units": selectors.report_units(request.user),
        "kinds": ProposalKind.choices, "roles": AssignmentRole.choices,
        "params": sl.as_params(),
    }


@login_required
def figure_items(request, key: str):
    """The items a figure counts (its numerator, or with part=denominator its denominator)."""
    _require_reader(request)
    sl = _slice_for(request)
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
    return _render(request, "reports/items.html", {
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
    _require_reader(request)
    sl = _slice_for(request)
    sl = sl.resolve()
    opts = _chart_opts(request)
    src = aggregates.source_for(sl, int(opts.get("weeks") or aggregates.WEEKS) if str(opts.get("weeks", "")).isdigit() else aggregates.WEEKS)
    tables = charts.build_all(sl, opts, src)
    values = src.compute(sl)
    headline = []
    for key in HEADLINE:
        v = values[key]
        v.url = figure_link(v.figure, sl)
        headline.append(v)
    unit = None
    if sl.unit_id:
        unit = Unit.objects.get(pk=sl.unit_id)
    query = urlencode({**sl.as_params(), **opts})
    score_url = summary_url = ""
    if unit is not None and sl.session_id:
        score_url = reverse("reports:score") + "?" + urlencode({"session": sl.session_id, "unit": unit.pk})
        summary_url = reverse("reports:summary") + "?" + urlencode({"session": sl.session_id, "unit": unit.pk})
    return _render(request, "reports/dashboard.html", {
        "heading": f"{unit.name} 办理统计看板" if unit else "交办机构统计看板",
        "tables": tables, "chart_data": [t.as_json() for t in tables], "headline": headline, "query": query,
        "score_url": score_url, "summary_url": summary_url, **_filter_context(request, sl),
        "params": {**sl.as_params(), **opts},
    })


def _xlsx_response(content: bytes, filename: str):

    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@login_required
def chart_xlsx(request, key: str):
    """One chart's numbers as a workbook."""
    _require_reader(request)
    if key not in charts.CHARTS:
        raise Http404("没有这个图表。")
    sl = _slice_for(request).resolve()
    table = charts.build(key, sl, _chart_opts(request))
    return _xlsx_response(charts.to_xlsx([table]), f"{table.title}.xlsx")


@login_required
def dashboard_xlsx(request):
    """Every chart's numbers and every figure, one sheet each."""
    _require_reader(request)
    sl = _slice_for(request).resolve()
    values = aggregates.source_for(sl).compute(sl)
    summary = charts.Table("figures", "统计指标", ["指标", "数值", "分子", "分母", "计算口径"], [
        [v.figure.name, v.display, v.numerator, v.denominator, v.figure.formula] for v in values.values()])
    tables = [summary, *charts.build_all(sl, _chart_opts(request))]
    return _xlsx_response(charts.to_xlsx(tables), "统计看板.xlsx")


# --- scores and self-evaluation ---------------------------------------------------------------------


CURRENT_PROBE = 100  # how many of a unit's items tell one session in progress from another


def current_session(sessions, unit=None):
    """The session a report opens on: the newest one still in progress, else the newest. For a unit, among the
    sessions in progress, the newest year's one holding most of its assignments (with its sections'): a district
    bureau answering 政协 提案 and 人大 建议 of one year opened on whichever session was registered last, often
    the one with a single 会办 item of his."""
    sessions = sessions.order_by("-year", "-pk")
    active = list(sessions.filter(is_active=True))
    if unit is not None and len(active) > 1:
        # Sessions in progress are few; each is probed for at most CURRENT_PROBE of the unit's items (an index read
        # that stops there), not counted out: a unit holds tens of thousands at a province's scale.
        units = list(Unit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))
        held = {s.pk: Assignment.objects.filter(session_id=s.pk, unit_id__in=units)
                .exclude(state=AssignmentState.WITHDRAWN).values("pk")[:CURRENT_PROBE].count() for s in active}
        best = max(active, key=lambda s: (s.year, held[s.pk], s.pk))
        if held[best.pk]:
            return best
    return active[0] if active else sessions.first()


def _session_and_unit(request, source=None, *, required=True):
    """The session and unit of a score/summary page, or 404 when the user may not read them.

    Nothing chosen: the current session and the user's own unit. The office has no unit of its own; with
    `required=False` the unit is then None and the page asks for one instead of failing."""
    source = source or request.GET
    session_id, unit_id = source.get("session", ""), source.get("unit", "")
    unit = None
    if not unit_id:
        unit = selectors.default_unit(request.user)
    elif unit_id.isdigit():
        unit = Unit.objects.filter(pk=int(unit_id)).first()
    sessions = selectors.report_sessions(request.user)
    if session_id:
        session = sessions.filter(pk=int(session_id)).first() if session_id.isdigit() else None
    else:
        session = current_session(sessions, unit)
    if session is None or (unit_id and unit is None) or (unit is not None and not can_view_unit_report(request.user, unit)):
        raise Http404("找不到该届次或单位，或您没有查看权限。")
    if unit is None and required:
        raise Http404("请选择单位。")
    return session, unit


def _picker(request, session, unit, *, units=True) -> dict:
    """The session and unit choosers shown on the score and summary pages."""
    return {"pick_sessions": selectors.report_sessions(request.user).order_by("-year", "-pk"),
            "pick_units": selectors.report_units(request.user).order_by("sort_order", "name") if units else None,
            "picked_session": session, "picked_unit": unit}


def _redirect_back(session, unit, name="reports:score"):
    return redirect(reverse(name) + "?" + urlencode({"session": session.pk, "unit": unit.pk}))


@login_required
def score_page(request):
    """A unit's score with every line, its evidence and items; its 自评 and the office's decision."""

    source = request.POST if request.method == "POST" else request.GET
    _require_reader(request)
    session, unit = _session_and_unit(request, source, required=request.method == "POST")
    if unit is None:
        # The office looks for every unit's score at once: the area summary's table has them, each linked here.
        overview = (reverse("reports:area_summary") + "?" + urlencode({"session": session.pk})
                    if session is not None and can_view_area_summary(request.user, session) else "")
        return _render(request, "reports/pick.html", {"heading": "考核得分", "overview_url": overview,
                                                      **_picker(request, session, unit)})
    evaluation = Evaluation.objects.filter(session=session, unit=unit).select_related("rule_set").first()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "prepare":
                services.evaluation_prepare(actor=request.user, session=session, unit=unit)
                messages.success(request, "已根据考核细则和办理记录生成自评，请核对后提交。")
            elif action == "submit" and evaluation:
                services.evaluation_submit(actor=request.user, evaluation=evaluation, note=request.POST.get("note", ""))
                messages.success(request, "自评已提交交办机构。")
            elif action == "decide" and evaluation:
                services.evaluation_decide(actor=request.user, evaluation=evaluation,
                                           corrected_total=request.POST.get("corrected_total") or None,
                                           note=request.POST.get("note", ""))
                messages.success(request, "已核定该单位自评。")
            elif action == "entry":
                rule = Rule.objects.filter(pk=request.POST.get("rule") or 0, metric="entry").first()
                if rule is None:
                    raise DomainError("请选择要录入的考核项目。", field="rule")
                numbers = [n.strip() for n in request.POST.get("numbers", "").replace("，", ",").split(",") if n.strip()]
                proposals = list(session.proposals.filter(number__in=numbers)) if numbers else []
                if len(proposals) != len(set(numbers)):
                    raise DomainError("相关事项编号有误，请填写本届次的事项编号，用逗号分隔。", field="numbers")
                services.score_entry_record(actor=request.user, session=session, unit=unit, rule=rule,
                                            quantity=request.POST.get("quantity"), evidence=request.POST.get("evidence", ""),
                                            proposals=proposals)
                messages.success(request, "已录入加分佐证。")
            else:
                raise DomainError("未知的操作。")
        except DomainError as exc:
            messages.error(request, exc.message)
        return _redirect_back(session, unit)
    error = ""
    result = None
    try:
        result = scoring.score(session, unit)
    except DomainError as exc:
        error = exc.message
    sl = figures.Slice(session_id=session.pk, unit_id=unit.pk)
    lines = []
    for line in result.lines if result else []:
        url = figure_link(figures.FIGURES[line.figure], sl) if line.figure else ""
        lines.append({"line": line, "url": url})
    entry_rules = result.rule_set.rules.filter(metric="entry") if result else []
    return _render(request, "reports/score.html", {
        "session": session, "unit": unit, "result": result, "lines": lines, "error": error,
        "evaluation": evaluation, "entry_rules": entry_rules,
        "is_office": can_manage_scores(request.user, session), "can_submit": can_submit_evaluation(request.user, unit),
        "query": urlencode({"session": session.pk, "unit": unit.pk}),
        "fmt": scoring.fmt, **_picker(request, session, unit),
    })


@login_required
def evaluation_export(request, fmt: str):
    """The 自评表 as .xlsx or .docx."""

    if fmt not in ("xlsx", "docx"):
        raise Http404("只能导出 xlsx 或 docx。")
    session, unit = _session_and_unit(request)
    evaluation = Evaluation.objects.filter(session=session, unit=unit).select_related("rule_set", "unit", "session").first()
    if evaluation is None:
        raise Http404("该单位尚未生成自评，请先在考核页面生成。")
    name = f"{unit.name}{session.name}自评表"
    if fmt == "xlsx":
        return _xlsx_response(documents.evaluation_xlsx(evaluation), f"{name}.xlsx")

    response = HttpResponse(documents.evaluation_docx(evaluation),
                            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}.docx"
    return response


# --- the annual summary -----------------------------------------------------------------------------


TYPICAL_LISTED = 200


@login_required
def summary_page(request):
    """The unit edits its sections of the annual summary; computed figures are shown locked."""

    source = request.POST if request.method == "POST" else request.GET
    _require_reader(request)
    session, unit = _session_and_unit(request, source, required=request.method == "POST")
    if unit is None:
        return _render(request, "reports/pick.html", {"heading": "年度办理工作总结", **_picker(request, session, unit)})
    draft = SummaryDraft.objects.filter(session=session, unit=unit).first()
    sl = figures.Slice(session_id=session.pk, unit_id=unit.pk).resolve()
    candidates = Assignment.objects.filter(sl.q()).filter(figures.ANSWERING).select_related("proposal").order_by(
        "proposal__number")
    if request.method == "POST":
        try:
            ids = [int(x) for x in request.POST.getlist("typical") if x.isdigit()]
            services.summary_save(
                actor=request.user, session=session, unit=unit, addressee=request.POST.get("addressee", ""),
                practices=request.POST.get("practices", ""), problems=request.POST.get("problems", ""),
                next_steps=request.POST.get("next_steps", ""), typical=list(candidates.filter(pk__in=ids)),
            )
            messages.success(request, "已保存。")
        except DomainError as exc:
            messages.error(request, exc.message)
        return _redirect_back(session, unit, "reports:summary")
    built = summary.build(session, unit, draft)
    chosen = set(draft.typical.values_list("pk", flat=True)) if draft else set()
    # The picker lists the chosen cases, then key items and the rest by number, at most TYPICAL_LISTED: a unit with
    # thousands of items finds one by its number or a word of its title (the box above the list), not by scrolling.
    wanted = (request.GET.get("typical_q") or "").strip()
    listed = candidates
    if wanted:
        listed = listed.filter(Q(proposal__number__icontains=wanted) | Q(proposal__title__icontains=wanted))
    total = listed.count()
    shown = list(listed.filter(pk__in=chosen)) + list(
        listed.exclude(pk__in=chosen).order_by("-proposal__is_key", "proposal__number")[:TYPICAL_LISTED])
    return _render(request, "reports/summary.html", {
        "session": session, "unit": unit, "summary": built, "draft": draft, "candidates": shown,
        "candidates_total": total, "candidates_cut": total > len(shown), "typical_q": wanted,
        "hidden_chosen": chosen - {a.pk for a in shown},
        "chosen": chosen, "can_edit": can_submit_evaluation(request.user, unit),
        "query": urlencode({"session": session.pk, "unit": unit.pk}), **_picker(request, session, unit),
    })


@login_required
def summary_docx(request):

    session, unit = _session_and_unit(request)
    draft = SummaryDraft.objects.filter(session=session, unit=unit).first()
    built = summary.build(session, unit, draft)
    response = HttpResponse(documents.summary_docx(built),
                            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(built.title)}.docx"
    return response


@login_required
def rules_page(request):
    """The session's evaluation rule set: everyone who reads scores sees it; its assigning office edits it."""

    _require_reader(request)
    source = request.POST if request.method == "POST" else request.GET
    raw = source.get("session", "")
    sessions = selectors.report_sessions(request.user)
    # Opened from the menu without a session: the current one (the latest the user reads), as the score page does.
    session = sessions.filter(pk=int(raw)).first() if raw.isdigit() else sessions.order_by("-year", "-id").first()
    if session is None:
        raise Http404("找不到该届次，或您没有查看权限。")
    try:
        rule_set = scoring.rule_set_for(session)
    except DomainError as exc:
        rule_set = None
        messages.error(request, exc.message)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "copy" and rule_set is not None:
                services.rule_set_copy(actor=request.user, source=rule_set, session=session,
                                       name=request.POST.get("name", ""))
                messages.success(request, "已复制为本届次的评分细则，可逐项修改。")
            elif action == "update_set" and rule_set is not None:
                services.rule_set_update(actor=request.user, rule_set=rule_set, name=request.POST.get("name", ""),
                                         cap=request.POST.get("cap"))
                messages.success(request, "已保存。")
            elif action == "save_rule" and rule_set is not None:
                rule = rule_set.rules.filter(pk=request.POST.get("rule") or 0).first()

                def _json(name):
                    text = (request.POST.get(name) or "").strip() or "[]"
                    try:
                        return json.loads(text)
                    except ValueError:
                        raise DomainError(f"{'条件' if name == 'conditions' else '档次'}的格式不正确，请按示例填写。",
                                          field=name) from None

                services.rule_save(
                    actor=request.user, rule_set=rule_set, rule=rule, kind=request.POST.get("kind", ""),
                    label=request.POST.get("label", ""), mode=request.POST.get("mode", ""),
                    metric=request.POST.get("metric", ""), conditions=_json("conditions"), tiers=_json("tiers"),
                    points=request.POST.get("points") or 0, target=request.POST.get("target") or None,
                    max_points=request.POST.get("max_points") or None,
                    position=int(request.POST.get("position")) if (request.POST.get("position") or "").isdigit() else None,
                    note=request.POST.get("note", ""),
                )
                messages.success(request, "考核项目已保存。")
            elif action == "delete_rule" and rule_set is not None:
                rule = Rule.objects.filter(pk=request.POST.get("rule") or 0, rule_set=rule_set).first()
                if rule is None:
                    raise DomainError("找不到该考核项目。")
                services.rule_delete(actor=request.user, rule=rule)
                messages.success(request, "已删除。")
            else:
                raise DomainError("未知的操作。")
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect(reverse("reports:rules") + "?" + urlencode({"session": session.pk}))
    rules = []
    metric_labels = dict(scoring.metric_choices())
    for rule in rule_set.rules.all().order_by("position", "id") if rule_set else []:
        rule.metric_label = metric_labels.get(rule.metric, rule.metric)
        rule.conditions_json = json.dumps(rule.conditions, ensure_ascii=False)
        rule.tiers_json = json.dumps(rule.tiers, ensure_ascii=False)
        rules.append(rule)
    return _render(request, "reports/rules.html", {
        "session": session, "rule_set": rule_set, "rules": rules,
        "can_edit": can_manage_scores(request.user, session), "own": rule_set is not None and rule_set.session_id == session.pk,
        "kinds": RuleKind.choices, "modes": RuleMode.choices, "metrics": scoring.metric_choices(), "fmt": scoring.fmt,
    })


@login_required
def compare_page(request):
    """Year over year: every figure per session side by side, and items of earlier sessions still open."""

    _require_reader(request)
    sl = _slice_for(request)
    sl = replace(sl, session_id=None).resolve()
    groups = aggregates.source_for(sl).compute_grouped(sl, "proposal__session")
    sessions = list(Session.objects.filter(pk__in=list(groups)).order_by("-year", "-pk")[:6])
    rows = []
    for key, f in figures.FIGURES.items():
        rows.append({"figure": f, "cells": [
            {"value": groups[s.pk][key], "url": figure_link(f, replace(sl, session_id=s.pk))} for s in sessions]})
    carried = Assignment.objects.none()
    if sessions:
        latest = sessions[0]
        # The earlier sessions as ids (sessions are few), on the assignment row: none at all is no query, where
        # a join to the sessions' years let PostgreSQL guess 245,000 rows and start workers and JIT for none.
        earlier = list(Session.objects.filter(year__lt=latest.year).values_list("pk", flat=True))
        if earlier:
            carried = (
                Assignment.objects.filter(sl.q()).filter(figures.ANSWERING, session_id__in=earlier)
                .exclude(state__in=[AssignmentState.CLOSED, AssignmentState.WITHDRAWN])
                .select_related("proposal", "proposal__session", "unit")
                .order_by("proposal__session__year", "proposal__number")[:200]
            )
    # The columns are `columns`: the filter form's own `sessions` list (every readable session, in its own
    # order) once overwrote them, so each column showed another session's figures under its heading.
    return _render(request, "reports/compare.html", {
        **_filter_context(request, sl), "columns": sessions, "rows": rows, "carried": carried,
        "all_sessions": selectors.report_sessions(request.user),
    })


# --- the area-wide summary ---------------------------------------------------------------------------


def _area_session(request):
    sessions = selectors.report_sessions(request.user)
    raw = request.GET.get("session", "")
    session = (sessions.filter(pk=int(raw)).first() if raw.isdigit() else None) if raw else current_session(sessions)
    if session is None or not can_view_area_summary(request.user, session):
        raise Http404("找不到该届次，或您不是该届次的交办机构。")
    return session


@login_required
def area_summary_page(request):
    """全区办理工作总结: the office's report on a whole session, every unit in one table, each unit's 自评."""
    session = _area_session(request)
    built = area.build(session)
    return _render(request, "reports/area_summary.html", {
        "summary": built, "columns": area.UNIT_COLUMNS, "session": session,
        "unit_rows": list(zip(built.unit_ids, built.unit_rows)),  # each unit's name opens its score page
        "query": urlencode({"session": session.pk}), **_picker(request, session, None, units=False),
    })


@login_required
def area_summary_docx(request):

    built = area.build(_area_session(request))
    response = HttpResponse(area.area_docx(built),
                            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(built.title)}.docx"
    return response
