"""Who reviews: each step by its role or its named people, one person one step, the last signer on the letter."""
import pytest

from banli.core.errors import DomainError, PermissionDenied
from banli.organizations.choices import Role
from banli.replies import services
from banli.replies.choices import ReplyState
from banli.replies.tests.helpers import lead_in_progress


def _submitted(world):
    lead, _ = lead_in_progress(world)
    reply = services.reply_save_draft(assignment=lead, actor=world.lead_handler, body="一、已扩建学校。", reply_class="A")
    return services.reply_submit(reply=reply, actor=world.lead_handler)


def test_the_default_chain_has_four_steps_taken_by_four_people_and_the_head_is_the_signer(world):
    reply = _submitted(world)
    names = [s.name for s in services.review_steps_for(world.lead_unit)]
    assert names == ["科室审核", "办公室核稿", "分管领导审核", "主要领导签发"]
    with pytest.raises(PermissionDenied, match="起草人"):
        services.reply_review(reply=reply, actor=world.lead_handler, approve=True)
    for actor in (world.lead_section_head, world.lead_office, world.lead_leader):
        reply = services.reply_review(reply=reply, actor=actor, approve=True)
    with pytest.raises(PermissionDenied, match="不同的人"):
        services.reply_review(reply=reply, actor=world.lead_leader, approve=True)
    reply = services.reply_review(reply=reply, actor=world.lead_head, approve=True)
    assert reply.state == ReplyState.APPROVED and reply.signer == "郑华"


def test_a_step_with_named_people_is_taken_only_by_them(world):
    services.review_chain_set(unit=world.lead_unit, steps=[
        ("办公室核稿", Role.UNIT_OFFICE),
        {"name": "主要领导签发", "role": Role.LEADER, "reviewers": [world.lead_head]},
    ])
    reply = _submitted(world)
    reply = services.reply_review(reply=reply, actor=world.lead_office, approve=True)
    with pytest.raises(PermissionDenied, match="指定的审核人"):
        services.reply_review(reply=reply, actor=world.lead_leader, approve=True)
    assert services.reply_review(reply=reply, actor=world.lead_head, approve=True).signer == "郑华"


def test_a_named_reviewer_must_hold_the_steps_role_in_the_unit(world):
    with pytest.raises(DomainError, match="没有该环节的审核角色"):
        services.review_chain_set(unit=world.lead_unit, steps=[
            {"name": "主要领导签发", "role": Role.LEADER, "reviewers": [world.co_office]}])


def test_a_small_unit_may_let_one_person_take_two_steps(world):
    services.review_chain_set(unit=world.lead_unit, allow_same_reviewer=True, steps=[
        ("分管领导审核", Role.LEADER), ("主要领导签发", Role.LEADER)])
    reply = _submitted(world)
    reply = services.reply_review(reply=reply, actor=world.lead_leader, approve=True)
    reply = services.reply_review(reply=reply, actor=world.lead_leader, approve=True)
    assert reply.state == ReplyState.APPROVED and reply.signer == "陈刚"


def test_the_unit_edits_its_chain_on_the_settings_page(client, world):
    client.force_login(world.lead_office)
    response = client.post("/replies/chain/", {
        "unit": world.lead_unit.pk,
        "steps": "办公室核稿, 单位联络员, 清单\n局长签发, 分管领导, 审核人:edu_head",
    })
    assert response.status_code == 302, response.content.decode()[:500]
    steps = services.review_steps_for(world.lead_unit)
    assert [s.name for s in steps] == ["办公室核稿", "局长签发"]
    assert list(steps[1].reviewers.all()) == [world.lead_head] and steps[0].checklist_required
    page = client.get(f"/replies/chain/?unit={world.lead_unit.pk}").content.decode()
    assert "限：教育局局长 郑华" in page and "审核人:edu_head" in page
    response = client.post("/replies/chain/", {"unit": world.lead_unit.pk, "steps": "签发, 分管领导, 审核人:nobody"})
    assert "找不到审核人「nobody」" in response.content.decode()
    assert [s.name for s in services.review_steps_for(world.lead_unit)] == ["办公室核稿", "局长签发"]
