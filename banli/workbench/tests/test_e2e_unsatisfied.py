"""End-to-end in Debian Chromium: a 不满意 rating puts the item on the lead unit's and the office's lists; the
unit re-handles it, sends a new reply, the proposer rates 满意, and the history of both rounds is shown to the
proposer, the unit and the office. Screenshots of each step are saved as artifacts."""
import pytest

from banli.core.testing import assign, make_proposal, review_through, walk_to
from banli.handling.models import Assignment
from banli.replies import services as replies
from banli.workbench.tests.e2e_helpers import Person

pytestmark = [pytest.mark.e2e]


def _state(assignment):
    assignment.refresh_from_db()
    return assignment.state


def _rounds(person, assignment_id):
    """The rating history's rounds on the proposal page, as the person reads them."""
    history = person.page.locator(f"#assignment-{assignment_id} [data-rating-history]")
    history.wait_for()
    return [history.locator(f"[data-round='{n}']").inner_text() for n in (1, 2)
            if history.locator(f"[data-round='{n}']").count()]


def test_unsatisfied_to_do_rehandling_then_satisfied_with_the_history_shown(transactional_db, live_server, browser,
                                                                            world, screenshots):
    w = world
    proposal = make_proposal(w, title="关于增加学位供给的提案")
    lead, _ = assign(w, proposal, co=False)
    walk_to(w, lead, "replied")

    # The proposer rates 不满意 with his reason; the co-signer rates 基本满意.
    proposer = Person(browser, live_server, w.proposer)
    proposer.proposal(proposal.pk)
    proposer.act(lead.pk, "rate", {"attitude": "basic", "result": "unsatisfied", "comment": "学位问题没有解决。"})
    co_proposer = Person(browser, live_server, w.co_proposer)
    co_proposer.proposal(proposal.pk)
    co_proposer.act(lead.pk, "rate", {"attitude": "satisfied", "result": "basic"})
    assert _state(lead) == "rated"

    # On the lead unit's and the office's lists, with the re-handling hint; 办结 is not offered to the unit.
    lead_office = Person(browser, live_server, w.lead_office)
    todo = lead_office.page.locator("#sec-unsatisfied")
    assert proposal.title in todo.inner_text()
    screenshots(lead_office.page, "unsatisfied-todo-unit-office")
    office = Person(browser, live_server, w.office)
    assert proposal.title in office.page.locator("#sec-unsatisfied").inner_text()
    screenshots(office.page, "unsatisfied-todo-office")
    lead_office.proposal(proposal.pk)
    assert lead_office.page.locator(f"#assignment-{lead.pk} details[data-action=close]").count() == 0
    message = lead_office.act(lead.pk, "rehandle", {"reason": "提案人对学位问题不满意，重新研究办理。"})
    assert "重新办理（第2轮）" in message
    assert _state(lead) == "rehandling"
    lead_office.open("/")
    assert proposal.title not in lead_office.page.locator("#sec-unsatisfied").inner_text()
    assert proposal.title in lead_office.page.locator("#sec-rehandling").inner_text()

    # The handler answers again; the unit's review chain passes it (its four signers are another e2e test's
    # subject); the unit office sends the new reply.
    handler = Person(browser, live_server, w.lead_handler)
    handler.proposal(proposal.pk)
    handler.act(lead.pk, "submit_reply", {"reply_class": "A", "disclosure": "full",
                                          "body": "经重新研究，新建学校已开工，明年秋季增加学位600个。",
                                          "contact_person": "张敏", "contact_phone": "0755-12345678"},
                button="保存并提交审核")
    lead.refresh_from_db()
    review_through(replies.current_reply(lead))
    lead_office.proposal(proposal.pk)
    lead_office.act(lead.pk, "send_reply")
    assert _state(lead) == "replied"

    # The proposer and the co-signer rate the second round 满意.
    proposer.proposal(proposal.pk)
    proposer.act(lead.pk, "rate", {"attitude": "satisfied", "result": "satisfied"})
    co_proposer.proposal(proposal.pk)
    co_proposer.act(lead.pk, "rate", {"attitude": "satisfied", "result": "satisfied"})
    assert _state(lead) == "rated"

    # The history of both rounds, to the proposer (his own ratings), the unit and the office.
    proposer.proposal(proposal.pk)
    first, second = _rounds(proposer, lead.pk)
    assert "办理结果不满意" in first and "学位问题没有解决。" in first and "重新办理" in first
    assert "办理结果满意" in second and "吴委员" not in first + second
    screenshots(proposer.page, "rating-history-proposer")
    proposer.open("/")
    home = proposer.page.locator("[data-my-rating]").all_inner_texts()
    assert any("第1轮" in t and "不满意" in t and "已重新办理" in t for t in home), home
    assert any("第2轮" in t and "满意" in t for t in home), home
    for person, name in ((lead_office, "unit-office"), (office, "office")):
        person.proposal(proposal.pk)
        first, second = _rounds(person, lead.pk)
        assert "李委员" in first and "不满意" in first and "学位问题没有解决。" in first
        assert "吴委员" in first and "基本满意" in first
        assert "重新办理：提案人对学位问题不满意，重新研究办理。" in first
        assert "满意" in second and "不满意" not in second
        # Rated 满意 now: 重新办理 is no longer offered.
        assert person.page.locator(f"#assignment-{lead.pk} details[data-action=rehandle]").count() == 0
        screenshots(person.page, f"rating-history-{name}")
    # The ledger says what became of the first round's 不满意.
    office.open("/ledger/?unsatisfied=satisfied")
    row = office.page.locator(f"a[href*='#assignment-{lead.pk}']").locator("xpath=ancestor::tr")
    assert "首轮不满意 · 重新办理后满意" in row.inner_text()
    screenshots(office.page, "ledger-first-round-unsatisfied-office")
    assert Assignment.objects.get(pk=lead.pk).round == 2
    for person in (proposer, co_proposer, lead_office, office, handler):
        assert not person.errors, person.errors
