"""Who may see and do what: one place for every permission rule, used by views, API, exports, reports,
services and tasks. No other module decides by role names (banli/core/tests/test_permission_rules_live_in_access.py
scans the source and fails when one does).

Rules (DESIGN.md §2):
- the assigning office sees every item of the sessions it assigns (its unit or below), and alone takes the
  handling decisions on them: category, units, 并案, imported lists, paper ratings, scoring;
- unit office, handler and leader see the items assigned to their unit (a section's staff see their
  unit's items), and only they see their unit's drafts, contact records and internal notes;
- a proposer sees only the items he signed, and of replies those sent (and a draft put to him for comments);
- the system administrator reads everything except a unit's drafts and co-opinions, takes no action on cases,
  and may correct registration data;
- a letter template is kept by its unit's office, by an assigning office that assigns to the unit (or has it
  in its subtree) and by the administrator; the default for every unit by any assigning office.

Two ways in: a named predicate for one record (`can_decide_handling(user, proposal)`), and for lists
`restrict(queryset, user, action)` with one rule per (model, action), after NetBox's RestrictedQuerySet.
"""
from __future__ import annotations

from types import SimpleNamespace

from django.conf import settings
from django.db import router
from django.db.models import Exists, OuterRef, Q, QuerySet

from banli.core.context import request_memo
from banli.core.errors import NotFound
from banli.core.security import note_denial
from banli.core.statements import KeptQuery
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment, ContactRecord, Event
from banli.organizations.choices import UNIT_ROLES, Role, UnitKind
from banli.organizations.models import RoleGrant, Unit, User
from banli.proposals.models import Proposal, ProposalProposer, Proposer, Session
from banli.replies.choices import CoOpinionState, ReplyState, ReviewDecision, StepKind
from banli.replies.models import (
    Commitment,
    CoOpinion,
    DocumentTemplate,
    Feedback,
    Reply,
    ReplyDelivery,
    ReviewChainStep,
    ReviewRecord,
)
from banli.reports.models import Evaluation, RuleSet, ScoreEntry
# The module, not its names: supervision.models reaches this module while it loads (through its messages).
from banli.supervision import models as supervision_models

_CACHE_ATTR = "_banli_grants"


# The grants with their units (and the units' parents, which the role labels name), read on every request.
_GRANTS = KeptQuery(lambda user_id: RoleGrant.objects.filter(user_id=user_id).select_related("unit", "unit__parent"))


def grants(user) -> list:
    """The user's role grants with their units, loaded once per request (cached on the user object)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = _GRANTS.instances(user.pk, using=router.db_for_read(RoleGrant))
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


def password_change_pending(user) -> bool:
    """An account whose initial password (set by an administrator) is still unchanged: it may do nothing but
    change it, on the pages and on the API alike (no API token is issued or honoured until then)."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "must_change_password", False))


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
    """A Q over Proposal rows the user may see, or None for all (the administrator, and an office that assigns
    every session). The rule of _visible_ref_q on the proposal row itself."""
    return _visible_ref_q(user, "session_id", "pk")


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


def office_sessions(user):
    """The sessions the user assigns as an assigning office (none if he is no assigning office)."""
    q = office_sessions_q(user)
    return Session.objects.filter(q) if q is not None else Session.objects.none()


def _units(q: Q):
    return Unit.objects.filter(q).values("pk")


def visible_proposals(user) -> QuerySet:
    """Every proposal the user may see."""
    qs = Proposal.objects.all()
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    q = proposal_visibility_q(user)
    return qs if q is None else qs.filter(q)


def visible_assignments(user) -> QuerySet:
    """Assignments of the proposals the user may see (who handles what is not secret between units)."""
    if not getattr(user, "is_authenticated", False):
        return Assignment.objects.none()
    q = visible_assignment_q(user)
    return Assignment.objects.all() if q is None else Assignment.objects.filter(q)


def visible_assignment_q(user, prefix: str = "") -> Q | None:
    """visible_assignments as a Q on the assignment row (reached through `prefix`), None for every row.

    The same rule as proposal_visibility_q, resolved first into what the assignment row holds: the office's
    sessions as `session_id IN (…)` (nothing when they are all), the proposals of the user's units'
    assignments and his own signed items as `proposal_id IN (subquery)` over small indexed sets. A subquery
    over every visible proposal would be too big to hash at a million and run once per row."""
    return _visible_ref_q(user, f"{prefix}session_id", f"{prefix}proposal_id")


def visible_proposal_ref_q(user, field: str = "proposal") -> Q | None:
    """"Names a proposal the user may see" as a Q on a row whose `field` is a proposal (an event, a rating),
    resolved as visible_assignment_q is; None when every proposal is visible (the row may still name none)."""
    return _visible_ref_q(user, f"{field}__session_id", f"{field}_id")


def naming_visible_proposals(qs: QuerySet, user, field: str = "proposal") -> QuerySet:
    """`qs`, rows whose `field` is a proposal, narrowed to those naming a proposal the user may see."""
    q = visible_proposal_ref_q(user, field)
    return qs if q is None else qs.filter(q)


def _visible_ref_q(user, session_field: str, proposal_field: str) -> Q | None:
    """Who sees which proposal, as a Q on a row holding its session (`session_field`) and its proposal
    (`proposal_field`); None for every row. Each part is resolved first or is an uncorrelated `IN (subquery)`
    over a small indexed set, so the database evaluates it once, not once per row: the office's sessions as an
    id list (none at all when it assigns every session), the proposals of the user's units' live assignments, the
    items he signed himself. The administrator sees everything."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if has_role(user, Role.ADMIN) or getattr(user, "is_superuser", False):
        return None
    q = Q(pk__in=[])
    if office_scopes(user):
        ids = office_session_ids(user)
        if ids is None:
            return None
        q |= Q(**{f"{session_field}__in": ids})
    units = own_units_with_assignments(user)
    if units:
        # The unit ids resolved first: the (unit, state) index reads the units' own assignments, where a
        # sub-select of the units made PostgreSQL read every assignment and hash-join the units.
        q |= Q(**{f"{proposal_field}__in": Assignment.objects.filter(unit_id__in=units)
                  .exclude(state=AssignmentState.WITHDRAWN).values("proposal_id")})
    if has_role(user, Role.PROPOSER) or hasattr(user, "proposer"):
        q |= Q(**{f"{proposal_field}__in": ProposalProposer.objects.filter(proposer__user=user).values("proposal_id")})
    return q


def units_with_assignments(units: QuerySet) -> list[int]:
    """The ids of these units that hold assignments (one index probe each): usually a unit's subtree comes down to
    the unit itself, and `unit_id = X` lets the index serve the order where `unit_id IN (X, its sections)` cannot."""
    return list(units.filter(Exists(Assignment.objects.filter(unit_id=OuterRef("pk")))).values_list("pk", flat=True))


def own_units_with_assignments(user) -> list[int]:
    """The ids of the user's own units (unit_subtree_q) that hold assignments, resolved once per request: the
    ledger's unit scope and the rows whose unsent replies the user may read (unsent_replies_visible_q), as a
    plain `unit_id IN (…)` on the assignment row."""
    units = unit_subtree_q(user)
    if units is None:
        return []
    return _memo(("own_units_with_assignments", user.pk), lambda: units_with_assignments(Unit.objects.filter(units)))


def ledger_scope_q(user) -> Q | None:
    """The assignments the user's ledger lists, as a Q on the assignment row alone (None: every row).

    The scope is resolved to ids first, so the database sees plain `session_id IN (…)` / `unit_id IN (…)` that
    the ledger's indexes serve, never a semi-join over all proposals: the assigning office reads the items of
    the sessions it assigns, unit staff their units' own assignments, a proposer the items he signed."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if reads_everything(user):
        return None
    # Resolved once per request (the page and its session list both ask), never kept beyond it.
    return _memo(("ledger_scope", user.pk), lambda: _ledger_scope_q(user))


def _ledger_scope_q(user) -> Q | None:
    q = Q(pk__in=[])
    if office_scopes(user):
        ids = office_session_ids(user)
        if ids is None:
            return None  # every session: no filter at all
        if ids:
            q |= Q(session_id__in=ids)
    ids = own_units_with_assignments(user)
    if ids:
        q |= Q(unit_id__in=ids)
    if has_role(user, Role.PROPOSER) or hasattr(user, "proposer"):
        q |= Q(proposal_id__in=ProposalProposer.objects.filter(proposer__user=user).values("proposal_id"))
    return q


def handled_assignments(user) -> QuerySet:
    """Assignments handled by the user's own units (the unit staff's working set).

    The unit ids are resolved first (units are few) into a plain `unit_id IN (…)`: the planner then knows how few
    units it is and the (unit, state) index serves each list, where a subquery made it scan a state's every row."""
    ids = own_unit_ids(user)
    if ids is None:
        return Assignment.objects.none()
    return Assignment.objects.filter(unit_id__in=ids)


def own_unit_ids(user) -> list[int] | None:
    """The ids of the user's own units and their sections (None: he is no unit staff), resolved once per request."""
    units = unit_subtree_q(user)
    if units is None:
        return None
    return _memo(("own_unit_ids", user.pk), lambda: list(Unit.objects.filter(units).values_list("pk", flat=True)))


_SESSION_OFFICES = KeptQuery(lambda _none: Session.objects.values_list("pk", "assigning_office__path"))


def office_session_ids(user) -> list[int] | None:
    """The ids of the sessions the user assigns as an assigning office, resolved once per request (sessions are
    few); None when that is every session (no filter needed)."""
    def resolve():
        offices = tuple(unit.path for unit in office_scopes(user))
        if not offices:
            return []
        # One plain query: every session with its office's path (sessions are few), matched here as
        # office_sessions_q matches them in SQL (the office's subtree); the same test as an annotated Q cost more
        # to compile on every request than the query itself.
        rows = _SESSION_OFFICES.rows(using=router.db_for_read(Session))
        ids = [pk for pk, path in rows if path and path.startswith(offices)]
        return None if ids and len(ids) == len(rows) else ids
    return _memo(("office_session_ids", user.pk), resolve)


def office_assignments(user) -> QuerySet:
    """Assignments of the sessions the user assigns as an assigning office, as a plain `session_id IN (…)` on the
    assignment row (no filter when that is every session), never a join through the proposals."""
    if not office_scopes(user):
        return Assignment.objects.none()
    ids = office_session_ids(user)
    return Assignment.objects.all() if ids is None else Assignment.objects.filter(session_id__in=ids)


def _memo(key, resolve):
    """`resolve()`, kept for the rest of the request (request_memo), never beyond it."""
    memo = request_memo.get()
    if memo is not None and key in memo:
        return memo[key]
    value = resolve()
    if memo is not None:
        memo[key] = value
    return value


# --- one check helper per object type --------------------------------------------------------


def can_view_proposal(user, proposal) -> bool:
    return visible_proposals(user).filter(pk=proposal.pk).exists()


def note_refusal(user, message: str, **ids) -> None:
    """A refusal answered with 404 (so as not to reveal what exists) is still a security event."""
    note_denial(user, message, **ids)


def require_proposal(user, proposal_id):
    """The proposal if the user may see it; NotFound otherwise (never reveal that it exists)."""
    proposal = visible_proposals(user).select_related("session", "session__assigning_office").filter(pk=proposal_id).first()
    if proposal is None:
        note_denial(user, "proposal not visible", proposal=proposal_id)
        raise NotFound("找不到该事项，或您没有查看权限。")
    return proposal


def can_view_assignment(user, assignment) -> bool:
    return can_view_proposal(user, assignment.proposal)


def require_assignment(user, assignment_id):
    assignment = (
        Assignment.objects.select_related("proposal", "proposal__session", "proposal__session__assigning_office", "unit")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None or not can_view_assignment(user, assignment):
        note_denial(user, "assignment not visible", assignment=assignment_id)
        raise NotFound("找不到该交办记录，或您没有查看权限。")
    return assignment


def can_view_internal(user, assignment) -> bool:
    """Drafts, contact records and internal notes of a unit: only that unit's staff."""
    return is_unit_staff_for(user, assignment)


def can_view_reply(user, reply, *, item_visible: bool = False) -> bool:
    """Sent replies: anyone who sees the item. Drafts: the unit's staff, and the office at its own check step.

    `item_visible`: the caller has checked already that the user sees the item (the proposal page)."""
    assignment = reply.assignment
    if reply.state == ReplyState.SENT:
        return item_visible or can_view_assignment(user, assignment)
    if can_view_internal(user, assignment):
        return True
    if reply.state == ReplyState.IN_REVIEW:
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
    feedback = (
        Feedback.objects.select_related("assignment__proposal__session__assigning_office", "assignment__unit",
                                        "proposer")
        .filter(pk=feedback_id)
        .first()
    )
    if feedback is not None and can_view_feedback(user, feedback):
        return feedback
    note_refusal(user, "feedback not visible", feedback=feedback_id)
    raise NotFound("找不到该测评记录，或您没有查看权限。")


def can_view_feedback(user, feedback) -> bool:
    """A rating: the proposer who gave it, the item's assigning office and the rated unit's staff."""
    return bool(getattr(user, "is_authenticated", False)) and (
        feedback.proposer.user_id == user.pk or is_office_for(user, feedback.assignment.proposal)
        or is_unit_staff_for(user, feedback.assignment))


def require_reply_copy(user, delivery_id):
    """A proposer's own copy of a sent reply (each co-signer has his own); the unit and office see every copy."""
    delivery = (
        ReplyDelivery.objects.select_related("reply__assignment__proposal__session__assigning_office",
                                             "reply__assignment__unit", "proposer")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or not can_view_reply_copy(user, delivery):
        note_refusal(user, "reply copy not visible", delivery=delivery_id)
        raise NotFound("找不到该答复件，或您没有查看权限。")
    return delivery


def can_view_reply_copies(user, assignment) -> bool:
    """Every copy of a sent reply (each proposer's, the office's, the cc's): the answering unit's staff, the
    session's office and the administrator."""
    return can_view_internal(user, assignment) or is_office_for(user, assignment.proposal) or is_admin(user)


def can_view_reply_copy(user, delivery) -> bool:
    """One copy of a sent reply: the proposer it was sent to, and whoever sees every copy of the reply."""
    own = delivery.proposer_id is not None and delivery.proposer.user_id == getattr(user, "pk", None)
    return own or can_view_reply_copies(user, delivery.reply.assignment)


def can_check_reply(user, assignment) -> bool:
    """The advisory check of a reply against the proposal's points: the answering unit's staff and the office."""
    return is_unit_staff_for(user, assignment) or is_office_for(user, assignment.proposal)


def can_manage_commitments(user, assignment) -> bool:
    """Handlers and the unit office of the answering unit record and report commitments."""
    return acting_role(user, assignment, {Role.UNIT_OFFICE, Role.HANDLER}) is not None


def can_view_co_opinion(user, opinion, *, leads=None) -> bool:
    """A co-opinion: its own unit always; once sent, the lead unit's staff and the assigning office.

    `leads`: the item's live lead assignments with their units, when the caller has them loaded."""
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
    if reads_everything(user):
        return True, (), ()
    return False, tuple(u.path for u in office_scopes(user)), tuple(u.path for u in unit_scopes(user))


def report_scope_q(scope, prefix: str = "") -> Q | None:
    """A Q over Assignment rows (reached through `prefix`) that `scope` (from report_scope) may count; None:
    every row. The office counts its sessions' items, unit staff their own units' items."""
    everything, offices, units = scope
    if everything:
        return None
    session_ids, unit_ids = _report_scope_ids(scope)
    allowed = Q(pk__in=[])
    if session_ids:
        allowed |= Q(**{f"{prefix}session_id__in": session_ids})
    if unit_ids:
        allowed |= Q(**{f"{prefix}unit_id__in": unit_ids})
    return allowed


def _report_scope_ids(scope) -> tuple[list[int], list[int]]:
    """The sessions the scope's offices assign and the units of its unit subtrees, as ids (both are few), resolved
    once per request: the figures then filter the assignment row itself (its session and unit columns, which its
    indexes serve), never a join through the proposal and session to the office's path or to the unit's path, which
    read every assignment of a session at a million rows."""
    _everything, offices, units = scope

    def resolve():
        sessions = list(Session.objects.filter(_under_any("assigning_office__path", offices))
                        .values_list("pk", flat=True)) if offices else []
        unit_ids = list(Unit.objects.filter(_under_any("path", units)).values_list("pk", flat=True)) if units else []
        return sessions, unit_ids
    return _memo(("report_scope_ids", scope), resolve)


def _under_any(path_field: str, paths) -> Q:
    """Rows whose materialised path (`path_field`) lies under any of `paths` (none: no row)."""
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{path_field}__startswith": path})
    return q


def report_sessions(user) -> QuerySet:
    """Sessions whose figures the user may read."""
    everything, offices, units = report_scope(user)
    if everything:
        return Session.objects.all()

    q = _under_any("assigning_office__path", offices)
    if units:
        # The units first (those of the user's subtrees that hold assignments, one index probe each), then an
        # index probe per session (sessions are few) on the assignment's own columns: never a join of the
        # assignments with the unit table, which read every assignment of a session at a million rows (94 ms).
        unit_ids = units_with_assignments(Unit.objects.filter(_under_any("path", units)))
        if unit_ids:
            q |= Q(Exists(Assignment.objects.filter(unit_id__in=unit_ids, session_id=OuterRef("pk"))))
    return Session.objects.filter(q)


def report_units(user) -> QuerySet:
    """Handling units whose figures the user may read (the office: every handling unit; staff: their own)."""
    everything, offices, units = report_scope(user)
    qs = Unit.objects.exclude(kind=UnitKind.ASSIGNING_OFFICE)
    if everything or offices:
        return qs.exclude(kind=UnitKind.SECTION)
    q = Q(pk__in=[])
    for path in units:
        q |= Q(path__startswith=path)
    return qs.filter(q)


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


def can_withdraw_publication(user, proposal) -> bool:
    """Taking a disclosed reply off the public portal is the assigning office's decision."""
    return is_office_for(user, proposal)


def can_view_area_summary(user, session) -> bool:
    """The area-wide summary of a session (every unit's figures and 自评): its assigning office and the admin."""
    return has_role(user, Role.ADMIN) or can_manage_scores(user, session)


def session_proposal_stub(session):
    """`is_office_for` takes a proposal; a session's checks need only its assigning office."""
    return SimpleNamespace(session=session)


def can_submit_evaluation(user, unit) -> bool:
    """A unit's 自评 is submitted by its own unit office (联络员) or leader."""
    return any(unit.path.startswith(scope_unit(g).path) for g in grants(user)
               if g.role in (Role.UNIT_OFFICE, Role.LEADER) and g.unit_id)


# Timeline rows that stay inside the unit that made them (drafts, internal review, contacts, commitments).
INTERNAL_EVENT_VERBS = frozenset({
    "log_contact", "reply_draft", "submit_reply", "approve_reply", "return_reply", "assign_section",
    "reassign_section", "record_commitment", "complete_commitment", "request_extension",
    "submit_co_opinion", "return_co_opinion",  # a co unit's opinion before its leader lets it go
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


def review_step_just_taken(user, assignment, step, earlier_step) -> bool:
    """The user may not take `step` because it is not his role's, but the step before, which was his role's, has
    just been taken (by a colleague, or by himself in another tab): a lost race (409), not a refusal (403)."""
    return (acting_role(user, assignment, {step.role}) is None
            and acting_role(user, assignment, {earlier_step.role}) is not None)


# --- supervision (督办催办) -------------------------------------------------------------------------


def can_note_supervision(user, supervision) -> bool:
    """A key item's tracking notes: its assigning office, its supervising leader, and the units handling it."""
    if supervision.leader_id and supervision.leader_id == getattr(user, "pk", None):
        return True
    if is_office_for(user, supervision.proposal):
        return True
    live = Assignment.objects.filter(proposal=supervision.proposal).exclude(state=AssignmentState.WITHDRAWN).select_related("unit")
    return any(is_unit_staff_for(user, a) for a in live)


def office_deliveries(user) -> QuerySet:
    """Outgoing messages the user watches as an assigning office (to see and resend failed ones)."""
    if has_role(user, Role.ADMIN):
        return supervision_models.Delivery.objects.all()
    q = Q(pk__in=[])
    for unit in office_scopes(user):
        q |= Q(office__path__startswith=unit.path)
    return supervision_models.Delivery.objects.filter(q)


# --- integrators' event subscriptions (出站推送) ----------------------------------------------------

def can_manage_subscriptions(user) -> bool:
    """Event pushes to other systems are set up by an assigning office (for its sessions) or the administrator."""
    return bool(office_scopes(user)) or is_admin(user)


def subscription_offices(user) -> list:
    """The offices the user may subscribe for; None in the list stands for every item (the administrator's)."""
    offices = list(office_scopes(user))
    return ([None] if is_admin(user) else []) + offices


def may_subscribe_for(user, office) -> bool:
    if office is None:
        return is_admin(user)
    return any(office.is_within(unit) for unit in office_scopes(user))


def visible_subscriptions(user) -> QuerySet:
    """The subscriptions a user keeps and whose delivery log he reads: his offices' (and those below), all for the
    administrator."""
    if is_admin(user):
        return supervision_models.EventSubscription.objects.all()
    q = Q(pk__in=[])
    for unit in office_scopes(user):
        q |= Q(office__path__startswith=unit.path)
    return supervision_models.EventSubscription.objects.filter(q)


def may_manage_subscription(user, subscription) -> bool:
    return visible_subscriptions(user).filter(pk=subscription.pk).exists()


def require_subscription(user, subscription_id):
    subscription = visible_subscriptions(user).filter(pk=subscription_id).select_related("office").first()
    if subscription is None:
        note_refusal(user, "找不到该推送订阅。", subscription=subscription_id)
        raise NotFound("找不到该推送订阅。")
    return subscription


def subscription_events(subscription) -> QuerySet:
    """The events a subscription may receive: those of the items its office assigns (every item's for the
    administrator's), never a unit's internal steps (drafts, review, contacts), nor security or system events."""
    q = Q(proposal__isnull=False) & ~Q(verb__in=INTERNAL_EVENT_VERBS)
    if subscription.office_id is not None:
        q &= Q(proposal__session__assigning_office__path__startswith=subscription.office.path)
    return Event.objects.filter(q)


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


def _office_q(user, prefix: str = "", field: str = "proposal__session_id") -> Q:
    """Rows of the sessions the user assigns (reached through `prefix`, then `field`), as a plain id list
    resolved once per request (no filter when that is every session), not a join to the sessions' offices."""
    if not office_scopes(user):
        return Q(pk__in=[])
    ids = office_session_ids(user)
    # Every session: a condition that holds for every row (a real one, so that an OR beside it still joins
    # its other paths outer, as it did with the old condition).
    return Q(**{f"{prefix}pk__isnull": False}) if ids is None else Q(**{f"{prefix}{field}__in": ids})


def _office_assignment_q(user, prefix: str) -> Q:
    """_office_q where `prefix` leads to an assignment: its own session_id, no join to the proposal."""
    return _office_q(user, prefix, "session_id")


def visible_replies(user) -> QuerySet:
    """Replies the user may read, the rule of can_view_reply as one queryset: sent ones of visible items;
    drafts only for the unit's staff, the office at its own review step and the item's proposers at a
    征求意见稿 step. The administrator reads the sent letters; drafts never leave the unit, not even for him."""
    if not getattr(user, "is_authenticated", False):
        return Reply.objects.none()
    sent = Q(state=ReplyState.SENT)
    if reads_everything(user):
        return Reply.objects.filter(sent)

    def at_step(**step):
        return Q(state=ReplyState.IN_REVIEW) & Q(Exists(ReviewChainStep.objects.filter(
            chain__unit=OuterRef("assignment__unit"), position=OuterRef("review_position"), **step)))

    own_items = ProposalProposer.objects.filter(proposer__user=user).values("proposal_id")
    visible = visible_assignment_q(user, "assignment__")
    q = (
        (sent & (Q() if visible is None else visible))
        | _unit_staff_q(user, "assignment__")
        | (at_step(role=Role.ASSIGNING_OFFICE, kind=StepKind.REVIEW) & _office_assignment_q(user, "assignment__"))
        | (at_step(kind=StepKind.CONSULT) & Q(assignment__proposal__in=own_items))
    )
    return Reply.objects.filter(q)


def unsent_replies_visible_q(user) -> Q | None:
    """A Q over Assignment rows whose unsent reply versions (class, body, contacts) the user may read in lists,
    filters and orderings: the unit's own staff only. Everyone else, the administrator included (drafts never
    leave the unit, as on the reply pages), sees only what was sent."""
    return _unit_staff_q(user)


def event_rows_visible_to(user) -> QuerySet:
    """The event rows the user may read, as one queryset (the API's /events): the same rule as
    visible_events() — a unit's own assignments in full, the user's own acts, the other state changes for
    the office and the units on the item, the milestones for a proposer; security events only the admin."""
    if not getattr(user, "is_authenticated", False):
        return Event.objects.none()
    if reads_everything(user):
        return Event.objects.all()
    ref = visible_proposal_ref_q(user, "proposal")
    seen = Q(proposal__isnull=False) if ref is None else ref
    units = own_unit_ids(user) or []
    # The office of the item's session, or a unit with an assignment on the item (its unit ids resolved once).
    insider = _office_q(user, "") | Q(Exists(Assignment.objects.filter(unit_id__in=units, proposal=OuterRef("proposal"))))
    q = (
        # A unit's own assignments' events: the unit copied on each row (its index range), no join.
        Q(unit_id__in=units)
        | Q(actor=user, proposal__isnull=False)
        # The visible items once (one sub-select), then which of their events: the milestones, or what the
        # office and the units on the item see.
        | (seen & (Q(verb__in=PROPOSER_EVENT_VERBS) | (insider & ~Q(verb__in=INTERNAL_EVENT_VERBS))))
    )
    return Event.objects.filter(q)


# --- named predicates for the rules callers used to re-derive from role names -------------------------
#
# Two kinds of acts, told apart on purpose (DESIGN.md §2):
# - registration data (sessions, proposals, their corrections): the session's assigning office, or the
#   administrator correcting a record;
# - handling decisions on a case (category, units, merging, importing assignment lists, ratings on paper,
#   scores): the session's assigning office only. The administrator reads everything and acts on no case.


def can_read_assist_performance(user) -> bool:
    """The smart-assist figures are for the assigning offices (their own sessions) and the administrator."""
    return bool(office_scopes(user)) or is_admin(user)


def assist_decisions_q(user) -> Q | None:
    """The suggestion decisions a user reads: an office those of its sessions and the offices below it
    (None: all, for the administrator)."""
    if is_admin(user):
        return None
    return _office_q(user)


def can_set_assist_thresholds(user, office) -> bool:
    """An assigning office sets its own suggestion thresholds (the administrator may too)."""
    return any(office.is_within(u) for u in office_scopes(user)) or is_admin(user)


def is_office_check_step(step) -> bool:
    """A review step taken by the unit office: its 核稿 (office check), where the check list belongs."""
    return step.role == Role.UNIT_OFFICE


def is_admin(user) -> bool:
    """The system administrator (his role grant; see reads_everything for what a Django superuser reads)."""
    return has_role(user, Role.ADMIN)


def may_act_as(user, role: str) -> bool:
    """The user holds `role` (so may open that role's workbench)."""
    return role in roles_of(user)


def is_office(user) -> bool:
    """The user works for some assigning office."""
    return bool(office_scopes(user))


def is_unit_staff(user) -> bool:
    """The user works for some handling unit (its office, a handler or a leader)."""
    return bool(unit_scopes(user))


def is_office_of_unit(user, office_unit) -> bool:
    """`office_unit` (a session's assigning office) is the user's office or below it."""
    return any(office_unit.is_within(unit) for unit in office_scopes(user))


def can_decide_handling(user, proposal) -> bool:
    """Category, units, 并案 and imported assignment lists are decided by the session's assigning office only."""
    return is_office_for(user, proposal)


def can_assign_session(user, session) -> bool:
    """Assign items (by hand or by importing a list) into `session`: its assigning office only."""
    return is_office_of_unit(user, session.assigning_office)


def registers_anything(user) -> bool:
    """The register screens: an assigning office, or the administrator correcting registration data."""
    return is_office(user) or is_admin(user)


def can_register_in(user, office_unit) -> bool:
    """Register a session or a proposal under `office_unit`: that office, or the administrator."""
    return is_admin(user) or is_office_of_unit(user, office_unit)


def can_correct_registration(user, proposal) -> bool:
    """Correct a proposal's registered data (title, body, key flag): its office, or the administrator."""
    return is_office_for(user, proposal) or is_admin(user)


def registration_sessions(user) -> QuerySet:
    """Sessions the user may register items into (the administrator: every session)."""
    return Session.objects.all() if is_admin(user) else office_sessions(user)


def office_acting_role(user, assignment) -> str | None:
    """The office role in which `user` acts on `assignment` (paper ratings, callbacks), or None."""
    return acting_role(user, assignment, {Role.ASSIGNING_OFFICE})


def may_see_personal_data(user) -> bool:
    """Who may ask for a proposer's full contact details at all (the item check comes on top): the
    assigning office and the handling units' staff, never the administrator or other proposers."""
    return bool(roles_of(user) & {Role.ASSIGNING_OFFICE, *UNIT_ROLES})


def needs_second_factor(user) -> bool:
    """Accounts that reach every item of a session (assigning office, administrator) need a second factor."""
    return bool(roles_of(user) & {Role.ASSIGNING_OFFICE, Role.ADMIN})


def sees_withdrawn_assignments(user, proposal) -> bool:
    """Withdrawn assignments stay on the item's page for its office and the administrator."""
    return is_office_for(user, proposal) or is_admin(user)


def sees_unit_internals(user, assignment) -> bool:
    """A unit's drafts, contacts and notes on the item page: its own staff, and the administrator (reads all)."""
    return can_view_internal(user, assignment) or is_admin(user)


def can_urge(user) -> bool:
    """催办 is sent by an assigning office."""
    return has_role(user, Role.ASSIGNING_OFFICE)


def can_watch_deliveries(user) -> bool:
    """Failed outgoing messages: the assigning office that sent them, and the administrator."""
    return bool({Role.ASSIGNING_OFFICE, Role.ADMIN} & roles_of(user))


def can_edit_summary(user, unit) -> bool:
    """A unit's own sections of the annual summary: that unit's staff (office, handler, leader)."""
    return any(unit.is_within(scope) for scope in unit_scopes(user))


def can_edit_rule_set(user, rule_set) -> bool:
    """A session's scoring rules: its office; an office's own rule set (no session): that office."""
    if rule_set.session_id:
        return can_manage_scores(user, rule_set.session)
    return bool(rule_set.office_id) and is_office_of_unit(user, rule_set.office)


def handler_users(unit=None, *, active_only: bool = False) -> QuerySet:
    """Users holding the handler role in `unit` or one of its sections (no unit: in any unit)."""
    q = Q(grants__role=Role.HANDLER)
    if unit is not None:
        q &= Q(grants__unit__path__startswith=unit.path)
    qs = User.objects.filter(q)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.distinct()


def is_handler_of(user, unit) -> bool:
    """`user` may be named the handler of an item of `unit`."""
    return handler_users(unit).filter(pk=user.pk).exists()


def digest_recipients() -> QuerySet:
    """Who takes the periodic digest: leaders of units and assigning-office staff."""
    return User.objects.filter(is_active=True, grants__role__in=[Role.LEADER, Role.ASSIGNING_OFFICE]).distinct()


def digest_scope(user) -> tuple[QuerySet, list]:
    """What a digest covers: an office's sessions' assignments and a leader's units' assignments, with the
    names of those offices and units."""
    qs = Assignment.objects.none()
    names = []
    if is_office(user):
        qs = qs | office_assignments(user)
        names += [u.name for u in office_scopes(user)]
    leader_units = unit_scopes(user, roles={Role.LEADER})
    if leader_units:
        q = Q(pk__in=[])
        for unit in leader_units:
            q |= Q(unit__path__startswith=unit.path)
        qs = qs | Assignment.objects.filter(q)
        names += [u.name for u in leader_units]
    return qs, names


def routing_offices(user, proposal) -> list[int]:
    """The assigning offices whose assignment history shapes routing suggestions: the proposal's session's
    office, or (a draft without a session) the user's own offices."""
    if getattr(proposal, "session_id", None):
        return [proposal.session.assigning_office_id]
    return [u.pk for u in office_scopes(user)]


def _at_review_step_q(role: str) -> Q:
    """Assignments in 答复审核中 whose in-review reply's current review step is taken by `role`.

    Only an item in 答复审核中 can take a review step (approve_reply / return_reply start there). The steps that
    `role` takes are resolved first (chains are few: a unit and a position each) into `unit_id IN (…)` per
    position, so the (unit, state) index picks the candidates, each probed for its in-review reply at that
    position; where no chain has such a step, nothing is read at all."""
    steps = _memo(("review_steps", role), lambda: list(
        ReviewChainStep.objects.filter(role=role).values_list("position", "chain__unit_id")))
    units_at: dict[int, list[int]] = {}
    for position, unit_id in steps:
        units_at.setdefault(position, []).append(unit_id)
    q = Q(pk__in=[])
    for position, units in sorted(units_at.items()):
        in_review = Reply.objects.filter(assignment=OuterRef("pk"), state=ReplyState.IN_REVIEW,
                                         review_position=position)
        q |= Q(unit_id__in=sorted(units)) & Q(Exists(in_review))
    return Q(state=AssignmentState.REPLY_REVIEW) & q


def awaiting_office_review_q() -> Q:
    """Assignments whose reply waits for the assigning office's own check (二次把关)."""
    return _at_review_step_q(Role.ASSIGNING_OFFICE)


def awaiting_unit_check_q() -> Q:
    """Assignments whose reply waits for the unit office's check (核稿)."""
    return _at_review_step_q(Role.UNIT_OFFICE)


def awaiting_sign_off_q() -> Q:
    """Assignments whose reply waits for a leader's review or sign-off (审核签发)."""
    return _at_review_step_q(Role.LEADER)


def awaiting_co_opinion_sign_off_q() -> Q:
    """Co assignments whose 会办意见 waits for the co unit's leader's sign-off (审签)."""
    return Q(pk__in=CoOpinion.objects.filter(state=CoOpinionState.PENDING).values("assignment_id"))


def may_sign_off_co_opinion(user, assignment) -> bool:
    """A leader of the co unit (or of the unit above it) signs off its 会办意见."""
    return acting_role(user, assignment, {Role.LEADER}) is not None


def scoped_assignments(user) -> QuerySet:
    """Assignments the user works on: the office's sessions and the unit's own items (administrator: all)."""
    if is_admin(user):
        return Assignment.objects.all()
    return Assignment.objects.filter(
        Q(pk__in=office_assignments(user).order_by().values("pk"))
        | Q(pk__in=handled_assignments(user).order_by().values("pk"))
    )


# --- document templates ----------------------------------------------------------------------------


def office_assigned_units(user) -> QuerySet:
    """Units the user's assigning offices hand items to (in the sessions they assign)."""
    if not is_office(user):
        return Unit.objects.none()
    # One indexed probe per unit (units are few), never a pass over every assignment of the sessions.
    rows = Assignment.objects.filter(unit_id=OuterRef("pk"))
    ids = office_session_ids(user)
    if ids is not None:
        rows = rows.filter(session_id__in=ids)
    return Unit.objects.filter(Exists(rows))


def template_units(user) -> list:
    """Units whose document templates the user maintains: a unit office its own units; an assigning office
    the units it assigns to and the units of its own subtree; the administrator every unit."""
    if is_admin(user):
        return list(Unit.objects.exclude(kind=UnitKind.SECTION).order_by("sort_order", "id"))
    units = {g.unit.pk: g.unit for g in grants(user) if g.role == Role.UNIT_OFFICE and g.unit_id}
    if is_office(user):
        own = Q(pk__in=[])
        for unit in office_scopes(user):
            own |= Q(path__startswith=unit.path)
        for unit in Unit.objects.filter(own | Q(pk__in=office_assigned_units(user).values("pk"))).order_by(
                "sort_order", "id"):
            units.setdefault(unit.pk, unit)
    return list(units.values())


def can_manage_templates(user, unit) -> bool:
    """Upload a unit's letter template (`unit` None: the default for every unit).

    A unit's template: its own unit office, or an assigning office that assigns to it (or has it in its
    subtree); the default: an assigning office; the administrator keeps every template (configuration, not a
    case)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if is_admin(user):
        return True
    if unit is None:
        return is_office(user)
    if any(unit.is_within(u) for u in unit_scopes(user, roles={Role.UNIT_OFFICE})):
        return True
    if not is_office(user):
        return False
    return (any(unit.is_within(u) for u in office_scopes(user))
            or office_assigned_units(user).filter(pk=unit.pk).exists())


def may_open_templates(user) -> bool:
    """The templates screen: unit offices, assigning offices and the administrator."""
    return bool(unit_scopes(user, roles={Role.UNIT_OFFICE})) or is_office(user) or is_admin(user)


def visible_templates(user) -> QuerySet:
    """Active and past templates the user maintains (the defaults are shown to everyone who maintains any)."""
    qs = DocumentTemplate.objects.all()
    if is_admin(user):
        return qs
    if not may_open_templates(user):
        return qs.none()
    return qs.filter(Q(unit__isnull=True) | Q(unit__in=[u.pk for u in template_units(user)]))


# --- restrict(queryset, user, action): one entry point per object type ----------------------------------
#
# After NetBox's RestrictedQuerySet.restrict(user, action): every list a user sees (pages, API, exports,
# reports) is the model's queryset narrowed by the rule registered here for (model, action).

_RULES: dict[tuple[str, str], object] = {}


def rule(label: str, action: str = "view"):
    def register(fn):
        _RULES[(label, action)] = fn
        return fn
    return register


def restrict(queryset: QuerySet, user, action: str = "view") -> QuerySet:
    """`queryset` narrowed to the rows `user` may `action`; an unknown (model, action) is a programming error."""
    label = queryset.model._meta.label_lower
    try:
        fn = _RULES[(label, action)]
    except KeyError:
        raise LookupError(f"no permission rule for {label}:{action}") from None
    allowed = fn(user)
    if allowed.query.distinct or queryset.query.distinct:
        # Django combines only queries alike in DISTINCT; a subquery on the key serves both.
        return queryset.filter(pk__in=allowed.values("pk"))
    return queryset & allowed


def _visible_co_opinions(user) -> QuerySet:
    if not getattr(user, "is_authenticated", False):
        return CoOpinion.objects.none()
    # No shortcut for the administrator: a co-opinion is a unit's internal paper (see can_view_co_opinion).
    lead_units = Q(pk__in=[])
    for unit in unit_scopes(user):
        lead_units |= Q(unit__path__startswith=unit.path)
    leads = Assignment.objects.filter(lead_units, role="lead").exclude(state="withdrawn").values("proposal_id")
    return CoOpinion.objects.filter(
        _unit_staff_q(user, "assignment__")
        | (Q(state=CoOpinionState.SENT) & (_office_assignment_q(user, "assignment__") | Q(assignment__proposal__in=leads)))
    )


def _visible_feedback(user) -> QuerySet:
    if not getattr(user, "is_authenticated", False):
        return Feedback.objects.none()
    return Feedback.objects.filter(Q(proposer__user=user) | _office_assignment_q(user, "assignment__")
                                   | _unit_staff_q(user, "assignment__"))


def _visible_commitments(user) -> QuerySet:
    return Commitment.objects.filter(assignment__in=scoped_assignments(user).values("pk"))


def _visible_reply_copies(user) -> QuerySet:
    if not getattr(user, "is_authenticated", False):
        return ReplyDelivery.objects.none()
    if is_admin(user):
        return ReplyDelivery.objects.all()
    return ReplyDelivery.objects.filter(Q(proposer__user=user) | _unit_staff_q(user, "reply__assignment__")
                                        | _office_assignment_q(user, "reply__assignment__"))


def can_read_reports(user) -> bool:
    """The figures pages: the administrator, an assigning office or a unit's staff (not proposers, not the
    public)."""
    everything, offices, units = report_scope(user)
    return bool(everything or offices or units)


def _register_rules() -> None:
    rule("proposals.proposal")(visible_proposals)
    rule("handling.assignment")(visible_assignments)
    rule("handling.assignment", "handle")(handled_assignments)
    rule("handling.assignment", "assign")(office_assignments)
    rule("handling.assignment", "work")(scoped_assignments)
    rule("proposals.session", "assign")(office_sessions)
    rule("proposals.session", "register")(registration_sessions)
    rule("replies.reply")(visible_replies)
    rule("replies.coopinion")(_visible_co_opinions)
    rule("replies.feedback")(_visible_feedback)
    rule("replies.commitment")(_visible_commitments)
    rule("handling.event")(event_rows_visible_to)
    rule("supervision.delivery")(office_deliveries)
    rule("supervision.eventsubscription")(visible_subscriptions)
    rule("replies.documenttemplate")(visible_templates)
    rule("replies.replydelivery")(_visible_reply_copies)
    rule("proposals.session", "report")(report_sessions)
    rule("organizations.unit", "report")(report_units)


_register_rules()


# --- who reviews replies, who assigns -----------------------------------------------------------------

# The review chain a unit gets until it configures its own: who checks and who signs a reply off.
DEFAULT_REVIEW_STEPS = (
    ("科室审核", Role.HANDLER),
    ("办公室核稿", Role.UNIT_OFFICE),
    ("分管领导审核", Role.LEADER),
    ("主要领导签发", Role.LEADER),
)
# Roles a review step may name; a 征求意见稿 step is closed by the unit that collects the comments.
REVIEW_STEP_ROLES = frozenset({Role.UNIT_OFFICE, Role.LEADER, Role.ASSIGNING_OFFICE, Role.HANDLER})
CONSULT_STEP_ROLES = frozenset({Role.UNIT_OFFICE, Role.HANDLER})


def reopening_role(user, assignment) -> str | None:
    """The role in which `user` reopens a signed-off, unsent letter (a new version starts), or None: the unit
    office, a leader or the assigning office; not a reviewer at the section step (a handler)."""
    return acting_role(user, assignment, {Role.UNIT_OFFICE, Role.LEADER, Role.ASSIGNING_OFFICE})


def review_role(user, assignment, step) -> str | None:
    """The role in which `user` takes review step `step` of `assignment`'s reply, or None."""
    return acting_role(user, assignment, {step.role})


def assigning_role(user, proposal, parent=None) -> str | None:
    """The role in which `user` assigns `proposal`: the session's office for a first assignment, the parent
    assignment's unit office for handing on inside its subtree (再交办); None when he may not."""
    if parent is not None:
        return acting_role(user, parent, {Role.UNIT_OFFICE})
    return Role.ASSIGNING_OFFICE if is_office_for(user, proposal) else None


def unit_office_units(user) -> list:
    """The units whose unit office (联络员) the user is: he configures their review chain."""
    return [g.unit for g in grants(user) if g.role == Role.UNIT_OFFICE and g.unit_id]


def is_proposer(user) -> bool:
    """The user signs in as a proposer (委员/代表)."""
    return has_role(user, Role.PROPOSER)


# Who hears about a reminder besides the item's handler and (for ratings) its proposers: the unit's office
# always; once escalated, the unit's leaders and the session's assigning office.
REMINDER_UNIT_ROLE = Role.UNIT_OFFICE
REMINDER_ESCALATED_UNIT_ROLE = Role.LEADER
REMINDER_ESCALATED_OFFICE_ROLE = Role.ASSIGNING_OFFICE


# --- security boundaries (issue 17: API documents, API token scopes) ---------------------------------------------


def may_read_api_docs(user) -> bool:
    """The API's description (OpenAPI document, Swagger and ReDoc pages) lists every endpoint and field: signed-in
    users only, unless the instance opens it on purpose (BANLI_API_DOCS_PUBLIC)."""
    return bool(getattr(settings, "BANLI_API_DOCS_PUBLIC", False)) or bool(getattr(user, "is_authenticated", False))


def token_allows(token, method: str) -> bool:
    """A read-only API token may only read (GET, HEAD, OPTIONS); a session or a read-write token may also write."""
    if token is None or getattr(token, "scope", "write") == "write":
        return True
    return method.upper() in ("GET", "HEAD", "OPTIONS")


def may_manage_token(user, token) -> bool:
    """A user lists and revokes his own API tokens only."""
    return bool(getattr(user, "pk", None)) and token.user_id == user.pk


# --- the integrator's write endpoints (issue 17, point 16) ---------------------------------------------------


def can_manage_users(user) -> bool:
    """Accounts and their role grants are kept by the system administrator (the admin pages are his alone;
    no office or unit page grants roles today); a staff account the admin site lets change grants, too."""
    return bool(getattr(user, "is_authenticated", False)) and (
        getattr(user, "is_superuser", False) or is_admin(user)
        or (getattr(user, "is_staff", False) and user.has_perm("organizations.change_rolegrant")))


def can_manage_proposers(user) -> bool:
    """Proposers (委员, 代表, 党派团体, 界别, 专委会) are registered with the items: by an assigning office, or
    corrected by the administrator (as registration data)."""
    return registers_anything(user)


def visible_proposers(user) -> QuerySet:
    """Proposers the user may list: every one for who registers items; for everyone else those named on the
    items he sees (names are printed on those items anyway)."""
    if not getattr(user, "is_authenticated", False):
        return Proposer.objects.none()
    if registers_anything(user) or reads_everything(user):
        return Proposer.objects.all()
    links = naming_visible_proposals(ProposalProposer.objects.all(), user)
    return Proposer.objects.filter(pk__in=links.values("proposer_id"))


def can_set_deadlines(user, session) -> bool:
    """A session's deadline policies (how long signing, replying, rating may take): its assigning office, or the
    administrator as configuration."""
    return is_admin(user) or can_assign_session(user, session)


def _visible_contacts(user) -> QuerySet:
    """Contact records are a unit's internal papers (can_view_internal): the unit's own staff only."""
    if not getattr(user, "is_authenticated", False):
        return ContactRecord.objects.none()
    return ContactRecord.objects.filter(_unit_staff_q(user, "assignment__"))


def visible_rule_sets(user) -> QuerySet:
    """Rule sets the user may read: those of the sessions whose figures he reads, and the shipped templates."""
    if not can_read_reports(user):
        return RuleSet.objects.none()
    return RuleSet.objects.filter(Q(session__in=report_sessions(user).values("pk"))
                                  | Q(session__isnull=True, office__isnull=True))


def _session_or_unit_rows(model, user) -> QuerySet:
    """Rows of `model` (with session and unit) for the session's office and the unit's own staff; all of them
    for who reads everything."""
    if not getattr(user, "is_authenticated", False):
        return model.objects.none()
    if reads_everything(user):
        return model.objects.all()
    q = Q(pk__in=[])
    if office_scopes(user):
        ids = office_session_ids(user)
        if ids is None:
            return model.objects.all()  # the office assigns every session: every row, no filter
        q |= Q(session_id__in=ids)
    units = unit_subtree_q(user)
    if units is not None:
        q |= Q(unit__in=_units(units))
    return model.objects.filter(q)


def visible_score_entries(user) -> QuerySet:
    """Bonus entries: the session's office, and a unit's staff for their own unit (their score's evidence)."""
    return _session_or_unit_rows(ScoreEntry, user)


def visible_evaluations(user) -> QuerySet:
    """自评: the unit's own staff and the session's office; the administrator reads them (area summary)."""
    return _session_or_unit_rows(Evaluation, user)


rule("handling.contactrecord")(_visible_contacts)
rule("proposals.proposer")(visible_proposers)
rule("reports.ruleset")(visible_rule_sets)
rule("reports.scoreentry")(visible_score_entries)
rule("reports.evaluation")(visible_evaluations)
