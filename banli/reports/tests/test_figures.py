import datetime as dt

import pytest

from banli.handling.models import Assignment, ExtensionRequest
from banli.replies import services as replies
from banli.reports import figures
from banli.reports.figures import Slice
from banli.reports.testing import build_seed_001


@pytest.fixture
def seed(world):
    return build_seed_001(world)


def test_seed_001_figures_are_all_computed_from_the_records(seed, world, django_assert_max_num_queries):
    sl = Slice(session_id=world.session.pk, unit_id=world.lead_unit.pk, as_of=dt.date(2025, 12, 31))
    with django_assert_max_num_queries(4):
        v = figures.compute(sl)
    got = {k: x.value for k, x in v.items()}
    assert got["assigned"] == 33
    assert (got["lead_count"], got["split_count"], got["co_count"]) == (4, 1, 28)
    assert got["key_led"] == 1
    assert got["reply_rate"] == 100.0 and v["reply_rate"].denominator == 5
    assert got["on_time_rate"] == 100.0
    assert got["close_rate"] == 100.0 and v["close_rate"].denominator == 33
    assert got["satisfaction_rate"] == 100.0 and v["satisfaction_rate"].denominator == 10
    assert got["basic_satisfaction_rate"] == 100.0
    assert got["contact_rate"] == 100.0
    assert got["fulfilment_rate"] is None
    assert got["late"] == 0 and got["overdue"] == 0 and got["unsatisfied"] == 0
    assert got["avg_days_to_sign"] == 1.0
    assert got["avg_days_to_reply"] == 40.0
    assert got["signed"] == 33 and got["replied"] == 5 and got["ratings"] == 10
    assert got["awaiting_rating"] == 0 and got["commitments_due"] == 0
    assert set(got) == set(figures.FIGURES)  # every figure was checked above
    assert figures.reply_classes(sl) == [("A", 5)]


# --- edge cases ------------------------------------------------------------------------------------

from banli.core.testing import make_proposal, make_user  # noqa: E402
from banli.handling import services as handling  # noqa: E402
from banli.organizations import services as orgs  # noqa: E402
from banli.organizations.choices import Role  # noqa: E402
from banli.replies.models import Feedback  # noqa: E402
from banli.reports.testing import ASSIGNED, answer, reply_and_rate  # noqa: E402

DAY = dt.timedelta(days=1)


def _lead(world, **kw):
    proposal = make_proposal(world, **kw)
    return handling.assignment_create(proposal=proposal, unit=world.lead_unit, role="lead", actor=world.office,
                                      now=ASSIGNED)


def _unit_slice(world, **kw):
    return Slice(session_id=world.session.pk, unit_id=world.lead_unit.pk, as_of=dt.date(2025, 12, 31), **kw)


def test_a_reply_after_the_due_date_is_answered_but_not_on_time(world):
    on_time = _lead(world)
    late = _lead(world)
    answer(world, on_time, signed=ASSIGNED + DAY, replied=ASSIGNED + 30 * DAY)
    late = answer(world, late, signed=ASSIGNED + DAY, replied=dt.datetime.combine(
        late.reply_due + DAY, dt.time(10), tzinfo=ASSIGNED.tzinfo))
    v = figures.compute(_unit_slice(world))
    assert v["reply_rate"].value == 100.0
    assert v["on_time_rate"].value == 50.0
    assert v["late"].value == 1
    assert list(figures.items(figures.FIGURES["late"], _unit_slice(world))) == [late]


def test_an_approved_extension_moves_the_date_a_reply_is_on_time_against(world):
    a = _lead(world)
    a = handling.assignment_sign(assignment=a, actor=world.lead_office, now=ASSIGNED + DAY)
    original_due = a.reply_due
    request = handling.extension_request(assignment=a, actor=world.lead_office, reason="涉及多部门，需延期。",
                                         requested_due=original_due + 30 * DAY, now=ASSIGNED + 2 * DAY)
    handling.extension_decide(request=request, actor=world.office, approve=True, now=ASSIGNED + 3 * DAY)
    a.refresh_from_db()
    a = handling.assignment_assign_section(assignment=a, actor=world.lead_office, section=world.lead_section,
                                           handler=world.lead_handler, now=ASSIGNED + 3 * DAY)
    replied = dt.datetime.combine(original_due + 10 * DAY, dt.time(10), tzinfo=ASSIGNED.tzinfo)
    reply_and_rate(world, a, replied=replied)
    v = figures.compute(_unit_slice(world))
    assert v["on_time_rate"].value == 100.0 and v["late"].value == 0


def test_missing_ratings_are_not_counted_as_satisfied(world):
    a = _lead(world)
    answer(world, a, signed=ASSIGNED + DAY, replied=ASSIGNED + 30 * DAY, rate=("satisfied", None), close=False)
    b = _lead(world)
    answer(world, b, signed=ASSIGNED + DAY, replied=ASSIGNED + 30 * DAY, rate=("basic", None), close=False)
    v = figures.compute(_unit_slice(world))
    assert v["ratings"].value == 2
    assert v["satisfaction_rate"].numerator == 1 and v["satisfaction_rate"].value == 50.0
    assert v["basic_satisfaction_rate"].value == 100.0
    assert v["awaiting_rating"].value == 2
    assert v["close_rate"].value == 0.0


def test_a_rehandled_item_counts_once_with_its_final_rating_and_keeps_the_first_in_history(world):
    a = _lead(world)
    a = answer(world, a, signed=ASSIGNED + DAY, replied=ASSIGNED + 30 * DAY, rate=("unsatisfied", "satisfied"),
               close=False)
    assert a.state == "rated"
    a = handling.assignment_rehandle(assignment=a, actor=world.office, reason="提案人不满意，重新办理。",
                                     now=ASSIGNED + 35 * DAY)
    v = figures.compute(_unit_slice(world))
    assert v["replied"].value == 0 and v["ratings"].value == 0  # the first round no longer counts
    a = reply_and_rate(world, a, replied=ASSIGNED + 50 * DAY)
    v = figures.compute(_unit_slice(world))
    assert v["assigned"].value == 1 and v["replied"].value == 1
    assert v["ratings"].value == 2 and v["satisfaction_rate"].value == 100.0
    assert v["unsatisfied"].value == 0
    history = Feedback.objects.filter(assignment=a).order_by("round", "id").values_list("round", "result")
    assert list(history) == [(1, "unsatisfied"), (1, "satisfied"), (2, "satisfied"), (2, "satisfied")]


def test_a_unit_with_only_co_items_has_no_reply_rates_but_a_close_rate(world):
    proposal = make_proposal(world)
    handling.assignment_create(proposal=proposal, unit=world.lead_unit, role="lead", actor=world.office, now=ASSIGNED)
    co = handling.assignment_create(proposal=proposal, unit=world.co_unit, role="co", actor=world.office, now=ASSIGNED)
    sl = Slice(session_id=world.session.pk, unit_id=world.co_unit.pk, as_of=dt.date(2025, 12, 31))
    v = figures.compute(sl)
    assert v["assigned"].value == 1 and v["co_count"].value == 1
    assert v["reply_rate"].value is None and v["reply_rate"].display == "—"
    assert v["satisfaction_rate"].value is None
    assert v["close_rate"].value == 0.0

    co = handling.assignment_sign(assignment=co, actor=world.co_office, now=ASSIGNED + DAY)
    co = handling.assignment_assign_section(assignment=co, actor=world.co_office, section=world.co_section,
                                            handler=world.co_handler, now=ASSIGNED + DAY)
    replies.co_opinion_send(assignment=co, actor=world.co_handler, body="同意。", now=ASSIGNED + 9 * DAY)
    assert figures.compute(sl)["close_rate"].value == 100.0


def test_overdue_items_show_in_the_weekly_trend(world):
    a = _lead(world)
    due = a.reply_due
    sl = Slice(session_id=world.session.pk, as_of=due + 14 * DAY)
    trend = figures.overdue_by_week(sl, weeks=4)
    assert [n for _, n in trend] == [0, 0, 1, 1]
    assert figures.compute(sl)["overdue"].value == 1


def test_slices_by_role_category_key_and_date(seed, world):
    base = dict(session_id=world.session.pk, unit_id=world.lead_unit.pk)
    assert figures.compute(Slice(role="co", **base))["assigned"].value == 28
    assert figures.compute(Slice(category="科教", **base))["assigned"].value == 3
    assert figures.compute(Slice(key_only=True, **base))["assigned"].value == 1
    assert figures.compute(Slice(date_from=dt.date(2025, 4, 1), **base))["assigned"].value == 0
    assert figures.compute(Slice(section_id=world.lead_section.pk, **base))["assigned"].value == 33
    assert figures.compute(Slice(unit_id=world.co_unit.pk, session_id=world.session.pk))["assigned"].value == 0


def test_grouped_figures_come_back_per_unit_in_three_queries(seed, world, django_assert_num_queries):
    with django_assert_num_queries(3):
        groups = figures.compute_grouped(Slice(session_id=world.session.pk), "unit")
    assert groups[world.lead_unit.pk]["assigned"].value == 33
    assert groups[world.lead_unit.pk]["satisfaction_rate"].value == 100.0


def test_only_contacts_before_the_reply_count_for_the_contact_rate(world):
    before, after, _none = _lead(world), _lead(world), _lead(world)
    answer(world, before, signed=ASSIGNED + DAY, replied=ASSIGNED + 30 * DAY, contact_on=(ASSIGNED + 5 * DAY).date())
    after = answer(world, after, signed=ASSIGNED + DAY, replied=ASSIGNED + 30 * DAY)
    handling.contact_log(assignment=after, actor=world.lead_handler, phase="after", method="visit",
                         contacted_on=(ASSIGNED + 40 * DAY).date(), people="李委员", summary="办后回访。",
                         now=ASSIGNED + 41 * DAY)
    v = figures.compute(_unit_slice(world))
    assert v["contact_rate"].numerator == 1 and v["contact_rate"].denominator == 3


def test_overdue_at_a_past_date_counts_the_deadline_then_in_force_and_answers_given_later(world):
    extended, answered_late = _lead(world), _lead(world)
    due = extended.reply_due
    # Extended a week after its deadline had passed: the new deadline holds from the approval, not before.
    ExtensionRequest.objects.create(
        assignment=extended, requested_by=world.lead_office, reason="需要调研", requested_due=due + 60 * DAY,
        status="approved", decided_by=world.office, approved_due=due + 60 * DAY,
        decided_at=dt.datetime.combine(due + 7 * DAY, dt.time(10), tzinfo=ASSIGNED.tzinfo))
    Assignment.objects.filter(pk=extended.pk).update(reply_due=due + 60 * DAY)
    # Answered twenty days late: overdue until then.
    Assignment.objects.filter(pk=answered_late.pk).update(
        state="replied", replied_at=dt.datetime.combine(due + 20 * DAY, dt.time(15), tzinfo=ASSIGNED.tzinfo))

    def overdue(day):
        sl = Slice(session_id=world.session.pk, as_of=day)
        return figures.compute(sl)["overdue"].value, list(figures.items(figures.FIGURES["overdue"], sl)
                                                             .order_by("pk").values_list("pk", flat=True))

    assert overdue(due) == (0, [])  # the deadline day itself is not late
    assert overdue(due + 3 * DAY) == (2, sorted([extended.pk, answered_late.pk]))
    assert overdue(due + 10 * DAY) == (1, [answered_late.pk])  # extended by then
    assert overdue(due + 25 * DAY) == (0, [])  # answered by then
    assert overdue(ASSIGNED.date() - DAY) == (0, [])  # not even assigned yet
    trend = dict(figures.overdue_by_week(Slice(session_id=world.session.pk, as_of=due + 24 * DAY), weeks=4))
    assert trend[due + 3 * DAY] == 2 and trend[due + 10 * DAY] == 1 and trend[due + 24 * DAY] == 0


def test_an_item_handed_on_inside_a_units_subtree_counts_once_for_the_unit(world):
    """The district government hands its item on to one of its departments: the government's figures (with its
    subunits) count the item once, the department's count it as its own, another unit's not at all."""
    government = orgs.unit_create(name="区人民政府")
    department = orgs.unit_create(name="区科技局", parent=government)
    liaison = make_user("gov_liaison", "区政府办联络员", (Role.UNIT_OFFICE, government))
    proposal = make_proposal(world, number="2025H1")
    own = handling.assignment_create(proposal=proposal, unit=government, role="lead", actor=world.office)
    handling.assignment_create(proposal=proposal, unit=department, role="lead", actor=liaison, parent=own)
    handling.assignment_create(proposal=make_proposal(world, number="2025H2"), unit=department, role="co",
                               actor=world.office)

    def assigned(unit, **kw):
        return figures.compute(Slice(session_id=world.session.pk, unit_id=unit.pk, **kw).resolve())["assigned"].value

    assert assigned(government) == 2  # its own item once (not again at the department) and the department's co item
    assert assigned(government, with_subunits=False) == 1
    assert assigned(department) == 2
    assert assigned(world.lead_unit) == 0
    # Only a subtree with items handed on inside it needs the check against the parent item (a join).
    assert Slice(unit_id=government.pk).resolve().handed_on
    assert not Slice(unit_id=world.lead_unit.pk).resolve().handed_on
    # A slice read before it was resolved filters by the same subtree (its path was empty: every unit matched), and
    # a unit that does not exist holds nothing.
    live = Assignment.objects.filter(session_id=world.session.pk)
    assert live.filter(Slice(unit_id=department.pk).q()).count() == 2
    assert live.filter(Slice(unit_id=government.pk).q()).count() == 2
    assert live.filter(Slice(unit_id=987654321).q()).count() == 0
