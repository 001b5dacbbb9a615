"""智能辅助: pages and htmx fragments the workbench embeds with hx-get (one view serves both)."""
from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from banli.assist import selectors, services
from banli.assist.choices import SuggestionTask
from banli.assist.forms import AssistSettingForm, CategoryDecisionForm, DraftCheckForm, RoutingDecisionForm
from banli.assist.models import AssistSetting
from banli.assist.selectors import suggest_quietly
from banli.core import access
from banli.core.errors import DomainError
from banli.handling.choices import AssignmentRole
from banli.proposals.models import Session


def assist_view(view):
    """Signed-in staff only; domain errors become 404 / 403 pages with a readable message."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.can_use_assist(request.user):
            return HttpResponseForbidden("智能辅助仅供交办机构和承办单位工作人员使用。")
        return view(request, *args, **kwargs)

    return wrapped


def _render(request, fragment: str, context: dict, *, title: str):
    """The fragment alone for htmx, or wrapped in the full page."""
    if getattr(request, "htmx", False):
        return render(request, fragment, context)
    return render(request, "assist/page.html", {**context, "fragment": fragment, "title": title})


@assist_view
def proposal_assist(request, proposal_id: int):
    """Everything the assistant offers for one proposal: category, routing, similar items."""
    proposal = access.require_proposal(request.user, proposal_id)
    return render(request, "assist/proposal.html", {"proposal": proposal, "title": "智能辅助"})


@assist_view
@require_http_methods(["GET", "POST"])
def category_suggestion(request, proposal_id: int):
    proposal = access.require_proposal(request.user, proposal_id)
    suggestions, unavailable = suggest_quietly(selectors.category_suggestions, user=request.user, proposal=proposal)
    decision, error = None, ""
    if request.method == "POST":
        form = CategoryDecisionForm(request.POST)
        if form.is_valid():
            try:
                decision = services.category_decide(
                    proposal=proposal, label=form.cleaned_data["label"], suggested=suggestions, actor=request.user,
                )
            except DomainError as exc:
                error = str(exc)
        else:
            error = "请选择或填写类别。"
    context = {"proposal": proposal, "suggestions": suggestions, "decision": decision, "error": error,
               "unavailable": unavailable, "may_decide": services.may_decide(request.user, proposal),
               "withheld": not suggestions and selectors.model_trained(SuggestionTask.CATEGORY)}
    if context["may_decide"] and suggestions:
        context["accuracy"] = selectors.suggestion_accuracy(user=request.user, task=SuggestionTask.CATEGORY)
    return _render(request, "assist/_category.html", context, title="类别建议")


@assist_view
@require_http_methods(["GET", "POST"])
def routing_suggestion(request, proposal_id: int):
    proposal = access.require_proposal(request.user, proposal_id)
    suggestions, unavailable = suggest_quietly(selectors.routing_suggestions, user=request.user, proposal=proposal)
    decision, error = None, ""
    if request.method == "POST":
        form = RoutingDecisionForm(request.POST)
        if form.is_valid():
            logged = [{k: s[k] for k in ("label", "role", "score", "words")} for s in suggestions]
            try:
                decision = services.suggestion_decision_record(
                    proposal=proposal, task=SuggestionTask.ROUTING, suggested=logged,
                    decided={"lead": form.cleaned_data["lead"], "co": form.cleaned_data["co"]}, actor=request.user,
                )
            except DomainError as exc:
                error = str(exc)
        else:
            error = "请填写主办单位。"
    context = {
        "proposal": proposal,
        "leads": [s for s in suggestions if s["role"] == AssignmentRole.LEAD],
        "cos": [s for s in suggestions if s["role"] == AssignmentRole.CO],
        "decision": decision,
        "error": error,
        "may_decide": services.may_decide(request.user, proposal),
        "unavailable": unavailable,
        "withheld": not suggestions and selectors.model_trained(SuggestionTask.ROUTING),
        # On the workbench's assign page the office takes a suggestion into the assignment form itself;
        # the decision is logged when the assignment is made (banli.workbench.services).
        "fill_form": request.GET.get("for") == "assign",
    }
    if context["may_decide"] and suggestions:
        context["accuracy"] = selectors.suggestion_accuracy(user=request.user, task=SuggestionTask.ROUTING)
    return _render(request, "assist/_routing.html", context, title="交办建议")


@assist_view
def similar(request, proposal_id: int):
    proposal = access.require_proposal(request.user, proposal_id)
    selectors.require_assist(request.user)
    index = selectors.similar_index()
    items = selectors.similar_proposals(user=request.user, proposal=proposal, index=index)
    # 并案 is recorded by the session's assigning office (banli.workbench: proposal_merge); others only see the hint.
    may_merge = access.can_decide_handling(request.user, proposal) and proposal.status != "closed"
    return _render(request, "assist/_similar.html",
                   {"proposal": proposal, "items": items, "may_merge": may_merge, "note": index.note}, title="相似提案")


@assist_view
def session_topics(request, session_id: int):
    session = get_object_or_404(Session, pk=session_id)
    topics = selectors.session_topics(user=request.user, session=session)
    return _render(request, "assist/_topics.html", {"session": session, "topics": topics}, title=f"{session} · 热点归类")


@assist_view
def reply_check(request, reply_id: int):
    # Only a reply the user may read (a unit's drafts stay inside the unit, the office sees its own step).
    reply = access.require_reply(request.user, reply_id)
    result = selectors.reply_check(user=request.user, reply=reply)
    context = {"proposal": reply.assignment.proposal, "reply": reply, "result": result}
    return _render(request, "assist/_reply_check.html", context, title="答复核查")


@assist_view
@require_http_methods(["POST"])
def draft_check(request, proposal_id: int):
    """Live check of a draft being written (the reply form posts its fields here with hx-post)."""
    proposal = access.require_proposal(request.user, proposal_id)
    # The workbench's reply form names its fields with a prefix (a<assignment>-submit_reply-body …).
    form = DraftCheckForm(request.POST, prefix=request.GET.get("prefix") or None)
    form.is_valid()
    data = form.cleaned_data
    result = selectors.draft_check(
        proposal=proposal, body=data.get("body", ""), reply_class=data.get("reply_class", ""),
        contact_person=data.get("contact_person", ""), contact_phone=data.get("contact_phone", ""),
    )
    return _render(request, "assist/_reply_check.html", {"proposal": proposal, "result": result}, title="答复核查")


@assist_view
@require_http_methods(["GET", "POST"])
def office_performance(request):
    """智能辅助成效: per month how the suggestions did, the models' own figures, and the office's thresholds."""
    offices = access.office_scopes(request.user)
    performance = selectors.assist_performance(user=request.user)
    forms = []
    for office in offices:
        setting = AssistSetting.objects.filter(office=office).first() or AssistSetting(office=office)
        # What the saved values do, read before a posted form writes its values onto the instance.
        effect = selectors.threshold_effect(performance["held_out"], setting)
        data = request.POST if request.method == "POST" and request.POST.get("office") == str(office.pk) else None
        form = AssistSettingForm(data, instance=setting, prefix=f"o{office.pk}")
        if data is not None and form.is_valid():
            services.assist_setting_save(office=office, actor=request.user, **form.cleaned_data)

            messages.success(request, f"已保存{office.name}的智能辅助最低把握度。")

            return redirect("assist:office")
        forms.append((office, form, effect))
    return render(request, "assist/office.html", {"title": "智能辅助成效", "forms": forms, **performance})
