"""The public portal: disclosed replies only, redacted, searchable without login; nothing else reachable."""
import pytest
from django.urls import reverse

from banli.core.testing import assign, make_proposal, walk_to
from banli.portal import services as portal
from banli.portal.models import PublicReply
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
    from banli.portal.tasks import publish_pending_task

    proposal = make_proposal(world)
    lead, _ = assign(world, proposal)
    walk_to(world, lead, "replied")
    assert publish_pending_task() == 1 and PublicReply.objects.count() == 1
