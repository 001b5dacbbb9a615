"""Reads for the workbench and the ledger. Every function takes the user and starts from banli.core.access.

Each list is one query (rows with what they show joined in) plus one count, whatever the number of rows.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone

from banli.core import access
from banli.handling.choices import FINAL_STATES, AssignmentRole, AssignmentState
from banli.handling.deadlines import Clock, RehandleDeadlines
from banli.handling.models import AdjustmentRequest, Assignment, Event, ExtensionRequest, SectionAssignment
from banli.handling.selectors import role_rank
from banli.handling.workflow import STATES, TRANSITIONS, state_label
from banli.ledger.keyset import ROW_VALUES, LedgerRow, after_key_items, default_order
from banli.workbench.ledger_html import assignment_rows_html
from banli.ledger.selectors import (  # noqa: F401
    due_expression,
    ledger_assignments,
    ledger_page,
    ledger_sessions,
    overdue_q,
)
from banli.organizations.choices import Role
from banli.proposals.models import Proposal, ProposalProposer
from banli.replies.choices import Rating, ReplyState, UnsatisfiedOutcome
from banli.replies.models import Feedback, Reply, ReviewChain
from banli.supervision.models import Supervision
from banli.workbench.models import NotificationCursor

ROW_LIMIT = 50
ANSWERING = (AssignmentRole.LEAD, AssignmentRole.SPLIT)
LIVE_STATES = tuple(s for s in AssignmentState if s not in FINAL_STATES)
PROGRESS_STEPS = [AssignmentState.PENDING_SIGN, AssignmentState.SIGNED, AssignmentState.IN_PROGRESS, AssignmentState.REPLY_REVIEW,
                  AssignmentState.REPLIED, AssignmentState.RATED, AssignmentState.CLOSED]


LIGHT_LABELS = {"red": "已逾期", "yellow": "临近期限", "green": "正常", "none": "无期限"}


def key_item_expression(prefix: str = ""):
    """A key item (重点提案): marked key, or under supervision (督办). `prefix` leads from the row to its assignment."""
    # An uncorrelated IN over the few supervised items, not a lookup per row of the sort.
    supervised = Supervision.objects.values("proposal_id")
    return ExpressionWrapper(Q(**{f"{prefix}proposal__is_key": True}) | Q(**{f"{prefix}proposal_id__in": supervised}),
                             output_field=BooleanField())


def with_rows(qs: QuerySet) -> QuerySet:
    """Join what a row shows: proposal, session, unit, section, handler; annotate the applicable due date.
    Whether the item is a key item (key items come first in every list) is the stored `key_item` column."""
    return qs.select_related("proposal", "proposal__session", "unit", "lead_section", "handler").annotate(
        due=due_expression()
    )


def decorate(rows, clock: Clock) -> list:
    """Attach the traffic light and the state's label/colour (pure Python, no queries)."""
    rows = list(rows)
    for row in rows:
        row.light = clock.light(getattr(row, "due", None))
        row.light_label = LIGHT_LABELS[row.light]
        state = STATES.get(row.state)
        row.state_text = state.label if state else row.state
        row.state_css = state.colour if state else "secondary"
        outcome = getattr(row, "unsatisfied_outcome", "")
        row.unsatisfied_label = UnsatisfiedOutcome(outcome).label if outcome else ""
    return rows


@dataclass
class Section:
    """One list of the workbench: a title, its count and the first rows ordered by due date."""

    key: str
    title: str
    count: int
    rows: list = field(default_factory=list)
    hint: str = ""
    kind: str = "assignments"  # or "adjustments", "extensions", "units", "figures"
    red: int = 0

    @property
    def rows_html(self):
        return assignment_rows_html(self.rows)

    @property
    def idle(self) -> bool:
        """A work list with nothing in it: one line among the others, not an empty table."""
        return self.count == 0 and self.kind in ("assignments", "adjustments", "extensions")


def _section(key, title, qs, clock, *, hint="", narrow_first=False) -> Section:
    """A list's count and its first rows, key items first, then by the current deadline.

    The rows' ids come from the assignment row alone (its indexes, a sort of narrow rows), then the rows of those
    ids with what they show: joining proposal, session, unit and handler to every candidate before the sort cost
    a unit with thousands of co-handled items 20 ms per list. A unit's or a person's lists of what waits for a step
    (`narrow_first`: the unit office's, the handler's returned replies, the leader's, a proposer's), short as a rule, are read narrow first, up to
    SECTION_SORT_HERE rows: their length is the count, one statement less per list (the assigning office's and the
    administrator's province-wide lists are counted first, as reading 5,000 rows to learn there are more cost
    more)."""
    ids = None
    if narrow_first:
        narrow = list(_narrow(qs)[:SECTION_SORT_HERE + 1])
        if len(narrow) <= SECTION_SORT_HERE:
            count, ids = len(narrow), _first_ids(narrow)
    if ids is None:
        count = qs.count()
        ids = _section_ids(qs, count) if count else []
    rows = []
    if count:
        by_id = {row.pk: row for row in _section_rows(ids)}
        rows = decorate([by_id[pk] for pk in ids if pk in by_id], clock)
    red = sum(1 for r in rows if r.light == "red")
    return Section(key=key, title=title, count=count, rows=rows, hint=hint, red=red)


# Up to this many rows a list's first ids are sorted here from its narrow rows (see _section_ids): reading them
# costs about what the list's count has just cost (the same rows through the same indexes).
SECTION_SORT_HERE = 5000


def _section_ids(qs: QuerySet, count: int) -> list[int]:
    """The first ROW_LIMIT ids of a list in the ledger's default order (key items first, then the current deadline,
    then the id).

    A long list reads them from an index in that order (migration handling 0009). A short one is read whole, narrow,
    through the indexes of its filter, and sorted here: given the order and a LIMIT, PostgreSQL walked the whole
    province's order index and dropped the other units' rows (a unit with its sections, 会办意见待送: 28,296 rows
    read for 50, 31-46 ms at a million assignments; its 2,624 rows read and sorted here: 11-17 ms), as an index serves
    that order for one unit only."""
    if count > SECTION_SORT_HERE:
        return list(qs.order_by(*default_order(Assignment)).values_list("pk", flat=True)[:ROW_LIMIT])
    return _first_ids(_narrow(qs))


def _narrow(qs: QuerySet) -> QuerySet:
    """A list's rows as the order needs them: (key item, next deadline, id), unordered."""
    return qs.order_by().values_list("key_item", "next_due", "pk")


def _first_ids(narrow) -> list[int]:
    """The first ROW_LIMIT ids of (key item, next deadline, id) rows in the ledger's default order."""
    ordered = sorted(narrow, key=lambda row: (after_key_items(row[0], row[1]), row[1] or dt.date.max, row[2]))
    return [pk for _key, _due, pk in ordered[:ROW_LIMIT]]


def _section_rows(ids: list[int]) -> list[LedgerRow]:
    """The rows of these ids as the ledger reads them (plain values, not five model instances a row), with the
    rating deadline the proposer's list shows."""
    rows = []
    for values in Assignment.objects.filter(pk__in=ids).values(*ROW_VALUES, "feedback_due"):
        row = LedgerRow.from_values(values)
        row.feedback_due = values["feedback_due"]
        rows.append(row)
    return rows


def _unsatisfied() -> Q:
    """Answered items whose current round a proposer rated 不满意, not yet re-handled or closed: a to-do."""
    rated = Feedback.objects.filter(assignment=OuterRef("pk"), round=OuterRef("round"), result=Rating.UNSATISFIED)
    # Starting from the few 不满意 ratings (an uncorrelated IN on their partial index), not an EXISTS per answered row.
    ever = Feedback.objects.filter(result=Rating.UNSATISFIED).values("assignment_id")
    return Q(pk__in=ever) & Q(Exists(rated), state__in=(AssignmentState.REPLIED, AssignmentState.RATED))


UNSATISFIED_HINT = ("提案人测评为“不满意”：承办单位应在期限内重新办理（期限自测评之日起计算）；"
                    "如确需按现状办结，由交办机构决定并说明理由")


def _unsatisfied_section(base: QuerySet, title: str, clock: Clock) -> Section:
    """Items rated 不满意, each with its re-handling deadline counted from the rating (what 重新办理 will set)."""
    rated_at = Feedback.objects.filter(
        assignment=OuterRef("pk"), round=OuterRef("round"), result=Rating.UNSATISFIED
    ).order_by("submitted_at").values("submitted_at")[:1]
    qs = with_rows(base.filter(_unsatisfied())).annotate(rated_at=Subquery(rated_at))
    count = qs.count()
    rows = list(qs.order_by(F("key_item").desc(), "rated_at", "id")[:ROW_LIMIT]) if count else []
    rehandle = RehandleDeadlines()
    for row in rows:
        row.due = rehandle.due(row.proposal.session, row.proposal.kind, timezone.localdate(row.rated_at))
    rows = decorate(rows, clock)
    return Section(key="unsatisfied", title=title, count=count, rows=rows, hint=UNSATISFIED_HINT,
                   red=sum(1 for r in rows if r.light == "red"))


def office_workbench(user, clock: Clock) -> list[Section]:
    base = access.office_assignments(user)
    ids = access.office_session_ids(user)
    requests_q = Q() if ids is None else Q(assignment__session_id__in=ids)
    sections = [_section("unsigned", "待签收（各单位）", base.filter(state=AssignmentState.PENDING_SIGN), clock, hint="督促承办单位按时签收")]
    adjustments = (
        AdjustmentRequest.objects.filter(requests_q, status="pending")
        .select_related("assignment__proposal", "assignment__unit", "requested_by", "suggested_unit")
        .annotate(key_item=key_item_expression("assignment__"))
        .order_by(F("key_item").desc(), "requested_at", "id")
    )
    sections.append(Section("adjustments", "待审批的调整申请", adjustments.count(), list(adjustments[:ROW_LIMIT]), kind="adjustments"))
    extensions = (
        ExtensionRequest.objects.filter(requests_q, status="pending")
        .select_related("assignment__proposal", "assignment__unit", "requested_by")
        .annotate(key_item=key_item_expression("assignment__"))
        .order_by(F("key_item").desc(), "requested_at", "id")
    )
    sections.append(Section("extensions", "待审批的延期申请", extensions.count(), list(extensions[:ROW_LIMIT]), kind="extensions"))
    by_unit = list(
        base.filter(overdue_q(clock.today)).values("unit_id", "unit__name").annotate(n=Count("*")).order_by("-n", "unit__name")[:ROW_LIMIT]
    )
    sections.append(Section("overdue_units", "逾期事项（按单位）", sum(r["n"] for r in by_unit), by_unit, kind="units", red=len(by_unit)))
    review = base.filter(access.awaiting_office_review_q())
    sections.append(_section("office_review", "待交办机构审核的答复", review, clock))
    sections.append(_unsatisfied_section(base, "测评不满意待处理", clock))
    return sections


def unit_office_workbench(user, clock: Clock) -> list[Section]:
    base = access.handled_assignments(user)
    approved = Reply.objects.filter(assignment=OuterRef("pk"), state=ReplyState.APPROVED)

    def section(key, title, qs):
        return _section(key, title, qs, clock, narrow_first=True)

    return [
        section("to_sign", "待签收", base.filter(state=AssignmentState.PENDING_SIGN)),
        section("to_assign", "待分配承办科室", base.filter(state=AssignmentState.SIGNED)),
        section("to_check", "待核稿的答复", base.filter(access.awaiting_unit_check_q())),
        section("to_send", "已签发待发送", base.filter(state=AssignmentState.REPLY_REVIEW).filter(Exists(approved))),
        section("co_due", "会办意见待送", base.filter(role=AssignmentRole.CO, state__in=(AssignmentState.SIGNED, AssignmentState.IN_PROGRESS))),
        _unsatisfied_section(base, "测评不满意待重新办理", clock),
        section("rehandling", "重新办理", base.filter(state=AssignmentState.REHANDLING)),
    ]


NEXT_STEP = {
    (AssignmentRole.CO, AssignmentState.SIGNED): "等待分配科室",
    (AssignmentRole.CO, AssignmentState.IN_PROGRESS): "撰写并发送会办意见",
    (AssignmentRole.LEAD, AssignmentState.SIGNED): "等待分配科室",
    (AssignmentRole.LEAD, AssignmentState.IN_PROGRESS): "沟通并起草答复",
    (AssignmentRole.LEAD, AssignmentState.REPLY_REVIEW): "答复审核中",
    (AssignmentRole.LEAD, AssignmentState.REHANDLING): "重新办理并再次答复",
    (AssignmentRole.LEAD, AssignmentState.REPLIED): "等待提案人测评，跟踪落实",
    (AssignmentRole.LEAD, AssignmentState.RATED): "跟踪落实，办结",
    (AssignmentRole.LEAD, AssignmentState.PENDING_SIGN): "等待签收",
}


def handler_workbench(user, clock: Clock) -> list[Section]:
    # His items: those he handles, and those whose co-handling section he handles, as an id sub-select (they are
    # few), not a join made distinct: counting the distinct joined rows cost 25-33 ms a list at a million.
    co_handled = SectionAssignment.objects.filter(handler=user).values("assignment_id")
    base = access.handled_assignments(user).filter(Q(handler=user) | Q(pk__in=co_handled))
    mine = base.filter(state__in=(AssignmentState.SIGNED, AssignmentState.IN_PROGRESS, AssignmentState.REPLY_REVIEW, AssignmentState.REHANDLING, AssignmentState.REPLIED, AssignmentState.RATED))
    # All his open items, which may run into thousands: counted first (reading 5,000 rows to learn there are more
    # cost the handler of a unit at a million 26 -> 39 ms).
    section = _section("mine", "我承办的事项", mine, clock)
    for row in section.rows:
        row.next_step = NEXT_STEP.get((AssignmentRole.LEAD if row.role == AssignmentRole.SPLIT else row.role, row.state), "")
    returned = Reply.objects.filter(assignment=OuterRef("pk"), round=OuterRef("round"), state=ReplyState.RETURNED)
    newer = Reply.objects.filter(assignment=OuterRef("pk"), round=OuterRef("round"), state__in=(ReplyState.DRAFT, ReplyState.IN_REVIEW))
    back = _section("returned", "被退回修改的答复", base.filter(state=AssignmentState.IN_PROGRESS).filter(Exists(returned)).exclude(Exists(newer)), clock,
                    narrow_first=True)
    return [section, back]


def leader_workbench(user, clock: Clock) -> list[Section]:
    base = access.handled_assignments(user)
    sections = [_section("to_sign_off", "待审核签发的答复", base.filter(access.awaiting_sign_off_q()), clock, narrow_first=True)]
    co_waiting = base.filter(role=AssignmentRole.CO, state=AssignmentState.IN_PROGRESS).filter(
        access.awaiting_co_opinion_sign_off_q())
    co_section = _section("co_opinion_sign_off", "待审签的会办意见", co_waiting, clock, narrow_first=True,
                          hint="本单位设置会办意见须经领导审签：审签后送主办单位，或写明理由退回修改")
    # Only where the leader's unit has its 会办意见 signed off (or one still waits after the setting was turned off):
    # elsewhere the list and its hint told him of a step his unit does not take.
    if co_section.count or ReviewChain.objects.filter(unit_id__in=access.own_unit_ids(user) or [],
                                                      co_opinion_needs_leader=True).exists():
        sections.append(co_section)
    answering = base.filter(role__in=ANSWERING).exclude(state=AssignmentState.WITHDRAWN)
    figures = answering.aggregate(
        total=Count("id"),
        replied=Count("id", filter=Q(state__in=(AssignmentState.REPLIED, AssignmentState.RATED, AssignmentState.CLOSED))),
        closed=Count("id", filter=Q(state=AssignmentState.CLOSED)),
        overdue=Count("id", filter=overdue_q(clock.today)),
    )
    fb = Feedback.objects.filter(assignment__in=answering.values("pk")).aggregate(
        n=Count("id"), satisfied=Count("id", filter=Q(result="satisfied")), basic=Count("id", filter=Q(result="basic"))
    )
    figures["reply_rate"] = _rate(figures["replied"], figures["total"])
    figures["satisfaction_rate"] = _rate(fb["satisfied"], fb["n"])
    figures["satisfied_or_basic_rate"] = _rate(fb["satisfied"] + fb["basic"], fb["n"])
    figures["ratings"] = fb["n"]
    sections.append(Section("figures", "本单位办理情况", figures["total"], [figures], kind="figures", red=figures["overdue"]))
    return sections


def _rate(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def proposer_assignments(user) -> QuerySet:
    """The assignments of the items the user signed as a proposer (not withdrawn)."""
    mine = ProposalProposer.objects.filter(proposer__user=user).values("proposal_id")
    return Assignment.objects.filter(proposal__in=mine).exclude(state=AssignmentState.WITHDRAWN)


def proposer_workbench(user, clock: Clock) -> list[Section]:
    base = proposer_assignments(user)
    rated = Feedback.objects.filter(assignment=OuterRef("pk"), round=OuterRef("round"), proposer__user=user)
    to_rate = base.filter(role__in=ANSWERING, state=AssignmentState.REPLIED).exclude(Exists(rated))
    to_rate_section = _section("to_rate", "答复待我测评", to_rate, clock, narrow_first=True,
                               hint="请阅读答复后，对办理态度和办理结果作出评价")
    for row in to_rate_section.rows:
        row.progress = progress_percent(row)
    return [to_rate_section, proposer_items(user, base, clock)]


PROPOSER_CARDS = 50  # the proposer's newest items shown as cards; the rest are in the ledger


def proposer_items(user, base: QuerySet, clock: Clock) -> Section:
    """我的提案建议: one card per proposal with its units inside and the proposer's own ratings, not one row
    per unit assignment (the same proposal shown three times). The newest PROPOSER_CARDS items (a member's
    current ones); a member with more finds them all in the ledger, which the page links to."""
    items = Proposal.objects.filter(pk__in=base.values("proposal_id"))
    total = items.count()
    shown = list(items.order_by("-session__year", "-session_id", "number").values_list("pk", flat=True)[:PROPOSER_CARDS])
    base = base.filter(proposal_id__in=shown)
    rows = decorate(with_rows(base).order_by("-proposal__session__year", "proposal__number", role_rank(), "id"), clock)
    ratings: dict[int, list] = {}
    for fb in Feedback.objects.filter(assignment__in=base.values("pk"), proposer__user=user).order_by("round", "id"):
        ratings.setdefault(fb.assignment_id, []).append(fb)
    cards: dict[int, dict] = {}
    for row in rows:
        row.progress = progress_percent(row)
        row.my_ratings = ratings.get(row.pk, [])
        card = cards.setdefault(row.proposal_id, {"proposal": row.proposal, "units": [], "key_item": False})
        card["units"].append(row)
        card["key_item"] = card["key_item"] or row.key_item
    for card in cards.values():
        answering = [u for u in card["units"] if u.role in ANSWERING] or card["units"]
        card["progress"] = min(u.progress for u in answering)
    ordered = sorted(cards.values(), key=lambda c: (not c["key_item"],))
    return Section(key="my_items", title="我的提案建议", count=total, rows=ordered, kind="proposals",
                   hint=f"共 {total} 件，显示最近的 {len(ordered)} 件；全部见台账" if total > len(ordered) else "")


def progress_percent(assignment) -> int:
    if assignment.state in (AssignmentState.CLOSED, AssignmentState.OPINION_SENT):
        return 100
    if assignment.role == AssignmentRole.CO:
        return {AssignmentState.PENDING_SIGN: 10, AssignmentState.ADJUSTMENT_REQUESTED: 10, AssignmentState.SIGNED: 30,
                AssignmentState.IN_PROGRESS: 60}.get(assignment.state, 0)
    state = AssignmentState.IN_PROGRESS if assignment.state == AssignmentState.REHANDLING else assignment.state
    if state not in PROGRESS_STEPS:
        return 5
    return int(100 * (PROGRESS_STEPS.index(state) + 1) / len(PROGRESS_STEPS))


def admin_workbench(user, clock: Clock) -> list[Section]:
    base = Assignment.objects.exclude(state=AssignmentState.WITHDRAWN)
    return [_section("overdue", "全部逾期事项", base.filter(overdue_q(clock.today)), clock)]


# The home page of each role (display only: what each section lists is restricted through banli.core.access).
HOME_TEMPLATES = {Role.PROPOSER: "workbench/home_proposer.html"}

WORKBENCHES = {
    Role.ASSIGNING_OFFICE: office_workbench,
    Role.UNIT_OFFICE: unit_office_workbench,
    Role.HANDLER: handler_workbench,
    Role.LEADER: leader_workbench,
    Role.PROPOSER: proposer_workbench,
    Role.ADMIN: admin_workbench,
}


def workbench_for(user, role: str, clock: Clock | None = None) -> list[Section]:
    """The sections of `role`'s workbench for `user` (the role must be one of his grants)."""
    clock = clock or Clock.now()
    if not access.may_act_as(user, role):
        return []
    return WORKBENCHES[role](user, clock)


# --- the proposal page ------------------------------------------------------------------------

def proposal_timeline(user, proposal, assignments) -> list:
    """The proposal's events the user may see, oldest first (rules in access.visible_events)."""
    events = Event.objects.filter(proposal=proposal).select_related("actor", "assignment__unit").order_by("created_at", "id")
    return label_events(access.visible_events(user, proposal, assignments, events))


def label_events(events) -> list:
    """Attach the Chinese names of each event's action and new state."""
    events = list(events)
    for event in events:
        transition = TRANSITIONS.get(event.verb)
        event.verb_label = EVENT_LABELS.get(event.verb) or (transition.label if transition else event.verb)
        if event.verb in MERGE_LABELS:
            event.verb_label = _merge_label(event)
        event.to_state_label = state_label(event.to_state) if event.to_state else ""
    return events


EVENT_LABELS = {
    "register": "登记", "assign": "交办", "reply_draft": "保存答复草稿", "proposal_update": "修改登记信息",
    "record_feedback": "提交测评", "complete_feedback": "全部提案人已测评", "approve_reply": "审核同意",
    "reply_delivered": "答复函送达提案人", "reply_published": "答复公开发布", "import_list": "导入交办清单",
    "urge": "催办", "note": "备注", "supervise": "列为重点督办", "supervision_note": "督办记录",
    "commitment_progress": "落实进展", "draft_comment": "核稿意见", "feedback_callback": "测评回访",
    "merge": "并案办理", "unmerge": "取消并案",
    "deadline_recount": "按新录入的节假日安排重新计算期限", "publication_withdrawn": "撤回公开答复",
}
# 并案 events name the other item of the pair: "本件并入第N号" on the item, "第N号并入本件" on the head.
MERGE_LABELS = {
    "merge": ("并案办理：本件并入第{}号", "并案办理：第{}号并入本件"),
    "unmerge": ("取消并案：本件不再并入第{}号", "取消并案：第{}号不再并入本件"),
}


def _merge_label(event) -> str:
    payload = event.payload or {}
    as_item, as_head = MERGE_LABELS[event.verb]
    if payload.get("role") == "item" and payload.get("head_number"):
        return as_item.format(payload["head_number"])
    if payload.get("role") == "head" and payload.get("item_number"):
        return as_head.format(payload["item_number"])
    return EVENT_LABELS[event.verb]


# --- notifications ----------------------------------------------------------------------------

NOTIFICATION_LIMIT = 100
NOTIFICATION_SCAN = 500  # events read to build the grouped list (newest first)
# Unread means new: what happened more than two weeks ago is listed, but no longer counted or marked as new
# (a clerk starting on a running session would otherwise meet every past step of every item as unread).
NOTIFICATION_FRESH_DAYS = 14

# What each side is told of: what needs its action or its attention, not every step of every item.
OFFICE_NOTICE_VERBS = frozenset({
    "request_adjustment", "request_extension", "send_reply", "complete_feedback", "rehandle", "close",
    "publication_withdrawn",
})
UNIT_NOTICE_VERBS = frozenset({
    "assign", "approve_adjustment", "reject_adjustment", "decide_extension", "assign_section", "reassign_section",
    "submit_reply", "approve_reply", "return_reply", "send_reply", "record_feedback", "complete_feedback",
    "rehandle", "close", "urge", "supervise", "supervision_note", "draft_comment", "merge", "unmerge",
    "publication_withdrawn", "submit_co_opinion", "approve_co_opinion", "return_co_opinion",
})
# The filters of the notification centre: a kind groups verbs as a clerk thinks of them.
NOTICE_KINDS = {
    "assign": ("交办与调整", {"register", "assign", "sign", "request_adjustment", "approve_adjustment",
                              "reject_adjustment", "assign_section", "reassign_section", "merge", "unmerge"}),
    "reply": ("答复与审核", {"submit_reply", "approve_reply", "return_reply", "send_reply", "draft_comment",
                             "publication_withdrawn", "send_co_opinion", "submit_co_opinion", "approve_co_opinion",
                             "return_co_opinion"}),
    "rating": ("测评与办结", {"record_feedback", "complete_feedback", "rehandle", "close"}),
    "supervision": ("督办与期限", {"urge", "supervise", "supervision_note", "request_extension", "decide_extension"}),
}


def notification_branches(user) -> list[QuerySet]:
    """The events that concern the user, made by someone else, as separate querysets each of which an index
    serves newest first: one per own unit that holds assignments (the unit copied on each event row, index
    (unit, id)), the proposal-level events of the unit's items, the office's and the proposer's. A single OR of
    them made PostgreSQL collect a unit's every event (400,000 at a million assignments) before keeping the
    newest 500."""
    branches = []
    if access.is_unit_staff(user):
        for unit_id in access.own_units_with_assignments(user):
            branches.append(Event.objects.filter(unit_id=unit_id, verb__in=UNIT_NOTICE_VERBS))
        handled = access.handled_assignments(user)
        branches.append(Event.objects.filter(proposal__in=handled.values("proposal_id"), assignment__isnull=True,
                                             verb__in=access.UNIT_PROPOSAL_EVENT_VERBS))
    if access.is_office(user):
        ids = access.office_session_ids(user)  # None: every session, no filter on the assignment
        mine = Q(assignment__isnull=False) if ids is None else Q(assignment__session_id__in=ids)
        branches.append(Event.objects.filter(mine, verb__in=OFFICE_NOTICE_VERBS))
    if access.is_proposer(user):
        mine = ProposalProposer.objects.filter(proposer__user=user).values("proposal_id")
        branches.append(Event.objects.filter(proposal__in=mine, verb__in=access.PROPOSER_EVENT_VERBS))
    return [branch.exclude(actor=user) for branch in branches]


def newest_notification_ids(user, n: int, *, since=None, **filters) -> list[int]:
    """The ids of the newest `n` notification events (with `filters`; from `since` on, if given), each branch read
    newest first on its own index and the lists merged.

    Limited to a time window (`since`: the unread ones), each branch is read newest first by time, so
    that the window bounds the read: by id, PostgreSQL walked the primary key back from the newest row and read
    past the window's start wherever ids do not follow time (rows imported or generated out of order), 0.2 s for a
    unit at a million assignments (see the badge); by time, a unit's branch reads its index (unit, created_at) from
    the newest row down to the window's start at most. Within a window the two orders agree where ids follow time."""
    order = ("-id",)
    if since is not None:
        filters["created_at__gte"] = since
        order = ("-created_at", "-id")
    ids: set[int] = set()
    for branch in notification_branches(user):
        ids.update(branch.filter(**filters).order_by(*order).values_list("pk", flat=True)[:n])
    return sorted(ids, reverse=True)[:n]


def _fresh_since():
    return timezone.now() - dt.timedelta(days=NOTIFICATION_FRESH_DAYS)


def _cursor(user) -> int:
    return NotificationCursor.objects.filter(user=user).values_list("last_seen_event_id", flat=True).first() or 0


def unread_count(user) -> int:
    """Unread notifications as the centre lists them: one per item and day among the newest NOTIFICATION_SCAN
    unread events (the centre reads no more), up to NOTIFICATION_LIMIT. Reading the newest first lets the
    database stop after those events instead of grouping a fortnight of a province's events."""
    ids = newest_notification_ids(user, NOTIFICATION_SCAN, since=_fresh_since(), pk__gt=_cursor(user))
    rows = Event.objects.filter(pk__in=ids).values_list("proposal_id", "created_at") if ids else []
    zone = timezone.get_current_timezone()
    return min(len({(proposal, at.astimezone(zone).date()) for proposal, at in rows}), NOTIFICATION_LIMIT)


BADGE_SECONDS = 30


def badge_count(user) -> int:
    """unread_count for the menu's badge, which every page loads: kept BADGE_SECONDS per user and read position
    (marking read shows at once; a new notification within that time). A unit of a province's instance paid
    0.37 s of database time for it on every page."""
    key = f"notification-badge:{user.pk}:{_cursor(user)}"
    count = cache.get(key)
    if count is None:
        count = unread_count(user)
        cache.set(key, count, BADGE_SECONDS)
    return count


@dataclass
class NoticeItem:
    """The item a notification group names (its link and title)."""

    pk: int
    number: str
    title: str


@dataclass
class Notice:
    """One event as the notification centre shows it: read as plain values, not as an event with its actor, item
    and unit loaded as models (four models a row for 500 rows were a third of the page's time at a million)."""

    pk: int
    verb: str
    to_state: str
    reason: str
    payload: dict | None
    created_at: dt.datetime
    proposal_id: int | None
    assignment_id: int | None
    unit_id: int | None
    unit_name: str
    actor_label: str
    time: str = ""
    unread: bool = False
    verb_label: str = ""
    to_state_label: str = ""


NOTICE_VALUES = ("pk", "verb", "to_state", "reason", "payload", "created_at", "proposal_id", "assignment_id", "unit_id",
                 "unit__name", "actor__display_name", "actor__username", "proposal__number", "proposal__title")


@dataclass
class NoticeGroup:
    """One entry of the notification centre: what happened to one item on one day."""

    proposal: NoticeItem | None
    day: dt.date
    events: list
    unread: bool = False

    @property
    def latest(self):
        return self.events[0]


def notifications(user, *, unread_only: bool = False, kind: str = "") -> list[NoticeGroup]:
    """The user's notifications grouped per item and day, newest first; optionally only unread or one kind."""
    cursor, fresh = _cursor(user), _fresh_since()
    filters = {"pk__gt": cursor} if unread_only else {}
    if kind in NOTICE_KINDS:
        filters["verb__in"] = NOTICE_KINDS[kind][1]
    ids = newest_notification_ids(user, NOTIFICATION_SCAN, since=fresh if unread_only else None, **filters)
    # What the list shows of each event, its actor, item and unit (the unit copied on the row): not the item's
    # body or the assignment's columns, for 500 rows.
    values = Event.objects.filter(pk__in=ids).order_by("-id").values_list(*NOTICE_VALUES) if ids else []
    groups: dict[tuple, NoticeGroup] = {}
    zone = timezone.get_current_timezone()
    for (pk, verb, to_state, reason, payload, created_at, proposal_id, assignment_id, unit_id, unit_name,
         actor_name, actor_username, number, title) in values:
        local = created_at.astimezone(zone)
        day = local.date()
        group = groups.get((proposal_id, day))
        if group is None:
            if len(groups) >= NOTIFICATION_LIMIT:
                continue
            item = NoticeItem(pk=proposal_id, number=number, title=title) if proposal_id else None
            group = groups[(proposal_id, day)] = NoticeGroup(proposal=item, day=day, events=[])
        row = Notice(pk=pk, verb=verb, to_state=to_state, reason=reason, payload=payload, created_at=created_at,
                     proposal_id=proposal_id, assignment_id=assignment_id, unit_id=unit_id, unit_name=unit_name or "",
                     actor_label=actor_name or actor_username or "", time=local.strftime("%H:%M"),
                     unread=pk > cursor and created_at >= fresh)
        group.events.append(row)
        group.unread = group.unread or row.unread
    # Newest first by when it happened: the same as by id wherever events are written as they happen, but history
    # written afterwards with its own dates (the demo's, an import of past years) arrives out of order, and the
    # list jumped between August, July and December.
    ordered = sorted(groups.values(), key=lambda g: max((e.created_at, e.pk) for e in g.events), reverse=True)
    for group in ordered:
        group.events.sort(key=lambda e: (e.created_at, e.pk), reverse=True)
        label_events(group.events)
    return ordered
