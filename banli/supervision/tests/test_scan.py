"""The deadline scan over the 2025 National Day holiday (10月1日–8日休, 9月28日和10月11日调休上班)."""
import datetime as dt
import json
import threading
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from banli.core.testing import assign, build_world, make_proposal
from banli.handling.models import Assignment, HolidayOverride
from banli.replies.models import Commitment
from banli.supervision import messages, selectors, services
from banli.supervision.models import Delivery, DeliveryAttempt, Notification, Reminder, ReminderPolicy, Supervision
from banli.supervision.tests.helpers import frozen, give_contacts, lead_item

D = dt.date


def run_days(start: D, end: D, *, twice: bool = True) -> dict:
    """Scan every calendar day from start to end (twice a day), each followed by the send step's fan-out as
    the scheduler runs them; return {day: [thresholds created]}."""
    created: dict = {}
    day = start
    while day <= end:
        with frozen(day):
            before = set(Reminder.objects.values_list("pk", flat=True))
            first = services.scan_deadlines()
            second = services.scan_deadlines() if twice else {"created": 0}
            services.fan_out_pending()
            assert second["created"] == 0, f"second scan on {day} created reminders again"
            new = Reminder.objects.exclude(pk__in=before).order_by("threshold")
            if new:
                created[day] = sorted((r.threshold for r in new), reverse=True)
            assert first["created"] == len(created.get(day, []))
        day += dt.timedelta(days=1)
    return created


def test_reply_reminders_fall_on_the_right_working_days_around_national_day(world):
    lead = lead_item(world, reply_due=D(2025, 10, 10))
    created = run_days(D(2025, 9, 20), D(2025, 10, 15))
    assert created == {
        D(2025, 9, 26): [5],  # 5 working days left: 9/28 (调休), 9/29, 9/30, 10/9, 10/10
        D(2025, 10, 9): [1],
        D(2025, 10, 11): [-1],  # the 调休 Saturday counts as a working day late
        D(2025, 10, 13): [-2],
        D(2025, 10, 14): [-3],
        D(2025, 10, 15): [-4],
    }
    assert set(Reminder.objects.values_list("assignment_id", flat=True)) == {lead.pk}
    assert not Reminder.objects.filter(scan_date__range=(D(2025, 10, 1), D(2025, 10, 8))).exists()


def test_nothing_is_created_on_a_holiday_and_the_scan_says_so(world):
    lead_item(world, reply_due=D(2025, 10, 2))
    with frozen(D(2025, 10, 3)):
        result = services.scan_deadlines()
    assert result["skipped"] == "holiday" and result["created"] == 0
    assert not Reminder.objects.exists()


def test_a_deadline_on_a_holiday_is_warned_before_and_overdue_after_the_holiday(world):
    lead_item(world, reply_due=D(2025, 10, 3))
    created = run_days(D(2025, 9, 22), D(2025, 10, 10), twice=False)
    # 9/29 has one working day (9/30) left before the holiday deadline; 10/9 is the first working day late.
    assert created == {D(2025, 9, 24): [5], D(2025, 9, 29): [1], D(2025, 10, 9): [-1], D(2025, 10, 10): [-2]}


def test_a_missed_day_is_caught_up_on_the_next_scan(world):
    lead_item(world, reply_due=D(2025, 10, 10))
    with frozen(D(2025, 9, 29)):  # nobody scanned on 9/26 or 9/28: 3 working days left, still inside "5"
        assert services.scan_deadlines()["created"] == 1
    assert Reminder.objects.get().threshold == 5


def test_an_extended_deadline_gets_its_own_warnings(world):
    lead = lead_item(world, reply_due=D(2025, 10, 10))
    with frozen(D(2025, 10, 9)):
        services.scan_deadlines()
    Assignment.objects.filter(pk=lead.pk).update(reply_due=D(2025, 10, 17))
    with frozen(D(2025, 10, 16)):
        services.scan_deadlines()
    assert sorted(Reminder.objects.values_list("due_date", "threshold")) == [(D(2025, 10, 10), 1), (D(2025, 10, 17), 1)]


def test_every_kind_of_deadline_is_found(world):
    proposal = make_proposal(world)
    with frozen(D(2025, 9, 1)):
        lead, co = assign(world, proposal)
    # Sign: both pending; opinion: the co unit; commitment: an open promise.
    Assignment.objects.filter(pk=lead.pk).update(sign_due=D(2025, 10, 9), reply_due=D(2025, 12, 1))
    Assignment.objects.filter(pk=co.pk).update(sign_due=D(2025, 12, 1), opinion_due=D(2025, 10, 9), state="in_progress")
    Commitment.objects.create(assignment=lead, description="年内新建幼儿园两所", target_date=D(2025, 10, 9),
                              recorded_by=world.lead_handler)
    replied = lead_item(world, reply_due=D(2025, 12, 1))
    Assignment.objects.filter(pk=replied.pk).update(state="replied", feedback_due=D(2025, 10, 9))
    with frozen(D(2025, 9, 30)):
        services.scan_deadlines()
    kinds = sorted(Reminder.objects.values_list("kind", "item_key", "threshold"))
    commitment = Commitment.objects.get()
    assert kinds == sorted([
        ("sign", f"a{lead.pk}", 1), ("opinion", f"a{co.pk}", 1), ("commitment", f"c{commitment.pk}", 1),
        ("feedback", f"a{replied.pk}", 1),
    ])


def test_finished_items_are_not_reminded(world):
    lead = lead_item(world, reply_due=D(2025, 10, 9))
    Assignment.objects.filter(pk=lead.pk).update(state="replied")
    with frozen(D(2025, 9, 30)):
        assert services.scan_deadlines()["created"] == 0


def test_key_items_get_the_tighter_thresholds(world):
    lead = lead_item(world, reply_due=D(2025, 10, 17))
    Supervision.objects.create(proposal=lead.proposal, leader_name="区长 林海", created_by=world.office)
    created = run_days(D(2025, 9, 22), D(2025, 10, 17), twice=False)
    # default key thresholds 10, 5, 3, 1 working days
    assert sorted(t for ts in created.values() for t in ts) == [1, 3, 5, 10]
    assert Notification.objects.filter(is_key=True).exists()


def test_a_key_item_can_name_its_own_thresholds(world):
    lead = lead_item(world, reply_due=D(2025, 10, 17))
    Supervision.objects.create(proposal=lead.proposal, leader_name="区长 林海", created_by=world.office,
                               warning_days=[2])
    created = run_days(D(2025, 9, 22), D(2025, 10, 17), twice=False)
    assert created == {D(2025, 10, 15): [2]}


def test_an_office_policy_changes_thresholds_and_escalation(world):
    ReminderPolicy.objects.create(office=world.office_unit, warning_days=[3], escalate_after_days=1)
    lead_item(world, reply_due=D(2025, 10, 14))
    created = run_days(D(2025, 9, 29), D(2025, 10, 15), twice=False)
    assert created == {D(2025, 10, 10): [3], D(2025, 10, 15): [-1]}
    assert Reminder.objects.get(threshold=-1).level == "escalated"


def test_overdue_items_escalate_to_the_leader_and_the_assigning_office(world):
    give_contacts(world)
    lead_item(world, reply_due=D(2025, 10, 10))
    run_days(D(2025, 10, 9), D(2025, 10, 14), twice=False)
    def who(threshold):
        return set(Notification.objects.filter(reminder__threshold=threshold).values_list("user__username", flat=True))
    assert who(1) == {"edu_handler", "edu_office"}
    assert who(-2) == {"edu_handler", "edu_office"}
    assert who(-3) == {"edu_handler", "edu_office", "edu_leader", "edu_head", "office"}
    assert Reminder.objects.get(threshold=-3).level == "escalated"


def test_an_admin_holiday_override_moves_the_reminders(world):
    HolidayOverride.objects.create(date=D(2025, 10, 9), is_workday=False, name="测试调整")
    lead_item(world, reply_due=D(2025, 10, 10))
    created = run_days(D(2025, 9, 29), D(2025, 10, 10), twice=False)
    assert created == {D(2025, 9, 29): [5], D(2025, 9, 30): [1]}  # 10/9 is no longer a working day


def test_scan_deadlines_command_prints_one_json_line(world):
    give_contacts(world)
    lead_item(world, reply_due=D(2025, 10, 10))
    out = StringIO()
    with frozen(D(2025, 10, 9)):
        call_command("scan_deadlines", stdout=out)
        again = StringIO()
        call_command("scan_deadlines", stdout=again)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["created"] == 1 and result["sent"] == 2 and result["failed"] == 0  # e-mail to handler and office
    assert json.loads(again.getvalue())["created"] == 0 and json.loads(again.getvalue())["sent"] == 0


def test_scan_deadlines_command_rejects_a_bad_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("scan_deadlines", "--date", "2025/10/09")


def _race(job) -> None:
    """Run `job` in two threads released at the same moment (two workers on the real database)."""
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            barrier.wait(timeout=10)
            job()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_create_each_reminder_once():
    world = build_world()
    give_contacts(world)
    for i in range(5):
        lead_item(world, reply_due=D(2025, 10, 10) if i % 2 else D(2025, 10, 13))
    results = []

    def scan_and_fan_out():
        results.append(services.scan_deadlines(today=D(2025, 10, 9)))
        services.fan_out_pending()  # both workers go on to the send step at once too

    _race(scan_and_fan_out)
    # Five items reminded once each, in two rows: the three at five working days and the two at one.
    assert sum(r["created"] for r in results) == 5 == sum(Reminder.objects.values_list("item_count", flat=True))
    items = [i for r in Reminder.objects.all() for i in r.item_ids]
    assert sorted(items) == sorted(Assignment.objects.values_list("pk", flat=True))
    assert Reminder.objects.count() == 2
    # each scan's reminders were fanned out by exactly one worker: one notification per (user, reminder)
    assert Notification.objects.count() == 4
    assert Delivery.objects.count() == 4  # an e-mail each to the handler and the unit office
    assert connection.vendor in {"sqlite", "postgresql"}


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_at_once_send_each_reminder_once():

    world = build_world()
    give_contacts(world)
    for _ in range(6):
        lead_item(world, reply_due=D(2025, 10, 10))
    services.scan_deadlines(today=D(2025, 10, 9))
    services.fan_out_pending()
    assert Delivery.objects.count() == 2  # the handler and the unit office hear of the six items, in one row each
    _race(services.deliver_due)
    assert set(Delivery.objects.values_list("state", flat=True)) == {"sent"}
    assert DeliveryAttempt.objects.count() == 2  # one try per delivery, whichever worker took it
    # However the two workers split the rows, each item reached each address once.
    for address in ("edu_handler@example.gov.cn", "edu_office@example.gov.cn"):
        bodies = "\n".join(m.body for m in mail.outbox if m.to == [address])
        for item in Assignment.objects.values_list("pk", flat=True):
            assert bodies.count(f"/supervision/items/{item}/") == 1


def test_a_units_items_are_reminded_in_one_row_and_each_item_once(world):
    items = [lead_item(world, reply_due=D(2025, 10, 10)) for _ in range(3)]
    with frozen(D(2025, 10, 9)):
        first = services.scan_deadlines()
        again = services.scan_deadlines()
    assert first["created"] == 3 and first["reminders"] == 1 and again["created"] == 0
    row = Reminder.objects.get()
    assert row.item_count == 3 and sorted(row.item_ids) == sorted(i.pk for i in items) and row.threshold == 1
    for item in items:  # each item's page shows the reminder it was in
        assert list(selectors.reminders_for_assignment(world.office, item)) == [row]


def test_an_item_entering_a_window_already_warned_today_or_before_is_warned_itself(world):
    early = lead_item(world, reply_due=D(2025, 10, 17))
    with frozen(D(2025, 10, 13)):  # 4 working days left: inside the five-day window
        assert services.scan_deadlines()["created"] == 1
        late = lead_item(world, reply_due=D(2025, 10, 17))  # assigned later the same day
        assert services.scan_deadlines()["created"] == 1  # the newcomer only
    with frozen(D(2025, 10, 14)):
        assert services.scan_deadlines()["created"] == 0  # both already warned at five days
    with frozen(D(2025, 10, 16)):
        assert services.scan_deadlines()["created"] == 2  # one working day left, both together
    rows = {(r.threshold, tuple(sorted(r.item_ids))) for r in Reminder.objects.all()}
    assert rows == {(5, (early.pk,)), (5, (late.pk,)), (1, tuple(sorted((early.pk, late.pk))))}


def test_overdue_items_get_one_reminder_per_working_day_late_in_groups(world):
    items = [lead_item(world, reply_due=D(2025, 10, 10)) for _ in range(2)]
    for day in (D(2025, 10, 11), D(2025, 10, 11), D(2025, 10, 13)):
        with frozen(day):
            services.scan_deadlines()
    rows = sorted((r.threshold, r.item_count) for r in Reminder.objects.all())
    assert rows == [(-2, 2), (-1, 2)]
    assert {i for r in Reminder.objects.all() for i in r.item_ids} == {i.pk for i in items}


def test_overdue_items_of_different_deadlines_share_a_row_each_with_its_own_days_late(world):
    lead_item(world, reply_due=D(2025, 10, 10))
    lead_item(world, reply_due=D(2025, 10, 11))  # the 调休 Saturday
    with frozen(D(2025, 10, 13)):
        assert services.scan_deadlines()["created"] == 2
        assert services.scan_deadlines()["created"] == 0
    row = Reminder.objects.get()
    assert row.item_count == 2 and row.level == "overdue"
    subject, body = messages.render_message(row)
    assert subject == "【办理提醒】您有 2 件事项需要处理"
    assert "已逾期2个工作日" in body and "已逾期1个工作日" in body
    with frozen(D(2025, 10, 14)):  # one more working day late: each item's reminder of the day
        assert services.scan_deadlines()["created"] == 2


def test_a_units_rating_reminder_tells_each_proposer_of_his_own_proposal_only(world):
    give_contacts(world)
    mine = lead_item(world, reply_due=D(2025, 9, 1), proposers=[world.proposer_record])
    theirs = lead_item(world, reply_due=D(2025, 9, 1), proposers=[world.other_proposer_record])
    Assignment.objects.filter(pk__in=[mine.pk, theirs.pk]).update(state="replied", feedback_due=D(2025, 10, 10))
    with frozen(D(2025, 10, 9)):
        assert services.scan_deadlines()["created"] == 2
        services.fan_out_pending()
    row = Reminder.objects.get(kind="feedback")
    assert row.item_count == 2  # one row for the unit
    for user, own, other in ((world.proposer, mine, theirs), (world.other_proposer, theirs, mine)):
        note = Notification.objects.get(user=user, reminder=row)
        assert own.proposal.number in note.shown_title and other.proposal.number not in note.shown_body
        assert other.proposal.number not in note.shown_title
    office = Notification.objects.get(user=world.lead_office, reminder=row)
    assert office.shown_title == "【办理提醒】您有 2 件事项需要处理"
    subject, body = messages.render_message(row, user=world.lead_office)
    assert mine.proposal.number in body and theirs.proposal.number in body
