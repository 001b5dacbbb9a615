"""The deadline engine: official holidays and 调休, months, fixed dates, overrides."""
import datetime as dt

import pytest

from banli.handling import deadlines
from banli.handling.choices import DeadlineStep, DeadlineUnit
from banli.handling.deadlines import WorkCalendar, add_months
from banli.handling.models import DeadlinePolicy, HolidayOverride

D = dt.date
cal = WorkCalendar()


@pytest.mark.parametrize(
    "start, days, due",
    [
        # 2024 National Day: 1–7 Oct off, Sunday 29 Sep and Saturday 12 Oct are working days.
        (D(2024, 9, 27), 3, D(2024, 10, 8)),
        (D(2024, 10, 10), 3, D(2024, 10, 14)),
        # 2025 National Day and Mid-Autumn: 1–8 Oct off, Sunday 28 Sep and Saturday 11 Oct worked.
        (D(2025, 9, 26), 3, D(2025, 9, 30)),
        (D(2025, 9, 26), 7, D(2025, 10, 13)),
        # 2024 Spring Festival: 10–17 Feb off, Sundays 4 and 18 Feb worked.
        (D(2024, 2, 8), 3, D(2024, 2, 19)),
        (D(2024, 2, 2), 1, D(2024, 2, 4)),
        # 2025 Spring Festival: 28 Jan – 4 Feb off, Sunday 26 Jan and Saturday 8 Feb worked.
        (D(2025, 1, 24), 3, D(2025, 2, 5)),
        (D(2025, 2, 5), 3, D(2025, 2, 8)),  # the 调休 Saturday counts
        (D(2025, 2, 6), 3, D(2025, 2, 10)),
    ],
)
def test_working_days_follow_the_official_holiday_and_adjusted_working_day_calendar(start, days, due):
    assert cal.add_working_days(start, days) == due


def test_a_working_saturday_counts_and_a_holiday_weekday_does_not():
    assert cal.is_workday(D(2024, 10, 12))  # 调休 Saturday
    assert not cal.is_workday(D(2024, 10, 7))  # Monday inside the holiday
    assert cal.is_workday(D(2025, 2, 8))
    assert not cal.is_workday(D(2025, 2, 3))


def test_working_days_between_counts_only_working_days():
    assert cal.working_days_between(D(2024, 9, 30), D(2024, 10, 8)) == 1
    assert cal.working_days_between(D(2024, 10, 8), D(2024, 9, 30)) == -1
    assert cal.working_days_between(D(2025, 1, 24), D(2025, 2, 5)) == 3


@pytest.mark.parametrize(
    "start, months, due",
    [
        (D(2023, 11, 30), 3, D(2024, 2, 29)),  # leap year
        (D(2024, 11, 30), 3, D(2025, 2, 28)),
        (D(2025, 8, 31), 1, D(2025, 9, 30)),
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2025, 10, 15), 6, D(2026, 4, 15)),
        (D(2025, 12, 31), 2, D(2026, 2, 28)),
    ],
)
def test_months_end_on_the_same_day_or_the_last_day_of_a_shorter_month(start, months, due):
    assert add_months(start, months) == due


@pytest.mark.django_db
def test_an_administrator_override_beats_the_package_and_covers_unknown_years():
    HolidayOverride.objects.create(date=D(2031, 1, 2), is_workday=False, name="元旦调休")
    HolidayOverride.objects.create(date=D(2031, 1, 4), is_workday=True, name="调休上班")
    loaded = WorkCalendar.load()
    # 1 Jan 2031 is a Wednesday; the package does not know 2031, so weekdays work by default.
    assert not loaded.is_workday(D(2031, 1, 2))
    assert loaded.is_workday(D(2031, 1, 4))  # a Saturday made a working day
    assert loaded.add_working_days(D(2031, 1, 1), 2) == D(2031, 1, 4)


@pytest.mark.django_db
def test_default_policy_gives_the_design_deadlines(world):
    due = deadlines.assignment_deadlines(world.session, "proposal", D(2024, 11, 29))
    assert due["sign_due"] == D(2024, 12, 4)
    assert due["adjust_due"] == D(2024, 12, 10)
    assert due["opinion_due"] == D(2024, 12, 29)
    assert due["reply_due"] == D(2025, 2, 28)
    assert due["reply_due_max"] == D(2025, 5, 29)


@pytest.mark.django_db
def test_a_session_policy_can_fix_a_calendar_date_or_count_calendar_days(world):
    DeadlinePolicy.objects.create(session=world.session, kind="proposal", step=DeadlineStep.REPLY,
                                  unit=DeadlineUnit.FIXED_DATE, fixed_date=D(2025, 6, 30))
    DeadlinePolicy.objects.create(session=world.session, kind="proposal", step=DeadlineStep.CO_OPINION,
                                  unit=DeadlineUnit.CALENDAR_DAYS, amount=20)
    due = deadlines.assignment_deadlines(world.session, "proposal", D(2025, 3, 1))
    assert due["reply_due"] == D(2025, 6, 30)
    assert due["opinion_due"] == D(2025, 3, 21)
    # Suggestions of the same session keep the defaults.
    assert deadlines.assignment_deadlines(world.session, "suggestion", D(2025, 3, 1))["reply_due"] == D(2025, 6, 1)
