"""统计与考核: writes — rule sets and rules, the office's evidence entries, self-evaluations and summary drafts.

Every write checks who acts through banli.core.access, validates fully before writing, and logs an event.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from banli.core.access import (
    can_edit_rule_set,
    can_edit_summary,
    can_manage_scores,
    can_submit_evaluation,
    can_view_unit_report,
)
from banli.core.errors import ConflictError, DomainError, PermissionDenied
from banli.core.eventlog import write_event
from banli.reports import scoring
from banli.reports.choices import EvaluationState, RuleMode
from banli.reports.models import Evaluation, Rule, RuleSet, ScoreEntry, SummaryDraft


def _decimal(value, field: str, label: str, *, allow_none=False) -> Decimal | None:
    if value in (None, "") and allow_none:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(f"{label}应为数字。", field=field) from None


def _require_office(actor, session) -> None:
    # The scoring of units is the session's office's decision: the administrator acts on no case (the pages
    # already offered him no form; the service now agrees with them).
    if actor is None:
        return
    if not can_manage_scores(actor, session):
        raise PermissionDenied("只有该届次的交办机构才能设置考核细则、录入加分佐证或核定自评。")


def _require_rule_set_editor(actor, rule_set: RuleSet) -> None:
    if actor is None:
        return
    if rule_set.session_id:
        _require_office(actor, rule_set.session)
        return
    if can_edit_rule_set(actor, rule_set):
        return
    raise PermissionDenied("内置示例细则不能直接修改，请先复制为本届次的细则。")


@transaction.atomic
def rule_set_copy(*, actor, source: RuleSet, session, name: str = "", cap=None) -> RuleSet:
    """Copy a rule set (e.g. the shipped template) as the session's own, replacing any earlier active one."""
    _require_office(actor, session)
    RuleSet.objects.filter(session=session, is_active=True).update(is_active=False)
    copy = RuleSet.objects.create(
        name=(name or "").strip() or f"{session.name}考核评分细则", office=session.assigning_office, session=session,
        cap=_decimal(cap, "cap", "总分上限") if cap not in (None, "") else source.cap, description=source.description,
    )
    for rule in source.rules.all().order_by("position", "id"):
        rule.pk = None
        rule.rule_set = copy
        rule.save()
    write_event(verb="rule_set_copy", actor=actor, payload={"rule_set": copy.pk, "source": source.pk,
                                                             "session": session.pk})
    return copy


@transaction.atomic
def rule_set_update(*, actor, rule_set: RuleSet, name: str, cap) -> RuleSet:
    """Rename a rule set or change its cap."""
    _require_rule_set_editor(actor, rule_set)
    if not (name or "").strip():
        raise DomainError("请填写细则名称。", field="name")
    cap = _decimal(cap, "cap", "总分上限")
    if cap <= 0:
        raise DomainError("总分上限应大于0。", field="cap")
    RuleSet.objects.filter(pk=rule_set.pk).update(name=name.strip(), cap=cap)
    rule_set.refresh_from_db()
    write_event(verb="rule_set_update", actor=actor, payload={"rule_set": rule_set.pk, "cap": cap})
    return rule_set


@transaction.atomic
def rule_save(*, actor, rule_set: RuleSet, rule: Rule | None = None, kind: str, label: str, mode: str,
              metric: str = "", conditions=None, points=0, target=None, tiers=None, max_points=None,
              position: int | None = None, note: str = "") -> Rule:
    """Add or change one line of a rule set; nothing is written unless the whole rule can be scored."""
    _require_rule_set_editor(actor, rule_set)
    if rule is not None and rule.rule_set_id != rule_set.pk:
        raise DomainError("该考核项目不属于这份细则。")
    if not (label or "").strip():
        raise DomainError("请填写考核项目名称。", field="label")
    conditions = conditions or []
    tiers = tiers or []
    points = _decimal(points or 0, "points", "分值")
    scoring.validate_rule(kind=kind, mode=mode, metric=metric, conditions=conditions, tiers=tiers, points=points)
    fields = dict(
        kind=kind, label=label.strip(), mode=mode, metric=metric if mode != RuleMode.FIXED or metric else "",
        conditions=conditions, points=points, target=_decimal(target, "target", "目标值", allow_none=True),
        tiers=tiers, max_points=_decimal(max_points, "max_points", "本项最多", allow_none=True), note=note or "",
    )
    if mode == RuleMode.SHORTFALL and fields["target"] is None:
        fields["target"] = Decimal(100)
    if rule is None:
        last = rule_set.rules.order_by("-position").values_list("position", flat=True).first() or 0
        rule = Rule.objects.create(rule_set=rule_set, position=position or last + 1, **fields)
    else:
        for key, value in fields.items():
            setattr(rule, key, value)
        if position:
            rule.position = position
        rule.save()
    write_event(verb="rule_save", actor=actor, payload={"rule_set": rule_set.pk, "rule": rule.pk, "label": rule.label})
    return rule


@transaction.atomic
def rule_delete(*, actor, rule: Rule) -> None:
    """Remove a line from a rule set (not one that evidence entries already use)."""
    _require_rule_set_editor(actor, rule.rule_set)
    if rule.entries.exists():
        raise DomainError("该考核项目已有录入的佐证，不能删除；可将分值改为0。")
    write_event(verb="rule_delete", actor=actor, payload={"rule_set": rule.rule_set_id, "rule": rule.pk,
                                                           "label": rule.label})
    rule.delete()


@transaction.atomic
def score_entry_record(*, actor, session, unit, rule: Rule, quantity, evidence: str, proposals=(), now=None) -> ScoreEntry:
    """The office enters a bonus item with its evidence (e.g. 2 topic leads adopted, with the notice)."""
    _require_office(actor, session)
    if rule.metric != "entry":
        raise DomainError(f"「{rule.label}」由办理记录自动计算，不需要录入。", field="rule")
    quantity = _decimal(quantity, "quantity", "数量")
    if quantity <= 0:
        raise DomainError("数量应大于0。", field="quantity")
    if not (evidence or "").strip():
        raise DomainError("请填写佐证材料（如采用通知的文号、名称）。", field="evidence")
    entry = ScoreEntry.objects.create(rule=rule, session=session, unit=unit, quantity=quantity,
                                      evidence=evidence.strip(), entered_by=actor, entered_at=now or timezone.now())
    if proposals:
        entry.proposals.set(proposals)
    write_event(verb="score_entry", actor=actor, payload={"entry": entry.pk, "rule": rule.label, "unit": unit.name,
                                                           "quantity": quantity, "evidence": entry.evidence}, now=now)
    return entry


# --- self-evaluation (自评) -------------------------------------------------------------------------


def _snapshot(session, unit):
    result = scoring.score(session, unit)
    return result, [ln.as_dict() for ln in result.lines]


@transaction.atomic
def evaluation_prepare(*, actor, session, unit, now=None) -> Evaluation:
    """Prepare (or refresh) the unit's 自评 from the rules and the records, for the unit to review and submit."""
    now = now or timezone.now()
    if actor is not None and not can_view_unit_report(actor, unit):
        raise PermissionDenied("您没有该单位的考核权限。")
    result, lines = _snapshot(session, unit)
    evaluation = Evaluation.objects.select_for_update().filter(session=session, unit=unit).first()
    if evaluation is not None and evaluation.state != EvaluationState.DRAFT:
        raise DomainError(f"该单位自评当前为「{evaluation.get_state_display()}」，不能重新生成。")
    fields = dict(rule_set=result.rule_set, lines=lines, computed_total=result.total, prepared_at=now)
    if evaluation is None:
        try:
            with transaction.atomic():
                evaluation = Evaluation.objects.create(session=session, unit=unit, **fields)
        except IntegrityError as exc:
            raise ConflictError("该单位自评刚刚已由他人生成，请刷新后查看。") from exc
    else:
        Evaluation.objects.filter(pk=evaluation.pk).update(version=F("version") + 1, **fields)
        evaluation.refresh_from_db()
    write_event(verb="evaluation_prepare", actor=actor, payload={"evaluation": evaluation.pk, "unit": unit.name,
                                                                 "total": result.total}, now=now)
    return evaluation


@transaction.atomic
def evaluation_submit(*, actor, evaluation: Evaluation, note: str = "", now=None) -> Evaluation:
    """The unit (its office or leader) submits its reviewed 自评 to the assigning office."""
    now = now or timezone.now()
    if not can_submit_evaluation(actor, evaluation.unit):
        raise PermissionDenied("只有本单位联络员或领导才能提交自评。")
    won = Evaluation.objects.filter(pk=evaluation.pk, state=EvaluationState.DRAFT, version=evaluation.version).update(
        state=EvaluationState.SUBMITTED, unit_note=(note or "").strip(), submitted_by=actor, submitted_at=now,
        version=F("version") + 1,
    )
    if not won:
        raise ConflictError("自评已被他人提交或刚刚更新，请刷新后核对再提交。")
    evaluation.refresh_from_db()
    write_event(verb="evaluation_submit", actor=actor, from_state=EvaluationState.DRAFT,
                to_state=EvaluationState.SUBMITTED, payload={"evaluation": evaluation.pk,
                                                              "total": evaluation.computed_total}, now=now)
    return evaluation


@transaction.atomic
def evaluation_decide(*, actor, evaluation: Evaluation, corrected_total=None, note: str = "", now=None) -> Evaluation:
    """The assigning office confirms the submitted 自评, or corrects its total with a reason."""
    now = now or timezone.now()
    _require_office(actor, evaluation.session)
    if evaluation.state != EvaluationState.SUBMITTED:
        raise DomainError(f"该自评当前为「{evaluation.get_state_display()}」，只有已提交的自评才能核定。")
    corrected = _decimal(corrected_total, "corrected_total", "核定得分", allow_none=True)
    if corrected is not None and corrected == evaluation.computed_total:
        corrected = None
    if corrected is not None:
        if corrected < 0 or corrected > evaluation.rule_set.cap:
            raise DomainError(f"核定得分应在0到{scoring.fmt(evaluation.rule_set.cap)}分之间。", field="corrected_total")
        if not (note or "").strip():
            raise DomainError("调整得分时请填写核定意见（调整理由）。", field="note")
    target = EvaluationState.CORRECTED if corrected is not None else EvaluationState.CONFIRMED
    won = Evaluation.objects.filter(pk=evaluation.pk, state=EvaluationState.SUBMITTED).update(
        state=target, office_total=corrected, office_note=(note or "").strip(), decided_by=actor, decided_at=now,
        version=F("version") + 1,
    )
    if not won:
        raise ConflictError("该自评刚刚已被核定，请刷新后查看。")
    evaluation.refresh_from_db()
    write_event(verb="evaluation_decide", actor=actor, from_state=EvaluationState.SUBMITTED, to_state=target,
                reason=note or "", payload={"evaluation": evaluation.pk, "computed": evaluation.computed_total,
                                            "corrected": corrected}, now=now)
    return evaluation


# --- annual summary draft ---------------------------------------------------------------------------


@transaction.atomic
def summary_save(*, actor, session, unit, addressee: str = "", practices: str = "", problems: str = "",
                 next_steps: str = "", typical=None) -> SummaryDraft:
    """The unit edits its own sections of the annual summary; the figures are never stored, always computed."""
    if not can_edit_summary(actor, unit):
        raise PermissionDenied("只有本单位人员才能编辑本单位的办理工作总结。")
    draft, _ = SummaryDraft.objects.get_or_create(session=session, unit=unit)
    draft.addressee = (addressee or "").strip()
    draft.practices, draft.problems, draft.next_steps = practices or "", problems or "", next_steps or ""
    draft.updated_by = actor
    draft.save()
    if typical is not None:
        wrong = [a for a in typical if not a.unit.is_within(unit) or a.proposal.session_id != session.pk]
        if wrong:
            raise DomainError("典型案例只能从本单位本届次办理的事项中选择。", field="typical")
        draft.typical.set(typical)
    write_event(verb="summary_save", actor=actor, payload={"summary": draft.pk, "unit": unit.name})
    return draft

