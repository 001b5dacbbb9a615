"""Rating by the proposer himself (征询意见表): nobody rates for him; 不满意 needs a comment and reopens the item."""
import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from banli.core.errors import DomainError, PermissionDenied
from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.deadlines import add_months
from banli.replies import selectors, services
from banli.replies.models import Feedback, Reply


@pytest.fixture
def replied(world):
    proposal = make_proposal(world)
    lead, _ = assign(world, proposal)
    return walk_to(world, lead, "replied")


@pytest.mark.parametrize("who", ["lead_handler", "lead_office", "lead_leader", "other_proposer", "office", "co_handler"])
def test_only_the_proposer_himself_can_rate(world, replied, who):
    with pytest.raises(PermissionDenied):
        services.feedback_record(assignment=replied, actor=getattr(world, who), attitude="satisfied", result="satisfied")
    assert not Feedback.objects.exists()


def test_unsatisfied_without_comment_is_refused_with_a_clear_message(world, replied):
    with pytest.raises(DomainError, match="选择“不满意”时，请填写具体意见"):
        services.feedback_record(assignment=replied, actor=world.proposer, attitude="satisfied", result="unsatisfied")
    with pytest.raises(DomainError, match="请填写具体意见"):
        services.feedback_record(assignment=replied, actor=world.proposer, attitude="unsatisfied", result="basic",
                                 comment="   ")
    assert not Feedback.objects.exists()


def test_each_proposer_rates_once_and_the_item_is_rated_when_all_have(world, replied):
    services.feedback_record(assignment=replied, actor=world.proposer, attitude="satisfied", result="basic",
                             contacted_before=True)
    with pytest.raises(DomainError, match="不能重复测评"):
        services.feedback_record(assignment=replied, actor=world.proposer, attitude="satisfied", result="satisfied")
    replied.refresh_from_db()
    assert replied.state == "replied"
    services.feedback_record(assignment=replied, actor=world.co_proposer, attitude="satisfied", result="satisfied")
    replied.refresh_from_db()
    assert replied.state == "rated"
    assert Feedback.objects.get(proposer=world.proposer_record).contacted_before is True


def test_unsatisfied_rating_starts_a_rehandle_round_with_its_own_deadline(world):
    proposal = make_proposal(world)
    lead, _ = assign(world, proposal)
    with time_machine.travel(dt.datetime(2025, 3, 3, 10, tzinfo=dt.timezone.utc), tick=False):
        lead = walk_to(world, lead, "replied")
        services.feedback_record(assignment=lead, actor=world.proposer, attitude="basic", result="unsatisfied",
                                 comment="学位仍然不足")
        lead.refresh_from_db()
        services.feedback_record(assignment=lead, actor=world.co_proposer, attitude="satisfied", result="satisfied")
        lead.refresh_from_db()
        assert lead.state == "rated"
        lead = handling.assignment_rehandle(assignment=lead, actor=world.office, reason="提案人不满意")
    assert (lead.state, lead.round) == ("rehandling", 2)
    assert lead.reply_due == add_months(dt.date(2025, 3, 3), 1)
    assert lead.feedback_due is None
    # Round 2: a new reply, rated again; round 1's reply and ratings stay.
    with time_machine.travel(dt.datetime(2025, 3, 20, 10, tzinfo=dt.timezone.utc), tick=False):
        reply = services.reply_save_draft(assignment=lead, actor=world.lead_handler, body="一、新增学位500个。", reply_class="A")
        assert (reply.round, reply.version) == (2, 1)
        reply = services.reply_submit(reply=reply, actor=world.lead_handler)
        for actor in (world.lead_section_head, world.lead_office, world.lead_leader, world.lead_head):
            reply = services.reply_review(reply=reply, actor=actor, approve=True)
        services.reply_send(reply=reply, actor=world.lead_office)
        lead.refresh_from_db()
        services.feedback_record(assignment=lead, actor=world.proposer, attitude="satisfied", result="satisfied")
    assert list(Feedback.objects.filter(proposer=world.proposer_record).order_by("round").values_list("round", "result")) == [
        (1, "unsatisfied"), (2, "satisfied")]
    assert Reply.objects.filter(assignment=lead).count() == 2
    lead.refresh_from_db()
    assert lead.feedback_due > dt.date(2025, 3, 20)


def test_the_unit_cannot_record_a_paper_form_but_the_office_can_with_its_scan(world, replied):
    scan = SimpleUploadedFile("征询意见表.pdf", b"%PDF-1.4")
    with pytest.raises(PermissionDenied, match="承办单位不能代提案人测评"):
        services.feedback_record_paper(assignment=replied, actor=world.lead_office, proposer=world.proposer_record,
                                       attitude="satisfied", result="satisfied", scanned_form=scan)
    with pytest.raises(DomainError, match="扫描件"):
        services.feedback_record_paper(assignment=replied, actor=world.office, proposer=world.proposer_record,
                                       attitude="satisfied", result="satisfied", scanned_form=None)
    with pytest.raises(DomainError, match="不是该事项的提案人"):
        services.feedback_record_paper(assignment=replied, actor=world.office, proposer=world.other_proposer_record,
                                       attitude="satisfied", result="satisfied", scanned_form=scan)
    feedback = services.feedback_record_paper(assignment=replied, actor=world.office, proposer=world.proposer_record,
                                              attitude="satisfied", result="basic", scanned_form=scan)
    assert feedback.on_paper and feedback.scanned_form.name and feedback.submitted_by == world.office


def test_office_callback_stays_beside_the_rating(world, replied):
    feedback = services.feedback_record(assignment=replied, actor=world.proposer, attitude="satisfied", result="satisfied")
    with pytest.raises(PermissionDenied):
        services.feedback_callback_record(feedback=feedback, actor=world.lead_office, confirmed=True, note="已回访")
    callback = services.feedback_callback_record(feedback=feedback, actor=world.office, confirmed=False,
                                                 note="电话回访：委员表示实际并未被联系")
    assert list(feedback.callbacks.all()) == [callback] and callback.confirmed is False


def test_missing_rating_after_the_deadline_is_reported_never_counted_as_satisfied(world, replied):
    services.feedback_record(assignment=replied, actor=world.proposer, attitude="satisfied", result="satisfied")
    replied.refresh_from_db()
    assert selectors.missing_feedback(world.office, today=replied.feedback_due) == []
    late = replied.feedback_due + dt.timedelta(days=1)
    rows = selectors.missing_feedback(world.office, today=late)
    assert [(a.pk, p.name) for a, p in rows] == [(replied.pk, "吴委员")]
    assert selectors.missing_feedback(world.lead_office, today=late) == rows
    assert selectors.missing_feedback(world.other_office, today=late) == []
    assert not Feedback.objects.filter(proposer=world.co_proposer_record).exists()
    _ = timezone
