"""不满意 is handled, visibly: a to-do for the lead unit and the office; closing as it stands is the office's decision."""
import datetime as dt

import pytest
from django.utils import timezone

from banli.actions.registry import offered_actions
from banli.core.errors import DomainError, PermissionDenied
from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.deadlines import add_months
from banli.handling.models import Event
from banli.replies import services as replies
from banli.replies.models import Feedback
from banli.workbench.selectors import Clock, workbench_for


def _rated_unsatisfied(world):
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "replied")
    replies.feedback_record(assignment=lead, actor=world.proposer, attitude="basic", result="unsatisfied",
                            comment="学位问题没有解决。")
    lead.refresh_from_db()
    replies.feedback_record(assignment=lead, actor=world.co_proposer, attitude="satisfied", result="satisfied")
    lead.refresh_from_db()
    return lead


def _section(user, role, key):
    return next(s for s in workbench_for(user, role, Clock.now()) if s.key == key)


def test_an_unsatisfied_rating_puts_the_item_on_the_units_and_the_offices_lists(world):
    lead = _rated_unsatisfied(world)
    assert [r.pk for r in _section(world.lead_office, "unit_office", "unsatisfied").rows] == [lead.pk]
    assert [r.pk for r in _section(world.office, "assigning_office", "unsatisfied").rows] == [lead.pk]
    assert _section(world.co_office, "unit_office", "unsatisfied").count == 0
    handling.assignment_rehandle(assignment=lead, actor=world.lead_office, reason="重新研究办理")
    assert _section(world.lead_office, "unit_office", "unsatisfied").count == 0
    assert _section(world.lead_office, "unit_office", "rehandling").count == 1


def test_the_unit_is_offered_rehandling_not_closing_and_cannot_close_it(world):
    lead = _rated_unsatisfied(world)
    keys = {o.key for o in offered_actions(lead, world.lead_office, {"reply": replies.current_reply(lead)})}
    assert "rehandle" in keys and "close" not in keys
    with pytest.raises(PermissionDenied, match="须由交办机构决定"):
        handling.assignment_close(assignment=lead, actor=world.lead_office, reason="已解释")


def test_the_office_closes_as_it_stands_only_with_a_reason_on_record(world):
    lead = _rated_unsatisfied(world)
    assert "close" in {o.key for o in offered_actions(lead, world.office, {"reply": replies.current_reply(lead)})}
    with pytest.raises(DomainError, match="须填写理由"):
        handling.assignment_close(assignment=lead, actor=world.office)
    closed = handling.assignment_close(assignment=lead, actor=world.office, reason="受规划条件限制，已当面向委员说明。")
    assert closed.state == "closed"
    event = Event.objects.get(assignment=lead, verb="close")
    assert event.reason.startswith("受规划条件限制") and event.payload["closed_as_is"] is True
    assert _section(world.office, "assigning_office", "unsatisfied").count == 0


def test_rehandling_is_offered_only_after_an_unsatisfied_rating(world):
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "rated")  # both proposers rated 满意
    for user in (world.lead_office, world.office):
        keys = {o.key for o in offered_actions(lead, user, {"reply": replies.current_reply(lead)})}
        assert "rehandle" not in keys and "close" in keys


def test_the_to_do_rows_show_the_rehandling_deadline_counted_from_the_rating_and_rehandling_keeps_it(world):

    lead = _rated_unsatisfied(world)
    rated_on = timezone.localdate() - dt.timedelta(days=40)  # rated 40 days ago: the month has run out
    Feedback.objects.filter(assignment=lead, result="unsatisfied").update(
        submitted_at=timezone.now() - dt.timedelta(days=40))
    expected = add_months(rated_on, 1)  # DeadlineStep.REHANDLE's default: one month
    for user, role in ((world.lead_office, "unit_office"), (world.office, "assigning_office")):
        row = _section(user, role, "unsatisfied").rows[0]
        assert row.due == expected and row.light == "red"
    handling.assignment_rehandle(assignment=lead, actor=world.lead_office, reason="重新研究办理")
    lead.refresh_from_db()
    assert lead.reply_due == expected  # taking 重新办理 late buys no time
    assert lead.next_due == expected and lead.next_due_kind == "reply"
