"""Every transition of an assignment: who may take it, from which state, with which reason, and its event."""
import datetime as dt

import pytest
from django.utils import timezone

from banli.core.errors import ConflictError, DomainError, PermissionDenied
from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling import workflow
from banli.handling.models import Assignment, Event
from banli.replies import services as replies
from banli.replies.models import Feedback, Reply

pytestmark = pytest.mark.django_db


def _events(assignment):
    return list(Event.objects.filter(assignment=assignment).values_list("verb", flat=True))


def _unchanged(assignment, before_state, before_events):
    fresh = Assignment.objects.get(pk=assignment.pk)
    assert fresh.state == before_state
    assert Event.objects.filter(assignment=assignment).count() == before_events


def test_every_state_has_a_label_and_colour_and_every_transition_leads_to_a_known_state():
    for state in workflow.STATES.values():
        assert state.label and state.colour
    for t in workflow.TRANSITIONS.values():
        assert set(t.sources) <= set(workflow.STATES)
        assert t.target is None or t.target in workflow.STATES
        assert t.actor_roles


def test_assigning_writes_the_event_and_sets_deadlines(world):
    proposal = make_proposal(world)
    lead, co = assign(world, proposal)
    assert lead.state == "pending_sign" and lead.reply_due and lead.sign_due
    assert _events(lead) == ["assign"]
    proposal.refresh_from_db()
    assert proposal.status == "assigned"


def test_only_the_assigning_office_may_assign(world):
    proposal = make_proposal(world)
    for outsider in (world.lead_office, world.lead_handler, world.proposer, world.admin):
        with pytest.raises(PermissionDenied):
            handling.assignment_create(proposal=proposal, unit=world.lead_unit, role="lead", actor=outsider)
    assert not Assignment.objects.filter(proposal=proposal).exists()


def test_a_proposal_cannot_be_assigned_twice_to_the_same_unit_or_get_two_lead_units(world):
    proposal = make_proposal(world)
    assign(world, proposal, co=False)
    with pytest.raises(DomainError, match="不能重复交办"):
        handling.assignment_create(proposal=proposal, unit=world.lead_unit, role="co", actor=world.office)
    with pytest.raises(DomainError, match="已有主办单位"):
        handling.assignment_create(proposal=proposal, unit=world.other_unit, role="lead", actor=world.office)
    handling.assignment_create(proposal=proposal, unit=world.other_unit, role="split", actor=world.office)


def test_the_unit_office_signs_and_nobody_else_may(world):
    lead, co = assign(world, make_proposal(world))
    for outsider in (world.lead_handler, world.lead_leader, world.co_office, world.other_office, world.office,
                     world.proposer, world.admin):
        with pytest.raises(PermissionDenied):
            handling.assignment_sign(assignment=lead, actor=outsider)
    _unchanged(lead, "pending_sign", 1)
    signed = handling.assignment_sign(assignment=lead, actor=world.lead_office)
    assert signed.state == "signed" and signed.signed_at
    assert _events(lead) == ["assign", "sign"]
    event = Event.objects.filter(assignment=lead, verb="sign").get()
    assert (event.from_state, event.to_state, event.actor, event.actor_role) == (
        "pending_sign", "signed", world.lead_office, "unit_office")


def test_a_transition_from_the_wrong_state_is_refused_with_a_chinese_reason_and_changes_nothing(world):
    lead, _ = assign(world, make_proposal(world))
    signed = handling.assignment_sign(assignment=lead, actor=world.lead_office)
    with pytest.raises(DomainError) as err:
        handling.assignment_sign(assignment=signed, actor=world.lead_office)
    assert "当前状态为「已签收」" in err.value.message and "待签收" in err.value.message
    _unchanged(lead, "signed", 2)


def test_adjustment_needs_a_reason_and_the_office_reassigns_on_approval(world):
    proposal = make_proposal(world)
    lead, _ = assign(world, proposal)
    with pytest.raises(DomainError, match="必须填写理由"):
        handling.adjustment_request(assignment=lead, actor=world.lead_office, reason="  ")
    _unchanged(lead, "pending_sign", 1)
    request = handling.adjustment_request(assignment=lead, actor=world.lead_office, reason="属卫生健康职能",
                                          suggested_unit=world.other_unit)
    lead.refresh_from_db()
    assert lead.state == "adjustment_requested"
    with pytest.raises(PermissionDenied):
        handling.adjustment_approve(request=request, actor=world.lead_office, new_unit=world.other_unit)
    new = handling.adjustment_approve(request=request, actor=world.office, new_unit=world.other_unit, note="同意")
    lead.refresh_from_db()
    assert lead.state == "withdrawn"
    assert new.unit == world.other_unit and new.role == "lead" and new.state == "pending_sign" and new.replaces == lead
    assert _events(lead) == ["assign", "request_adjustment", "approve_adjustment"]
    with pytest.raises(DomainError):  # already decided: nothing more happens
        handling.adjustment_reject(request=request, actor=world.office, reason="迟到的决定")
    assert Assignment.objects.get(pk=new.pk).state == "pending_sign"


def test_a_rejected_adjustment_sends_the_item_back_to_be_signed(world):
    lead, _ = assign(world, make_proposal(world))
    request = handling.adjustment_request(assignment=lead, actor=world.lead_office, reason="不属本单位职能")
    lead.refresh_from_db()
    with pytest.raises(DomainError, match="必须填写理由"):
        handling.adjustment_reject(request=request, actor=world.office, reason="")
    back = handling.adjustment_reject(request=request, actor=world.office, reason="属教育职能，请办理")
    assert back.state == "pending_sign"


def test_adjustment_is_refused_after_the_window(world):
    start = timezone.make_aware(dt.datetime(2025, 3, 3, 9))
    lead, _ = assign(world, make_proposal(world), now=start)
    late = timezone.make_aware(dt.datetime(2025, 3, 20, 9))
    with pytest.raises(DomainError, match="申请调整的期限已过"):
        handling.adjustment_request(assignment=lead, actor=world.lead_office, reason="不属本单位", now=late)
    _unchanged(lead, "pending_sign", 1)


def test_the_unit_office_assigns_a_lead_section_handler_and_co_sections_of_its_own_unit(world):
    lead, _ = assign(world, make_proposal(world))
    lead = handling.assignment_sign(assignment=lead, actor=world.lead_office)
    with pytest.raises(DomainError, match="不是「区教育局」的科室"):
        handling.assignment_assign_section(assignment=lead, actor=world.lead_office, section=world.co_section)
    with pytest.raises(DomainError, match="不是「区教育局」的承办人"):
        handling.assignment_assign_section(assignment=lead, actor=world.lead_office, section=world.lead_section,
                                           handler=world.co_handler)
    a = handling.assignment_assign_section(assignment=lead, actor=world.lead_office, section=world.lead_section,
                                           handler=world.lead_handler,
                                           co_sections=[(world.lead_section2, None)])
    assert a.state == "in_progress" and a.handler == world.lead_handler and a.lead_section == world.lead_section
    assert [s.section for s in a.co_sections.all()] == [world.lead_section2]


def test_contacts_are_logged_by_the_unit_and_validated(world):
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "in_progress")
    today = timezone.localdate()
    with pytest.raises(DomainError, match="不能晚于今天"):
        handling.contact_log(assignment=lead, actor=world.lead_handler, phase="before", method="phone",
                             contacted_on=today + dt.timedelta(days=1), people="李委员", summary="电话沟通")
    with pytest.raises(PermissionDenied):
        handling.contact_log(assignment=lead, actor=world.co_handler, phase="before", method="phone",
                             contacted_on=today, people="李委员", summary="电话沟通")
    record = handling.contact_log(assignment=lead, actor=world.lead_handler, phase="before", method="phone",
                                  contacted_on=today, people="李委员、张敏", summary="了解诉求")
    assert record.pk and _events(lead)[-1] == "log_contact"


def test_a_co_unit_sends_its_opinion_and_cannot_reply(world):
    lead, co = assign(world, make_proposal(world))
    co = handling.assignment_sign(assignment=co, actor=world.co_office)
    co = handling.assignment_assign_section(assignment=co, actor=world.co_office, section=world.co_section,
                                            handler=world.co_handler)
    with pytest.raises(DomainError, match="只适用于主办、分办单位"):
        replies.reply_save_draft(assignment=co, actor=world.co_handler, body="答复", reply_class="A")
    opinion = replies.co_opinion_send(assignment=co, actor=world.co_handler, body="同意主办单位意见，配合推进。")
    co.refresh_from_db()
    assert co.state == "opinion_sent" and co.opinion_sent_at and opinion.state == "sent"


def test_a_reply_without_a_class_cannot_be_submitted(world):
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "in_progress")
    reply = replies.reply_save_draft(assignment=lead, actor=world.lead_handler, body="答复正文")
    with pytest.raises(DomainError, match="请先选择答复类别"):
        replies.reply_submit(reply=reply, actor=world.lead_handler)
    with pytest.raises(DomainError, match="答复类别「E」无效"):
        replies.reply_save_draft(assignment=lead, actor=world.lead_handler, body="答复正文", reply_class="E")
    _unchanged(lead, "in_progress", len(_events(lead)))
    reply.refresh_from_db()
    assert reply.state == "draft"


def test_the_review_chain_goes_step_by_step_and_a_return_needs_a_reason(world):
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "reply_review")
    reply = Reply.objects.get(assignment=lead)
    with pytest.raises(PermissionDenied, match="科室审核"):
        replies.reply_review(reply=reply, actor=world.lead_leader, approve=True)
    with pytest.raises(PermissionDenied, match="起草人"):  # the drafter does not review his own draft
        replies.reply_review(reply=reply, actor=world.lead_handler, approve=True)
    reply = replies.reply_review(reply=reply, actor=world.lead_section_head, approve=True)
    with pytest.raises(PermissionDenied, match="办公室核稿"):
        replies.reply_review(reply=reply, actor=world.lead_leader, approve=True)
    with pytest.raises(DomainError, match="必须填写理由"):
        replies.reply_review(reply=reply, actor=world.lead_office, approve=False)
    reply = replies.reply_review(reply=reply, actor=world.lead_office, approve=False, reason="第二条未逐条答复",
                                 checklist={"point_by_point": False})
    lead.refresh_from_db()
    assert reply.state == "returned" and lead.state == "in_progress"
    # The returned version is kept; editing starts version 2.
    v2 = replies.reply_save_draft(assignment=lead, actor=world.lead_handler, body="逐条答复：一、…二、…", reply_class="B")
    assert v2.version == 2 and Reply.objects.filter(assignment=lead).count() == 2
    v2 = replies.reply_submit(reply=v2, actor=world.lead_handler)
    v2 = replies.reply_review(reply=v2, actor=world.lead_section_head, approve=True)
    v2 = replies.reply_review(reply=v2, actor=world.lead_office, approve=True)
    v2 = replies.reply_review(reply=v2, actor=world.lead_leader, approve=True)
    with pytest.raises(DomainError, match="尚未完成审核签发"):
        replies.reply_send(reply=v2, actor=world.lead_office)
    with pytest.raises(PermissionDenied, match="不同的人"):  # the deputy who reviewed does not also sign off
        replies.reply_review(reply=v2, actor=world.lead_leader, approve=True)
    v2 = replies.reply_review(reply=v2, actor=world.lead_head, approve=True)
    assert v2.signer == "郑华"
    assert v2.state == "approved" and v2.is_frozen
    with pytest.raises(PermissionDenied):
        replies.reply_send(reply=v2, actor=world.lead_handler)
    replies.reply_send(reply=v2, actor=world.lead_office)
    lead.refresh_from_db()
    assert lead.state == "replied" and lead.replied_at and lead.feedback_due


def test_two_concurrent_sign_offs_end_in_one_approval_one_conflict_and_one_event(world):
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "reply_review")
    reply = Reply.objects.get(assignment=lead)
    reply = replies.reply_review(reply=reply, actor=world.lead_section_head, approve=True)
    reply = replies.reply_review(reply=reply, actor=world.lead_office, approve=True)
    first_copy = Reply.objects.get(pk=reply.pk)
    second_copy = Reply.objects.get(pk=reply.pk)
    replies.reply_review(reply=first_copy, actor=world.lead_leader, approve=True)
    before = Event.objects.filter(assignment=lead, verb="approve_reply").count()
    with pytest.raises(ConflictError, match="刚刚已由他人审核"):
        replies.reply_review(reply=second_copy, actor=world.lead_leader, approve=True)
    assert Event.objects.filter(assignment=lead, verb="approve_reply").count() == before


def test_two_concurrent_signatures_end_in_one_win_and_one_clear_conflict(world):
    lead, _ = assign(world, make_proposal(world))
    stale = Assignment.objects.get(pk=lead.pk)
    handling.assignment_sign(assignment=lead, actor=world.lead_office)
    with pytest.raises(ConflictError, match="刚刚已被他人处理"):
        handling.assignment_sign(assignment=stale, actor=world.lead_office)
    assert _events(lead).count("sign") == 1


def test_only_the_proposers_themselves_may_rate_and_unsatisfied_needs_a_comment(world):
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "replied")
    for outsider in (world.lead_handler, world.lead_office, world.lead_leader, world.office, world.other_proposer):
        with pytest.raises(PermissionDenied):
            replies.feedback_record(assignment=lead, actor=outsider, attitude="satisfied", result="satisfied")
    with pytest.raises(DomainError, match="请填写具体意见"):
        replies.feedback_record(assignment=lead, actor=world.proposer, attitude="satisfied", result="unsatisfied")
    assert not Feedback.objects.exists()
    replies.feedback_record(assignment=lead, actor=world.proposer, attitude="satisfied", result="satisfied")
    lead.refresh_from_db()
    assert lead.state == "replied"  # the co-signer has not rated yet
    with pytest.raises(DomainError, match="不能重复测评"):
        replies.feedback_record(assignment=lead, actor=world.proposer, attitude="basic", result="basic")
    replies.feedback_record(assignment=lead, actor=world.co_proposer, attitude="basic", result="basic")
    lead.refresh_from_db()
    assert lead.state == "rated"


def test_an_unsatisfied_rating_reopens_the_item_for_a_second_round_with_a_new_deadline(world):
    start = timezone.make_aware(dt.datetime(2025, 3, 3, 9))
    lead, _ = assign(world, make_proposal(world), now=start)
    lead = walk_to(world, lead, "replied", now=start)
    replies.feedback_record(assignment=lead, actor=world.proposer, attitude="basic", result="unsatisfied",
                            comment="未解决学位问题", now=start)
    lead.refresh_from_db()
    replies.feedback_record(assignment=lead, actor=world.co_proposer, attitude="satisfied", result="satisfied", now=start)
    lead.refresh_from_db()
    with pytest.raises(DomainError, match="请重新办理"):
        handling.assignment_close(assignment=lead, actor=world.office, now=start)
    later = timezone.make_aware(dt.datetime(2025, 4, 10, 9))
    again = handling.assignment_rehandle(assignment=lead, actor=world.office, reason="提案人不满意", now=later)
    assert again.state == "rehandling" and again.round == 2
    # The re-handling month counts from the 不满意 rating (3 March), not from when 重新办理 was taken.
    assert again.reply_due == dt.date(2025, 4, 3) and again.replied_at is None
    v = replies.reply_save_draft(assignment=again, actor=world.lead_handler, body="再次答复", reply_class="A")
    assert (v.round, v.version) == (2, 1)
    v = replies.reply_submit(reply=v, actor=world.lead_handler, now=later)
    for actor in (world.lead_section_head, world.lead_office, world.lead_leader, world.lead_head):
        v = replies.reply_review(reply=v, actor=actor, approve=True, now=later)
    replies.reply_send(reply=v, actor=world.lead_office, now=later)
    again.refresh_from_db()
    replies.feedback_record(assignment=again, actor=world.proposer, attitude="satisfied", result="satisfied", now=later)
    again.refresh_from_db()
    replies.feedback_record(assignment=again, actor=world.co_proposer, attitude="satisfied", result="satisfied", now=later)
    again.refresh_from_db()
    closed = handling.assignment_close(assignment=again, actor=world.office, now=later)
    assert closed.state == "closed"
    assert Feedback.objects.filter(assignment=lead, round=1, result="unsatisfied").exists()  # history kept


def test_rehandling_is_refused_when_nobody_was_unsatisfied(world):
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "rated")
    with pytest.raises(DomainError, match="不满意"):
        handling.assignment_rehandle(assignment=lead, actor=world.office, reason="再办一次")


def test_an_approved_extension_moves_the_reply_deadline_and_is_logged(world):
    start = timezone.make_aware(dt.datetime(2025, 3, 3, 9))
    lead, _ = assign(world, make_proposal(world), now=start)
    lead = walk_to(world, lead, "in_progress", now=start)
    assert lead.reply_due == dt.date(2025, 6, 3)
    with pytest.raises(DomainError, match="不能晚于2025年09月03日"):
        handling.extension_request(assignment=lead, actor=world.lead_office, reason="需调研",
                                   requested_due=dt.date(2025, 10, 1))
    request = handling.extension_request(assignment=lead, actor=world.lead_office, reason="涉及财政预算",
                                         requested_due=dt.date(2025, 7, 31))
    lead.refresh_from_db()
    assert lead.reply_due == dt.date(2025, 6, 3)  # nothing moves before approval
    with pytest.raises(PermissionDenied):
        handling.extension_decide(request=request, actor=world.lead_leader, approve=True)
    handling.extension_decide(request=request, actor=world.office, approve=True, approved_due=dt.date(2025, 7, 15))
    lead.refresh_from_db()
    assert lead.reply_due == dt.date(2025, 7, 15) and lead.reply_due_original == dt.date(2025, 6, 3)
    event = Event.objects.get(assignment=lead, verb="decide_extension")
    assert event.payload["old_due"] == "2025-06-03" and event.payload["new_due"] == "2025-07-15"


def test_a_rejected_extension_needs_a_reason_and_keeps_the_deadline(world):
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "in_progress")
    request = handling.extension_request(assignment=lead, actor=world.lead_office, reason="需调研",
                                         requested_due=lead.reply_due + dt.timedelta(days=10))
    with pytest.raises(DomainError, match="请填写理由"):
        handling.extension_decide(request=request, actor=world.office, approve=False)
    handling.extension_decide(request=request, actor=world.office, approve=False, note="请按期答复")
    assert Assignment.objects.get(pk=lead.pk).reply_due == lead.reply_due


def test_commitments_are_recorded_and_completed_once(world):
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "replied")
    c = replies.commitment_record(assignment=lead, actor=world.lead_handler, description="年内建成幼儿园",
                                  target_date=dt.date(2026, 12, 31))
    with pytest.raises(DomainError, match="请填写落实情况"):
        replies.commitment_complete(commitment=c, actor=world.lead_handler, note="")
    replies.commitment_complete(commitment=c, actor=world.lead_handler, note="已建成开园")
    with pytest.raises(ConflictError):
        replies.commitment_complete(commitment=c, actor=world.lead_handler, note="重复")


def test_closing_before_the_feedback_deadline_without_all_ratings_is_refused(world):
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "replied")
    with pytest.raises(DomainError, match="测评期限"):
        handling.assignment_close(assignment=lead, actor=world.office)
    after = timezone.now() + dt.timedelta(days=40)
    assert handling.assignment_close(assignment=lead, actor=world.office, now=after).state == "closed"


def test_the_proposal_status_is_derived_from_its_assignments():
    derive = workflow.derive_proposal_status
    assert derive([]) == "unassigned"
    assert derive([("lead", "pending_sign"), ("co", "pending_sign")]) == "assigned"
    assert derive([("lead", "in_progress"), ("co", "pending_sign")]) == "handling"
    assert derive([("lead", "replied"), ("split", "rated")]) == "replied"
    assert derive([("lead", "closed"), ("co", "in_progress")]) == "handling"
    assert derive([("lead", "closed"), ("co", "opinion_sent"), ("co", "withdrawn")]) == "closed"


def test_allowed_actions_show_only_what_the_user_may_do_now(world):
    lead, _ = assign(world, make_proposal(world))
    assert {t.action for t in workflow.allowed_actions(lead, world.lead_office)} == {"sign", "request_adjustment"}
    assert {t.action for t in workflow.allowed_actions(lead, world.office)} == {"withdraw"}
    assert workflow.allowed_actions(lead, world.other_office) == []
    assert workflow.allowed_actions(lead, world.proposer) == []
