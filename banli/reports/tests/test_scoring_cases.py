import datetime as dt
from decimal import Decimal

from banli.core.testing import make_proposal
from banli.handling import services as handling
from banli.reports import scoring
from banli.reports.testing import ASSIGNED, answer


def test_late_replies_and_unsatisfied_ratings_lose_points(world):
    proposal = make_proposal(world)
    a = handling.assignment_create(proposal=proposal, unit=world.lead_unit, role="lead", actor=world.office,
                                   now=ASSIGNED)
    late = dt.datetime.combine(a.reply_due + dt.timedelta(days=3), dt.time(10), tzinfo=ASSIGNED.tzinfo)
    answer(world, a, signed=ASSIGNED + dt.timedelta(days=1), replied=late, rate=("unsatisfied", "satisfied"), close=False)
    result = scoring.score(world.session, world.lead_unit)
    lines = {ln.item: ln for ln in result.lines}
    assert lines["基础分（未全部达到100%）"].points == 90
    assert lines["按时办结率每低于100%一个百分点"].points == Decimal("-10")  # 100 points short × 0.5, at most 10
    assert lines["每份“不满意”测评"].points == Decimal("-1")
    assert result.total == Decimal("79")
