"""The figures (DESIGN.md §5), defined once: Chinese name, the formula as shown on the page, and the items counted.

Each figure is a count, a rate or an average over one kind of record — assignments (交办), ratings (测评, one per
proposer) or commitments (落实事项). Its numerator and denominator are Q objects over that record, so the same
definition both feeds one aggregate query per record kind and filters the list of items a figure counts.
Computing every figure for any slice therefore costs a small constant number of queries, whatever the size.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Callable

from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from banli.core.access import report_scope, report_scope_q
from banli.core.errors import DomainError
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment, ContactRecord, ExtensionRequest
from banli.handling.workflow import OPEN_STATES, STATES
from banli.organizations.models import Unit
from banli.replies.models import Commitment, Feedback, Reply
from banli.replies.selectors import first_round_unsatisfied_q, unsatisfied_outcome_expression

ASSIGNMENT, RATING, COMMITMENT = "assignment", "rating", "commitment"
RECORD_LABELS = {ASSIGNMENT: "交办事项", RATING: "测评（按提案人计）", COMMITMENT: "落实事项"}
ANSWERING_ROLES = (AssignmentRole.LEAD, AssignmentRole.SPLIT)


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of `day` in the configured time zone (dates are local, timestamps are stored in UTC)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


# --- slices ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slice:
    """Which assignments a set of figures covers. Every field is optional; empty means "all"."""

    session_id: int | None = None
    kind: str = ""
    unit_id: int | None = None
    unit_path: str = ""  # filled by `resolve()` from unit_id
    unit_ids: tuple = ()  # the unit and its subtree, filled by `resolve()` (with_subunits)
    handed_on: bool = True  # whether the subtree's items may have been handed on inside it (filled by `resolve()`)
    with_subunits: bool = True
    section_id: int | None = None
    role: str = ""
    category: str = ""
    key_only: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    as_of: dt.date | None = None  # "today" for overdue items and commitments due; defaults to today
    # Who reads (banli.core.access.report_scope): None means unrestricted (internal use, tests, scoring).
    scope: tuple | None = None

    def resolve(self) -> "Slice":
        """Fill the unit's materialised path, its subtree's ids and whether items were handed on inside it (one
        query when a unit is given)."""
        if self.unit_id and not self.unit_path:
            # The unit's path and its subtree's ids in one query (units are few): with them the slice filters the
            # assignment row itself (`unit_id IN (…)`, which its indexes serve), where a join to the units by path
            # read every assignment of a session (a unit's score page at a million assignments: 0.46 -> 0.37 s).
            # Whether any of the subtree's items was handed on at all (rare: the parent column is almost always
            # empty, and its index finds the few that are not) rides along: where none was, the slice needs no
            # join to the parent assignment, which made PostgreSQL hash every assignment for a unit's summary.
            path = Unit.objects.filter(pk=self.unit_id).values("path")[:1]
            handed = Exists(Assignment.objects.filter(parent__isnull=False, unit_id=OuterRef("pk")))
            subtree = {pk: (unit_path, on) for pk, unit_path, on in Unit.objects.filter(path__startswith=Subquery(path))
                       .annotate(handed=handed).values_list("pk", "path", "handed")}
            if self.unit_id not in subtree:
                return replace(self, unit_path="/nonexistent/")
            return replace(self, unit_path=subtree[self.unit_id][0], unit_ids=tuple(sorted(subtree)),
                           handed_on=any(on for _path, on in subtree.values()))
        return self

    @property
    def today(self) -> dt.date:
        return self.as_of or timezone.localdate()

    def q(self, prefix: str = "") -> Q:
        """The slice as a Q over Assignment, reached from another model through `prefix` (e.g. "assignment__")."""
        if self.unit_id and self.with_subunits and not self.unit_path:
            return self.resolve().q(prefix)  # the subtree's ids are what the slice filters by
        p = prefix
        q = ~Q(**{f"{p}state": AssignmentState.WITHDRAWN})
        if self.scope is not None:
            allowed = report_scope_q(self.scope, p)
            if allowed is not None:
                q &= allowed
        if self.session_id:
            q &= Q(**{f"{p}session_id": self.session_id})  # kept on the assignment row: no join to proposals
        if self.kind:
            q &= Q(**{f"{p}proposal__kind": self.kind})
        if self.unit_id:
            if not self.with_subunits:
                q &= Q(**{f"{p}unit_id": self.unit_id})
            else:
                q &= Q(**{f"{p}unit_id__in": self.unit_ids})  # none for a unit that does not exist: no rows
                if self.handed_on:
                    # An item a unit hands on inside its subtree is counted once, at the unit it was handed to.
                    q &= ~Q(**{f"{p}parent__unit_id__in": self.unit_ids}) | Q(**{f"{p}parent__isnull": True})
        else:
            q &= Q(**{f"{p}parent__isnull": True})
        if self.section_id:
            q &= Q(**{f"{p}lead_section_id": self.section_id})
        if self.role:
            q &= Q(**{f"{p}role": self.role})
        if self.category:
            q &= Q(**{f"{p}proposal__category": self.category})
        if self.key_only:
            q &= Q(**{f"{p}proposal__is_key": True})
        if self.date_from:
            q &= Q(**{f"{p}assigned_at__gte": _day_start(self.date_from)})
        if self.date_to:
            q &= Q(**{f"{p}assigned_at__lt": _day_start(self.date_to + dt.timedelta(days=1))})
        return q

    def for_user(self, user) -> "Slice":
        """The slice limited to what `user` may read (see banli.core.access.report_scope)."""
        return replace(self, scope=report_scope(user))

    def as_params(self) -> dict:
        """Query-string parameters that rebuild this slice (for links to item lists and exports)."""
        out = {}
        for name in ("session_id", "kind", "unit_id", "section_id", "role", "category", "date_from", "date_to", "as_of"):
            value = getattr(self, name)
            if value:
                out[name.replace("_id", "")] = value.isoformat() if isinstance(value, dt.date) else value
        if self.unit_id and not self.with_subunits:
            out["subunits"] = "0"
        if self.key_only:
            out["key"] = "1"
        return out


def slice_from_params(params) -> Slice:
    """Build a slice from request parameters; bad values raise DomainError naming the parameter."""
    def _int(name):
        raw = (params.get(name) or "").strip()
        if not raw:
            return None
        try:
            return int(raw)
        except ValueError:
            raise DomainError(f"参数 {name} 应为数字编号，收到「{raw}」。", field=name) from None

    def _date(name):
        raw = (params.get(name) or "").strip()
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise DomainError(f"参数 {name} 应为日期（如 2025-06-30），收到「{raw}」。", field=name) from None

    role = (params.get("role") or "").strip()
    if role and role not in (AssignmentRole.LEAD, AssignmentRole.CO, AssignmentRole.SPLIT):
        raise DomainError("参数 role 应为 lead（主办）、co（会办）或 split（分办）。", field="role")
    return Slice(
        session_id=_int("session"), kind=(params.get("kind") or "").strip(), unit_id=_int("unit"),
        with_subunits=(params.get("subunits") or "1") != "0", section_id=_int("section"), role=role,
        category=(params.get("category") or "").strip(), key_only=(params.get("key") or "") in ("1", "true", "on"),
        date_from=_date("date_from"), date_to=_date("date_to"), as_of=_date("as_of"),
    )


# --- the record sets each figure is built from ---------------------------------------------------

ANSWERING = Q(role__in=ANSWERING_ROLES)
REPLIED = ANSWERING & Q(replied_at__isnull=False)
# The reply is on time when sent on or before the reply deadline in force, which an approved extension moves.
ON_TIME = REPLIED & Q(replied_at__date__lte=F("reply_due"))
LATE = REPLIED & Q(replied_at__date__gt=F("reply_due"))
CLOSED = Q(role__in=ANSWERING_ROLES, state=AssignmentState.CLOSED) | Q(role=AssignmentRole.CO, state=AssignmentState.OPINION_SENT)


def _contact_before_reply() -> Q:
    replied_on = TruncDate(ExpressionWrapper(OuterRef("replied_at"), output_field=DateTimeField()))
    # One correlated lookup per item: a contact on or before the reply date, or any contact while not answered yet.
    contacts = ContactRecord.objects.filter(assignment=OuterRef("pk")).filter(
        Q(contacted_on__lte=replied_on) | Q(assignment__replied_at__isnull=True))
    return ANSWERING & Exists(contacts)


def reply_due_on(day: dt.date):
    """The reply deadline in force on `day`, from the stored history: the deadline of the last extension approved
    by the end of that day, else the deadline set when the item was assigned (reply_due_original; reply_due for
    rows without it). Today's reply_due already holds every extension approved so far."""

    approved = (ExtensionRequest.objects.filter(assignment=OuterRef("pk"), status="approved",
                                                 decided_at__lt=_day_start(day + dt.timedelta(days=1)))
                .order_by("-decided_at", "-id").values("approved_due")[:1])
    return Coalesce(Subquery(approved), "reply_due_original", "reply_due")


def overdue_on(day: dt.date) -> Q:
    """Lead/split items overdue at the end of `day`: assigned by then, not answered by then, and past the reply
    deadline in force that day (an extension approved later does not move it back). On today itself this is
    the stored columns alone: not answered, an open state, past reply_due."""
    if day >= timezone.localdate():
        return ANSWERING & Q(replied_at__isnull=True, reply_due__lt=day, state__in=OPEN_STATES)
    day_end = _day_start(day + dt.timedelta(days=1))
    answered_later = Q(replied_at__gte=day_end)  # answered after that day: it was still owed then
    return ANSWERING & Q(assigned_at__lt=day_end) & (
        Q(replied_at__isnull=True, state__in=OPEN_STATES) | answered_later
    ) & Q(pk__in=_due_before(day))


def _due_before(day: dt.date):
    """The ids of items whose reply deadline in force on `day` was before it (as an IN, so the aggregates'
    filters can hold it)."""
    # extensions only move the deadline later: one in force before `day` means an original one before it
    return (Assignment.objects.filter(Q(reply_due_original__lt=day) | Q(reply_due_original__isnull=True),
                                      role__in=ANSWERING_ROLES)
            .annotate(due_then=reply_due_on(day)).filter(due_then__lt=day).values("pk"))


def _overdue(sl: Slice) -> Q:
    """Lead/split items past their reply deadline and not answered yet, on the slice's date (see overdue_on)."""
    return overdue_on(sl.today)


def _commitments_due(sl: Slice) -> Q:
    return Q(target_date__lte=sl.today) | Q(state="done")


FINAL_ROUND = Q(round=F("assignment__round"))


@dataclass(frozen=True)
class Figure:
    """One figure: a count, a rate (numerator ÷ denominator, in %) or an average (days)."""

    key: str
    name: str
    formula: str
    record: str = ASSIGNMENT
    kind: str = "count"  # count | rate | average
    numerator: Callable[[Slice], Q] | Q = field(default_factory=Q)
    denominator: Callable[[Slice], Q] | Q | None = None
    average_of: tuple[str, str] | None = None  # (later field, earlier field) for averages in days
    unit: str = "件"

    def num_q(self, sl: Slice) -> Q:
        return self.numerator(sl) if callable(self.numerator) else self.numerator

    def den_q(self, sl: Slice) -> Q | None:
        if self.denominator is None:
            return None
        return self.denominator(sl) if callable(self.denominator) else self.denominator


_ALL = Q()
_SAT = Q(result="satisfied")
_SAT_OR_BASIC = Q(result__in=["satisfied", "basic"])

FIGURES: dict[str, Figure] = {
    f.key: f
    for f in [
        Figure("assigned", "交办件数", "本范围内交办的事项（不含已撤回的；单位内再交办的只计一次）", numerator=_ALL),
        Figure("lead_count", "主办件数", "办理方式为主办的交办事项", numerator=Q(role=AssignmentRole.LEAD)),
        Figure("split_count", "分办件数", "办理方式为分办的交办事项", numerator=Q(role=AssignmentRole.SPLIT)),
        Figure("co_count", "会办件数", "办理方式为会办（协办）的交办事项", numerator=Q(role=AssignmentRole.CO)),
        Figure("key_led", "主办（分办）重点提案件数", "主办或分办的重点提案（建议）", numerator=ANSWERING & Q(proposal__is_key=True)),
        Figure("signed", "已签收件数", "已签收的交办事项", numerator=Q(signed_at__isnull=False)),
        Figure("replied", "已答复件数", "已发出答复函的主办、分办件（重新办理中的以新一轮答复为准）", numerator=REPLIED),
        Figure("reply_rate", "答复率", "已答复的主办、分办件 ÷ 主办、分办件", kind="rate", numerator=REPLIED,
               denominator=ANSWERING),
        Figure("on_time_rate", "按时办结率",
               "在答复期限（经批准延期的，以批准后的期限为准）当日或之前答复的主办、分办件 ÷ 主办、分办件",
               kind="rate", numerator=ON_TIME, denominator=ANSWERING),
        Figure("late", "逾期答复件数", "答复日期晚于答复期限的主办、分办件", numerator=LATE),
        Figure("overdue", "超期未答复件数", "截至统计日已过答复期限仍未答复的主办、分办件", numerator=_overdue),
        Figure("close_rate", "办结率", "已办结的交办件（主办、分办件已办结，会办件已送会办意见）÷ 全部交办件", kind="rate",
               numerator=CLOSED, denominator=_ALL),
        Figure("contact_rate", "沟通率", "答复前有沟通记录（电话、当面、座谈、走访等）的主办、分办件 ÷ 主办、分办件",
               kind="rate", numerator=lambda sl: _contact_before_reply(), denominator=ANSWERING),
        Figure("ratings", "收到测评数", "提案人逐人提交的测评（重新办理的只计最后一轮）", record=RATING, numerator=_ALL,
               unit="份"),
        Figure("satisfaction_rate", "满意率",
               "办理结果评为“满意”的测评 ÷ 收到的测评（按提案人逐人计；重新办理的以最后一轮为准；未测评的不计为满意）",
               record=RATING, kind="rate", numerator=_SAT, denominator=_ALL),
        Figure("basic_satisfaction_rate", "满意及基本满意率",
               "办理结果评为“满意”或“基本满意”的测评 ÷ 收到的测评（口径同满意率）", record=RATING, kind="rate",
               numerator=_SAT_OR_BASIC, denominator=_ALL),
        Figure("unsatisfied", "不满意测评数", "办理结果评为“不满意”的测评（最后一轮）", record=RATING,
               numerator=Q(result="unsatisfied"), unit="份"),
        Figure("awaiting_rating", "待测评件数", "已答复、尚有提案人未测评的主办、分办件", numerator=ANSWERING & Q(state=AssignmentState.REPLIED)),
        Figure("commitments_due", "到期落实事项", "完成时限已到或已落实的承诺事项", record=COMMITMENT,
               numerator=_commitments_due),
        Figure("fulfilment_rate", "落实率", "已落实的承诺事项 ÷ 到期的承诺事项（完成时限已到或已落实）", record=COMMITMENT,
               kind="rate", numerator=Q(state="done"), denominator=_commitments_due),
        Figure("avg_days_to_sign", "平均签收用时", "已签收事项从交办到签收的平均天数", kind="average",
               numerator=Q(signed_at__isnull=False), average_of=("signed_at", "assigned_at"), unit="天"),
        Figure("avg_days_to_reply", "平均答复用时", "已答复的主办、分办件从交办到答复的平均天数", kind="average",
               numerator=REPLIED, average_of=("replied_at", "assigned_at"), unit="天"),
    ]
}

RATES = [k for k, f in FIGURES.items() if f.kind == "rate"]


def record_queryset(record: str, sl: Slice) -> QuerySet:
    """All records of one kind inside the slice (before a figure's own condition)."""
    if record == ASSIGNMENT:
        return Assignment.objects.filter(sl.q())
    if record == RATING:
        return Feedback.objects.filter(sl.q("assignment__")).filter(FINAL_ROUND)
    return Commitment.objects.filter(sl.q("assignment__"))


def items(figure: Figure, sl: Slice, part: str = "numerator") -> QuerySet:
    """The records a figure counts (its numerator, or its denominator for a rate)."""
    q = figure.den_q(sl) if part == "denominator" and figure.den_q(sl) is not None else figure.num_q(sl)
    return record_queryset(figure.record, sl).filter(q)


# --- computing -----------------------------------------------------------------------------------


@dataclass
class Value:
    """A figure's value in one slice, with its numerator and denominator."""

    figure: Figure
    numerator: int = 0
    denominator: int | None = None
    average: float | None = None

    @property
    def value(self) -> float | int | None:
        f = self.figure
        if f.kind == "rate":
            if not self.denominator:
                return None
            return round(100.0 * self.numerator / self.denominator, 1)
        if f.kind == "average":
            return None if self.average is None else round(self.average, 1)
        return self.numerator

    @property
    def display(self) -> str:
        v = self.value
        if v is None:
            return "—"
        if self.figure.kind == "rate":
            return f"{v:g}%"
        if self.figure.kind == "average":
            return f"{v:g}天"
        return f"{v}{self.figure.unit}"

    @property
    def key(self) -> str:
        return self.figure.key


def _aggregates(record: str, sl: Slice) -> dict:
    out = {}
    for f in FIGURES.values():
        if f.record != record:
            continue
        out[f"{f.key}__n"] = Count("pk", filter=f.num_q(sl))
        den = f.den_q(sl)
        if den is not None:
            out[f"{f.key}__d"] = Count("pk", filter=den)
        if f.average_of:
            later, earlier = f.average_of
            out[f"{f.key}__avg"] = Avg(
                ExpressionWrapper(F(later) - F(earlier), output_field=DurationField()), filter=f.num_q(sl)
            )
    return out


def _values_from(row: dict, record: str) -> dict[str, Value]:
    out = {}
    for f in FIGURES.values():
        if f.record != record:
            continue
        avg = row.get(f"{f.key}__avg")
        out[f.key] = Value(
            f, numerator=row.get(f"{f.key}__n") or 0,
            denominator=(row.get(f"{f.key}__d") or 0) if f.denominator is not None else None,
            average=(avg.total_seconds() / 86400 if isinstance(avg, dt.timedelta) else avg),
        )
    return out


_GROUP_PATH = {ASSIGNMENT: "", RATING: "assignment__", COMMITMENT: "assignment__"}


def compute(sl: Slice) -> dict[str, Value]:
    """Every figure for one slice: three aggregate queries (plus one to find a unit's path)."""
    sl = sl.resolve()
    values: dict[str, Value] = {}
    for record in (ASSIGNMENT, RATING, COMMITMENT):
        row = record_queryset(record, sl).aggregate(**_aggregates(record, sl))
        values.update(_values_from(row, record))
    return {k: values[k] for k in FIGURES}


def compute_grouped(sl: Slice, group: str) -> dict[object, dict[str, Value]]:
    """Every figure per group (e.g. "unit", "proposal__category", "proposal__session"): three grouped queries."""
    sl = sl.resolve()
    groups: dict[object, dict[str, Value]] = {}
    for record in (ASSIGNMENT, RATING, COMMITMENT):
        key = _GROUP_PATH[record] + group
        rows = record_queryset(record, sl).order_by().values(key).annotate(**_aggregates(record, sl))
        for row in rows:
            groups.setdefault(row[key], {}).update(_values_from(row, record))
    empty = {r: _values_from({}, r) for r in (ASSIGNMENT, RATING, COMMITMENT)}
    for g, vals in groups.items():
        for r in (ASSIGNMENT, RATING, COMMITMENT):
            for k, v in empty[r].items():
                vals.setdefault(k, v)
        groups[g] = {k: vals[k] for k in FIGURES}
    return groups


# --- breakdowns for charts -----------------------------------------------------------------------


def final_reply_class() -> Subquery:
    """The class of the latest reply sent in the assignment's current round."""
    return Subquery(
        Reply.objects.filter(assignment=OuterRef("pk"), round=OuterRef("round"), state="sent")
        .order_by("-version").values("reply_class")[:1]
    )


def reply_classes(sl: Slice) -> list[tuple[str, int]]:
    """Replied lead/split items by the class of their final reply (one query)."""
    sl = sl.resolve()
    rows = (
        record_queryset(ASSIGNMENT, sl).filter(REPLIED).annotate(reply_class_code=final_reply_class())
        .order_by().values("reply_class_code").annotate(n=Count("pk")).order_by("reply_class_code")
    )
    return [(r["reply_class_code"] or "未分类", r["n"]) for r in rows]


def first_round_unsatisfied(sl: Slice) -> dict[str, int]:
    """Lead/split items a proposer rated 不满意 in the first round, counted by what became of them
    (UnsatisfiedOutcome: re-handled then 满意 / 基本满意 / still 不满意, 重新办理中, closed as it stands, waiting)."""
    rows = (
        record_queryset(ASSIGNMENT, sl.resolve()).filter(ANSWERING).filter(first_round_unsatisfied_q())
        .annotate(outcome=unsatisfied_outcome_expression()).order_by().values("outcome").annotate(n=Count("pk"))
    )
    return {r["outcome"]: r["n"] for r in rows}


def items_of_class(sl: Slice, code: str) -> QuerySet:
    return record_queryset(ASSIGNMENT, sl.resolve()).filter(REPLIED).annotate(
        reply_class_code=final_reply_class()).filter(reply_class_code=code)


def states(sl: Slice) -> list[tuple[str, int]]:
    """Assignments by workflow state, in workflow order (one query)."""
    rows = dict(record_queryset(ASSIGNMENT, sl.resolve()).order_by().values_list("state").annotate(n=Count("pk")))
    return [(key, rows[key]) for key in STATES if rows.get(key)]


def ratings(sl: Slice) -> list[tuple[str, int]]:
    """Final-round ratings by result (one query)."""
    rows = dict(record_queryset(RATING, sl.resolve()).order_by().values_list("result").annotate(n=Count("pk")))
    return [(key, rows.get(key, 0)) for key in ("satisfied", "basic", "unsatisfied")]


def categories(sl: Slice) -> list[tuple[str, int]]:
    """Assignments by the proposal's category, largest first (one query)."""
    rows = (
        record_queryset(ASSIGNMENT, sl.resolve()).order_by().values_list("proposal__category")
        .annotate(n=Count("pk")).order_by("-n")
    )
    return [(c or "未分类", n) for c, n in rows]


def overdue_by_week(sl: Slice, weeks: int = 12) -> list[tuple[dt.date, int]]:
    """Lead/split items overdue at the end of each of the last `weeks` weeks (one query, one count per week)."""
    sl = sl.resolve()
    end = sl.today
    ends = [end - dt.timedelta(days=7 * i) for i in range(weeks - 1, -1, -1)]
    aggs = {}
    for i, day in enumerate(ends):
        aggs[f"w{i}"] = Count("pk", filter=overdue_on(day))
    row = record_queryset(ASSIGNMENT, sl).aggregate(**aggs)
    return [(day, row[f"w{i}"]) for i, day in enumerate(ends)]
