"""Reply pages: drafting with co-opinions, review with the check list, the proposer's copy and rating, 落实."""
import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from banli.core.testing import PASSWORD, assign, make_proposal, walk_to
from banli.replies import services
from banli.replies.models import Feedback, ReviewRecord
from banli.replies.tests.helpers import lead_and_co_in_progress, signed_off_reply


def login(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def item(world):
    return lead_and_co_in_progress(world)


def test_draft_page_shows_co_opinions_and_saves_the_adopted_ones(world, client, item):
    lead, co = item
    opinion = services.co_opinion_send(assignment=co, actor=world.co_handler, body="建议统筹用地指标。")
    url = reverse("replies:draft", args=[lead.pk])
    page = login(client, world.lead_handler).get(url)
    assert page.status_code == 200 and "建议统筹用地指标。" in page.content.decode()
    response = client.post(url, {"body": "一、已扩建学校。", "reply_class": "A", "disclosure": "full",
                                 "contact_person": "张敏", "contact_phone": "123", "adopted": [opinion.pk]})
    assert response.status_code == 302
    reply = services.current_reply(lead)
    assert list(reply.adopted_opinions.all()) == [opinion]
    client.post(url, {"action": "submit"})
    reply.refresh_from_db()
    assert reply.state == "in_review"


def test_draft_page_of_another_unit_is_not_found(world, client, item):
    lead, _ = item
    for outsider in (world.other_handler, world.co_handler, world.proposer):
        assert login(client, outsider).get(reverse("replies:draft", args=[lead.pk])).status_code == 404


def test_draft_form_error_is_shown_and_nothing_is_saved(world, client, item):
    lead, _ = item
    response = login(client, world.lead_handler).post(reverse("replies:draft", args=[lead.pk]),
                                                      {"body": "", "disclosure": "full"})
    assert "答复正文不能为空" in response.content.decode()
    assert services.current_reply(lead) is None


def test_review_page_records_the_checklist(world, client, item):
    lead, _ = item
    reply = services.reply_submit(reply=services.reply_save_draft(assignment=lead, actor=world.lead_handler,
                                                                  body="一、答复。", reply_class="A"),
                                  actor=world.lead_handler)
    reply = services.reply_review(reply=reply, actor=world.lead_section_head, approve=True)
    url = reverse("replies:review", args=[reply.pk])
    login(client, world.lead_office)
    assert "核稿清单" in client.get(url).content.decode()
    client.post(url, {"action": "approve", "check_point_by_point": "ok", "check_wording": "ok", "check_format": "ok",
                      "check_disclosure": "ok"})
    assert ReviewRecord.objects.get(reply=reply, position=2).checklist == {"point_by_point": True, "wording": True, "format": True,
                                                                "disclosure": True}
    assert login(client, world.other_office).get(url).status_code == 404


def test_co_unit_sends_its_opinion_with_attachments_from_its_page(world, client, item):
    _, co = item
    url = reverse("replies:co_opinion", args=[co.pk])
    login(client, world.co_handler).post(url, {"body": "同意主办单位意见。", "contact_person": "赵磊",
                                               "attachments": [SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")]})
    co.refresh_from_db()
    assert co.state == "opinion_sent"
    opinion = co.co_opinions.get()
    assert client.get(reverse("replies:co_opinion_docx", args=[opinion.pk])).status_code == 200
    attachment = opinion.attachments.get()
    assert login(client, world.lead_handler).get(reverse("replies:co_opinion_attachment", args=[attachment.pk])).status_code == 200
    assert login(client, world.other_handler).get(reverse("replies:co_opinion_attachment", args=[attachment.pk])).status_code == 404


def test_proposer_reads_his_copy_and_rates_online(world, client):
    reply = signed_off_reply(world)
    services.reply_send(reply=reply, actor=world.lead_office)
    login(client, world.co_proposer)
    inbox = client.get(reverse("replies:my_copies"))
    assert inbox.status_code == 200 and reply.assignment.proposal.number in inbox.content.decode()
    copy = reply.deliveries.get(proposer=world.co_proposer_record)
    assert "填写征询意见表" in client.get(reverse("replies:copy", args=[copy.pk])).content.decode()
    url = reverse("replies:feedback", args=[reply.assignment_id])
    refused = client.post(url, {"attitude": "satisfied", "result": "unsatisfied", "comment": ""})
    assert "请填写具体意见" in refused.content.decode()
    client.post(url, {"attitude": "satisfied", "result": "basic", "contacted_before": "yes"})
    assert Feedback.objects.get().proposer == world.co_proposer_record


@pytest.mark.parametrize("who", ["lead_handler", "lead_office", "lead_leader"])
def test_unit_staff_posting_the_rating_form_is_refused(world, client, who):
    reply = signed_off_reply(world)
    services.reply_send(reply=reply, actor=world.lead_office)
    response = login(client, getattr(world, who)).post(reverse("replies:feedback", args=[reply.assignment_id]),
                                                        {"attitude": "satisfied", "result": "satisfied"})
    assert response.status_code == 403
    assert not Feedback.objects.exists()


def test_commitments_page_lists_and_completes(world, client):
    proposal = make_proposal(world)
    lead, _ = assign(world, proposal)
    lead = walk_to(world, lead, "replied")
    commitment = services.commitment_record(assignment=lead, actor=world.lead_handler, description="新建幼儿园",
                                            target_date=dt.date(2020, 1, 1))
    login(client, world.lead_handler)
    page = client.get(reverse("replies:commitments") + "?show=overdue")
    assert "新建幼儿园" in page.content.decode() and "逾期" in page.content.decode()
    client.post(reverse("replies:commitments"), {"commitment": commitment.pk, "action": "complete", "note": "已开园"})
    commitment.refresh_from_db()
    assert commitment.state == "done"
    assert login(client, world.other_handler).post(reverse("replies:commitments"),
                                                   {"commitment": commitment.pk, "note": "x"}).status_code == 404


def test_unit_office_configures_its_chain_on_a_page(world, client):
    url = reverse("replies:chain")
    login(client, world.lead_office)
    assert "办公室核稿" in client.get(url).content.decode()
    client.post(url, {"unit": world.lead_unit.pk,
                      "steps": "办公室核稿, 单位联络员, 清单\n征求提案人意见, 单位联络员, 征求意见稿\n签发, 分管领导\n二次把关, 交办机构, 清单"})
    steps = services.review_steps_for(world.lead_unit)
    assert [(s.name, s.role, s.kind, s.checklist_required) for s in steps] == [
        ("办公室核稿", "unit_office", "review", True), ("征求提案人意见", "unit_office", "consult", False),
        ("签发", "leader", "review", False), ("二次把关", "assigning_office", "review", True)]
    bad = client.post(url, {"unit": world.lead_unit.pk, "steps": "签发"})
    assert "第1行" in bad.content.decode()
    assert login(client, world.lead_handler).get(url).status_code == 403


def test_missing_ratings_page_lists_proposers_who_have_not_rated_after_the_deadline(world, client):
    reply = signed_off_reply(world)
    services.reply_send(reply=reply, actor=world.lead_office)
    reply.assignment.refresh_from_db()
    later = reply.assignment.feedback_due + dt.timedelta(days=2)
    with time_machine.travel(dt.datetime(later.year, later.month, later.day, 4, tzinfo=dt.timezone.utc)):
        html = login(client, world.office).get(reverse("replies:missing_feedback")).content.decode()
        assert "李委员" in html and "吴委员" in html
        assert login(client, world.proposer).get(reverse("replies:missing_feedback")).status_code == 403


def test_commitments_and_copies_lists_run_a_fixed_number_of_queries(world, client, django_assert_max_num_queries):
    for _ in range(3):
        proposal = make_proposal(world)
        lead, _ = assign(world, proposal)
        lead = walk_to(world, lead, "replied")
        services.commitment_record(assignment=lead, actor=world.lead_handler, description="事项",
                                   target_date=dt.date(2026, 1, 1))
    login(client, world.lead_office)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("replies:commitments") + "?show=all").status_code == 200
    login(client, world.proposer)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("replies:my_copies")).status_code == 200


def test_office_check_needs_a_choice_on_every_item_and_reads_in_chinese(world, client, item):
    lead, _ = item
    reply = services.reply_submit(reply=services.reply_save_draft(assignment=lead, actor=world.lead_handler,
                                                                  body="一、答复。", reply_class="A"),
                                  actor=world.lead_handler)
    reply = services.reply_review(reply=reply, actor=world.lead_section_head, approve=True)
    url = reverse("replies:review", args=[reply.pk])
    login(client, world.lead_office)
    page = client.get(url).content.decode()
    # Each radio sits in its own form-check with its own label (one .form-check holding both overlapped them).
    assert page.count('class="form-check form-check-inline mb-0"><input') == 8
    response = client.post(url, {"action": "approve"})
    html = response.content.decode()
    assert "尚未选择：逐条答复、文字、格式、公开属性" in html
    response = client.post(url, {"action": "approve", "check_point_by_point": "ok", "check_wording": "ok"})
    html = response.content.decode()
    assert "尚未选择：格式、公开属性" in html
    assert 'id="c-wording-ok" checked' in html  # what was chosen stays chosen
    assert not ReviewRecord.objects.filter(reply=reply, position=2).exists()  # only the section head's step is recorded
    response = client.post(url, {"action": "approve", "check_point_by_point": "ok", "check_wording": "ok",
                                 "check_format": "ok", "check_disclosure": "ok"}, follow=True)
    html = response.content.decode()
    assert "「办公室核稿」已同意" in html or "已同意" in html
    assert "逐条答复：通过；文字：通过；格式：通过；公开属性：通过" in html
    assert "point_by_point" not in html


def test_saving_a_draft_and_sending_a_co_opinion_say_they_are_done(world, client, item):
    lead, co = item
    response = login(client, world.lead_handler).post(
        reverse("replies:draft", args=[lead.pk]), {"body": "一、答复。", "reply_class": "A", "disclosure": "full"},
        follow=True)
    assert "答复草稿已保存" in response.content.decode()
    response = login(client, world.co_handler).post(reverse("replies:co_opinion", args=[co.pk]),
                                                    {"body": "同意主办单位意见。"}, follow=True)
    assert "会办意见已发送给主办单位" in response.content.decode()
