"""Who may see and do what: one place for every permission rule, used by views, API, services and tasks.

Rules (DESIGN.md §2):
- the assigning office sees every item of the sessions it assigns (its unit or below);
- unit office, handler and leader see the items assigned to their unit (a section's staff see their
  unit's items), and only they see their unit's drafts, contact records and internal notes;
- a proposer sees only the items he signed, and of replies only those sent;
- the system administrator reads everything but takes no action on cases.
"""
from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from banli.core.errors import NotFound
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.organizations.choices import UNIT_ROLES, Role, UnitKind

_CACHE_ATTR = "_banli_grants"


def grants(user) -> list:
    """The user's role grants with their units, loaded once per request (cached on the user object)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        from banli.organizations.models import RoleGrant

        cached = list(RoleGrant.objects.filter(user=user).select_related("unit", "unit__parent"))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_grants(user) -> None:
    """Drop the cached grants after a role change."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def roles_of(user) -> set[str]:
    return {g.role for g in grants(user)}


def has_role(user, role: str) -> bool:
    return role in roles_of(user)


def can_keep_calendar(user) -> bool:
    """The work calendar (holidays of years the package does not know) is kept by an assigning office or the
    administrator: every office's deadlines count on it."""
    return bool({Role.ASSIGNING_OFFICE, Role.ADMIN} & roles_of(user))


def is_staff_user(user) -> bool:
    """Office, unit staff or administrator: anyone who works on items rather than submits them."""
    return bool(roles_of(user) & {Role.ASSIGNING_OFFICE, Role.ADMIN, *UNIT_ROLES})


def scope_unit(grant):
    """The handling unit a unit-scoped grant covers: a section's staff work for the section's unit."""
    unit = grant.unit
    if unit is not None and unit.kind == UnitKind.SECTION:
        unit = unit.handling_unit
    return unit


def unit_scopes(user, roles=UNIT_ROLES) -> list:
    """The units (with their subtrees) whose assignments the user handles in one of `roles`."""
    return [scope_unit(g) for g in grants(user) if g.role in roles and g.unit_id]


def office_scopes(user) -> list:
    return [g.unit for g in grants(user) if g.role == Role.ASSIGNING_OFFICE and g.unit_id]


def _proposer_of(user, proposal) -> bool:
    from banli.proposals.models import ProposalProposer

    return ProposalProposer.objects.filter(proposal=proposal, proposer__user=user).exists()


def acting_role(actor, assignment, roles) -> str | None:
    """The role in which `actor` may act on `assignment` among `roles`, or None."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    for grant in grants(actor):
        if grant.role not in roles:
            continue
        if grant.role == Role.ASSIGNING_OFFICE:
            if assignment.proposal.session.assigning_office.is_within(grant.unit):
                return grant.role
        elif grant.role in UNIT_ROLES:
            if assignment.unit.is_within(scope_unit(grant)):
                return grant.role
        elif grant.role == Role.PROPOSER:
            if _proposer_of(actor, assignment.proposal):
                return grant.role
    return None


def holds_role_in_unit(user, unit, role: str) -> bool:
    """The user holds `role` in `unit`, its sections, or (for the assigning office) anywhere."""
    for grant in grants(user):
        if grant.role != role:
            continue
        if role == Role.ASSIGNING_OFFICE or grant.unit.is_within(unit) or unit.is_within(grant.unit):
            return True
    return False


def may_close_unsatisfied(user, assignment) -> bool:
    """Only the assigning office decides to close an item rated 不满意 without re-handling it."""
    return acting_role(user, assignment, {Role.ASSIGNING_OFFICE}) is not None


def is_office_for(user, proposal) -> bool:
    """The user is an assigning office of the proposal's session."""
    office = proposal.session.assigning_office
    return any(office.is_within(unit) for unit in office_scopes(user))


def is_unit_staff_for(user, assignment) -> bool:
    """The user works in the assignment's unit: he may see its drafts, contacts and internal notes."""
    return any(assignment.unit.is_within(unit) for unit in unit_scopes(user))


# --- selectors -------------------------------------------------------------------------------


def proposal_visibility_q(user) -> Q | None:
    """A Q over Proposal rows the user may see, or None for all (administrator).

    Each part is an uncorrelated `IN (subquery)` over a small, indexed set (the user's sessions, his units'
    assignments, his own proposer links), so the database evaluates it once, not once per proposal."""
    from banli.handling.models import Assignment
    from banli.proposals.models import ProposalProposer

    if has_role(user, Role.ADMIN) or getattr(user, "is_superuser", False):
        return None
    q = Q(pk__in=[])
    sessions = office_sessions_q(user)
    if sessions is not None:
        q |= Q(session__in=_sessions(sessions))
    units = unit_subtree_q(user)
    if units is not None:
        q |= Q(pk__in=Assignment.objects.filter(unit__in=_units(units)).exclude(state=AssignmentState.WITHDRAWN).values("proposal_id"))
    if has_role(user, Role.PROPOSER) or hasattr(user, "proposer"):
        q |= Q(pk__in=ProposalProposer.objects.filter(proposer__user=user).values("proposal_id"))
    return q


def office_sessions_q(user) -> Q | None:
    """A Q over Session rows the user assigns as an assigning office (None: he is no assigning office)."""
    scopes = office_scopes(user)
    if not scopes:
        return None
    q = Q(pk__in=[])
    for unit in scopes:
        q |= Q(assigning_office__path__startswith=unit.path)
    return q


def unit_subtree_q(user) -> Q | None:
    """A Q over Unit rows within the user's own units (None: he is no unit staff)."""
    scopes = unit_scopes(user)
    if not scopes:
        return None
    q = Q(pk__in=[])
    for unit in scopes:
        q |= Q(path__startswith=unit.path)
    return q


def _sessions(q: Q):
    from banli.proposals.models import Session

    return Session.objects.filter(q).values("pk")


def office_sessions(user):
    """The sessions the user assigns as an assigning office (none if he is no assigning office)."""
    from banli.proposals.models import Session

    q = office_sessions_q(user)
    return Session.objects.filter(q) if q is not None else Session.objects.none()


def _units(q: Q):
    from banli.organizations.models import Unit

    return Unit.objects.filter(q).values("pk")


def visible_proposals(user) -> QuerySet:
    """Every proposal the user may see."""
    from banli.proposals.models import Proposal

    qs = Proposal.objects.all()
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    q = proposal_visibility_q(user)
    return qs if q is None else qs.filter(q)


def visible_assignments(user) -> QuerySet:
    """Assignments of the proposals the user may see (who handles what is not secret between units)."""
    from banli.handling.models import Assignment

    if not getattr(user, "is_authenticated", False):
        return Assignment.objects.none()
    q = proposal_visibility_q(user)
    qs = Assignment.objects.all()
    if q is None:
        return qs
    return qs.filter(proposal__in=visible_proposals(user).values("pk"))


def units_with_assignments(units: QuerySet) -> list[int]:
    """The ids of these units that hold assignments (one index probe each): usually a unit's subtree comes down to
    the unit itself, and `unit_id = X` lets the index serve the order where `unit_id IN (X, its sections)` cannot."""
    from banli.handling.models import Assignment

    return list(units.filter(Exists(Assignment.objects.filter(unit_id=OuterRef("pk")))).values_list("pk", flat=True))


def ledger_scope_q(user) -> Q | None:
    """The assignments the user's ledger lists, as a Q on the assignment row alone (None: every row).

    The scope is resolved to ids first, so the database sees plain `session_id IN (…)` / `unit_id IN (…)` that
    the ledger's indexes serve, never a semi-join over all proposals: the assigning office reads the items of
    the sessions it assigns, unit staff their units' own assignments, a proposer the items he signed."""
    from banli.organizations.models import Unit
    from banli.proposals.models import ProposalProposer, Session

    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if reads_everything(user):
        return None
    q = Q(pk__in=[])
    sessions = office_sessions_q(user)
    if sessions is not None:
        ids = list(Session.objects.filter(sessions).values_list("pk", flat=True))
        if ids and len(ids) == Session.objects.count():
            return None  # every session: no filter at all
        if ids:
            q |= Q(session_id__in=ids)
    units = unit_subtree_q(user)
    if units is not None:
        ids = units_with_assignments(Unit.objects.filter(units))
        if ids:
            q |= Q(unit_id__in=ids)
    if has_role(user, Role.PROPOSER) or hasattr(user, "proposer"):
        q |= Q(proposal_id__in=ProposalProposer.objects.filter(proposer__user=user).values("proposal_id"))
    return q


def handled_assignments(user) -> QuerySet:
    """Assignments handled by the user's own units (the unit staff's working set).

    Filtered by unit id in a subquery, so the (unit, state) index serves each list."""
    from banli.handling.models import Assignment

    units = unit_subtree_q(user)
    if units is None:
        return Assignment.objects.none()
    return Assignment.objects.filter(unit__in=_units(units))


def office_assignments(user) -> QuerySet:
    """Assignments of the sessions the user assigns as an assigning office."""
    from banli.handling.models import Assignment

    if not office_scopes(user):
        return Assignment.objects.none()
    return Assignment.objects.filter(proposal__session__in=office_sessions(user))


# --- one check helper per object type --------------------------------------------------------


def can_view_proposal(user, proposal) -> bool:
    return visible_proposals(user).filter(pk=proposal.pk).exists()


def note_refusal(user, message: str, **ids) -> None:
    """A refusal answered with 404 (so as not to reveal what exists) is still a security event."""
    from banli.core.security import note_denial

    note_denial(user, message, **ids)


def require_proposal(user, proposal_id):
    """The proposal if the user may see it; NotFound otherwise (never reveal that it exists)."""
    proposal = visible_proposals(user).select_related("session", "session__assigning_office").filter(pk=proposal_id).first()
    if proposal is None:
        from banli.core.security import note_denial

        note_denial(user, "proposal not visible", proposal=proposal_id)
        raise NotFound("找不到该事项，或您没有查看权限。")
    return proposal


def can_view_assignment(user, assignment) -> bool:
    return can_view_proposal(user, assignment.proposal)


def require_assignment(user, assignment_id):
    from banli.handling.models import Assignment

    assignment = (
        Assignment.objects.select_related("proposal", "proposal__session", "proposal__session__assigning_office", "unit")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None or not can_view_assignment(user, assignment):
        from banli.core.security import note_denial

        note_denial(user, "assignment not visible", assignment=assignment_id)
        raise NotFound("找不到该交办记录，或您没有查看权限。")
    return assignment


def can_view_internal(user, assignment) -> bool:
    """Drafts, contact records and internal notes of a unit: only that unit's staff."""
    return is_unit_staff_for(user, assignment)


def can_view_reply(user, reply, *, item_visible: bool = False) -> bool:
    """Sent replies: anyone who sees the item. Drafts: the unit's staff, and the office at its own check step.

    `item_visible`: the caller has checked already that the user sees the item (the proposal page)."""
    from banli.replies.choices import ReplyState

    assignment = reply.assignment
    if reply.state == ReplyState.SENT:
        return item_visible or can_view_assignment(user, assignment)
    if can_view_internal(user, assignment):
        return True
    if reply.state == ReplyState.IN_REVIEW:
        from banli.replies.models import ReviewChainStep

        step = ReviewChainStep.objects.filter(
            chain__unit=assignment.unit, position=reply.review_position
        ).first()
        if step is None:
            return False
        if step.kind == "consult":
            # 征求意见稿: the draft is shared with the item's proposers for their comments.
            return _proposer_of(user, assignment.proposal)
        return step.role == Role.ASSIGNING_OFFICE and is_office_for(user, assignment.proposal)
    return False


def require_reply(user, reply_id):
    """The reply version if the user may read it; NotFound otherwise (drafts of other units never show)."""
    from banli.replies.models import Reply

    reply = (
        Reply.objects.select_related("assignment__proposal__session__assigning_office", "assignment__unit")
        .filter(pk=reply_id)
        .first()
    )
    if reply is None or not can_view_reply(user, reply):
        note_refusal(user, "reply not visible", reply=reply_id)
        raise NotFound("找不到该答复，或您没有查看权限。")
    return reply


def require_co_opinion(user, opinion_id):
    from banli.replies.models import CoOpinion

    opinion = (
        CoOpinion.objects.select_related("assignment__proposal__session__assigning_office", "assignment__unit")
        .filter(pk=opinion_id)
        .first()
    )
    if opinion is None or not can_view_co_opinion(user, opinion):
        note_refusal(user, "co-opinion not visible", co_opinion=opinion_id)
        raise NotFound("找不到该会办意见，或您没有查看权限。")
    return opinion


def require_feedback(user, feedback_id):
    """A rating with what it carries (a paper form's scan is personal information): the assigning office of the
    item, the rated unit's staff and the proposer who rated; NotFound for everyone else."""
    from banli.replies.models import Feedback

    feedback = (
        Feedback.objects.select_related("assignment__proposal__session__assigning_office", "assignment__unit",
                                        "proposer")
        .filter(pk=feedback_id)
        .first()
    )
    if feedback is not None and getattr(user, "is_authenticated", False) and (
            feedback.proposer.user_id == user.pk or is_office_for(user, feedback.assignment.proposal)
            or is_unit_staff_for(user, feedback.assignment)):
        return feedback
    note_refusal(user, "feedback not visible", feedback=feedback_id)
    raise NotFound("找不到该测评记录，或您没有查看权限。")


def require_reply_copy(user, delivery_id):
    """A proposer's own copy of a sent reply (each co-signer has his own); the unit and office see every copy."""
    from banli.replies.models import ReplyDelivery

    delivery = (
        ReplyDelivery.objects.select_related("reply__assignment__proposal__session__assigning_office",
                                             "reply__assignment__unit", "proposer")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        note_refusal(user, "reply copy not visible", delivery=delivery_id)
        raise NotFound("找不到该答复件，或您没有查看权限。")
    own = delivery.proposer_id is not None and delivery.proposer.user_id == getattr(user, "pk", None)
    staff = can_view_internal(user, delivery.reply.assignment) or is_office_for(user, delivery.reply.assignment.proposal)
    if not (own or staff or has_role(user, Role.ADMIN)):
        note_refusal(user, "reply copy not visible", delivery=delivery_id)
        raise NotFound("找不到该答复件，或您没有查看权限。")
    return delivery


def can_manage_commitments(user, assignment) -> bool:
    """Handlers and the unit office of the answering unit record and report commitments."""
    return acting_role(user, assignment, {Role.UNIT_OFFICE, Role.HANDLER}) is not None


def can_view_co_opinion(user, opinion, *, leads=None) -> bool:
    """A co-opinion: its own unit always; once sent, the lead unit's staff and the assigning office.

    `leads`: the item's live lead assignments with their units, when the caller has them loaded."""
    from banli.handling.models import Assignment
    from banli.replies.choices import CoOpinionState

    if can_view_internal(user, opinion.assignment):
        return True
    if opinion.state != CoOpinionState.SENT:
        return False
    if is_office_for(user, opinion.assignment.proposal):
        return True
    if leads is None:
        leads = Assignment.objects.filter(proposal=opinion.assignment.proposal, role=AssignmentRole.LEAD).exclude(
            state=AssignmentState.WITHDRAWN).select_related("unit")
    return any(is_unit_staff_for(user, lead) for lead in leads)


# --- reports: whose figures a user may read -------------------------------------------------------


def report_scope(user) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    """Figures a user may read: (everything, assigning-office unit paths, handling-unit paths).

    The assigning office reads the figures of the sessions it assigns; unit staff (office, handler, leader)
    read their own unit's (and its subtree's); the administrator reads all; proposers and the public none.
    """
    if not getattr(user, "is_authenticated", False):
        return False, (), ()
    if has_role(user, Role.ADMIN):
        return True, (), ()
    return False, tuple(u.path for u in office_scopes(user)), tuple(u.path for u in unit_scopes(user))


def can_view_unit_report(user, unit) -> bool:
    """The user may read the figures, score and summary of `unit` (its office, or its own staff)."""
    everything, offices, units = report_scope(user)
    if everything:
        return True
    if any(unit.path.startswith(p) for p in units):
        return True
    # The office reads every handling unit's figures; what they count is limited to its own sessions.
    return bool(offices) and unit.kind != UnitKind.ASSIGNING_OFFICE


def can_manage_scores(user, session) -> bool:
    """The assigning office of the session configures rules, enters bonus evidence and confirms 自评."""
    return is_office_for(user, session_proposal_stub(session))


def session_proposal_stub(session):
    """`is_office_for` takes a proposal; a session's checks need only its assigning office."""
    from types import SimpleNamespace

    return SimpleNamespace(session=session)


def can_submit_evaluation(user, unit) -> bool:
    """A unit's 自评 is submitted by its own unit office (联络员) or leader."""
    return any(unit.path.startswith(scope_unit(g).path) for g in grants(user)
               if g.role in (Role.UNIT_OFFICE, Role.LEADER) and g.unit_id)


# Timeline rows that stay inside the unit that made them (drafts, internal review, contacts, commitments).
INTERNAL_EVENT_VERBS = frozenset({
    "log_contact", "reply_draft", "submit_reply", "approve_reply", "return_reply", "assign_section",
    "reassign_section", "record_commitment", "complete_commitment", "request_extension",
})
# What a proposer sees of the handling: the milestones that concern him.
PROPOSER_EVENT_VERBS = frozenset({
    "register", "assign", "sign", "send_reply", "record_feedback", "complete_feedback", "rehandle", "close",
    "approve_adjustment", "merge", "unmerge",
})

# Events about the whole proposal (no assignment) that every unit handling it hears about: 并案 changes
# how an item is handled (together with others), so the units answering it must know.
UNIT_PROPOSAL_EVENT_VERBS = ("merge", "unmerge")  # in the order of the partial index event_proposal_merge


def visible_events(user, proposal, assignments, events) -> list:
    """The events of `proposal`'s timeline the user may see.

    A unit's staff see everything about their own assignments; the assigning office and other units see
    the state changes but not a unit's drafts, review steps and contacts (unless they made the event);
    a proposer sees only the milestones that concern him. `assignments` are the proposal's assignments
    with their units loaded, so that the check costs no query per event.
    """
    if has_role(user, Role.ADMIN):
        return list(events)
    own_units = {a.pk for a in assignments if is_unit_staff_for(user, a)}
    insider = bool(own_units) or is_office_for(user, proposal)
    result = []
    for event in events:
        if event.assignment_id in own_units or (event.actor_id and event.actor_id == user.pk):
            result.append(event)
        elif not insider:
            if event.verb in PROPOSER_EVENT_VERBS:
                result.append(event)
        elif event.verb not in INTERNAL_EVENT_VERBS:
            result.append(event)
    return result


def may_review_reply(user, assignment, reply) -> bool:
    """The user holds the role of the reply's current review step for the assignment's unit."""
    from banli.replies.choices import ReplyState
    from banli.replies.models import ReviewChainStep

    if reply is None or reply.state != ReplyState.IN_REVIEW:
        return False
    step = ReviewChainStep.objects.filter(chain__unit=assignment.unit, position=reply.review_position).select_related(
        "chain").first()
    return step is not None and review_refusal(user, assignment, reply, step) is None


def review_refusal(user, assignment, reply, step) -> str | None:
    """Why `user` may not take review `step` of `reply` now (None: he may).

    The step's role in the unit; its named people when it has any (e.g. only the unit's 主要领导 signs off);
    and, unless the unit's chain allows it, one person approves one step of a reply, and nobody reviews at a
    handler's (科室) step the draft he wrote himself.
    """
    from banli.replies.choices import ReviewDecision, StepKind
    from banli.replies.models import ReviewRecord

    if acting_role(user, assignment, {step.role}) is None:
        return f"当前审核环节为「{step.name}」，您没有该环节的审核权限。"
    named = list(step.reviewers.all())
    if named and user.pk not in {u.pk for u in named}:
        names = "、".join(u.label for u in named)
        return f"「{step.name}」由{names}审核，您不是该环节指定的审核人。"
    if step.kind == StepKind.CONSULT or step.chain.allow_same_reviewer:
        return None
    if step.role == Role.HANDLER and reply.drafted_by_id == user.pk:
        return f"「{step.name}」须由起草人以外的人审核，起草人不能审核自己起草的答复。"
    earlier = (ReviewRecord.objects.filter(reply=reply, reviewer=user, decision=ReviewDecision.APPROVE)
               .exclude(position=step.position).first())
    if earlier is not None:
        return (f"您已审核通过本答复的「{earlier.step_name}」环节；按本单位审核流程，同一答复的不同环节须由不同的人审核，"
                f"「{step.name}」请由该环节的其他审核人办理。")
    return None


# --- supervision (督办催办) -------------------------------------------------------------------------


def can_note_supervision(user, supervision) -> bool:
    """A key item's tracking notes: its assigning office, its supervising leader, and the units handling it."""
    from banli.handling.models import Assignment

    if supervision.leader_id and supervision.leader_id == getattr(user, "pk", None):
        return True
    if is_office_for(user, supervision.proposal):
        return True
    live = Assignment.objects.filter(proposal=supervision.proposal).exclude(state=AssignmentState.WITHDRAWN).select_related("unit")
    return any(is_unit_staff_for(user, a) for a in live)


def office_deliveries(user) -> QuerySet:
    """Outgoing messages the user watches as an assigning office (to see and resend failed ones)."""
    from banli.supervision.models import Delivery

    if has_role(user, Role.ADMIN):
        return Delivery.objects.all()
    q = Q(pk__in=[])
    for unit in office_scopes(user):
        q |= Q(office__path__startswith=unit.path)
    return Delivery.objects.filter(q)


# --- querysets for the API and exports (same rules as the can_view_* helpers above) ----------

def reads_everything(user) -> bool:
    """The system administrator (role or Django superuser) reads every record, though he acts on none."""
    return bool(getattr(user, "is_authenticated", False)) and (
        getattr(user, "is_superuser", False) or has_role(user, Role.ADMIN)
    )


def _unit_staff_q(user, prefix: str = "") -> Q:
    q = Q(pk__in=[])
    for unit in unit_scopes(user):
        q |= Q(**{f"{prefix}unit__path__startswith": unit.path})
    return q


def _office_q(user, prefix: str = "") -> Q:
    q = Q(pk__in=[])
    for unit in office_scopes(user):
        q |= Q(**{f"{prefix}proposal__session__assigning_office__path__startswith": unit.path})
    return q


def visible_replies(user) -> QuerySet:
    """Replies the user may read: sent ones of visible items; drafts only for the unit's staff and the office
    at its own review step (see can_view_reply)."""
    from banli.replies.choices import ReplyState
    from banli.replies.models import Reply, ReviewChainStep

    if not getattr(user, "is_authenticated", False):
        return Reply.objects.none()
    if reads_everything(user):
        return Reply.objects.all()
    office_step = Exists(ReviewChainStep.objects.filter(
        chain__unit=OuterRef("assignment__unit"), position=OuterRef("review_position"), role=Role.ASSIGNING_OFFICE,
    ))
    q = (
        Q(state=ReplyState.SENT, assignment__in=visible_assignments(user).values("pk"))
        | _unit_staff_q(user, "assignment__")
        | (Q(state=ReplyState.IN_REVIEW) & _office_q(user, "assignment__") & Q(office_step))
    )
    return Reply.objects.filter(q)


def event_rows_visible_to(user) -> QuerySet:
    """The event rows the user may read, as one queryset (the API's /events): the same rule as
    visible_events() — a unit's own assignments in full, the user's own acts, the other state changes for
    the office and the units on the item, the milestones for a proposer; security events only the admin."""
    from banli.handling.models import Assignment, Event

    if not getattr(user, "is_authenticated", False):
        return Event.objects.none()
    if reads_everything(user):
        return Event.objects.all()
    seen = Q(proposal__in=visible_proposals(user).values("pk"))
    units = unit_scopes(user)
    own_q = Q(pk__in=[])
    for unit in units:
        own_q |= Q(unit__path__startswith=unit.path)
    insider = _office_q(user, "") | Q(Exists(Assignment.objects.filter(own_q, proposal=OuterRef("proposal"))))
    q = (
        _unit_staff_q(user, "assignment__")
        | Q(actor=user, proposal__isnull=False)
        | (seen & Q(verb__in=PROPOSER_EVENT_VERBS))
        | (seen & insider & ~Q(verb__in=INTERNAL_EVENT_VERBS))
    )
    return Event.objects.filter(q)


# --- security boundaries (issue 17: API documents, API token scopes) ---------------------------------------------


def may_read_api_docs(user) -> bool:
    """The API's description (OpenAPI document, Swagger and ReDoc pages) lists every endpoint and field: signed-in
    users only, unless the instance opens it on purpose (BANLI_API_DOCS_PUBLIC)."""
    from django.conf import settings

    return bool(getattr(settings, "BANLI_API_DOCS_PUBLIC", False)) or bool(getattr(user, "is_authenticated", False))


def token_allows(token, method: str) -> bool:
    """A read-only API token may only read (GET, HEAD, OPTIONS); a session or a read-write token may also write."""
    if token is None or getattr(token, "scope", "write") == "write":
        return True
    return method.upper() in ("GET", "HEAD", "OPTIONS")


def may_manage_token(user, token) -> bool:
    """A user lists and revokes his own API tokens only."""
    return bool(getattr(user, "pk", None)) and token.user_id == user.pk
