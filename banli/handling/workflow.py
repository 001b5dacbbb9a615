"""The handling workflow of one assignment: states, transitions and the one function that performs them.

Every state change in Banli goes through `perform()`: it checks the current state, the assignment's
role (lead / co / split), the actor's role and unit, and the reason; it changes the state by
compare-and-set and writes the event row in the same transaction. Anything else raises a DomainError
whose message a person can read.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from banli.core.access import acting_role
from banli.core.errors import ConflictError, DomainError, PermissionDenied
from banli.core.eventlog import write_event
from banli.core.security import note_denial
from banli.handling.choices import FINAL_STATES, STATE_COLOURS, AssignmentRole, AssignmentState, state_label
from banli.handling.models import Assignment
from banli.organizations.choices import Role
from banli.proposals.models import Proposal


@dataclass(frozen=True)
class State:
    key: str
    label: str
    colour: str
    final: bool = False


# Derived from the choices, so the model's `choices`, the check constraint and the badges share one list.
STATES: dict[str, State] = {
    s.value: State(s.value, s.label, STATE_COLOURS[s], final=s in FINAL_STATES) for s in AssignmentState
}

# States in which an assignment still has work before its reply / opinion deadline.
OPEN_STATES = (AssignmentState.PENDING_SIGN, AssignmentState.ADJUSTMENT_REQUESTED, AssignmentState.SIGNED, AssignmentState.IN_PROGRESS,
               AssignmentState.REPLY_REVIEW, AssignmentState.REHANDLING)
ANSWERING = (AssignmentRole.LEAD, AssignmentRole.SPLIT)
ALL_ROLES = tuple(AssignmentRole)


@dataclass(frozen=True)
class Transition:
    """One action on an assignment: where it may start, where it leads, who may take it."""

    action: str
    label: str
    sources: tuple[str, ...]
    target: str | None  # None: the action records something but leaves the state as it is
    actor_roles: frozenset[str]
    reason_required: bool = False
    assignment_roles: tuple[str, ...] = ALL_ROLES
    extra: dict = field(default_factory=dict)


def _t(action, label, sources, target, roles, *, reason=False, assignment_roles=ALL_ROLES):
    return Transition(action, label, tuple(sources), target, frozenset(roles), reason, tuple(assignment_roles))


OFFICE = Role.ASSIGNING_OFFICE
UNIT_OFFICE = Role.UNIT_OFFICE
HANDLER = Role.HANDLER
LEADER = Role.LEADER
PROPOSER = Role.PROPOSER
S = AssignmentState

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("sign", "签收", [S.PENDING_SIGN], S.SIGNED, [UNIT_OFFICE]),
        _t("request_adjustment", "申请调整", [S.PENDING_SIGN, S.SIGNED], S.ADJUSTMENT_REQUESTED, [UNIT_OFFICE], reason=True),
        _t("approve_adjustment", "同意调整", [S.ADJUSTMENT_REQUESTED], S.WITHDRAWN, [OFFICE]),
        # Rejection sends the item back to be signed (the unit must take it after all).
        _t("reject_adjustment", "不同意调整", [S.ADJUSTMENT_REQUESTED], S.PENDING_SIGN, [OFFICE], reason=True),
        _t("assign_section", "分配承办科室", [S.SIGNED], S.IN_PROGRESS, [UNIT_OFFICE]),
        _t("reassign_section", "调整承办科室", [S.IN_PROGRESS, S.REHANDLING, S.REPLY_REVIEW], None, [UNIT_OFFICE]),
        _t(
            "log_contact",
            "登记沟通",
            [S.SIGNED, S.IN_PROGRESS, S.REHANDLING, S.REPLY_REVIEW, S.REPLIED, S.RATED, S.CLOSED, S.OPINION_SENT],
            None,
            [UNIT_OFFICE, HANDLER],
        ),
        _t("send_co_opinion", "发送会办意见", [S.IN_PROGRESS], S.OPINION_SENT, [UNIT_OFFICE, HANDLER], assignment_roles=[AssignmentRole.CO]),
        # A unit whose 会办意见 needs its leader's sign-off: the opinion waits (the item stays in progress), the
        # co unit's leader signs it off (it goes to the lead) or returns it with a reason.
        _t("submit_co_opinion", "会办意见送领导审签", [S.IN_PROGRESS], None, [UNIT_OFFICE, HANDLER],
           assignment_roles=[AssignmentRole.CO]),
        _t("approve_co_opinion", "审签会办意见", [S.IN_PROGRESS], S.OPINION_SENT, [LEADER],
           assignment_roles=[AssignmentRole.CO]),
        _t("return_co_opinion", "退回会办意见", [S.IN_PROGRESS], None, [LEADER], reason=True,
           assignment_roles=[AssignmentRole.CO]),
        _t("submit_reply", "提交答复审核", [S.IN_PROGRESS, S.REHANDLING], S.REPLY_REVIEW, [UNIT_OFFICE, HANDLER], assignment_roles=ANSWERING),
        _t("save_reply_draft", "起草答复", [S.IN_PROGRESS, S.REHANDLING], None, [UNIT_OFFICE, HANDLER],
           assignment_roles=ANSWERING),
        # Who takes which review step is the unit's chain (access.review_refusal): a section head (a handler) at 科室审核.
        _t("approve_reply", "审核通过", [S.REPLY_REVIEW], None, [HANDLER, UNIT_OFFICE, LEADER, OFFICE], assignment_roles=ANSWERING),
        _t("return_reply", "退回修改", [S.REPLY_REVIEW], S.IN_PROGRESS, [HANDLER, UNIT_OFFICE, LEADER, OFFICE], reason=True, assignment_roles=ANSWERING),
        _t("send_reply", "发送答复", [S.REPLY_REVIEW], S.REPLIED, [UNIT_OFFICE], assignment_roles=ANSWERING),
        _t("record_feedback", "测评", [S.REPLIED], None, [PROPOSER], assignment_roles=ANSWERING),
        _t("complete_feedback", "测评完成", [S.REPLIED], S.RATED, [PROPOSER], assignment_roles=ANSWERING),
        _t("rehandle", "重新办理", [S.RATED], S.REHANDLING, [OFFICE, UNIT_OFFICE], reason=True, assignment_roles=ANSWERING),
        _t("close", "办结", [S.RATED, S.REPLIED], S.CLOSED, [OFFICE, UNIT_OFFICE], assignment_roles=ANSWERING),
        _t(
            "request_extension",
            "申请延期",
            [S.SIGNED, S.IN_PROGRESS, S.REHANDLING, S.REPLY_REVIEW],
            None,
            [UNIT_OFFICE],
            reason=True,
            assignment_roles=ANSWERING,
        ),
        _t(
            "decide_extension",
            "审批延期",
            [S.SIGNED, S.IN_PROGRESS, S.REHANDLING, S.REPLY_REVIEW],
            None,
            [OFFICE],
            assignment_roles=ANSWERING,
        ),
        _t(
            "record_commitment",
            "登记落实事项",
            [S.REPLY_REVIEW, S.REPLIED, S.RATED, S.CLOSED, S.REHANDLING, S.IN_PROGRESS],
            None,
            [UNIT_OFFICE, HANDLER],
            assignment_roles=ANSWERING,
        ),
        _t(
            "complete_commitment",
            "完成落实事项",
            [S.REPLIED, S.RATED, S.CLOSED, S.REHANDLING, S.IN_PROGRESS, S.REPLY_REVIEW],
            None,
            [UNIT_OFFICE, HANDLER],
            assignment_roles=ANSWERING,
        ),
        _t(
            "report_commitment_progress",
            "报告落实进展",
            [S.REPLIED, S.RATED, S.CLOSED, S.REHANDLING, S.IN_PROGRESS, S.REPLY_REVIEW],
            None,
            [UNIT_OFFICE, HANDLER],
            assignment_roles=ANSWERING,
        ),
        _t("withdraw", "撤回交办", OPEN_STATES, S.WITHDRAWN, [OFFICE], reason=True),
    ]
}


def check(assignment, action: str, actor, *, reason: str = "", role: str | None = None, log: bool = True) -> str:
    """Raise a DomainError when `actor` may not take `action` on `assignment` now; return the role used.

    `role` skips the role lookup when the caller already checked a narrower rule (a review chain step).
    """
    transition = TRANSITIONS[action]
    if assignment.role not in transition.assignment_roles:
        allowed = "、".join(AssignmentRole(r).label for r in transition.assignment_roles)
        raise DomainError(f"「{transition.label}」只适用于{allowed}单位，本单位为{assignment.get_role_display()}单位。")
    role = role or acting_role(actor, assignment, transition.actor_roles)
    if role is None:
        message = f"您没有权限对该事项执行「{transition.label}」。"
        if log:
            note_denial(actor, message, action=action, assignment=assignment.pk)
        raise PermissionDenied(message)
    if assignment.state not in transition.sources:
        allowed = "、".join(f"「{state_label(s)}」" for s in transition.sources)
        if transition.target is not None and assignment.state == transition.target:
            # What the action would do is already done: a duplicate, or someone else's request just won.
            raise ConflictError(
                f"该事项当前状态为「{state_label(assignment.state)}」，「{transition.label}」刚刚已由他人（或您的另一次提交）"
                f"完成（只有在{allowed}状态下才可以），本次未重复执行，请刷新后重试。"
            )
        raise DomainError(
            f"该事项当前状态为「{state_label(assignment.state)}」，不能{transition.label}；"
            f"只有在{allowed}状态下才可以。"
        )
    if transition.reason_required and not (reason or "").strip():
        raise DomainError(f"「{transition.label}」必须填写理由。", field="reason")
    return role


def allowed_actions(assignment, actor) -> list[Transition]:
    """The actions `actor` may take on `assignment` now (for showing only the forms that apply)."""
    result = []
    for transition in TRANSITIONS.values():
        try:
            check(assignment, transition.action, actor, reason="-", log=False)
        except DomainError:
            continue
        result.append(transition)
    return result


def perform(assignment, action: str, actor, *, reason: str = "", payload: dict | None = None,
            changes: dict | None = None, now=None, actor_role: str | None = None):
    """Take `action` on `assignment`: check, compare-and-set the state (and `changes`), write the event.

    Must run inside a transaction (services are @transaction.atomic). Returns the fresh assignment.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("workflow.perform must run inside transaction.atomic")
    transition = TRANSITIONS[action]
    role = check(assignment, action, actor, reason=reason, role=actor_role)
    now = now or timezone.now()
    old_state = assignment.state
    new_state = transition.target or old_state
    updates = dict(changes or {})
    updates.update(state=new_state, version=F("version") + 1, updated_at=now)
    won = Assignment.objects.filter(pk=assignment.pk, state=old_state, version=assignment.version).update(**updates)
    if not won:
        current = Assignment.objects.filter(pk=assignment.pk).values_list("state", flat=True).first()
        raise ConflictError(
            f"该事项刚刚已被他人处理（当前状态：「{state_label(current)}」），您的操作「{transition.label}」未执行，请刷新后重试。"
        )
    write_event(
        verb=action,
        actor=actor,
        actor_role=role,
        assignment=assignment,
        from_state=old_state,
        to_state=new_state,
        reason=reason,
        payload=payload,
        now=now,
    )
    fresh = Assignment.objects.select_related("proposal", "unit").get(pk=assignment.pk)
    if new_state != old_state:
        refresh_proposal_status(fresh.proposal)
    return fresh


def fresh_assignment(assignment_id: int):
    """Reload an assignment with what permission checks need (services that reach it through a request,
    a reply or a commitment must not act on a stale copy)."""
    return Assignment.objects.select_related("proposal__session__assigning_office", "unit").get(pk=assignment_id)


def derive_proposal_status(states_by_role: list[tuple[str, str]]) -> str:
    """A proposal's status from its assignments' (role, state) pairs."""
    live = [(role, state) for role, state in states_by_role if state != AssignmentState.WITHDRAWN]
    if not live:
        return "unassigned"
    answering = [state for role, state in live if role in ANSWERING]
    co = [state for role, state in live if role == AssignmentRole.CO]
    if all(state in (AssignmentState.PENDING_SIGN, AssignmentState.ADJUSTMENT_REQUESTED) for _, state in live):
        return "assigned"
    co_done = all(state == AssignmentState.OPINION_SENT for state in co)
    if answering and all(state == AssignmentState.CLOSED for state in answering):
        return "closed" if co_done else "handling"
    if not answering:
        return "closed" if co_done else "handling"
    if all(state in (AssignmentState.RATED, AssignmentState.CLOSED) for state in answering):
        return "rated"
    if all(state in (AssignmentState.REPLIED, AssignmentState.RATED, AssignmentState.CLOSED) for state in answering):
        return "replied"
    return "handling"


def refresh_proposal_status(proposal) -> str:
    """Recompute and store the proposal's derived status (same transaction as the change)."""
    pairs = list(Assignment.objects.filter(proposal=proposal).values_list("role", "state"))
    status = derive_proposal_status(pairs)
    if status != proposal.status:
        Proposal.objects.filter(pk=proposal.pk).update(status=status)
        proposal.status = status
    return status
