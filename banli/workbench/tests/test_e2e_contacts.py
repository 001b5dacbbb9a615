"""End-to-end: a proposer's contacts on the proposal page, masked until a handler asks for one value (under the CSP)."""
import pytest

from banli.core.testing import assign, make_proposal
from banli.handling.models import Event
from banli.workbench.tests.e2e_helpers import Person

pytestmark = [pytest.mark.e2e]


def test_a_handler_sees_contacts_masked_and_reveals_the_phone_with_one_click(transactional_db, live_server, browser,
                                                                             world, screenshots):
    w = world
    w.proposer_record.phone, w.proposer_record.address = "13812340000", "深圳市龙岗区龙城街道某某路1号"
    w.proposer_record.save()
    proposal = make_proposal(w, number="20250301")
    assign(w, proposal)
    handler = Person(browser, live_server, w.lead_office)
    handler.proposal(proposal.pk)
    page = handler.page
    page.get_by_text("联系方式（默认隐去部分号码）").click()
    card = page.locator(f"#contact-{w.proposer_record.pk}")
    card.get_by_text("138****0000").wait_for()
    assert "13812340000" not in page.content() and "某某路" not in page.content()
    card.locator("form", has=page.locator("button")).first.get_by_role("button", name="显示完整").click()
    page.locator(f"#contact-{w.proposer_record.pk}").get_by_text("13812340000").wait_for()
    assert "某某路" not in page.content()  # only the value asked for
    screenshots(page, "proposer-contact-revealed")
    assert Event.objects.filter(verb="security.pii_view", actor=w.lead_office, payload__field="phone").count() == 1
    assert not handler.errors, handler.errors  # nothing blocked by the Content Security Policy
