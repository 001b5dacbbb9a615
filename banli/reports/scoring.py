"""Evaluation scores: a rule set read against a unit's figures and the office's evidence entries, line by line.

Base rules are tried in order and the first whose conditions all hold gives the base points; deductions and
bonus items follow; the total is capped. A condition on a rate that does not apply (no lead/split items, so no
reply rate) counts as met and says so. Every line carries its evidence and the items behind it.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from banli.core.errors import DomainError
from banli.reports import aggregates, figures
from banli.reports.choices import ENTRY_METRIC, OPERATORS, RuleKind, RuleMode
from banli.reports.models import RuleSet, ScoreEntry

_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}
TWO = Decimal("0.01")


def _d(value) -> Decimal:
    # + 0 turns a negative zero (a deduction of nothing) into 0, so that it never prints as -0 or -0.0.
    return Decimal(str(value)).quantize(TWO, rounding=ROUND_HALF_UP) + 0


def fmt(value) -> str:
    """2.00 → "2", 0.50 → "0.5"."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass
class Line:
    """One scored line: the item, its points (negative for deductions), the evidence and the items behind it."""

    item: str
    kind: str
    points: Decimal
    evidence: str
    figure: str = ""  # figure key whose item list backs this line
    proposals: list[tuple[str, str]] = field(default_factory=list)  # (number, title)

    def as_dict(self) -> dict:
        return {"item": self.item, "kind": self.kind, "points": float(self.points), "evidence": self.evidence,
                "figure": self.figure, "proposals": [{"number": n, "title": t} for n, t in self.proposals]}


@dataclass
class Score:
    rule_set: object
    lines: list[Line]
    subtotal: Decimal
    total: Decimal
    cap: Decimal

    @property
    def bonus(self) -> Decimal:
        return sum((ln.points for ln in self.lines if ln.kind == RuleKind.BONUS), Decimal(0))

    def as_dict(self) -> dict:
        return {"total": float(self.total), "lines": [ln.as_dict() for ln in self.lines]}


def rule_set_for(session):
    """The rule set that applies to a session: its own, else its office's (or an ancestor's), else the template."""
    own = RuleSet.objects.filter(session=session, is_active=True).first()
    if own:
        return own
    office = session.assigning_office
    candidates = RuleSet.objects.filter(session__isnull=True, is_active=True, office__isnull=False).select_related("office")
    for_office = [rs for rs in candidates if office.path.startswith(rs.office.path)]
    if for_office:
        return max(for_office, key=lambda rs: (len(rs.office.path), rs.pk))
    template = RuleSet.objects.filter(session__isnull=True, office__isnull=True, is_active=True).order_by("pk").first()
    if template is None:
        raise DomainError("尚未配置考核评分细则，请交办机构先设置。")
    return template


def _metric(values: dict, key: str):
    v = values.get(key)
    if v is None:
        raise DomainError(f"考核项目引用了不存在的指标「{key}」，请交办机构修改评分细则。")
    return v


def _describe(v: figures.Value) -> str:
    return f"{v.figure.name}{v.display}"


def _fixed(rule, values) -> tuple[bool, str]:
    parts, ok = [], True
    for cond in rule.conditions or []:
        v = _metric(values, cond["metric"])
        op, target = cond.get("op", ">="), Decimal(str(cond["value"]))
        shown = f"（要求{OPERATORS.get(op, op)}{fmt(target)}{'%' if v.figure.kind == 'rate' else ''}）"
        if v.value is None:
            parts.append(f"{v.figure.name}不适用（无{v.figure.name}的统计对象）")
            continue
        met = _OPS[op](Decimal(str(v.value)), target)
        ok &= met
        parts.append(_describe(v) + ("" if met else f"，未达到{shown}"))
    return ok, "、".join(parts) or "无附加条件"


def _quantity(rule, values, entries) -> tuple[Decimal, str, list]:
    """The quantity a per/tiers/shortfall rule counts, its description and the proposals behind it."""
    if rule.metric == ENTRY_METRIC:
        mine = [e for e in entries if e.rule_id == rule.pk]
        qty = sum((e.quantity for e in mine), Decimal(0))
        proposals = [(p.number, p.title) for e in mine for p in e.proposals.all()]
        evidence = "；".join(f"{e.evidence}（{fmt(e.quantity)}）" for e in mine) or "交办机构未录入"
        return qty, f"{fmt(qty)}条：{evidence}", proposals
    v = _metric(values, rule.metric)
    if v.figure.kind == "rate":
        return (Decimal(str(v.value)) if v.value is not None else None), _describe(v), []
    return Decimal(v.numerator), _describe(v), []


def _limit(rule, points: Decimal) -> tuple[Decimal, str]:
    if rule.max_points is not None and points > rule.max_points:
        return rule.max_points, f"，本项最多{fmt(rule.max_points)}分"
    return points, ""


def _line_for(rule, values, entries, sl, with_items: bool = True) -> Line:
    kind = rule.kind
    figure = rule.metric if rule.metric in figures.FIGURES else ""
    if rule.mode == RuleMode.FIXED:
        ok, evidence = _fixed(rule, values)
        points = rule.points if ok else Decimal(0)
        return Line(rule.label, kind, points, evidence, figure)
    qty, described, proposals = _quantity(rule, values, entries)
    if rule.mode == RuleMode.SHORTFALL:
        if qty is None:
            return Line(rule.label, kind, Decimal(0), described + "（不适用）", figure)
        gap = max(Decimal(0), (rule.target or Decimal(100)) - qty)
        points, limited = _limit(rule, gap * rule.points)
        evidence = f"{described}，低于目标{fmt(gap)}个百分点 × {fmt(rule.points)}分{limited}"
    elif rule.mode == RuleMode.PER:
        points, limited = _limit(rule, (qty or 0) * rule.points)
        evidence = f"{described} × {fmt(rule.points)}分{limited}"
    else:  # tiers
        tiers = sorted(rule.tiers or [], key=lambda t: -Decimal(str(t["min"])))
        reached = next((t for t in tiers if qty is not None and qty >= Decimal(str(t["min"]))), None)
        points = Decimal(str(reached["points"])) if reached else Decimal(0)
        points, limited = _limit(rule, points)
        ladder = "、".join(f"≥{fmt(Decimal(str(t['min'])))}得{fmt(Decimal(str(t['points'])))}分" for t in tiers)
        evidence = f"{described}（档次：{ladder}）{limited}"
    if with_items and figure and not proposals and figures.FIGURES[figure].record == figures.ASSIGNMENT and points and rule.metric != "assigned":
        proposals = list(
            figures.items(figures.FIGURES[figure], sl).order_by("proposal__number")
            .values_list("proposal__number", "proposal__title")[:50]
        )
    sign = Decimal(-1) if kind == RuleKind.DEDUCTION else Decimal(1)
    return Line(rule.label, kind, _d(sign * points), evidence, figure, proposals)


def score(session, unit, *, rule_set=None, as_of=None, with_items: bool = True) -> Score:
    """A unit's score for a session under its rule set, with every line and its evidence; `with_items=False`
    leaves out the items behind each line (a query per line) where only the sentence is shown."""
    rule_set = rule_set or rule_set_for(session)
    sl = figures.Slice(session_id=session.pk, unit_id=unit.pk, as_of=as_of).resolve()
    values = aggregates.source_for(sl).compute(sl)  # the maintained cells where they answer the slice
    entries = list(ScoreEntry.objects.filter(rule__rule_set=rule_set, session=session, unit=unit)
                   .prefetch_related("proposals"))
    rules = list(rule_set.rules.all().order_by("position", "id"))
    lines: list[Line] = []
    base_rules = [r for r in rules if r.kind == RuleKind.BASE]
    # The first base rule whose conditions all hold gives the base points (e.g. 95 when all three rates are 100%).
    chosen = next((r for r in base_rules if r.mode != RuleMode.FIXED or _fixed(r, values)[0]), None)
    if chosen is not None:
        lines.append(_line_for(chosen, values, entries, sl, with_items))
    elif base_rules:
        lines.append(Line(base_rules[0].label, RuleKind.BASE, Decimal(0), _fixed(base_rules[0], values)[1]))
    for rule in rules:
        if rule.kind != RuleKind.BASE:
            lines.append(_line_for(rule, values, entries, sl, with_items))
    subtotal = sum((ln.points for ln in lines), Decimal(0))
    cap = rule_set.cap
    total = max(Decimal(0), min(cap, subtotal))
    bonus = sum((ln.points for ln in lines if ln.kind == RuleKind.BONUS), Decimal(0))
    over = total - subtotal
    lines.append(Line(
        f"总分上限{fmt(cap)}分", "cap", _d(over if subtotal > cap else 0),
        f"加分合计{fmt(bonus)}分；计算得分{fmt(subtotal)}分，"
        + (f"超过上限，按{fmt(cap)}分计" if subtotal > cap else f"未超过上限{fmt(cap)}分"),
    ))
    return Score(rule_set, lines, _d(subtotal), _d(total), cap)


def metric_choices() -> list[tuple[str, str]]:
    """What a rule may read: every figure, or the office's own entries with evidence."""
    return [(k, f.name) for k, f in figures.FIGURES.items()] + [(ENTRY_METRIC, "交办机构录入（附佐证）")]


def validate_rule(*, kind, mode, metric, conditions, tiers, points) -> None:
    """Raise DomainError naming the field when a rule cannot be scored."""
    if kind not in RuleKind.values:
        raise DomainError("请选择考核项目类别（基础分、扣分项或加分项）。", field="kind")
    if mode not in RuleMode.values:
        raise DomainError("请选择计分方式。", field="mode")
    known = dict(metric_choices())
    if mode != RuleMode.FIXED and metric not in known:
        raise DomainError("请选择依据指标（统计指标或交办机构录入）。", field="metric")
    if mode == RuleMode.SHORTFALL and (metric == ENTRY_METRIC or figures.FIGURES[metric].kind != "rate"):
        raise DomainError("按差距计分只能依据比率类指标（如按时办结率）。", field="metric")
    if not isinstance(conditions, list):
        raise DomainError("条件应为列表。", field="conditions")
    for cond in conditions:
        if not isinstance(cond, dict) or cond.get("metric") not in figures.FIGURES or cond.get("op", ">=") not in _OPS:
            raise DomainError('条件格式应为 {"metric": 指标代码, "op": ">=", "value": 数值}，指标须为统计指标。',
                              field="conditions")
        try:
            Decimal(str(cond["value"]))
        except Exception:
            raise DomainError("条件的 value 应为数值。", field="conditions") from None
    if mode == RuleMode.TIERS:
        if not tiers or not isinstance(tiers, list):
            raise DomainError('按档次计分须填写档次，如 [{"min": 30, "points": 2}]。', field="tiers")
        for tier in tiers:
            try:
                Decimal(str(tier["min"])), Decimal(str(tier["points"]))
            except Exception:
                raise DomainError('每个档次须有 min 和 points 两个数值。', field="tiers") from None
    if points is not None and Decimal(str(points)) < 0:
        raise DomainError("分值请填正数；扣分项会自动扣减。", field="points")
