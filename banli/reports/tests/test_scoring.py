import datetime as dt
from decimal import Decimal

import pytest

from banli.core.errors import DomainError, PermissionDenied
from banli.core.testing import make_proposal
from banli.handling import services as handling
from banli.replies import services as replies
from banli.reports import scoring, services
from banli.reports.choices import EvaluationState


@pytest.fixture
def world(world_seed):
    return world_seed[0]


@pytest.fixture
def seed(world_seed):
    return world_seed[1]


def _adopted_rule(rule_set):
    return rule_set.rules.get(metric="entry")


def _enter_two_adopted_leads(world, seed):
    rule_set = scoring.rule_set_for(world.session)
    return services.score_entry_record(
        actor=world.office, session=world.session, unit=world.lead_unit, rule=_adopted_rule(rule_set), quantity=2,
        evidence="市政协提案委《关于采用提案线索的通知》（深政协提〔2024〕5号）", proposals=[seed.key])


def test_seed_001_scores_100_with_its_lines(world, seed):
    _enter_two_adopted_leads(world, seed)
    result = scoring.score(world.session, world.lead_unit, as_of=dt.date(2025, 12, 31))
    lines = {ln.item: ln for ln in result.lines}
    assert lines["基础分（按时办结率、答复率、满意率均达100%）"].points == Decimal("95")
    assert "按时办结率100%" in lines["基础分（按时办结率、答复率、满意率均达100%）"].evidence
    assert lines["办理总件数"].points == Decimal("2") and "交办件数33件" in lines["办理总件数"].evidence
    key = lines["主办（承办、分办）重点提案"]
    assert key.points == Decimal("2") and key.proposals == [(seed.key.number, seed.key.title)]
    adopted = lines["提供提案线索或重点提案选题并被采用"]
    assert adopted.points == Decimal("1") and "深政协提〔2024〕5号" in adopted.evidence
    assert result.bonus == Decimal("5")  # the seed's text says 10, but its items add up to 2 + 2 + 1
    assert all(ln.points == 0 for ln in result.lines if ln.kind == "deduction")
    assert result.subtotal == Decimal("100") and result.total == Decimal("100")
    cap = result.lines[-1]
    assert cap.item == "总分上限100分" and "加分合计5分" in cap.evidence and cap.points == 0


def test_more_bonus_is_capped_and_the_cap_line_says_so(world, seed):
    rule_set = scoring.rule_set_for(world.session)
    services.score_entry_record(actor=world.office, session=world.session, unit=world.lead_unit,
                                rule=_adopted_rule(rule_set), quantity=10, evidence="采用通知若干")
    result = scoring.score(world.session, world.lead_unit)
    assert result.subtotal == Decimal("101") and result.total == Decimal("100")
    assert result.lines[-1].points == Decimal("-1") and "超过上限" in result.lines[-1].evidence


def test_only_the_office_enters_bonus_evidence(world, seed):
    rule = _adopted_rule(scoring.rule_set_for(world.session))
    with pytest.raises(PermissionDenied):
        services.score_entry_record(actor=world.lead_office, session=world.session, unit=world.lead_unit, rule=rule,
                                    quantity=5, evidence="自己加分")
    with pytest.raises(DomainError, match="佐证"):
        services.score_entry_record(actor=world.office, session=world.session, unit=world.lead_unit, rule=rule,
                                    quantity=1, evidence=" ")


def test_office_configures_its_own_rules_without_code(world, seed):
    template = scoring.rule_set_for(world.session)
    own = services.rule_set_copy(actor=world.office, source=template, session=world.session)
    assert scoring.rule_set_for(world.session) == own
    services.rule_save(actor=world.office, rule_set=own, kind="deduction", label="每件逾期答复", mode="per",
                       metric="late", points=3)
    services.rule_save(actor=world.office, rule_set=own, rule=own.rules.get(metric="assigned"), kind="bonus",
                       label="办理总件数", mode="tiers", metric="assigned", tiers=[{"min": 30, "points": 3}])
    result = scoring.score(world.session, world.lead_unit)
    lines = {ln.item: ln for ln in result.lines}
    assert lines["办理总件数"].points == 3 and lines["每件逾期答复"].points == 0
    assert template.rules.get(metric="assigned").tiers[0]["points"] == 2  # the template is untouched
    with pytest.raises(DomainError, match="比率"):
        services.rule_save(actor=world.office, rule_set=own, kind="deduction", label="x", mode="shortfall",
                           metric="assigned", points=1)
    with pytest.raises(PermissionDenied):
        services.rule_save(actor=world.office, rule_set=template, kind="bonus", label="x", mode="per",
                           metric="assigned", points=1)
    with pytest.raises(PermissionDenied):
        services.rule_set_copy(actor=world.lead_office, source=template, session=world.session)


def test_self_evaluation_is_prepared_submitted_and_confirmed(world, seed):
    _enter_two_adopted_leads(world, seed)
    ev = services.evaluation_prepare(actor=world.lead_office, session=world.session, unit=world.lead_unit)
    assert ev.state == EvaluationState.DRAFT and ev.computed_total == 100
    assert [ln["item"] for ln in ev.lines][0].startswith("基础分")
    with pytest.raises(PermissionDenied):
        services.evaluation_submit(actor=world.lead_handler, evaluation=ev)
    ev = services.evaluation_submit(actor=world.lead_office, evaluation=ev, note="经核对无误。")
    with pytest.raises(DomainError):
        services.evaluation_prepare(actor=world.lead_office, session=world.session, unit=world.lead_unit)
    with pytest.raises(PermissionDenied):
        services.evaluation_decide(actor=world.lead_office, evaluation=ev)
    ev = services.evaluation_decide(actor=world.office, evaluation=ev)
    assert ev.state == EvaluationState.CONFIRMED and ev.final_total == 100


def test_office_corrects_a_self_evaluation_with_a_reason(world, seed):
    ev = services.evaluation_prepare(actor=world.lead_office, session=world.session, unit=world.lead_unit)
    ev = services.evaluation_submit(actor=world.lead_leader, evaluation=ev)
    with pytest.raises(DomainError, match="理由"):
        services.evaluation_decide(actor=world.office, evaluation=ev, corrected_total=97)
    ev = services.evaluation_decide(actor=world.office, evaluation=ev, corrected_total=97, note="一件答复格式不规范。")
    assert ev.state == EvaluationState.CORRECTED and ev.final_total == 97


def test_a_co_only_unit_gets_the_base_points_with_rates_marked_not_applicable(world, seed):
    proposal = make_proposal(world)
    co = handling.assignment_create(proposal=proposal, unit=world.co_unit, role="co", actor=world.office)
    co = handling.assignment_sign(assignment=co, actor=world.co_office)
    co = handling.assignment_assign_section(assignment=co, actor=world.co_office, section=world.co_section,
                                            handler=world.co_handler)
    replies.co_opinion_send(assignment=co, actor=world.co_handler, body="同意。")
    result = scoring.score(world.session, world.co_unit)
    base = result.lines[0]
    assert base.points == 95 and "不适用" in base.evidence
    assert result.total == 95
