"""The workbench: each role's page of work, the proposal page with its actions, the office's screens, the ledger.

Views are thin: they read through selectors that take the user, write through services, and show a
DomainError's message as it is. One view serves a full page and its htmx fragment.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from banli.actions.registry import ACTIONS, offered_actions
from banli.assist import selectors as assist
from banli.assist.selectors import suggest_quietly
from banli.core import access
from banli.core.errors import ConflictError, DomainError, PermissionDenied
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.holidays import uncovered_years
from banli.handling.models import Assignment, ContactRecord, Event
from banli.handling.selectors import role_rank
from banli.ledger.filtersets import filtered_ledger
from banli.organizations.choices import UnitKind
from banli.organizations.models import Unit
from banli.organizations.services import user_password_changed
from banli.proposals import services as proposal_services
from banli.proposals.models import Proposal, Session
from banli.proposals import selectors as proposal_selectors
from banli.proposals.choices import KIND_OF_BODY, ProposalKind
from banli.proposals.selectors import merge_group
from banli.replies import selectors as reply_selectors
from banli.replies.models import Commitment, CoOpinion, Feedback, Reply
from banli.workbench import ledger_html, roles, selectors, services
from banli.workbench.forms import ProposalForm, SessionForm

LEDGER_PAGE_SIZE = 50


def _require_proposal(user, pk):
    return access.require_proposal(user, pk)


# --- home, roles, password ----------------------------------------------------------------------


@login_required
def home(request):
    grant = roles.active_grant(request)
    role = grant.role if grant else ""
    clock = selectors.Clock.now()
    sections = selectors.workbench_for(request.user, role, clock) if role else []
    template = selectors.HOME_TEMPLATES.get(role, "workbench/home.html")
    # The office is told of a year whose holidays nobody has entered: its deadlines count Monday to Friday.
    calendar_gaps = uncovered_years(clock.today) if access.can_keep_calendar(request.user) else []
    return render(request, template, {"nav": "home", "sections": sections, "role": role, "clock": clock,
                                      "idle_sections": [s for s in sections if getattr(s, "idle", False)],
                                      "role_label": roles.grant_label(grant) if grant else "",
                                      "calendar_gaps": calendar_gaps})


@login_required
@require_POST
def switch_role(request):
    grant = roles.switch(request, request.POST.get("grant"))
    if grant is None:
        messages.error(request, "您没有该角色。")
    else:
        messages.success(request, f"已切换为：{roles.grant_label(grant)}")
    return redirect("workbench:home")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("workbench:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        user_password_changed(user=self.request.user)
        messages.success(self.request, "密码已修改。")
        return response


password_change = login_required(PasswordChangeView.as_view())


# --- the proposal page --------------------------------------------------------------------------


def _assignment_cards(user, proposal, bound=None):
    """Each assignment of the proposal with what the user may see of it and the actions he may take.

    The replies, co-opinions, contacts, commitments and ratings of all the proposal's assignments are read in one
    query each and handed out in Python, so the page costs the same queries with two assignments or twenty."""
    assignments = list(
        Assignment.objects.filter(proposal=proposal)
        .select_related("unit", "lead_section", "handler", "proposal__session__assigning_office")
        .order_by(role_rank(), "id")
    )
    # The proposal object is already loaded with its session; share it so checks need no query.
    by_id = {}
    for a in assignments:
        a.proposal = proposal
        by_id[a.pk] = a

    def grouped(qs):
        out = {pk: [] for pk in by_id}
        for record in qs.filter(assignment_id__in=list(by_id)):
            record.assignment = by_id[record.assignment_id]
            out[record.assignment_id].append(record)
        return out

    replies_of = grouped(Reply.objects.order_by("round", "version", "id"))
    opinions_of = grouped(CoOpinion.objects.order_by("round", "id"))
    contacts_of = grouped(ContactRecord.objects.select_related("recorded_by").order_by("contacted_on", "id"))
    commitments_of = grouped(Commitment.objects.order_by("target_date", "id"))
    feedbacks_of = grouped(Feedback.objects.select_related("proposer").order_by("round", "id"))
    # What ended each rated round (重新办理, or the office's 按现状办结): one query, only for items with ratings.
    ends_of = {pk: [] for pk, feedbacks in feedbacks_of.items() if feedbacks}
    if ends_of:
        for event in Event.objects.filter(assignment_id__in=list(ends_of), verb__in=("rehandle", "close")).order_by("id"):
            ends_of[event.assignment_id].append(event)
    live_leads = [a for a in assignments if a.role == AssignmentRole.LEAD and a.state != AssignmentState.WITHDRAWN]
    is_office = access.sees_withdrawn_assignments(user, proposal)
    cards = []
    contact = None
    clock = selectors.Clock.now()
    for a in assignments:
        if a.state == AssignmentState.WITHDRAWN and not is_office:
            continue
        internal = access.sees_unit_internals(user, a)
        all_replies = replies_of[a.pk]
        reply = max(all_replies, key=lambda r: (r.round, r.version), default=None)
        ctx = {"reply": reply}
        actions = []
        for action in offered_actions(a, user, ctx):
            form = (bound or {}).get((a.pk, action.key)) or action.form(assignment=a, prefix=f"a{a.pk}-{action.key}")
            if action.key == "submit_reply" and form.is_bound is False and reply is not None and reply.round == a.round:
                form.initial = {f: getattr(reply, f) for f in ("reply_class", "disclosure", "disclosure_reason",
                                                               "public_summary", "body", "contact_person", "contact_phone")}
            elif action.key in ("submit_reply", "send_co_opinion") and form.is_bound is False:
                # A new letter starts with the writer's usual contact details (read once per page).
                if contact is None:
                    contact = reply_selectors.usual_contact(user)
                form.initial = {**form.initial, **contact}
            actions.append({"action": action, "form": form})
        # The page is shown only to who may see the proposal, so its sent replies need no further check.
        visible = {r.pk for r in all_replies if access.can_view_reply(user, r, item_visible=True)}
        sent_replies = [r for r in all_replies if r.pk in visible]
        opinions = [o for o in opinions_of[a.pk] if access.can_view_co_opinion(user, o, leads=live_leads)]
        state = selectors.STATES.get(a.state)
        cards.append({
            "a": a,
            "state_label": state.label if state else a.state,
            "state_css": state.colour if state else "secondary",
            "internal": internal,
            "actions": actions,
            "replies": sent_replies,
            "current_reply": reply if reply is not None and reply.pk in visible else None,
            "opinions": opinions,
            "contacts": contacts_of[a.pk] if internal else [],
            "commitments": commitments_of[a.pk] if (internal or is_office) else [],
            "feedbacks": feedbacks_of[a.pk] if (internal or is_office) else [],
            "rating_rounds": reply_selectors.rating_rounds(user, a, feedbacks_of[a.pk], ends_of.get(a.pk, [])),
            "progress": selectors.progress_percent(a),
            "due_badge": _due_badge(a.next_due, clock),
        })
    return assignments, cards


def _due_badge(due, clock) -> str:
    """Beside the deadline the unit owes now (next_due), the workbench's light in words: 已逾期 N 天 or 临近期限."""
    light = clock.light(due)
    if light == "red":
        return format_html('<span class="badge text-bg-danger" data-due="overdue">已逾期 {} 天</span>', (clock.today - due).days)
    if light == "yellow":
        return format_html('<span class="badge text-bg-warning" data-due="soon">{}</span>', selectors.LIGHT_LABELS["yellow"])
    return ""


def _proposal_context(request, proposal, bound=None):
    user = request.user
    assignments, cards = _assignment_cards(user, proposal, bound)
    return {
        "nav": "ledger",
        "proposal": proposal,
        "proposers": list(proposal.proposer_links.select_related("proposer").order_by("position")),
        "cards": cards,
        "timeline": selectors.proposal_timeline(user, proposal, assignments),
        "is_office": access.is_office_for(user, proposal),
        "can_assist": assist.can_use_assist(user),
        "merge": merge_group(user=user, proposal=proposal),
    }


@login_required
@require_GET
def proposal_detail(request, pk):
    proposal = _require_proposal(request.user, pk)
    return render(request, "workbench/proposal.html", _proposal_context(request, proposal))


@login_required
@require_POST
def assignment_action(request, pk, action):
    """Take one action on an assignment; answer with the proposal panel (htmx) or the full page."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("未知的操作。")
    assignment = access.require_assignment(request.user, pk)
    proposal = _require_proposal(request.user, assignment.proposal_id)
    form = spec.form(request.POST, assignment=assignment, prefix=f"a{assignment.pk}-{action}")
    bound = None
    status = 200
    if not form.is_valid():
        errors = "；".join(f"{form.fields[f].label if f in form.fields else ''}：{' '.join(e)}".lstrip("：")
                          for f, e in form.errors.items())
        messages.error(request, f"{spec.label}未完成，请检查：{errors}")
        bound = {(assignment.pk, action): form}
        status = 400
    else:
        try:
            message = spec.run(assignment, request.user, form.cleaned_data).message
        except DomainError as exc:
            # A refused form is shown again, bound, with the message (a refusal outside htmx is the 403 page).
            if isinstance(exc, PermissionDenied) and not request.htmx:
                raise
            messages.error(request, exc.message)
            bound = {(assignment.pk, action): form}
            status = 403 if isinstance(exc, PermissionDenied) else 409 if isinstance(exc, ConflictError) else 400
        else:
            messages.success(request, message)
            if not request.htmx:
                return redirect("workbench:proposal", pk=proposal.pk)
    # The action may have moved the item's derived status (已测评 → 已办结); the relations loaded stay.
    proposal.status = Proposal.objects.filter(pk=proposal.pk).values_list("status", flat=True).first() or proposal.status
    context = _proposal_context(request, proposal, bound)
    if request.htmx:
        # htmx swaps only 2xx answers by default: the message itself tells success from failure.
        return render(request, "workbench/_proposal_panel.html", context)
    return render(request, "workbench/proposal.html", context, status=status)


# --- the ledger ---------------------------------------------------------------------------------


@login_required
@require_GET
def ledger(request):
    clock = selectors.Clock.now()
    filterset = filtered_ledger(request, today=clock.today)
    qs = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = selectors.ledger_page(qs, request.GET, LEDGER_PAGE_SIZE)
    rows = selectors.decorate(page.rows, clock)
    query = request.GET.copy()
    for name in ("page", "after", "before", "from_date", "from_number"):
        query.pop(name, None)

    def link(params):
        if params is None:
            return ""
        target = query.copy()
        for name, value in params.items():
            target[name] = value
        return "?" + target.urlencode()

    context = {"nav": "ledger", "filter": filterset, "page": page, "rows": rows, "rows_html": ledger_html.rows_html(rows),
               "query": query.urlencode(),
               "total": page.count_label, "next_url": link(page.next_params), "previous_url": link(page.previous_params),
               "jump_fields": [(k, v) for k, values in query.lists() if k != "ordering" for v in values]}
    if assist.can_use_assist(request.user) and not request.htmx:
        # 热点归类 per session the user has items in, newest first.
        # A list of links, kept a minute per user (it probes each session for the user's rows).
        key = f"ledger-topic-sessions:{request.user.pk}"
        sessions = cache.get(key)
        if sessions is None:
            sessions = [(s.pk, str(s)) for s in selectors.ledger_sessions(request.user)[:6]]
            cache.set(key, sessions, 60)
        context["topic_sessions"] = sessions
    template = "workbench/_ledger_table.html" if request.htmx and request.htmx.target == "ledger-table" else "workbench/ledger.html"
    return render(request, template, context)


# --- the assigning office's screens -------------------------------------------------------------


def _require_office(user):
    if not access.registers_anything(user):
        raise DjangoPermissionDenied("只有交办机构才能登记和交办。")


REGISTER_LAST_KEY = "banli_register_last"  # the session and kind of the office's last registration (this sign-in)


def _office_sessions(user):
    return access.restrict(Session.objects.all(), user, "register")


@login_required
@require_http_methods(["GET", "POST"])
def register(request):
    """Register a session or a proposal by hand."""
    _require_office(request.user)
    offices = access.office_scopes(request.user)
    sessions = _office_sessions(request.user).filter(is_active=True)
    session_ids = [s.pk for s in sessions]
    session_form = SessionForm(offices=offices, prefix="s")
    # Items are registered in runs, many of one session and kind: the form starts on the session and kind of the
    # office's last registration in this sign-in (still active), or on the only active session there is.
    last = request.session.get(REGISTER_LAST_KEY) or {}
    initial = ({"session": last["session"], "kind": last.get("kind")} if last.get("session") in session_ids
               else {"session": session_ids[0]} if len(session_ids) == 1 else {})
    if initial.get("session"):
        # ... on the kind that session receives when the last registration did not say (人大: 建议), and on the
        # number after the last one registered there of that kind (the office can change both).
        if not initial.get("kind"):
            body = next(s.body for s in sessions if s.pk == initial["session"])
            initial["kind"] = KIND_OF_BODY.get(body, ProposalKind.PROPOSAL)
        initial["number"] = proposal_selectors.next_number(session_id=initial["session"], kind=initial["kind"])
    proposal_form = ProposalForm(sessions=sessions, prefix="p", initial={k: v for k, v in initial.items() if v})
    if request.method == "POST":
        try:
            if "create_session" in request.POST:
                session_form = SessionForm(request.POST, offices=offices, prefix="s")
                if session_form.is_valid():
                    session = services.session_register(actor=request.user, **session_form.cleaned_data)
                    messages.success(request, f"已登记届次「{session.name}」。")
                    return redirect("workbench:register")
            else:
                proposal_form = ProposalForm(request.POST, sessions=sessions, prefix="p")
                if proposal_form.is_valid():
                    data = proposal_form.cleaned_data
                    shown = None
                    if request.POST.get("category_suggested") == "1":
                        draft = Proposal(title=data["title"], body=data["body"])
                        shown, _ = suggest_quietly(assist.category_suggestions, user=request.user, proposal=draft)
                    proposal = services.proposal_register(actor=request.user, category_suggested=shown, **data)
                    request.session[REGISTER_LAST_KEY] = {"session": proposal.session_id, "kind": proposal.kind}
                    messages.success(request, f"已登记第{proposal.number}号{proposal.get_kind_display()}，请交办承办单位。")
                    return redirect("workbench:assign", pk=proposal.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
    # The sessions as ids (they are few): the newest 20 are then read backwards on the created index, not sorted
    # out of every proposal of the sessions (0.25 s at a million assignments).
    recent = (Proposal.objects.filter(session_id__in=session_ids).select_related("session")
              .order_by("-created_at", "-id")[:20])
    return render(request, "workbench/register.html", {"nav": "register", "session_form": session_form,
                                                       "proposal_form": proposal_form, "recent": recent})


@login_required
@require_POST
def register_suggest(request):
    """The category and routing suggestions for the proposal being typed on the register page (htmx fragment)."""
    _require_office(request.user)
    title = (request.POST.get("p-title") or "").strip()
    body = (request.POST.get("p-body") or "").strip()
    context = {"typed": bool(title or body)}
    if context["typed"]:
        draft = Proposal(title=title, body=body)
        session_id = request.POST.get("p-session") or ""
        if session_id.isdigit():
            # The chosen session's office decides which units are offered (its own assignment history).
            session = _office_sessions(request.user).filter(pk=int(session_id)).select_related("assigning_office").first()
            if session is not None:
                draft.session = session
        context["suggestions"], context["unavailable"] = suggest_quietly(
            assist.category_suggestions, user=request.user, proposal=draft)
        routing, context["routing_unavailable"] = suggest_quietly(
            assist.routing_suggestions, user=request.user, proposal=draft)
        context["leads"] = [s for s in routing if s["role"] == AssignmentRole.LEAD]
        context["cos"] = [s for s in routing if s["role"] == AssignmentRole.CO]
        # Nothing shown although a model exists: the office's threshold withheld the suggestions.
        context["withheld"] = not context["suggestions"] and assist.model_trained("category")
        context["routing_withheld"] = not routing and assist.model_trained("routing")
    return render(request, "workbench/_register_assist.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def assign(request, pk):
    """Assign units (several at once) to a proposal as lead, co or split."""
    proposal = _require_proposal(request.user, pk)
    if not access.can_decide_handling(request.user, proposal):
        raise DjangoPermissionDenied("只有该届次的交办机构才能交办。")
    chosen = []
    if request.method == "POST":
        unit_ids = request.POST.getlist("unit")
        units = {str(u.pk): u for u in Unit.objects.filter(pk__in=[i for i in unit_ids if i.isdigit()])}
        chosen = [(units[i], request.POST.get(f"role_{i}", "")) for i in unit_ids if i in units]
        shown = None
        if request.POST.get("routing_suggested") == "1":
            shown, _ = suggest_quietly(assist.routing_suggestions, user=request.user, proposal=proposal)
        try:
            created = services.assignments_create_many(proposal=proposal, actor=request.user, units_and_roles=chosen,
                                                       routing_suggested=shown)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            names = "、".join(f"{a.unit.name}（{a.get_role_display()}）" for a in created)
            messages.success(request, f"已交办：{names}。")
            return redirect("workbench:proposal", pk=proposal.pk)
    assignments = (Assignment.objects.filter(proposal=proposal).exclude(state=AssignmentState.WITHDRAWN)
                   .select_related("unit").order_by(role_rank(), "id"))
    return render(request, "workbench/assign.html", {"nav": "register", "proposal": proposal,
                                                     "assignments": assignments, "chosen": chosen})


@login_required
@require_GET
def unit_search(request):
    """Search-as-you-type for handling units (htmx fragment)."""
    _require_office(request.user)
    q = (request.GET.get("q") or "").strip()
    units = []
    if q:
        units = list(
            Unit.objects.filter(kind=UnitKind.HANDLING_UNIT, is_active=True)
            .filter(Q(name__icontains=q) | Q(short_name__icontains=q) | Q(code__iexact=q))
            .order_by("sort_order", "name")[:20]
        )
    return render(request, "workbench/_unit_results.html", {"units": units, "q": q})


@login_required
@require_POST
def proposal_key(request, pk):
    """Mark or unmark a key item (重点提案)."""
    proposal = _require_proposal(request.user, pk)
    services.proposal_mark_key(actor=request.user, proposal=proposal, is_key=request.POST.get("is_key") == "1")
    messages.success(request, "已标记为重点提案。" if proposal.is_key else "已取消重点提案标记。")
    return redirect("workbench:proposal", pk=proposal.pk)


def _back_to_proposal(request, proposal):
    """After a 并案 change the whole page is stale (status line, similar list, timeline): load it again.
    An htmx request is told to do so (HX-Redirect), a plain form post is redirected."""
    url = reverse("workbench:proposal", args=[proposal.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _require_merging_office(user, proposal, message):
    if not access.can_decide_handling(user, proposal):
        raise DjangoPermissionDenied(message)


@login_required
@require_POST
def proposal_merge(request, pk):
    """并案: handle this item together with a same-session item (`into`, offered by the similar list)."""
    proposal = _require_proposal(request.user, pk)
    _require_merging_office(request.user, proposal, "只有该届次的交办机构才能并案。")
    into_id = request.POST.get("into") or ""
    other = access.visible_proposals(request.user).select_related("session").filter(pk=into_id).first() \
        if into_id.isdigit() else None
    if other is None:
        messages.error(request, "请选择要并案的事项。")
        return _back_to_proposal(request, proposal)
    try:
        head = services.proposal_merge_with(actor=request.user, proposal=proposal, other=other)
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, f"并案未完成：{exc.message}")
    else:
        items = "、".join(f"第{p.number}号" for p in head.merged_items.order_by("number"))
        messages.success(request, f"已并案办理：主件第{head.number}号，并入件{items}。各件仍分别答复。")
    return _back_to_proposal(request, proposal)


@login_required
@require_POST
def proposal_unmerge(request, pk):
    """取消并案: take this item out of its group, or (on the head's page) the merged item `item`."""
    proposal = _require_proposal(request.user, pk)
    _require_merging_office(request.user, proposal, "只有该届次的交办机构才能取消并案。")
    item_id = request.POST.get("item") or ""
    item = proposal
    if item_id:
        item = Proposal.objects.select_related("session__assigning_office").filter(
            pk=item_id if item_id.isdigit() else None, merged_with=proposal).first()
        if item is None:
            messages.error(request, "该事项不是本件的并入件。")
            return _back_to_proposal(request, proposal)
    try:
        head = proposal_services.proposal_unmerge(actor=request.user, proposal=item)
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, f"取消并案未完成：{exc.message}")
    else:
        messages.success(request, f"已取消并案：第{item.number}号不再并入第{head.number}号，今后单独办理。")
    return _back_to_proposal(request, proposal)


# --- notifications ------------------------------------------------------------------------------


@login_required
@require_GET
def notification_badge(request):
    count = selectors.badge_count(request.user)
    shown = "99+" if count > 99 else count
    return HttpResponse(
        f'通知 <span class="badge rounded-pill text-bg-light" id="unread-count">{shown}</span>' if count else "通知"
    )


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request):
    """The notification centre: one entry per item and day, with filters and "mark all read"."""
    if request.method == "POST":
        services.notifications_mark_read(user=request.user)
        messages.success(request, "已全部标为已读。")
        return redirect("workbench:notifications")
    unread_only = request.GET.get("show") == "unread"
    kind = request.GET.get("kind", "")
    groups = selectors.notifications(request.user, unread_only=unread_only, kind=kind)
    # 未读 as the menu's badge counts it (kept BADGE_SECONDS per read position; every page has just loaded it):
    # counting the unread again here was a third of the page's time at a million assignments.
    return render(request, "workbench/notifications.html", {
        "nav": "notifications", "groups_html": ledger_html.notice_groups_html(groups),
        "unread": selectors.badge_count(request.user),
        "kinds": [(k, label) for k, (label, _) in selectors.NOTICE_KINDS.items()], "kind": kind,
        "unread_only": unread_only,
    })
