"""End-to-end: real users in a real browser (Debian Chromium via Playwright) against the live server."""
import re

import pytest

from banli.assist.models import SuggestionDecision
from banli.assist.tests.conftest import trained_models_dir  # noqa: F401 (fixture)
from banli.core.testing import assign, make_proposal, walk_to
from banli.handling.models import Assignment
from banli.proposals.models import Proposal
from banli.proposals.services import proposal_create
from banli.replies.models import Reply
from banli.workbench.tests.e2e_helpers import Person

pytestmark = [pytest.mark.e2e]


def _assignment(proposal, unit):
    return Assignment.objects.exclude(state="withdrawn").get(proposal=proposal, unit=unit)


def _state(assignment):
    assignment.refresh_from_db()
    return assignment.state


def test_a_proposal_lives_its_whole_life_across_roles(transactional_db, live_server, browser, world, screenshots,
                                                      settings, trained_models_dir):  # noqa: F811
    w = world
    settings.BANLI_ASSIST_DIR = trained_models_dir  # smart assist trained on a small generated corpus

    # An item of the same session on the same subject, already answered: the similar list offers it for 并案.
    twin = proposal_create(actor=w.office, session=w.session, number="20250101", title="关于推进城区教育集团化办学的建议",
                           body="一、扩大优质教育资源覆盖面。二、完善集团内教师交流机制。", proposers=[w.other_proposer_record])
    walk_to(w, assign(w, twin, co=False)[0], "replied")
    # The assigning office registers the proposal by hand and assigns a lead and a co unit.
    office = Person(browser, live_server, w.office, via_form=True)  # the sign-in form itself, once in a browser
    office.open("/register/")
    page = office.page
    page.select_option("#id_p-kind", "suggestion")
    page.select_option("#id_p-session", str(w.session.pk))
    assert page.input_value("#id_p-kind") == "proposal"  # choosing a 政协 session sets 提案 (人大: 建议)
    page.fill("#id_p-number", "20250188")
    page.fill("#id_p-title", "关于推进城区教育集团化办学的提案")
    page.fill("#id_p-proposers", "李委员、吴委员")
    page.fill("#id_p-body", "一、扩大优质教育资源覆盖面。二、完善集团内教师交流机制。")
    # While typing, the category suggestion appears; one click fills the category field.
    page.locator("#register-assist .apply-category").first.wait_for()
    suggested = page.locator("#register-assist .apply-category").first.get_attribute("data-value")
    page.locator("#register-assist .apply-category").first.click()
    assert page.input_value("#id_p-category") == suggested == "教育事业"
    screenshots(page, "register-office")
    page.click("button[name=create_proposal]")
    page.wait_for_url(re.compile(r".*/proposals/\d+/assign/$"))
    proposal = Proposal.objects.get(number="20250188")
    assert proposal.category == "教育事业"
    # The routing suggestion shows the lead unit with its reasons; one click puts it into the assignment form.
    routing = page.locator("#assist-routing")
    routing.get_by_text("依据词语").wait_for()
    assert "区教育局" in routing.locator("tr[data-suggested-role=lead]").first.inner_text()
    page.locator("#assist-category").get_by_role("button", name="采纳：教育事业").click()
    page.locator("#assist-category").get_by_text("已记录：采纳").wait_for()
    screenshots(page, "assign-office")
    routing.locator(f".take-unit[data-unit-id='{w.lead_unit.pk}']").click()
    page.fill("#unit-search", "住房")
    page.locator(".pick-unit", has_text="区住房和建设局").click()
    assert page.locator(f"select[name=role_{w.lead_unit.pk}]").input_value() == "lead"
    assert page.locator(f"select[name=role_{w.co_unit.pk}]").input_value() == "co"
    page.click("#assign-form button[type=submit]")
    page.wait_for_url(re.compile(rf".*/proposals/{proposal.pk}/$"))
    lead = _assignment(proposal, w.lead_unit)
    co = _assignment(proposal, w.co_unit)
    assert (lead.role, co.role) == ("lead", "co")
    decision = SuggestionDecision.objects.get(proposal=proposal, task="routing")
    assert decision.top1_hit and decision.decided["lead"] == "区教育局"
    # The similar list offers the answered twin for 并案; the office records it after a confirmation.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#assist-similar [data-merge-into='{twin.pk}']").click()
    page.locator("#merge-status").wait_for()
    assert f"第{twin.number}号《{twin.title}》（主件）" in page.locator("#merge-status").inner_text()
    assert "已并案办理" in page.locator("#messages").inner_text()
    proposal.refresh_from_db()
    assert proposal.merged_with_id == twin.pk
    screenshots(page, "proposal-merged-office")
    office.open("/")
    screenshots(office.page, "workbench-assigning-office")

    # Both units sign.
    lead_office = Person(browser, live_server, w.lead_office)
    screenshots(lead_office.page, "workbench-unit-office")
    lead_office.proposal(proposal.pk)
    assert "已签收" in lead_office.act(lead.pk, "sign")
    co_office = Person(browser, live_server, w.co_office)
    co_office.proposal(proposal.pk)
    co_office.act(co.pk, "sign")
    # The co unit hands it to its section and the handler sends the co-opinion.
    co_office.act(co.pk, "assign_handler", {"section": w.co_section.pk, "handler": w.co_handler.pk})
    co_handler = Person(browser, live_server, w.co_handler)
    co_handler.proposal(proposal.pk)
    co_handler.act(co.pk, "send_co_opinion", {"body": "我局将在学校用地规划和建设方面予以支持。", "contact_person": "赵磊"})
    assert _state(co) == "opinion_sent"

    # The lead unit assigns its section and handler; the handler logs a contact and drafts the reply.
    lead_office.proposal(proposal.pk)
    lead_office.act(lead.pk, "assign_handler", {"section": w.lead_section.pk, "handler": w.lead_handler.pk})
    handler = Person(browser, live_server, w.lead_handler)
    screenshots(handler.page, "workbench-handler")
    handler.proposal(proposal.pk)
    # The reply form carries the reply check, updated as the handler writes.
    check = handler.page.locator(f"#assignment-{lead.pk} [data-assist=draft-check]")
    check.get_by_text("答复核查").wait_for(state="attached")
    assert "提案共 2 条建议" in check.text_content()
    reply_card = handler.page.locator(f"#assignment-{lead.pk} details[data-action=submit_reply]")
    reply_card.locator("summary").click()
    reply_card.locator(f"[name='a{lead.pk}-submit_reply-body']").fill(
        "一、关于扩大优质教育资源覆盖面，已于2026年3月新增集团校3所。\n二、关于完善教师交流机制，区教育局已制定交流办法，每年交流教师50名。")
    check.get_by_text("找到对应内容 2 条").wait_for()
    screenshots(handler.page, "proposal-draft-check-handler")
    # 不公开理由 and 公开摘要 show only for the disclosure they belong to.
    reason = reply_card.locator(f"[name='a{lead.pk}-submit_reply-disclosure_reason']")
    summary = reply_card.locator(f"[name='a{lead.pk}-submit_reply-public_summary']")
    assert not reason.is_visible() and not summary.is_visible()
    disclosure = reply_card.locator(f"[name='a{lead.pk}-submit_reply-disclosure']")
    disclosure.select_option("none")
    assert reason.is_visible() and not summary.is_visible()
    disclosure.select_option("summary")
    assert reason.is_visible() and summary.is_visible()
    disclosure.select_option("full")
    assert not reason.is_visible()
    handler.act(lead.pk, "log_contact", {"phase": "before", "method": "phone", "people": "李委员、张敏",
                                         "summary": "电话了解提案人的具体诉求。"})
    reply_fields = {"reply_class": "B", "disclosure": "full", "body": "经研究，现答复如下：一、……二、……",
                    "contact_person": "张敏", "contact_phone": "0755-12345678"}
    handler.act(lead.pk, "submit_reply", reply_fields, button="保存并提交审核")
    assert _state(lead) == "reply_review"

    # The section head passes it (科室审核); the unit office returns it once with a reason; the handler revises.
    section_head = Person(browser, live_server, w.lead_section_head)
    section_head.proposal(proposal.pk)
    section_head.act(lead.pk, "review_reply", {"decision": "approve"})
    lead_office.proposal(proposal.pk)
    review = lead_office.page.locator(f"#assignment-{lead.pk} details[data-action=review_reply]")
    review.locator("summary").click()
    review.locator("[data-assist=reply-check]").get_by_text("答复核查").wait_for()
    assert "提案共 2 条建议" in review.inner_text()
    screenshots(lead_office.page, "proposal-review-unit-office")
    message = lead_office.act(lead.pk, "review_reply", {"decision": "return", "reason": "请逐条回应提案建议。"})
    assert "退回" in message
    handler.proposal(proposal.pk)
    handler.act(lead.pk, "submit_reply", {**reply_fields, "body": "经研究，现逐条答复如下：一、……二、……"}, button="保存并提交审核")
    section_head.proposal(proposal.pk)
    section_head.act(lead.pk, "review_reply", {"decision": "approve"})
    lead_office.proposal(proposal.pk)
    lead_office.act(lead.pk, "review_reply", {"decision": "approve"})

    # Four different people: the deputy leader reviews, the head signs off (the deputy is not offered that step).
    leader = Person(browser, live_server, w.lead_leader)
    screenshots(leader.page, "workbench-leader")
    leader.proposal(proposal.pk)
    leader.act(lead.pk, "review_reply", {"decision": "approve"})
    leader.proposal(proposal.pk)
    assert leader.page.locator(f"#assignment-{lead.pk} details[data-action=review_reply]").count() == 0
    head = Person(browser, live_server, w.lead_head)
    head.proposal(proposal.pk)
    assert "已签发" in head.act(lead.pk, "review_reply", {"decision": "approve"})
    signed = Reply.objects.filter(assignment=lead).order_by("-version").first()
    assert signed.signer == "郑华"  # the letter names whoever signed the last step
    assert [r.reviewer_id for r in signed.reviews.order_by("position")] == [
        w.lead_section_head.pk, w.lead_office.pk, w.lead_leader.pk, w.lead_head.pk]
    lead_office.proposal(proposal.pk)
    lead_office.act(lead.pk, "send_reply")
    assert _state(lead) == "replied"

    # The proposer rates 不满意; the co-signer rates too; the item is rehandled.
    proposer = Person(browser, live_server, w.proposer)
    screenshots(proposer.page, "workbench-proposer")
    proposer.proposal(proposal.pk)
    proposer.act(lead.pk, "rate", {"attitude": "basic", "result": "unsatisfied", "comment": "答复未落到实处。"})
    co_proposer = Person(browser, live_server, w.co_proposer)
    co_proposer.proposal(proposal.pk)
    co_proposer.act(lead.pk, "rate", {"attitude": "satisfied", "result": "basic"})
    assert _state(lead) == "rated"
    lead_office.proposal(proposal.pk)
    lead_office.act(lead.pk, "rehandle", {"reason": "提案人对办理结果不满意，重新办理。"})
    assert _state(lead) == "rehandling"

    # Answered again, rated 满意, closed by the office.
    handler.proposal(proposal.pk)
    handler.act(lead.pk, "submit_reply", {**reply_fields, "reply_class": "A", "body": "经再次研究，已落实如下：……"}, button="保存并提交审核")
    for reviewer in (section_head, lead_office, leader, head):
        reviewer.proposal(proposal.pk)
        reviewer.act(lead.pk, "review_reply", {"decision": "approve"})
    lead_office.proposal(proposal.pk)
    lead_office.act(lead.pk, "send_reply")
    proposer.proposal(proposal.pk)
    proposer.act(lead.pk, "rate", {"attitude": "satisfied", "result": "satisfied"})
    co_proposer.proposal(proposal.pk)
    co_proposer.act(lead.pk, "rate", {"attitude": "satisfied", "result": "satisfied"})
    office.proposal(proposal.pk)
    office.act(lead.pk, "close")
    assert _state(lead) == "closed"
    proposal.refresh_from_db()
    assert proposal.status == "closed"
    office.proposal(proposal.pk)
    timeline = office.page.locator("#timeline").inner_text()
    assert "重新办理" in timeline and "办结" in timeline
    similar = office.page.locator("#similar-slot #assist-similar")
    similar.get_by_text("已并案").first.wait_for()  # merged, and still answered on its own (分别答复)
    assert "并案办理：本件并入" in timeline
    assert twin.title in similar.inner_text() and "已扩建学校" in similar.inner_text()
    screenshots(office.page, "proposal-closed-office")
    # The proposer's timeline shows milestones, never the unit's internal drafts or contacts.
    proposer.proposal(proposal.pk)
    proposer_timeline = proposer.page.locator("#timeline").inner_text()
    assert "登记沟通" not in proposer_timeline and "退回修改" not in proposer_timeline
    for person in (office, lead_office, co_office, co_handler, handler, leader, proposer, co_proposer):
        assert not person.errors, person.errors
        outside = [u for u in person.requests if not u.startswith(live_server.url)]
        assert not outside, outside


def test_a_proposer_rates_on_a_phone(transactional_db, live_server, full_browser, world, screenshots):
    """In the windowed Chromium (/usr/bin/chromium), where the other browser tests use its headless shell."""
    w = world
    browser = full_browser
    proposal = make_proposal(w, title="关于优化公交线路的提案")
    lead, _ = assign(w, proposal, co=False)
    walk_to(w, lead, "replied")
    phone = Person(browser, live_server, w.proposer, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.page
    assert page.locator("#sec-to_rate").get_by_text("关于优化公交线路的提案").is_visible()
    screenshots(page, "workbench-proposer-phone")
    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#sec-to_rate a", has_text="关于优化公交线路的提案").click()
    page.wait_for_url(re.compile(rf".*/proposals/{proposal.pk}/.*"))
    assert page.locator(".reply[data-reply-state=sent]").first.is_visible()
    message = phone.act(lead.pk, "rate", {"attitude": "satisfied", "result": "unsatisfied"}, expect="error")
    assert "不满意" in message
    phone.act(lead.pk, "rate", {"attitude": "satisfied", "result": "unsatisfied", "comment": "线路仍未调整。"})
    screenshots(page, "proposal-proposer-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert lead.feedbacks.filter(result="unsatisfied").exists()
    assert not phone.errors, phone.errors


def test_the_menu_keeps_one_line_on_desktop_widths_and_folds_below(transactional_db, live_server, browser, world):
    """工作台 read 工作/台 and the menu took three lines for the assigning office at 1024-1366 px (laptops): menu words
    never break, the menu opens out from 1200 px in one line, and below it folds behind the menu button."""
    rows = """() => {
        const links = [...document.querySelectorAll('nav.navbar .navbar-nav > .nav-item > .nav-link, nav.navbar .navbar-text')]
            .filter(e => e.offsetParent !== null);
        const tops = links.map(e => e.getBoundingClientRect().top);
        const tall = links.filter(e => e.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(e).lineHeight))
            .map(e => e.textContent.trim());
        // One row: the tops differ by a pixel or two (a badge), never by a line.
        return {shown: links.length, rows: Math.max(...tops) - Math.min(...tops) < 20 ? 1 : 2, tall: tall,
                wide: document.documentElement.scrollWidth > window.innerWidth};
    }"""
    for user in (world.office, world.admin):
        for width in (1200, 1280, 1366, 1920):
            person = Person(browser, live_server, user, viewport={"width": width, "height": 800})
            seen = person.page.evaluate(rows)
            assert seen["shown"] >= 4 and seen["rows"] == 1 and not seen["tall"] and not seen["wide"], (user, width, seen)
            person.context.close()
        person = Person(browser, live_server, user, viewport={"width": 1024, "height": 800})
        assert person.page.locator("nav.navbar .navbar-toggler").is_visible()
        assert not person.page.locator("#mainnav").is_visible()
        person.context.close()
