"""Benchmarks for figures (run by `make bench`): a session of 100,000 assignments, bulk-generated.

Reports the time and the number of queries to compute every figure for the whole session, for one unit, per
unit (the ranking), and the whole dashboard. The query counts must stay constant whatever the size.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment, ContactRecord
from banli.organizations.choices import UnitKind
from banli.organizations.models import Unit
from banli.proposals.models import Proposal, Proposer, Session
from banli.replies.models import Commitment, Feedback, Reply
from banli.reports import charts, figures

ASSIGNMENTS = int(os.environ.get("BANLI_BENCH_REPORTS_ASSIGNMENTS", "100000"))
UNITS = 50


def _generate(n_assignments: int):
    """Bulk-create one session with n assignments (half lead/split with replies, ratings, contacts; half co)."""

    rng = random.Random(7)
    tz = dt.timezone(dt.timedelta(hours=8))
    start = dt.datetime(2030, 3, 1, 9, 0, tzinfo=tz)
    with transaction.atomic():
        office = Unit.objects.create(name="基准测试督查室", kind=UnitKind.ASSIGNING_OFFICE)
        units = [Unit(name=f"基准测试单位{i:02d}", kind=UnitKind.HANDLING_UNIT) for i in range(UNITS)]
        for unit in units:
            unit.save()  # the materialised path is set on save
        user = get_user_model().objects.create(username="bench_reports", display_name="基准")
        proposers = [Proposer.objects.create(name="基准委员甲"), Proposer.objects.create(name="基准委员乙")]
        session = Session.objects.create(name="基准测试2030年会议", body="cppcc", level="district", year=2030,
                                         assigning_office=office)
        n_proposals = n_assignments // 2
        categories = ["教育", "医疗", "交通", "住房", "环境", "经济", "文化", "民生"]
        Proposal.objects.bulk_create([
            Proposal(session=session, number=f"2030{i:06d}", title=f"关于基准测试事项{i}的提案", kind="proposal",
                     category=categories[i % len(categories)], is_key=(i % 97 == 0))
            for i in range(n_proposals)
        ], batch_size=2000)
        proposal_ids = list(Proposal.objects.filter(session=session).order_by("pk").values_list("pk", flat=True))
        rows = []
        for k, pid in enumerate(proposal_ids):
            assigned = start + dt.timedelta(days=rng.randint(0, 30))
            due = (assigned + dt.timedelta(days=90)).date()
            lead_unit, co_unit = units[k % UNITS], units[(k * 7 + 3) % UNITS]
            if co_unit == lead_unit:
                co_unit = units[(k + 1) % UNITS]
            fate = rng.random()
            replied = signed = closed = None
            state = AssignmentState.IN_PROGRESS
            signed = assigned + dt.timedelta(days=rng.randint(0, 5))
            if fate < 0.8:
                replied = assigned + dt.timedelta(days=rng.randint(20, 100))
                closed = replied + dt.timedelta(days=20) if fate < 0.7 else None
                state = "closed" if closed else "replied"
            rows.append(Assignment(proposal_id=pid, unit=lead_unit, role=AssignmentRole.SPLIT if k % 10 == 0 else AssignmentRole.LEAD, state=state,
                                   assigned_at=assigned, signed_at=signed, replied_at=replied, closed_at=closed,
                                   reply_due=due, reply_due_original=due))
            co_state = "opinion_sent" if fate < 0.9 else "in_progress"
            rows.append(Assignment(proposal_id=pid, unit=co_unit, role=AssignmentRole.CO, state=co_state, assigned_at=assigned,
                                   signed_at=signed, opinion_sent_at=assigned + dt.timedelta(days=25) if co_state ==
                                   "opinion_sent" else None, reply_due=due))
        Assignment.objects.bulk_create(rows, batch_size=2000)
        answered = list(Assignment.objects.filter(proposal__session=session, role__in=[AssignmentRole.LEAD, AssignmentRole.SPLIT],
                                                  replied_at__isnull=False).values_list("pk", "replied_at"))
        Reply.objects.bulk_create([
            Reply(assignment_id=aid, round=1, version=1, state="sent", reply_class="ABCD"[aid % 4], body="答复",
                  drafted_by=user, sent_at=at)
            for aid, at in answered
        ], batch_size=2000)
        replies = Reply.objects.filter(assignment__proposal__session=session).values_list("pk", "assignment_id", "sent_at")
        results = ["satisfied"] * 8 + ["basic", "unsatisfied"]
        feedback, contacts, commitments = [], [], []
        for rid, aid, at in replies:
            for proposer in proposers:
                result = results[(rid + proposer.pk) % 10]
                feedback.append(Feedback(assignment_id=aid, reply_id=rid, proposer=proposer, round=1, attitude="satisfied",
                                         result=result, comment="" if result != "unsatisfied" else "不满意",
                                         submitted_by=user, submitted_at=at))
            if rid % 3:
                contacts.append(ContactRecord(assignment_id=aid, phase="before", method="phone",
                                              contacted_on=(at - dt.timedelta(days=10)).date(), people="委员",
                                              summary="沟通", recorded_by=user))
            if rid % 4 == 1:
                commitments.append(Commitment(assignment_id=aid, reply_id=rid, description="落实",
                                              target_date=(at + dt.timedelta(days=60)).date(),
                                              state="done" if rid % 8 == 1 else "open", recorded_by=user))
        Feedback.objects.bulk_create(feedback, batch_size=2000)
        ContactRecord.objects.bulk_create(contacts, batch_size=2000)
        Commitment.objects.bulk_create(commitments, batch_size=2000)
    return session, units


def _measure(fn):
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
    return result, elapsed, len(ctx.captured_queries)


def bench_figures_100k():
    """Every figure for a session of 100,000 assignments: time and query count (SQLite, or DATABASE_URL)."""

    started = time.perf_counter()
    session, units = _generate(ASSIGNMENTS)
    yield "reports.generate_assignments", Assignment.objects.filter(proposal__session=session).count(), "rows"
    yield "reports.generate_time", time.perf_counter() - started, "s"
    yield "reports.database_" + connection.vendor, 1, "flag"
    as_of = dt.date(2030, 12, 31)

    sl = figures.Slice(session_id=session.pk, as_of=as_of)
    values, elapsed, queries = _measure(lambda: figures.compute(sl))
    yield "reports.figures_session_time", elapsed, "s"
    yield "reports.figures_session_queries", queries, "queries"
    yield "reports.figures_session_assigned", values["assigned"].value, "items"
    yield "reports.figures_session_on_time_rate", float(values["on_time_rate"].value or 0), "%"
    yield "reports.figures_session_satisfaction_rate", float(values["satisfaction_rate"].value or 0), "%"

    unit_sl = figures.Slice(session_id=session.pk, unit_id=units[3].pk, as_of=as_of)
    _, elapsed, queries = _measure(lambda: figures.compute(unit_sl))
    yield "reports.figures_unit_time", elapsed, "s"
    yield "reports.figures_unit_queries", queries, "queries"

    groups, elapsed, queries = _measure(lambda: figures.compute_grouped(sl, "unit"))
    yield "reports.figures_by_unit_time", elapsed, "s"
    yield "reports.figures_by_unit_queries", queries, "queries"
    yield "reports.figures_by_unit_groups", len(groups), "units"

    _, elapsed, queries = _measure(lambda: charts.build_all(sl))
    yield "reports.dashboard_charts_time", elapsed, "s"
    yield "reports.dashboard_charts_queries", queries, "queries"
