"""The deadline an assignment owes next: one rule (deadlines.next_due), stored in next_due / next_due_kind and kept
equal to the rule by every write (transitions, due changes, bulk loads, the calendar)."""
import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import deadlines, workflow
from banli.handling import services as handling
from banli.handling.choices import AssignmentRole, AssignmentState, DueKind
from banli.handling.deadlines import next_due
from banli.handling.models import Assignment
from banli.supervision import scan
from banli.supervision.choices import ReminderKind

pytestmark = pytest.mark.django_db

DUE_FIELDS = ("sign_due", "opinion_due", "reply_due", "feedback_due")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def stored(assignment) -> tuple:
    row = Assignment.objects.values("next_due", "next_due_kind").get(pk=assignment.pk)
    return row["next_due"], row["next_due_kind"]


def from_scratch(assignment) -> tuple:
    return next_due(Assignment.objects.get(pk=assignment.pk))


# --- the rule itself ------------------------------------------------------------------------------------------

def row(state, role, **dues):
    return SimpleNamespace(state=state, role=role, **{f: dues.get(f) for f in DUE_FIELDS})


D1, D2, D3, D4 = dt.date(2025, 3, 6), dt.date(2025, 4, 3), dt.date(2025, 6, 3), dt.date(2025, 7, 1)


@pytest.mark.parametrize("state, role, expected", [
    ("pending_sign", "lead", (D1, "sign")),
    ("pending_sign", "co", (D1, "sign")),
    ("adjustment_requested", "lead", (None, "")),
    ("signed", "co", (D2, "opinion")),
    ("in_progress", "co", (D2, "opinion")),
    ("opinion_sent", "co", (None, "")),
    ("signed", "lead", (D3, "reply")),
    ("in_progress", "split", (D3, "reply")),
    ("reply_review", "lead", (D3, "reply")),
    ("rehandling", "lead", (D3, "reply")),
    ("replied", "lead", (D4, "feedback")),
    ("rated", "lead", (None, "")),
    ("closed", "lead", (None, "")),
    ("withdrawn", "co", (None, "")),
])
def test_each_state_owes_one_deadline_or_none(state, role, expected):
    assert next_due(row(state, role, sign_due=D1, opinion_due=D2, reply_due=D3, feedback_due=D4)) == expected


def test_a_missing_due_date_owes_nothing():
    assert next_due(row("replied", "lead", reply_due=D3)) == (None, "")


def test_the_kinds_are_the_reminder_kinds_of_the_scan():
    assert set(DueKind.values) <= set(ReminderKind.values)


# --- the disagreement settled: nothing but signing is due before an item is signed ---------------------------

def test_a_co_units_opinion_deadline_applies_only_once_it_has_signed(world):
    """The scan used to warn a co unit about its opinion (and a lead unit about its reply) while the item was
    still unsigned, when the ledger said only signing was due; now both say signing."""
    start = timezone.make_aware(dt.datetime(2025, 3, 3, 9))
    lead, co = assign(world, make_proposal(world), now=start)
    # Signing slipped past its date and the opinion/reply deadlines are close or past too.
    Assignment.objects.filter(pk__in=[lead.pk, co.pk]).update(opinion_due=dt.date(2025, 4, 3),
                                                                reply_due=dt.date(2025, 4, 3))
    assert stored(co) == (co.sign_due, "sign") and stored(lead) == (lead.sign_due, "sign")
    found = scan.find_due(dt.date(2025, 4, 2))
    assert {(r[0], r[3]) for r in found} == {("sign", lead.pk), ("sign", co.pk)}

    co = handling.assignment_sign(assignment=co, actor=world.co_office, now=start)
    assert stored(co) == (dt.date(2025, 4, 3), "opinion")
    assert ("opinion", co.pk) in {(r[0], r[3]) for r in scan.find_due(dt.date(2025, 4, 2))}


def test_an_item_awaiting_the_decision_on_its_adjustment_owes_nothing(world):
    lead, _ = assign(world, make_proposal(world), co=False)
    handling.adjustment_request(assignment=lead, actor=world.lead_office, reason="不属于本单位职责")
    lead.refresh_from_db()
    assert lead.state == AssignmentState.ADJUSTMENT_REQUESTED
    assert stored(lead) == (None, "")


# --- the calendar ---------------------------------------------------------------------------------------------

def test_a_holiday_entered_later_moves_the_stored_next_deadline(world):
    with time_machine.travel(dt.datetime(2027, 2, 4, 10, tzinfo=SHANGHAI), tick=False):
        lead, _ = assign(world, make_proposal(world), co=False)
        assert stored(lead) == (dt.date(2027, 2, 9), "sign")  # Monday to Friday: the year is not known yet
        handling.holiday_day_set(date=dt.date(2027, 2, 8), is_workday=False, name="地方假日", actor=world.office)
        assert stored(lead) == (dt.date(2027, 2, 10), "sign")
        handling.holiday_day_delete(date=dt.date(2027, 2, 8), actor=world.office)
        assert stored(lead) == (dt.date(2027, 2, 9), "sign")


# --- every write keeps it: random assignments, random transitions and due changes ------------------------------

dates = st.one_of(st.none(), st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2027, 12, 31)))
due_changes = st.dictionaries(st.sampled_from(DUE_FIELDS), dates, max_size=3)
steps = st.lists(st.one_of(
    st.tuples(st.just("perform"), st.integers(0, 100), due_changes),
    st.tuples(st.just("update"), st.one_of(st.none(), st.sampled_from(AssignmentState.values)), due_changes),
    st.tuples(st.just("save"), st.one_of(st.none(), st.sampled_from(AssignmentState.values)), due_changes),
    st.tuples(st.just("bulk_update"), st.one_of(st.none(), st.sampled_from(AssignmentState.values)), due_changes),
    st.tuples(st.just("refresh"), st.none(), st.just({})),
), max_size=8)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(role=st.sampled_from(AssignmentRole.values), state=st.sampled_from(AssignmentState.values),
       dues=st.fixed_dictionaries({f: dates for f in DUE_FIELDS}), bulk=st.booleans(), steps=steps)
def test_the_stored_next_deadline_always_equals_the_rule(world, role, state, dues, bulk, steps):
    proposal = make_proposal(world)
    fields = dict(proposal=proposal, unit=world.lead_unit, role=role, state=state,
                  assigned_at=timezone.now(), **dues)
    if bulk:
        [a] = Assignment.objects.bulk_create([Assignment(**fields)])
    else:
        a = Assignment.objects.create(**fields)
    assert stored(a) == from_scratch(a)
    for op, arg, changes in steps:
        a = Assignment.objects.get(pk=a.pk)
        with transaction.atomic():
            if op == "perform":
                # Any transition the workflow allows from here (the actor's permission is not what is tested).
                allowed = [t for t in workflow.TRANSITIONS.values()
                           if a.state in t.sources and a.role in t.assignment_roles]
                if not allowed:
                    continue
                action = allowed[arg % len(allowed)].action
                workflow.perform(a, action, None, reason="测试", changes=changes, actor_role="test")
            elif op == "update":
                Assignment.objects.filter(pk=a.pk).update(**changes, **({"state": arg} if arg else {}))
            elif op == "save":
                for name, value in changes.items():
                    setattr(a, name, value)
                a.state = arg or a.state
                a.save(update_fields=[*changes, "state"])
            elif op == "bulk_update":
                for name, value in changes.items():
                    setattr(a, name, value)
                a.state = arg or a.state
                Assignment.objects.bulk_update([a], [*changes, "state"])
            else:
                Assignment.objects.filter(pk=a.pk).refresh_next_due()
        assert stored(a) == from_scratch(a), (op, arg, changes)


def test_the_sql_rendering_of_the_rule_agrees_with_the_python_one_on_every_state_and_role(world):
    rows = []
    units = (world.lead_unit, world.co_unit, world.lead_section)
    for state in AssignmentState.values:
        proposal = make_proposal(world)
        for i, (role, unit) in enumerate(zip(AssignmentRole.values, units)):
            rows.append(Assignment(proposal=proposal, unit=unit, role=role, state=state, assigned_at=timezone.now(),
                                   sign_due=D1, opinion_due=D2 if i % 2 else None, reply_due=D3, feedback_due=D4))
    Assignment.objects.bulk_create(rows)
    mine = Assignment.objects.filter(pk__in=[r.pk for r in rows])
    # Scramble the stored values, then let the database recompute them.
    mine.update(next_due=dt.date(2000, 1, 1), next_due_kind="sign")
    assert mine.refresh_next_due() == len(rows)
    for a in mine:
        assert (a.next_due, a.next_due_kind) == next_due(a), (a.state, a.role)


def test_a_transition_stores_the_new_next_deadline_in_its_compare_and_set(world):
    lead, _ = assign(world, make_proposal(world), co=False)
    before = Assignment.objects.get(pk=lead.pk)
    assert (before.next_due, before.next_due_kind) == (before.sign_due, "sign")
    with CaptureQueriesContext(connection) as ctx:
        lead = handling.assignment_sign(assignment=lead, actor=world.lead_office)
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE") and "handling_assignment" in q["sql"]]
    assert len(updates) == 1 and "next_due" in updates[0]
    assert stored(lead) == (lead.reply_due, "reply")
    other, _ = assign(world, make_proposal(world), co=False)
    other = walk_to(world, other, "replied")
    assert stored(other) == (other.feedback_due, "feedback")


def test_deadlines_module_states_the_rule_once():
    # Every (state, role) pair is owed by at most one entry of the rule.
    seen = set()
    for states, roles, _column, _kind in deadlines.NEXT_DUE_RULE:
        for pair in ((s, r) for s in states for r in roles):
            assert pair not in seen
            seen.add(pair)
