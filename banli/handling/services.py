"""Writes for assignments: assign, sign, adjust, sections, contacts, extensions, rehandle, close.

Each service is one transaction; state changes go through workflow.perform (compare-and-set plus an
event row). Times default to now; pass `now` in tests and jobs.
"""
from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from banli.core import access, eventlog
from banli.core.access import can_keep_calendar
from banli.core.errors import ConflictError, DomainError, PermissionDenied, conflict_on_duplicate
from banli.handling import deadlines, holidays, workflow
from banli.handling.choices import (
    AssignmentRole,
    AssignmentState,
    ContactMethod,
    ContactPhase,
    DeadlineStep,
    DeadlineUnit,
    RequestStatus,
)
from banli.handling.deadlines import forget_calendar
from banli.handling.models import (
    AdjustmentRequest,
    Assignment,
    ContactRecord,
    DeadlinePolicy,
    ExtensionRequest,
    HolidayOverride,
    SectionAssignment,
)
from banli.organizations.choices import UnitKind
from banli.proposals.choices import ProposalKind
from banli.proposals.models import Proposal
from banli.replies.models import Feedback


def _today(now) -> dt.date:
    return timezone.localdate(now)


@transaction.atomic
def assignment_create(*, proposal, unit, role: str, actor, now=None, parent: Assignment | None = None,
                      replaces: Assignment | None = None) -> Assignment:
    """Hand a proposal to a unit as lead, co or split (交办); deadlines come from the session's policy.

    With `parent`, a unit hands its own assignment on inside its subtree (e.g. the district government
    passes a city item to a district department) and the unit's office is the one who may do it.
    """
    now = now or timezone.now()
    if role not in AssignmentRole.values:
        raise DomainError(f"未知的办理方式「{role}」，应为主办、会办或分办。", field="role")
    if unit is None:
        raise DomainError("请选择承办单位。", field="unit")
    if unit.kind == UnitKind.ASSIGNING_OFFICE and parent is None:
        raise DomainError(f"「{unit}」是交办机构，不能作为承办单位。", field="unit")
    if not unit.is_active:
        raise DomainError(f"单位「{unit}」已停用，不能交办。", field="unit")
    actor_role = _check_may_assign(actor, proposal, parent, unit)
    # One read of the live assignments (one snapshot): a duplicate committed a moment ago is seen as the
    # duplicate it is (409), not as "there is already a lead" (a rule refusal, 400).
    live = list(Assignment.objects.filter(proposal=proposal).exclude(state=AssignmentState.WITHDRAWN)
                .values_list("unit_id", "role", "parent_id"))
    if any(unit_id == unit.pk for unit_id, _, _ in live):
        raise ConflictError(f"该事项已交办给「{unit}」，不能重复交办。", field="unit")
    if role == AssignmentRole.LEAD and parent is None and any(
            r == AssignmentRole.LEAD and p is None for _, r, p in live):
        raise DomainError("该事项已有主办单位；如需多个单位分别答复，请选择“分办”。", field="role")
    due = deadlines.assignment_deadlines(proposal.session, proposal.kind, _today(now))
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                proposal=proposal, unit=unit, role=role, state=AssignmentState.PENDING_SIGN, assigned_at=now,
                session_id=proposal.session_id, key_item=_is_key_item(proposal),
                assigned_by=actor if getattr(actor, "pk", None) else None, parent=parent, replaces=replaces, **due,
            )
    except IntegrityError as exc:
        raise ConflictError(f"该事项刚刚已交办给「{unit}」，请刷新后查看。") from exc
    eventlog.write_event(
        verb="assign", actor=actor, actor_role=actor_role, assignment=assignment, to_state=AssignmentState.PENDING_SIGN,
        payload={"unit": unit.pk, "unit_name": unit.name, "role": role,
                 "reply_due": due["reply_due"].isoformat(), "parent": parent.pk if parent else None},
        now=now,
    )
    workflow.refresh_proposal_status(proposal)
    return assignment


def _is_key_item(proposal) -> bool:
    # Marked key, or supervised: the proposal's other assignments carry the flag (assignments_key_set keeps it).
    return bool(proposal.is_key) or Assignment.objects.filter(proposal=proposal, key_item=True).exists()


@transaction.atomic
def assignments_key_set(*, proposal_ids, key: bool) -> int:
    """Copy "key item" (marked key or supervised, as the caller decides) onto the proposals' assignments, where
    the ledger and the workbench order by it."""
    return Assignment.objects.filter(proposal_id__in=list(proposal_ids)).exclude(key_item=key).update(key_item=key)


def _check_may_assign(actor, proposal, parent, unit) -> str:
    if actor is None:
        return ""
    if parent is not None:
        if not unit.is_within(parent.unit) or unit == parent.unit:
            raise DomainError(f"只能交办给「{parent.unit}」的下级单位。", field="unit")
    role = access.assigning_role(actor, proposal, parent)
    if role is None and parent is not None:
        raise PermissionDenied("只有本单位联络员才能在本单位内再交办。")
    if role is None:
        raise PermissionDenied("只有该届次的交办机构才能交办。")
    return role


@transaction.atomic
def assignment_sign(*, assignment: Assignment, actor, now=None) -> Assignment:
    """The unit acknowledges receipt (签收)."""
    now = now or timezone.now()
    return workflow.perform(assignment, "sign", actor, changes={"signed_at": now}, now=now)


def adjustment_window_open(assignment: Assignment, today: dt.date | None = None) -> bool:
    """Whether the unit may still ask for the item to go elsewhere (申请调整期限 not passed, or none set)."""
    return not assignment.adjust_due or (today or timezone.localdate()) <= assignment.adjust_due


@transaction.atomic
def adjustment_request(*, assignment: Assignment, actor, reason: str, suggested_unit=None, now=None) -> AdjustmentRequest:
    """The unit says the item is not its business (申请调整), within the adjustment window."""
    now = now or timezone.now()
    workflow.check(assignment, "request_adjustment", actor, reason=reason)
    if not adjustment_window_open(assignment, _today(now)):
        raise DomainError(
            f"申请调整的期限已过（{assignment.adjust_due:%Y年%m月%d日}），请按交办要求办理，或与交办机构联系。"
        )
    with conflict_on_duplicate("该事项刚刚已提交了调整申请，正在等待交办机构审批，请刷新后查看。"):
        request = AdjustmentRequest.objects.create(
            assignment=assignment, requested_by=actor, reason=reason.strip(),
            suggested_unit=suggested_unit, previous_state=assignment.state,
        )
    workflow.perform(
        assignment, "request_adjustment", actor, reason=reason, now=now,
        payload={"request": request.pk, "suggested_unit": suggested_unit.name if suggested_unit else ""},
    )
    return request


def _claim_request(model, request, **changes) -> None:
    won = model.objects.filter(pk=request.pk, status=RequestStatus.PENDING).update(**changes)
    if not won:
        raise ConflictError("该申请刚刚已被他人审批，请刷新后查看。")
    for key, value in changes.items():
        setattr(request, key, value)


@transaction.atomic
def adjustment_approve(*, request: AdjustmentRequest, actor, new_unit, note: str = "", now=None) -> Assignment:
    """The assigning office agrees and re-assigns the item to another unit in the same role."""
    now = now or timezone.now()
    old = workflow.fresh_assignment(request.assignment_id)
    if new_unit is None:
        raise DomainError("同意调整时必须选择新的承办单位。", field="new_unit")
    if new_unit == old.unit:
        raise DomainError("新的承办单位不能与原单位相同。", field="new_unit")
    workflow.check(old, "approve_adjustment", actor)
    _claim_request(AdjustmentRequest, request, status=RequestStatus.APPROVED, decided_by=actor,
                   decided_at=now, decision_note=note)
    workflow.perform(old, "approve_adjustment", actor, reason=note, now=now,
                     payload={"request": request.pk, "new_unit": new_unit.name})
    new = assignment_create(proposal=old.proposal, unit=new_unit, role=old.role, actor=actor, now=now,
                            parent=old.parent, replaces=old)
    AdjustmentRequest.objects.filter(pk=request.pk).update(new_assignment=new)
    request.new_assignment = new
    return new


@transaction.atomic
def adjustment_reject(*, request: AdjustmentRequest, actor, reason: str, now=None) -> Assignment:
    """The assigning office refuses; the unit must sign and handle the item."""
    now = now or timezone.now()
    assignment = workflow.fresh_assignment(request.assignment_id)
    workflow.check(assignment, "reject_adjustment", actor, reason=reason)
    _claim_request(AdjustmentRequest, request, status=RequestStatus.REJECTED, decided_by=actor,
                   decided_at=now, decision_note=reason)
    return workflow.perform(assignment, "reject_adjustment", actor, reason=reason, now=now,
                            payload={"request": request.pk})


def _check_section(assignment, section, field="section"):
    if section is None:
        return
    if section.kind != UnitKind.SECTION or not section.is_within(assignment.unit):
        raise DomainError(f"「{section}」不是「{assignment.unit}」的科室。", field=field)


def _check_handler(assignment, handler, field="handler"):
    if handler is None:
        return
    if not access.is_handler_of(handler, assignment.unit):
        raise DomainError(f"「{handler}」不是「{assignment.unit}」的承办人。", field=field)


@transaction.atomic
def assignment_assign_section(*, assignment: Assignment, actor, section, handler=None,
                              co_sections: list[tuple] | None = None, now=None) -> Assignment:
    """The unit office names the lead section (主办处室), its handler and any co sections (会办处室)."""
    now = now or timezone.now()
    if section is None:
        raise DomainError("请选择主办科室。", field="section")
    _check_section(assignment, section)
    _check_handler(assignment, handler)
    for co_section, co_handler in co_sections or []:
        _check_section(assignment, co_section, "co_sections")
        _check_handler(assignment, co_handler, "co_sections")
        if co_section == section:
            raise DomainError("会办科室不能与主办科室相同。", field="co_sections")
    action = "assign_section" if assignment.state == AssignmentState.SIGNED else "reassign_section"
    fresh = workflow.perform(
        assignment, action, actor, now=now,
        changes={"lead_section": section, "handler": handler},
        payload={"section": section.name, "handler": handler.label if handler else "",
                 "co_sections": [s.name for s, _ in co_sections or []]},
    )
    SectionAssignment.objects.filter(assignment=assignment).delete()
    for co_section, co_handler in co_sections or []:
        SectionAssignment.objects.create(assignment=assignment, section=co_section, handler=co_handler)
    return fresh


@transaction.atomic
def contact_log(*, assignment: Assignment, actor, phase: str, method: str, contacted_on: dt.date,
                people: str, summary: str, now=None) -> ContactRecord:
    """Record a contact with the proposers (办前/办中/办后沟通)."""
    now = now or timezone.now()
    if phase not in ContactPhase.values:
        raise DomainError("请选择沟通阶段（办前、办中或办后）。", field="phase")
    if method not in ContactMethod.values:
        raise DomainError("请选择沟通方式。", field="method")
    if contacted_on is None:
        raise DomainError("请填写沟通日期。", field="contacted_on")
    if contacted_on > _today(now):
        raise DomainError("沟通日期不能晚于今天。", field="contacted_on")
    if contacted_on < timezone.localdate(assignment.assigned_at):
        raise DomainError("沟通日期不能早于交办日期。", field="contacted_on")
    if not (people or "").strip():
        raise DomainError("请填写参加人员。", field="people")
    if not (summary or "").strip():
        raise DomainError("请填写沟通情况摘要。", field="summary")
    # A contact changes nothing on the assignment, so it takes no compare-and-set on it: contacts logged at
    # the same moment by several people all count (the state is checked on a fresh read, not a stale copy).
    fresh = workflow.fresh_assignment(assignment.pk)
    role = workflow.check(fresh, "log_contact", actor)
    record = ContactRecord.objects.create(
        assignment=fresh, phase=phase, method=method, contacted_on=contacted_on,
        people=people.strip(), summary=summary.strip(), recorded_by=actor,
    )
    eventlog.write_event(verb="log_contact", actor=actor, actor_role=role, assignment=fresh, from_state=fresh.state,
                         to_state=fresh.state, now=now,
                         payload={"contact": record.pk, "phase": phase, "method": method, "date": contacted_on.isoformat()})
    return record


@transaction.atomic
def extension_request(*, assignment: Assignment, actor, reason: str, requested_due: dt.date, now=None) -> ExtensionRequest:
    """The unit asks for a later reply deadline; nothing moves until the office approves."""
    now = now or timezone.now()
    workflow.check(assignment, "request_extension", actor, reason=reason)
    if requested_due is None or requested_due <= assignment.reply_due:
        raise DomainError(
            f"申请延至的日期必须晚于现在的答复期限（{assignment.reply_due:%Y年%m月%d日}）。", field="requested_due"
        )
    if assignment.reply_due_max and requested_due > assignment.reply_due_max:
        raise DomainError(
            f"延期后的答复期限不能晚于{assignment.reply_due_max:%Y年%m月%d日}（交办后最长期限）。", field="requested_due"
        )
    pending = "已有一份延期申请正在审批，请等待审批结果。"
    if ExtensionRequest.objects.filter(assignment=assignment, status=RequestStatus.PENDING).exists():
        raise ConflictError(pending)
    with conflict_on_duplicate(pending):
        request = ExtensionRequest.objects.create(
            assignment=assignment, requested_by=actor, reason=reason.strip(), requested_due=requested_due
        )
    workflow.perform(assignment, "request_extension", actor, reason=reason, now=now,
                     payload={"request": request.pk, "requested_due": requested_due.isoformat()})
    return request


@transaction.atomic
def extension_decide(*, request: ExtensionRequest, actor, approve: bool, approved_due: dt.date | None = None,
                     note: str = "", now=None) -> ExtensionRequest:
    """The assigning office approves (the reply deadline moves) or rejects an extension request."""
    now = now or timezone.now()
    assignment = workflow.fresh_assignment(request.assignment_id)
    workflow.check(assignment, "decide_extension", actor)
    if approve:
        approved_due = approved_due or request.requested_due
    elif not (note or "").strip():
        raise DomainError("不同意延期时请填写理由。", field="note")
    # The request is claimed before the date is checked against the deadline: a decision someone has just taken
    # (which moved the deadline) is a conflict (409), not this decision's date being wrong.
    _claim_request(
        ExtensionRequest, request, status=RequestStatus.APPROVED if approve else RequestStatus.REJECTED,
        decided_by=actor, decided_at=now, approved_due=approved_due if approve else None, decision_note=note,
    )
    assignment = workflow.fresh_assignment(request.assignment_id)
    changes = {}
    if approve:
        if approved_due <= assignment.reply_due:
            raise DomainError("批准的期限必须晚于现在的答复期限。", field="approved_due")
        if assignment.reply_due_max and approved_due > assignment.reply_due_max:
            raise DomainError(
                f"批准的期限不能晚于{assignment.reply_due_max:%Y年%m月%d日}（交办后最长期限）。", field="approved_due"
            )
        changes["reply_due"] = approved_due
    workflow.perform(
        assignment, "decide_extension", actor, reason=note, now=now, changes=changes,
        payload={"request": request.pk, "approved": approve, "old_due": assignment.reply_due.isoformat(),
                 "new_due": approved_due.isoformat() if approve else None},
    )
    return request


@transaction.atomic
def assignment_rehandle(*, assignment: Assignment, actor, reason: str, now=None) -> Assignment:
    """Reopen an item rated 不满意 for a new round with a new deadline (重新办理)."""
    now = now or timezone.now()
    workflow.check(assignment, "rehandle", actor, reason=reason)
    rated_at = (Feedback.objects.filter(assignment=assignment, round=assignment.round, result="unsatisfied")
                .order_by("submitted_at").values_list("submitted_at", flat=True).first())
    if rated_at is None:
        raise DomainError("只有办理结果被测评为“不满意”的事项才能重新办理。")
    # Counted from the 不满意 rating, as the to-do lists show it: taking 重新办理 late does not buy more time.
    new_due = deadlines.RehandleDeadlines().due(assignment.proposal.session, assignment.proposal.kind,
                                                min(_today(rated_at), _today(now)))
    return workflow.perform(
        assignment, "rehandle", actor, reason=reason, now=now,
        changes={"round": F("round") + 1, "reply_due": new_due, "feedback_due": None, "replied_at": None},
        payload={"round": assignment.round + 1, "reply_due": new_due.isoformat(),
                 "previous_reply_due": assignment.reply_due.isoformat() if assignment.reply_due else None},
    )


@transaction.atomic
def assignment_close(*, assignment: Assignment, actor, reason: str = "", now=None) -> Assignment:
    """Close a replied item (办结): after all proposers rated, or after the feedback deadline passed."""
    now = now or timezone.now()
    workflow.check(assignment, "close", actor, reason=reason)
    if assignment.state == AssignmentState.REPLIED:
        if assignment.feedback_due and _today(now) <= assignment.feedback_due:
            raise DomainError(
                f"提案人测评期限（{assignment.feedback_due:%Y年%m月%d日}）未到，尚有提案人未测评，暂不能办结。"
            )
    unsatisfied = Feedback.objects.filter(assignment=assignment, round=assignment.round, result="unsatisfied").exists()
    if unsatisfied:
        # Closing an item a proposer rated 不满意 without re-handling it is the assigning office's decision,
        # with its reason on record (e.g. already explained in person, objective limits) — never the unit's.
        if not access.may_close_unsatisfied(actor, assignment):
            raise PermissionDenied("有提案人测评为“不满意”，应重新办理；如确需按现状办结，须由交办机构决定并说明理由。")
        if not (reason or "").strip():
            raise DomainError("有提案人测评为“不满意”，请重新办理；如确需按现状办结，须填写理由（如已当面说明、受客观条件限制）。",
                              field="reason")
    return workflow.perform(assignment, "close", actor, reason=reason, now=now, changes={"closed_at": now},
                            payload={"closed_as_is": True} if unsatisfied else None)


@transaction.atomic
def assignment_withdraw(*, assignment: Assignment, actor, reason: str, now=None) -> Assignment:
    """The assigning office takes an assignment back (e.g. assigned by mistake)."""
    return workflow.perform(assignment, "withdraw", actor, reason=reason, now=now or timezone.now())


# --- the holiday calendar (years the calendar package does not know yet) --------------------------------------

# Stored deadlines counted in working days, which a change of the calendar moves while they are still ahead:
# (step, field, field the count starts from, states that still owe it, assignment roles).
RECOUNTED_DEADLINES = (
    (DeadlineStep.SIGN, "sign_due", "assigned_at", ("pending_sign",), workflow.ALL_ROLES),
    (DeadlineStep.ADJUST, "adjust_due", "assigned_at", ("pending_sign", "signed"), workflow.ALL_ROLES),
    (DeadlineStep.CO_OPINION, "opinion_due", "assigned_at", workflow.OPEN_STATES, ("co",)),
    (DeadlineStep.REPLY, "reply_due", "assigned_at", workflow.OPEN_STATES, workflow.ANSWERING),
    (DeadlineStep.FEEDBACK, "feedback_due", "replied_at", ("replied",), workflow.ALL_ROLES),
)


def _require_calendar_editor(actor) -> None:
    if not can_keep_calendar(actor):
        raise PermissionDenied("只有交办机构可以维护节假日安排。")


@transaction.atomic
def holiday_year_set(*, year: int, days, actor, now=None) -> dict:
    """Enter a year's arrangement (the parsed notice), replacing what was entered for that year before.

    All or nothing: the old entries go and the new ones come in one transaction, then the deadlines still
    ahead that are counted in working days are counted again. Returns what changed.
    """
    _require_calendar_editor(actor)
    now = now or timezone.now()
    days = list(days)
    if not days:
        raise DomainError("没有要保存的日期。", field="notice")
    holidays.check_year(year, days)
    removed, _ = HolidayOverride.objects.filter(date__year=year).delete()
    # A worked day of the next year's arrangement may fall at the end of this one (or the other way round).
    HolidayOverride.objects.filter(date__in=[d.date for d in days]).delete()
    HolidayOverride.objects.bulk_create(
        [HolidayOverride(date=d.date, is_workday=d.is_workday, name=d.name[:50]) for d in days])

    forget_calendar()  # bulk_create sends no signal
    recounted = _recount_deadlines(actor, now)
    summary = {"year": year, "holidays": sum(not d.is_workday for d in days), "workdays": sum(d.is_workday for d in days),
               "replaced": removed, "recounted": recounted}
    eventlog.write_event(verb="holiday_calendar", actor=actor, now=now, payload=summary)
    return summary


@transaction.atomic
def holiday_day_set(*, date: dt.date, is_workday: bool, name: str, actor, now=None) -> dict:
    """Enter or correct one day (a holiday the notice added later, a local day off)."""
    _require_calendar_editor(actor)
    now = now or timezone.now()
    if date is None:
        raise DomainError("请填写日期。", field="date")
    HolidayOverride.objects.update_or_create(date=date, defaults={"is_workday": is_workday, "name": (name or "")[:50]})
    recounted = _recount_deadlines(actor, now)
    summary = {"date": date.isoformat(), "is_workday": is_workday, "name": name, "recounted": recounted}
    eventlog.write_event(verb="holiday_calendar", actor=actor, now=now, payload=summary)
    return summary


@transaction.atomic
def holiday_day_delete(*, date: dt.date, actor, now=None) -> dict:
    """Remove one entered day: the package's calendar (or Monday to Friday) counts it again."""
    _require_calendar_editor(actor)
    now = now or timezone.now()
    deleted, _ = HolidayOverride.objects.filter(date=date).delete()
    if not deleted:
        raise DomainError("该日期没有录入过，可能刚被他人删除，请刷新后查看。")
    recounted = _recount_deadlines(actor, now)
    summary = {"date": date.isoformat(), "deleted": True, "recounted": recounted}
    eventlog.write_event(verb="holiday_calendar", actor=actor, now=now, payload=summary)
    return summary


def _recount_deadlines(actor, now) -> int:
    """Count the deadlines still ahead again on the calendar as it now stands; returns how many items moved.

    Only steps whose rule is in working days, only deadlines not yet passed, and a reply deadline only while
    it has not been extended (an approved extension is a date the office chose). Each move is compare-and-set
    on the item's version and written to its event log.
    """
    today = _today(now)
    cal = deadlines.WorkCalendar.load()
    rules: dict[tuple, deadlines.Rule] = {}
    moved: dict[int, dict] = {}
    for step, due_field, start_field, states, roles in RECOUNTED_DEADLINES:
        rows = (Assignment.objects.filter(state__in=states, role__in=roles, **{f"{due_field}__gte": today,
                                                                                  f"{start_field}__isnull": False})
                .select_related("proposal__session"))
        if step == DeadlineStep.REPLY:
            rows = rows.filter(reply_due=F("reply_due_original"))
        for a in rows.iterator(chunk_size=500):
            key = (a.proposal.session_id, a.proposal.kind, step)
            if key not in rules:
                rules[key] = deadlines.rule_for(a.proposal.session, a.proposal.kind, step)
            rule = rules[key]
            if rule.unit != DeadlineUnit.WORKING_DAYS:
                continue
            new = deadlines.apply_rule(rule, timezone.localdate(getattr(a, start_field)), cal)
            old = getattr(a, due_field)
            if new != old and new >= today:
                moved.setdefault(a.pk, {"assignment": a, "changes": {}})["changes"][due_field] = (old, new)
    count = 0
    for pk, item in moved.items():
        a, changes = item["assignment"], item["changes"]
        updates = {f: new for f, (_, new) in changes.items()}
        if "reply_due" in updates:
            updates["reply_due_original"] = updates["reply_due"]
        won = Assignment.objects.filter(pk=pk, version=a.version).update(version=F("version") + 1, updated_at=now,
                                                                       **updates)
        if not won:
            continue  # changed meanwhile: the next change of the calendar counts it again
        count += 1
        eventlog.write_event(verb="deadline_recount", actor=actor, assignment=a, now=now,
                             payload={f: [old.isoformat(), new.isoformat()] for f, (old, new) in changes.items()})
    return count


@transaction.atomic
def assignment_create_many(*, actor, items: list[tuple], now=None) -> list[Assignment]:
    """Hand many proposals to units at once (an imported list): (proposal, unit, role) items, each checked as
    assignment_create checks it, written in one insert with one `assign` event each and the proposals' statuses
    refreshed. Top-level assignments only (a unit handing on inside its subtree uses assignment_create)."""
    now = now or timezone.now()
    today = _today(now)
    proposals = {proposal.pk: proposal for proposal, _, _ in items}
    live: dict[int, list[tuple[int, str]]] = {pk: [] for pk in proposals}
    states: dict[int, list[tuple[str, str]]] = {pk: [] for pk in proposals}
    for proposal_id, unit_id, role, state, parent_id in Assignment.objects.filter(proposal__in=list(proposals)).values_list(
            "proposal_id", "unit_id", "role", "state", "parent_id"):
        states[proposal_id].append((role, state))
        if state != "withdrawn":
            live[proposal_id].append((unit_id, role if parent_id is None else ""))
    roles: dict[int, str] = {}
    due_by_kind: dict[tuple[int, str], dict] = {}
    rows = []
    for proposal, unit, role in items:
        label = f"第{proposal.number}号："
        if role not in AssignmentRole.values:
            raise DomainError(f"{label}未知的办理方式「{role}」，应为主办、会办或分办。", field="role")
        if unit.kind == UnitKind.ASSIGNING_OFFICE:
            raise DomainError(f"{label}「{unit}」是交办机构，不能作为承办单位。", field="unit")
        if not unit.is_active:
            raise DomainError(f"{label}单位「{unit}」已停用，不能交办。", field="unit")
        if proposal.session_id not in roles:
            roles[proposal.session_id] = _check_may_assign(actor, proposal, None, unit)
        if any(unit_id == unit.pk for unit_id, _ in live[proposal.pk]):
            raise DomainError(f"{label}该事项已交办给「{unit}」，不能重复交办。", field="unit")
        if role == AssignmentRole.LEAD and any(r == AssignmentRole.LEAD for _, r in live[proposal.pk]):
            raise DomainError(f"{label}该事项已有主办单位；如需多个单位分别答复，请选择“分办”。", field="role")
        live[proposal.pk].append((unit.pk, role))
        states[proposal.pk].append((role, "pending_sign"))
        key = (proposal.session_id, proposal.kind)
        if key not in due_by_kind:  # one policy lookup per session and kind, not five per assignment
            due_by_kind[key] = deadlines.assignment_deadlines(proposal.session, proposal.kind, today)
        # The ledger's stored columns, as assignment_create keeps them (session, key flag).
        rows.append(Assignment(proposal=proposal, unit=unit, role=role, state=AssignmentState.PENDING_SIGN,
                               assigned_at=now, assigned_by=actor if getattr(actor, "pk", None) else None,
                               session_id=proposal.session_id, key_item=_is_key_item(proposal), **due_by_kind[key]))
    try:
        with transaction.atomic():
            created = Assignment.objects.bulk_create(rows, batch_size=500)
    except IntegrityError as exc:
        raise ConflictError("其中有事项刚刚已被交办，请刷新后重新导入。") from exc
    eventlog.write_events([
        eventlog.build_event(
            verb="assign", actor=actor, actor_role=roles[a.proposal.session_id], assignment=a, to_state="pending_sign",
            payload={"unit": a.unit_id, "unit_name": a.unit.name, "role": a.role, "reply_due": a.reply_due.isoformat(),
                     "parent": None},
            now=now,
        )
        for a in created
    ])
    by_status: dict[str, list[int]] = {}
    for pk, proposal in proposals.items():
        status = workflow.derive_proposal_status(states[pk])
        if status != proposal.status:
            by_status.setdefault(status, []).append(pk)
            proposal.status = status

    for status, pks in by_status.items():
        Proposal.objects.filter(pk__in=pks).update(status=status)
    return created


# --- deadline policies (how each step's due date is counted for a session and kind) ----------------------------


@transaction.atomic
def deadline_policy_set(*, actor, session, kind: str, step: str, unit: str, amount: int = 0,
                        fixed_date: dt.date | None = None, policy=None, exclusive: bool = False):
    """Set how one step's due date is counted for `session` and `kind` (days, working days, months or a fixed
    date). Applies to assignments made from now on; the ones already made keep their dates.
    `policy`: the row to change; `exclusive`: a policy already set for the step is a conflict (the API's create)."""
    if actor is not None and not access.can_set_deadlines(actor, session):
        raise PermissionDenied("只有该届次的交办机构才能设置办理期限规则。")
    if kind not in ProposalKind.values:
        raise DomainError("类型应为提案或建议。", field="kind")
    if step not in DeadlineStep.values:
        raise DomainError(f"未知的环节「{step}」。", field="step")
    if unit not in DeadlineUnit.values:
        raise DomainError(f"未知的计算方式「{unit}」。", field="unit")
    if unit == DeadlineUnit.FIXED_DATE:
        if fixed_date is None:
            raise DomainError("按固定日期计算时须填写固定日期。", field="fixed_date")
        amount = 0
    else:
        fixed_date = None
        if amount is None or not 1 <= amount <= 3650:
            raise DomainError("期限数量应为 1 到 3650 之间的整数。", field="amount")
    fields = {"unit": unit, "amount": amount, "fixed_date": fixed_date}
    label = f"{session.name}{ProposalKind(kind).label}「{DeadlineStep(step).label}」"
    if policy is None:
        existing = DeadlinePolicy.objects.select_for_update().filter(session=session, kind=kind, step=step).first()
        if existing is not None and exclusive:
            raise ConflictError(f"{label}已有期限规则（编号{existing.pk}），请修改该规则。", field="step")
        policy = existing
    else:
        policy = DeadlinePolicy.objects.select_for_update().get(pk=policy.pk)
        if (policy.session_id, policy.kind, policy.step) != (session.pk, kind, step):
            clash = DeadlinePolicy.objects.filter(session=session, kind=kind, step=step).exclude(pk=policy.pk).first()
            if clash is not None:
                raise ConflictError(f"{label}已有期限规则（编号{clash.pk}）。", field="step")
    before = None
    if policy is None:
        with conflict_on_duplicate(f"{label}的期限规则刚刚已由他人设置，请刷新后查看。"):
            policy = DeadlinePolicy.objects.create(session=session, kind=kind, step=step, **fields)
    else:
        before = {"unit": policy.unit, "amount": policy.amount, "fixed_date": str(policy.fixed_date or "")}
        policy.session, policy.kind, policy.step = session, kind, step
        for key, value in fields.items():
            setattr(policy, key, value)
        with conflict_on_duplicate(f"{label}已有期限规则。"):
            policy.save()
    workflow.write_event(verb="deadline_policy_set", actor=actor, payload={
        "policy": policy.pk, "session": session.pk, "kind": kind, "step": step, "before": before,
        "after": {"unit": unit, "amount": amount, "fixed_date": str(fixed_date or "")}})
    return policy
