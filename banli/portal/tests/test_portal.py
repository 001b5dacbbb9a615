"""The public portal: disclosed replies only, redacted, searchable without login; nothing else reachable."""
import re

import pytest
from django.urls import reverse

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.models import Event
from banli.portal import services as portal
from banli.portal.models import PublicReply
from banli.portal.tasks import publish_pending_task
from banli.replies import services
from banli.replies.tests.helpers import lead_in_progress

SECRET_BODY = "一、学位情况。\n经办人手机13812345678，邮箱zhang.min@edu.example.cn，身份证号110101199003071234，座机0755-82345678。"


def _reply(world, *, disclosure="full", summary="", reason="", body=SECRET_BODY, send=True, number=None, title=None,
           category="教育", reply_class="A"):
    kw = {"category": category}
    if number:
        kw["number"] = number
    if title:
        kw["title"] = title
    lead, _ = lead_in_progress(world, **kw)
    reply = services.reply_save_draft(assignment=lead, actor=world.lead_handler, body=body, reply_class=reply_class,
                                      disclosure=disclosure, public_summary=summary, disclosure_reason=reason,
                                      contact_person="张敏", contact_phone="0755-12345678")
    reply = services.reply_submit(reply=reply, actor=world.lead_handler)
    for actor in (world.lead_section_head, world.lead_office, world.lead_leader, world.lead_head):
        reply = services.reply_review(reply=reply, actor=actor, approve=True)
    if send:
        services.reply_send(reply=reply, actor=world.lead_office)
    reply.refresh_from_db()
    return reply


@pytest.fixture
def published(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        full = _reply(world, title="关于增加学位供给的提案", number="20259001")
        summary = _reply(world, disclosure="summary", summary="已新增学位2000个，联系电话13900001111。",
                         body="内部细节：预算3亿元，详情见附件。", number="20259002", title="关于新建幼儿园的提案",
                         category="学前教育", reply_class="B")
        hidden = _reply(world, disclosure="none", reason="涉及未公开规划", body="规划草案机密内容", number="20259003",
                        title="关于学校布局规划的提案")
        draft = _reply(world, send=False, body="尚未发送的草稿内容", number="20259004", title="关于课后服务的提案")
    return full, summary, hidden, draft


def test_redaction_removes_phones_emails_and_id_numbers():
    text = portal.redact(SECRET_BODY)
    for secret in ("13812345678", "zhang.min@edu.example.cn", "110101199003071234", "0755-82345678"):
        assert secret not in text
    assert text.count("[已隐去]") == 4 and "一、学位情况。" in text


def test_portal_lists_only_disclosed_sent_replies_without_login(client, published):
    full, summary, hidden, draft = published
    html = client.get(reverse("portal:index")).content.decode()
    assert "第20259001号" in html and "第20259002号" in html
    assert "第20259003号" not in html and "第20259004号" not in html
    assert set(PublicReply.objects.values_list("reply_id", flat=True)) == {full.pk, summary.pk}


def test_full_disclosure_shows_the_redacted_text_and_no_contact_details(client, published):
    full = published[0]
    item = PublicReply.objects.get(reply=full)
    html = client.get(reverse("portal:detail", args=[item.pk])).content.decode()
    assert "一、学位情况。" in html and "[已隐去]" in html
    for secret in ("13812345678", "zhang.min@edu.example.cn", "110101199003071234", "0755-82345678", "张敏",
                   "0755-12345678"):
        assert secret not in html


def test_summary_disclosure_shows_only_the_summary(client, published):
    summary = published[1]
    item = PublicReply.objects.get(reply=summary)
    html = client.get(reverse("portal:detail", args=[item.pk])).content.decode()
    assert "已新增学位2000个" in html and "13900001111" not in html
    assert "预算3亿元" not in html


def test_undisclosed_replies_and_drafts_cannot_be_reached_by_guessing_urls(client, published):
    full, summary, hidden, draft = published
    highest = PublicReply.objects.order_by("-pk").first().pk
    for guess in range(0, highest + 20):
        response = client.get(reverse("portal:detail", args=[guess]))
        if response.status_code == 200:
            body = response.content.decode()
            assert "规划草案机密内容" not in body and "尚未发送的草稿内容" not in body and "预算3亿元" not in body
        else:
            assert response.status_code == 404
    # The reply ids of the hidden and draft replies are not portal ids either.
    for reply in (hidden, draft):
        response = client.get(reverse("portal:detail", args=[reply.pk]))
        assert response.status_code == 404 or "规划草案" not in response.content.decode()
    assert portal.reply_publish(reply_id=hidden.pk) is None
    assert portal.reply_publish(reply_id=draft.pk) is None


def test_search_never_matches_hidden_or_redacted_text(client, published):
    url = reverse("portal:index")
    for secret in ("规划草案机密", "尚未发送的草稿", "预算3亿元", "13812345678", "zhang.min", "110101199003071234",
                   "张敏", "涉及未公开规划"):
        html = client.get(url, {"q": secret}).content.decode()
        assert "共 0 件" in html, secret


def test_search_by_text_session_unit_category_and_counts_per_unit_and_class(client, world, published):
    url = reverse("portal:index")
    html = client.get(url, {"q": "学位"}).content.decode()
    assert "共 2 件" in html
    html = client.get(url, {"category": "学前教育"}).content.decode()
    assert "共 1 件" in html and "第20259002号" in html
    html = client.get(url, {"session": world.session.pk, "unit": world.lead_unit.pk}).content.decode()
    assert "共 2 件" in html
    html = client.get(url, {"unit": world.other_unit.pk}).content.decode()
    assert "共 0 件" in html
    html = client.get(url).content.decode()
    assert "A类" in html and "B类" in html
    response = client.get(url)
    assert [(r["unit__name"], r["n"]) for r in response.context["per_unit"]] == [("区教育局", 2)]
    assert [(r["reply_class"], r["n"]) for r in response.context["per_class"]] == [("A", 1), ("B", 1)]


def test_the_counts_say_what_a_class_means_and_narrow_the_list(client, world, published):
    # A reader saw "A类 25" with nothing saying what A is; and a count could not be opened.
    url = reverse("portal:index")
    html = client.get(url, {"q": "学位"}).content.decode()
    per_class = html.split('id="per-class"', 1)[1].split("</table>", 1)[0]
    assert "A类</a> <span class=\"small text-body-secondary\">已解决或基本解决</span>" in per_class
    assert "正在解决或列入计划解决" in per_class
    link = re.search(r'href="\?([^"]*class=B)"', per_class).group(1).replace("&amp;", "&")
    assert "q=%E5%AD%A6%E4%BD%8D" in link  # the search is kept
    narrowed = client.get(url + "?" + link).content.decode()
    assert "共 1 件" in narrowed and "答复类别：<strong>B类</strong>（正在解决或列入计划解决）" in narrowed
    assert 'name="class" value="B"' in narrowed  # a new search keeps the chosen class
    per_unit = html.split('id="per-unit"', 1)[1].split("</table>", 1)[0]
    assert f"unit={world.lead_unit.pk}" in per_unit


def test_publishing_is_idempotent_and_the_catch_up_job_finds_nothing_twice(world, published):
    full = published[0]
    first = PublicReply.objects.get(reply=full)
    assert portal.reply_publish(reply_id=full.pk) == first
    assert portal.publish_pending() == 0
    assert PublicReply.objects.count() == 2


def test_catch_up_job_publishes_replies_sent_without_the_commit_hook(world):
    proposal = make_proposal(world)
    lead, _ = assign(world, proposal)
    walk_to(world, lead, "replied")  # on_commit hooks do not run inside the test transaction
    assert PublicReply.objects.count() == 0
    assert portal.publish_pending() == 1
    assert portal.publish_pending() == 0


def test_portal_list_runs_a_fixed_number_of_queries(client, published, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        client.get(reverse("portal:index"))


def test_the_periodic_task_publishes_what_is_pending(world):
    proposal = make_proposal(world)
    lead, _ = assign(world, proposal)
    walk_to(world, lead, "replied")
    assert publish_pending_task() == 1 and PublicReply.objects.count() == 1


def test_a_rehandled_item_is_one_entry_with_its_rounds(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = _reply(world, number="20259101", title="关于校车的提案", body="一、第一轮答复。")
    lead = first.assignment
    lead.refresh_from_db()
    services.feedback_record(assignment=lead, actor=world.proposer, attitude="basic", result="unsatisfied", comment="不够")
    lead.refresh_from_db()
    services.feedback_record(assignment=lead, actor=world.co_proposer, attitude="satisfied", result="satisfied")
    lead.refresh_from_db()
    lead = handling.assignment_rehandle(assignment=lead, actor=world.office, reason="提案人不满意")
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.reply_save_draft(assignment=lead, actor=world.lead_handler, body="一、第二轮答复。",
                                          reply_class="A", disclosure="full")
        reply = services.reply_submit(reply=reply, actor=world.lead_handler)
        for actor in (world.lead_section_head, world.lead_office, world.lead_leader, world.lead_head):
            reply = services.reply_review(reply=reply, actor=actor, approve=True)
        services.reply_send(reply=reply, actor=world.lead_office)
    assert PublicReply.objects.filter(reply__assignment=lead).count() == 2
    html = client.get(reverse("portal:index")).content.decode()
    assert html.count("第20259101号") == 1
    second = PublicReply.objects.get(reply__assignment=lead, round=2)
    page = client.get(reverse("portal:detail", args=[second.pk])).content.decode()
    assert "共答复 2 次" in page and "第1轮" in page and "第二轮答复" in page


def test_the_category_filter_lists_each_category_once(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            _reply(world, number=f"2025920{i}", title=f"关于公交线路的提案{i}", category="交通")
    html = client.get(reverse("portal:index")).content.decode()
    assert re.findall(r"<option[^>]*>交通</option>", html) == ["<option>交通</option>"]


def test_the_office_withdraws_a_publication_with_a_reason(client, world, published):
    full = PublicReply.objects.get(reply=published[0])
    url = reverse("portal:withdraw", args=[full.pk])
    client.force_login(world.lead_office)
    assert client.post(url, {"reason": "x"}).status_code == 403  # the unit cannot take it down
    client.force_login(world.office)
    detail = client.get(reverse("portal:detail", args=[full.pk])).content.decode()
    assert 'id="withdraw-form"' in detail
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400 and "请填写撤回公开的理由" in response.content.decode()
    response = client.post(url, {"reason": "答复中含有不宜公开的内容"}, follow=True)
    assert "已撤回公开" in response.content.decode()
    full.refresh_from_db()
    assert full.withdrawn_by == world.office and full.withdraw_reason == "答复中含有不宜公开的内容"
    event = Event.objects.get(verb="publication_withdrawn")
    assert event.reason == "答复中含有不宜公开的内容" and event.actor == world.office
    client.logout()
    assert "第20259001号" not in client.get(reverse("portal:index")).content.decode()
    assert client.get(reverse("portal:detail", args=[full.pk])).status_code == 404
    assert portal.publish_pending() == 0  # the catch-up job does not publish it again
