"""Review chain per unit: configurable steps, the office's check list, 征求意见稿, 二次把关, frozen versions."""
import pytest

from banli.core.access import can_view_reply
from banli.core.errors import ConflictError, DomainError, PermissionDenied
from banli.organizations.choices import Role
from banli.replies import services
from banli.replies.choices import ReplyState
from banli.replies.models import Reply, ReviewRecord
from banli.replies.tests.helpers import lead_in_progress

ALL_PASS = {"point_by_point": True, "wording": True, "format": True, "disclosure": True}


def _submitted(world, lead):
    reply = services.reply_save_draft(assignment=lead, actor=world.lead_handler, body="一、已扩建学校。", reply_class="A",
                                      contact_person="张敏", contact_phone="0755-12345678")
    return services.reply_submit(reply=reply, actor=world.lead_handler)


def test_unit_configures_its_own_chain_with_consultation_and_the_offices_second_check(world):
    steps = services.review_chain_set(unit=world.lead_unit, actor=world.lead_office, steps=[
        ("办公室核稿", Role.UNIT_OFFICE),
        {"name": "办公室核稿（清单）", "role": Role.UNIT_OFFICE, "checklist_required": True},
        ("征求提案人意见", Role.UNIT_OFFICE, "consult"),
        ("主要领导签发", Role.LEADER),
        {"name": "督查室二次把关", "role": Role.ASSIGNING_OFFICE, "checklist_required": True},
    ])
    assert [s.kind for s in steps] == ["review", "review", "consult", "review", "review"]
    assert steps[-1].checklist_required and steps[1].checklist_required and not steps[0].checklist_required


def test_chain_ending_with_consultation_or_with_a_bad_role_is_refused(world):
    with pytest.raises(DomainError, match="签发环节"):
        services.review_chain_set(unit=world.lead_unit, steps=[("征求意见", Role.UNIT_OFFICE, "consult")])
    with pytest.raises(DomainError, match="审核角色无效"):
        services.review_chain_set(unit=world.lead_unit, steps=[("签发", Role.PROPOSER)])
    with pytest.raises(DomainError, match="征求意见稿环节"):
        services.review_chain_set(unit=world.lead_unit, steps=[("征求", Role.LEADER, "consult"), ("签发", Role.LEADER)])


def test_office_checklist_is_recorded_with_the_step_and_a_failed_item_cannot_be_approved(world):
    services.review_chain_set(unit=world.lead_unit, steps=[
        {"name": "办公室核稿", "role": Role.UNIT_OFFICE, "checklist_required": True}, ("签发", Role.LEADER)])
    lead, _ = lead_in_progress(world)
    reply = _submitted(world, lead)
    with pytest.raises(DomainError, match="尚缺：格式、公开属性"):
        services.reply_review(reply=reply, actor=world.lead_office, approve=True,
                              checklist={"point_by_point": True, "wording": True})
    with pytest.raises(DomainError, match="「格式」未通过"):
        services.reply_review(reply=reply, actor=world.lead_office, approve=True, checklist={**ALL_PASS, "format": False})
    reply = services.reply_review(reply=reply, actor=world.lead_office, approve=True, checklist=ALL_PASS)
    record = ReviewRecord.objects.get(reply=reply, position=1)
    assert record.checklist == ALL_PASS and record.step_name == "办公室核稿"
    assert not ReviewRecord.objects.filter(position=1).exclude(pk=record.pk).exists()  # refusals wrote nothing


def test_returning_records_the_failed_checklist_and_the_reason(world):
    lead, _ = lead_in_progress(world)
    reply = _submitted(world, lead)
    reply = services.reply_review(reply=reply, actor=world.lead_section_head, approve=True)
    with pytest.raises(DomainError, match="理由"):
        services.reply_review(reply=reply, actor=world.lead_office, approve=False)
    reply = services.reply_review(reply=reply, actor=world.lead_office, approve=False, reason="未逐条答复第二条",
                                  checklist={**ALL_PASS, "point_by_point": False})
    assert reply.state == ReplyState.RETURNED
    assert ReviewRecord.objects.get(reply=reply, position=2).checklist["point_by_point"] is False


def test_consultation_step_shares_the_draft_with_proposers_only_while_it_is_open(world):
    services.review_chain_set(unit=world.lead_unit, steps=[
        ("征求意见稿", Role.UNIT_OFFICE, "consult"), ("主要领导签发", Role.LEADER)])
    lead, _ = lead_in_progress(world)
    reply = _submitted(world, lead)
    assert can_view_reply(world.proposer, reply) and can_view_reply(world.co_proposer, reply)
    assert not can_view_reply(world.other_proposer, reply)
    comment = services.draft_comment_add(reply=reply, actor=world.co_proposer, body="建议补充建设时间表。")
    assert comment.proposer == world.co_proposer_record
    with pytest.raises(PermissionDenied):
        services.draft_comment_add(reply=reply, actor=world.other_proposer, body="路过")
    with pytest.raises(PermissionDenied):
        services.draft_comment_add(reply=reply, actor=world.lead_handler, body="代提意见")
    with pytest.raises(PermissionDenied):  # a proposer cannot close the consultation himself
        services.reply_review(reply=reply, actor=world.proposer, approve=True)
    reply = services.reply_review(reply=reply, actor=world.lead_office, approve=True)
    assert not can_view_reply(world.proposer, reply)
    with pytest.raises(DomainError, match="不在征求意见阶段"):
        services.draft_comment_add(reply=reply, actor=world.proposer, body="再提一条")


def test_assigning_office_second_check_comes_last_and_only_the_office_takes_it(world):
    services.review_chain_set(unit=world.lead_unit, steps=[
        ("签发", Role.LEADER), {"name": "督查室二次把关", "role": Role.ASSIGNING_OFFICE, "checklist_required": True}])
    lead, _ = lead_in_progress(world)
    reply = _submitted(world, lead)
    reply = services.reply_review(reply=reply, actor=world.lead_leader, approve=True)
    assert reply.state == ReplyState.IN_REVIEW
    with pytest.raises(DomainError, match="不能发送"):
        services.reply_send(reply=reply, actor=world.lead_office)
    # The leader's step is done (his second click, or a second tab): a conflict, not his to take again.
    with pytest.raises(ConflictError, match="「签发」环节刚刚已由"):
        services.reply_review(reply=reply, actor=world.lead_leader, approve=True, checklist=ALL_PASS)
    with pytest.raises(PermissionDenied):  # and nobody but the office takes the office's step
        services.reply_review(reply=reply, actor=world.lead_office, approve=True, checklist=ALL_PASS)
    with pytest.raises(DomainError, match="核稿清单"):
        services.reply_review(reply=reply, actor=world.office, approve=True)
    reply = services.reply_review(reply=reply, actor=world.office, approve=True, checklist=ALL_PASS)
    assert reply.state == ReplyState.APPROVED


def test_signed_off_version_is_frozen_and_a_later_edit_starts_a_new_version(world):
    lead, _ = lead_in_progress(world)
    reply = _submitted(world, lead)
    for actor in (world.lead_section_head, world.lead_office, world.lead_leader, world.lead_head):
        reply = services.reply_review(reply=reply, actor=actor, approve=True)
    assert reply.is_frozen
    with pytest.raises(DomainError):
        services.reply_save_draft(assignment=reply.assignment, actor=world.lead_handler, body="偷偷改", reply_class="A")
    with pytest.raises(PermissionDenied):
        services.reply_revise(reply=reply, actor=world.lead_handler, reason="补充数据")
    draft = services.reply_revise(reply=reply, actor=world.lead_office, reason="补充数据")
    assert (draft.version, draft.state, draft.revised_from_id) == (2, ReplyState.DRAFT, reply.pk)
    draft = services.reply_save_draft(assignment=draft.assignment, actor=world.lead_handler, body="一、已扩建学校，新增学位2000个。",
                                      reply_class="A")
    assert draft.version == 2
    reply.refresh_from_db()
    assert reply.body == "一、已扩建学校。" and reply.state == ReplyState.APPROVED
    assert list(Reply.objects.filter(assignment=reply.assignment).values_list("version", flat=True)) == [1, 2]
    with pytest.raises(DomainError, match="最新"):
        services.reply_send(reply=reply, actor=world.lead_office)


def test_returned_version_is_kept_and_the_redraft_is_a_new_version(world):
    lead, _ = lead_in_progress(world)
    reply = _submitted(world, lead)
    reply = services.reply_review(reply=reply, actor=world.lead_section_head, approve=True)
    services.reply_review(reply=reply, actor=world.lead_office, approve=False, reason="格式不规范")
    lead.refresh_from_db()
    second = services.reply_save_draft(assignment=lead, actor=world.lead_handler, body="一、已扩建学校（修改）。", reply_class="A")
    assert second.version == 2 and second.revised_from_id == reply.pk
    reply.refresh_from_db()
    assert reply.state == ReplyState.RETURNED and reply.body == "一、已扩建学校。"
