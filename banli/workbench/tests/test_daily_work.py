"""The clerk's daily work without traps: limits said, not applied silently; the ledger finds proposers;
assigning asks for the lead; sending twice says it was already sent (issue 16, points 11-13)."""
import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from banli.core.errors import DomainError
from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.models import Assignment, Event
from banli.proposals import selectors as proposal_selectors
from banli.proposals import services as proposal_services
from banli.proposals.choices import Body, Level
from banli.proposals.models import Proposal
from banli.replies import services as replies
from banli.replies import services as replies_services
from banli.replies.models import Reply
from banli.workbench import selectors

pytestmark = pytest.mark.django_db


# --- 11. input limits -------------------------------------------------------------------------------

def test_an_over_long_title_is_refused_with_the_limit_not_cut(client, world):
    client.force_login(world.office)
    page = client.get(reverse("workbench:register")).content.decode()
    assert 'name="p-title"' in page and 'maxlength="300"' not in page  # the browser must not cut a paste
    response = client.post(reverse("workbench:register"), {
        "p-session": world.session.pk, "p-kind": "proposal", "p-number": "20250999", "p-title": "长" * 5000,
        "p-proposers": "李委员", "p-body": "正文"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "300" in html and "5000" in html  # the limit and what was typed
    assert not Proposal.objects.filter(number="20250999").exists()


def test_a_commitment_far_in_the_future_is_refused(world):
    lead = walk_to(world, assign(world, make_proposal(world))[0], "replied")
    with pytest.raises(DomainError, match="不能晚于"):
        replies.commitment_record(assignment=lead, actor=world.lead_handler, description="年内完成",
                                  target_date=dt.date(9999, 12, 31))
    in_two_years = timezone.localdate() + dt.timedelta(days=730)
    commitment = replies.commitment_record(assignment=lead, actor=world.lead_handler, description="两年内完成",
                                           target_date=in_two_years)
    assert commitment.target_date == in_two_years


def test_sending_a_sent_reply_again_says_it_was_already_sent(client, world):
    proposal = make_proposal(world)
    lead = walk_to(world, assign(world, proposal)[0], "replied")
    reply = Reply.objects.get(assignment=lead, state="sent")
    with pytest.raises(DomainError, match="已经发送，不需要再次发送"):
        replies.reply_send(reply=reply, actor=world.lead_office)
    # The second tab posts the send form of the page it still shows.
    client.force_login(world.lead_office)
    response = client.post(reverse("workbench:action", args=[lead.pk, "send_reply"]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "不需要再次发送" in html and "尚未完成审核签发" not in html


# --- 12. ledger search --------------------------------------------------------------------------------

def test_ledger_search_finds_proposer_names_and_written_numbers(client, world):
    mine = make_proposal(world, number="20240104", title="关于社区养老的提案", proposers=[world.other_proposer_record])
    other = make_proposal(world, number="20240105", title="关于停车的提案")
    assign(world, mine, co=False)
    assign(world, other, co=False)
    client.force_login(world.office)

    def found(q):
        html = client.get(reverse("workbench:ledger"), {"q": q}).content.decode()
        return {p.number for p in (mine, other) if f"{p.number}" in html}

    assert found("何委") == {"20240104"}  # part of the proposer's name
    assert found("第20240105号") == {"20240105"}  # the number as a clerk writes it
    assert found("何委 养老") == {"20240104"}  # words narrow down together
    assert found("何委 停车") == set()


def test_ledger_sort_menu_is_chinese(client, world):
    client.force_login(world.office)
    html = client.get(reverse("workbench:ledger")).content.decode()
    for english in ("Number", "Unit", "Assigned", "descending"):
        assert english not in html
    assert "编号（降序）" in html and "交办时间（升序）" in html


# --- 13. assigning asks for the lead ------------------------------------------------------------------

def test_assigning_without_a_lead_asks_for_one(client, world):
    proposal = make_proposal(world)
    client.force_login(world.office)
    url = reverse("workbench:assign", args=[proposal.pk])
    response = client.post(url, {"unit": [world.lead_unit.pk, world.co_unit.pk],
                                 f"role_{world.lead_unit.pk}": "co", f"role_{world.co_unit.pk}": "co"})
    assert response.status_code == 200 and "尚未指定主办单位" in response.content.decode()
    response = client.post(url, {"unit": [world.lead_unit.pk]})  # the role left at 请选择
    assert "请为「区教育局」选择办理方式" in response.content.decode()
    assert not Assignment.objects.filter(proposal=proposal).exists()
    # The unit chooser starts at 请选择, not at 会办 or 主办.
    page = client.get(url).content.decode()
    assert '<option value="" selected disabled>请选择</option>' in page
    client.post(url, {"unit": [world.lead_unit.pk], f"role_{world.lead_unit.pk}": "lead"})
    # With a lead in place, a co unit may be added alone.
    client.post(url, {"unit": [world.co_unit.pk], f"role_{world.co_unit.pk}": "co"})
    assert sorted(Assignment.objects.filter(proposal=proposal).values_list("role", flat=True)) == ["co", "lead"]


# --- 9. the proposer's home: one card per proposal ----------------------------------------------------

def test_the_proposer_sees_one_card_per_proposal_with_its_units_and_his_own_ratings(client, world):
    proposal = make_proposal(world, number="20250301")
    lead, co = assign(world, proposal)
    walk_to(world, lead, "rated")  # both proposers rated 满意
    client.force_login(world.proposer)
    html = client.get(reverse("workbench:home")).content.decode()
    section = html.split('id="sec-my_items"')[1]
    cards = re.findall(r'<article class="card mb-2 shadow-sm proposal-card" data-proposal="(\d+)"', section)
    assert cards == [str(proposal.pk)]  # once, not once per unit
    card = section.split("</article>")[0]
    assert "区教育局</a>（主办）" in card and "区住房和建设局</a>（会办）" in card
    assert card.count("data-my-rating") == 1  # his own rating, not the co-signer's
    assert "我的测评：办理态度 满意，办理结果 满意" in card


def test_a_proposer_with_many_items_sees_the_newest_and_a_link_to_all(client, world, monkeypatch):
    monkeypatch.setattr(selectors, "PROPOSER_CARDS", 2)
    items = [make_proposal(world, number=f"2025031{i}") for i in range(3)]
    for item in items:
        assign(world, item)
    client.force_login(world.proposer)
    html = client.get(reverse("workbench:home")).content.decode()
    section = html.split('id="sec-my_items"')[1]
    cards = re.findall(r'data-proposal="(\d+)"', section)
    assert cards == [str(items[0].pk), str(items[1].pk)]  # the first numbers of the newest session
    assert "共 3 件，显示最近的 2 件" in html and "在台账中查看全部 3 件" in section
    assert re.search(r'<div class="display-6">3</div><div class="small text-body-secondary">我的提案建议', html)


# --- 8. notifications that can be read ---------------------------------------------------------------

def test_the_office_is_told_what_needs_it_grouped_per_item_and_day(client, world):
    items = []
    for i in range(3):
        proposal = make_proposal(world, number=f"2025040{i}")
        lead, co = assign(world, proposal)
        walk_to(world, lead, "rated")  # sign, section, draft, reviews, send, two ratings: many events each
        items.append(proposal)
    client.force_login(world.office)
    # Every item had a dozen events; the office hears of the sent replies and the completed ratings, one entry
    # per item and day.
    badge = client.get(reverse("workbench:notification_badge")).content.decode()
    assert '<span class="badge rounded-pill text-bg-light" id="unread-count">3</span>' in badge
    html = client.get(reverse("workbench:notifications")).content.decode()
    assert html.count("data-notice-group") == 3
    assert "签收" not in html.split('id="notice-list"')[1]  # the units' own steps are not the office's business
    assert "发送答复" in html and "全部提案人已测评" in html
    # Filters: one kind, only unread.
    html = client.get(reverse("workbench:notifications"), {"kind": "assign"}).content.decode()
    assert html.count("data-notice-group") == 0
    html = client.get(reverse("workbench:notifications"), {"kind": "rating"}).content.decode()
    assert html.count("data-notice-group") == 3 and "发送答复" not in html.split('id="notice-list"')[1]
    response = client.post(reverse("workbench:notifications"), follow=True)
    assert "已全部标为已读" in response.content.decode()
    assert client.get(reverse("workbench:notification_badge")).content.decode() == "通知"
    html = client.get(reverse("workbench:notifications"), {"show": "unread"}).content.decode()
    assert html.count("data-notice-group") == 0 and "暂无通知" in html
    assert re.search(r"未读 0", client.get(reverse("workbench:notifications")).content.decode())


def test_the_menu_badge_is_kept_half_a_minute_and_marking_read_shows_at_once(client, world):
    """Every page loads the badge; its count is kept BADGE_SECONDS per user and read position."""
    badge = reverse("workbench:notification_badge")

    def shown():
        match = re.search(r'id="unread-count">(\d+)<', client.get(badge).content.decode())
        return int(match.group(1)) if match else 0

    client.force_login(world.office)
    first = make_proposal(world, number="20250501")
    walk_to(world, assign(world, first)[0], "replied")
    assert shown() == 1 == selectors.unread_count(world.office)
    second = make_proposal(world, number="20250502")
    walk_to(world, assign(world, second)[0], "replied")
    assert selectors.unread_count(world.office) == 2
    assert shown() == 1  # within half a minute: the kept count
    # The notification centre's 未读 is the badge's count (the page is opened from the menu that shows it).
    assert "未读 1" in client.get(reverse("workbench:notifications")).content.decode()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=selectors.BADGE_SECONDS + 1)):
        assert shown() == 2
        client.post(reverse("workbench:notifications"))
        assert shown() == 0  # read: a new read position, counted at once
        assert "未读 0" in client.get(reverse("workbench:notifications")).content.decode()


def test_the_handler_hears_that_his_reply_was_returned(client, world):
    proposal = make_proposal(world, number="20250410")
    lead = walk_to(world, assign(world, proposal)[0], "reply_review")
    reply = replies_services.current_reply(lead)
    reply = replies_services.reply_review(reply=reply, actor=world.lead_section_head, approve=True)
    replies_services.reply_review(reply=reply, actor=world.lead_office, approve=False, reason="请逐条答复")
    client.force_login(world.lead_handler)
    html = client.get(reverse("workbench:notifications")).content.decode()
    assert "退回修改" in html and "请逐条答复" in html


def test_after_an_action_the_status_follows_the_state_and_old_banners_go(client, world):
    proposal = make_proposal(world, number="20250501")
    lead, co = assign(world, proposal)

    replies_services.co_opinion_send(
        assignment=walk_to_co(world, co), actor=world.co_handler, body="会办意见。")
    walk_to(world, lead, "rated")
    proposal.refresh_from_db()
    assert proposal.get_status_display() == "已测评"
    client.force_login(world.office)
    response = client.post(reverse("workbench:action", args=[lead.pk, "close"]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="panel-messages"' in html and "alert-success" in html  # the action says it is done
    assert '<span class="badge text-bg-secondary" id="proposal-status" hx-swap-oob="true">已办结</span>' in html
    assert '<div id="messages" aria-live="polite" hx-swap-oob="true"></div>' in html


def walk_to_co(world, co):
    co = handling.assignment_sign(assignment=co, actor=world.co_office)
    return handling.assignment_assign_section(assignment=co, actor=world.co_office, section=world.co_section,
                                              handler=world.co_handler)


def test_unread_notifications_are_the_newest_by_time_where_ids_do_not_follow_time(world):
    """Within the unread window the feed reads each branch newest first by time (the index (unit, created_at)
    bounds the read by the window): an event written later but dated earlier (imported, generated) comes after
    one dated later, whatever their ids."""
    now = timezone.now()
    dated_later = make_proposal(world, number="20250601")
    assign(world, dated_later, co=False)
    with time_machine.travel(now - dt.timedelta(days=3), tick=False):
        dated_earlier = make_proposal(world, number="20250602")
        assign(world, dated_earlier, co=False)
    events = {e.proposal_id: e for e in Event.objects.filter(verb="assign", unit=world.lead_unit)}
    assert events[dated_earlier.pk].pk > events[dated_later.pk].pk  # ids do not follow time here
    fresh = now - dt.timedelta(days=selectors.NOTIFICATION_FRESH_DAYS)
    newest = selectors.newest_notification_ids(world.lead_office, 1, since=fresh)
    assert newest == [events[dated_later.pk].pk]
    assert selectors.unread_count(world.lead_office) == 2


def test_the_handler_lists_his_items_and_his_co_sections_items_once_and_his_returned_replies(world):
    """承办人's workbench: the items he handles and those whose co-handling section he handles, each once (also when
    he is both), and below, the items whose reply came back for changes."""
    own = walk_to(world, assign(world, make_proposal(world, number="20250601"), co=False)[0], "in_progress")
    items = [own]
    for number, section, handler, co_section in (("20250602", world.lead_section2, world.lead_section_head, world.lead_section),
                                                 ("20250603", world.lead_section, world.lead_handler, world.lead_section2)):
        lead = handling.assignment_sign(assignment=assign(world, make_proposal(world, number=number), co=False)[0],
                                        actor=world.lead_office)
        items.append(handling.assignment_assign_section(assignment=lead, actor=world.lead_office, section=section,
                                                        handler=handler, co_sections=[(co_section, world.lead_handler)]))
    reply = replies.reply_save_draft(assignment=own, actor=world.lead_handler, body="答复如下：已扩建学校。", reply_class="A",
                                     contact_person="张敏", contact_phone="0755-12345678")
    reply = replies.reply_submit(reply=reply, actor=world.lead_handler)
    replies.reply_review(reply=reply, actor=world.lead_section_head, approve=False, reason="请逐条答复")
    mine, returned = selectors.handler_workbench(world.lead_handler, selectors.Clock.now())
    assert mine.count == 3 and sorted(r.pk for r in mine.rows) == sorted(a.pk for a in items)
    assert returned.count == 1 and [r.pk for r in returned.rows] == [own.pk]


def test_the_register_form_starts_on_the_session_and_kind_of_the_last_registration(world, client):
    # Items come in runs of one session and kind: each one began on an empty 届次 and on 提案.
    client.force_login(world.office)
    selected = re.compile(r'<option value="(\d+)" selected[ >]')
    first = client.get(reverse("workbench:register")).content.decode()
    assert selected.findall(first.split('id="id_p-session"')[1].split("</select>")[0]) == [str(world.session.pk)]
    npc = proposal_services.session_create(actor=world.office, name="区人大三届三次会议", body=Body.NPC, level=Level.DISTRICT,
                                           year=2025, assigning_office=world.office_unit)
    two = client.get(reverse("workbench:register")).content.decode()
    assert not selected.findall(two.split('id="id_p-session"')[1].split("</select>")[0])  # two: the office chooses
    response = client.post(reverse("workbench:register"), {
        "p-session": npc.pk, "p-kind": "suggestion", "p-number": "101", "p-title": "关于增设公交站点的建议",
        "p-proposers": "赵代表", "p-body": "建议增设站点。"})
    assert response.status_code == 302
    page = client.get(reverse("workbench:register")).content.decode()
    form = page.split('id="id_p-session"')[1]
    assert selected.findall(form.split("</select>")[0]) == [str(npc.pk)]
    kinds = page.split('id="id_p-kind"')[1].split("</select>")[0]
    assert '<option value="suggestion" selected>' in kinds


def test_the_register_form_proposes_the_number_after_the_last_one_registered(world, client):
    # Numbers come in order from the session's paper list: the clerk typed each one although it is the last + 1.
    client.force_login(world.office)
    kind = "proposal"
    first = client.post(reverse("workbench:register"), {
        "p-session": world.session.pk, "p-kind": kind, "p-number": "0099", "p-title": "关于增设公交站点的提案",
        "p-proposers": "赵委员", "p-body": "建议增设站点。"})
    assert first.status_code == 302
    page = client.get(reverse("workbench:register")).content.decode()
    assert re.search(r'name="p-number" value="0100"', page)
    taken = make_proposal(world, number="0100")  # registered out of order by a colleague: the next free one
    Proposal.objects.filter(pk=taken.pk).update(created_at=timezone.now() - dt.timedelta(days=1))
    page = client.get(reverse("workbench:register")).content.decode()
    assert re.search(r'name="p-number" value="0101"', page)
    assert proposal_selectors.next_number(session_id=world.session.pk, kind="suggestion") == ""  # none yet
    client.post(reverse("workbench:register"), {
        "p-session": world.session.pk, "p-kind": kind, "p-number": "甲-7", "p-title": "关于完善路灯照明的提案",
        "p-proposers": "钱委员", "p-body": "建议完善照明。"})
    page = client.get(reverse("workbench:register")).content.decode()
    assert not re.search(r'name="p-number" value=', page)  # not a plain number: nothing guessed


def test_a_new_session_starts_from_the_offices_newest_one(world, client):
    # A district office's form began on 全国, 届 1, 次 1 every year.
    client.force_login(world.office)
    npc = proposal_services.session_create(actor=world.office, name="区人大三届三次会议", body=Body.NPC,
                                           level=Level.DISTRICT, term=3, meeting=3, year=2025,
                                           assigning_office=world.office_unit)
    page = client.get(reverse("workbench:register")).content.decode()
    form = page.split('name="create_session"', 1)[0].rsplit("<form", 1)[1]
    assert f'<option value="{Body.NPC}" selected>' in form and f'<option value="{Level.DISTRICT}" selected>' in form
    assert re.search(r'name="s-term" value="3"', form) and re.search(r'name="s-meeting" value="4"', form)
    assert f'<option value="{npc.assigning_office_id}" selected>' in form
