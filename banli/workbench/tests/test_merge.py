"""并案 on the proposal page: the office merges a 可并案 twin from the similar list and unmerges it; units see the group."""
import pytest
from django.urls import reverse

from banli.core.testing import assign, walk_to
from banli.handling import services as handling
from banli.handling.models import Event
from banli.proposals import services as proposals
from banli.proposals.models import Proposal
from banli.workbench import selectors

pytestmark = pytest.mark.django_db

SCHOOL = dict(title="关于增加学校学位和教师编制的建议", body="具体建议：一、扩建学校，增加学位。二、补充教师编制。")


@pytest.fixture
def twins(world):
    """Two same-session items on one subject, both assigned to the lead unit (b already answered)."""
    w = world
    w.a = proposals.proposal_create(actor=w.office, session=w.session, number="20250011", proposers=[w.proposer_record], **SCHOOL)
    w.b = proposals.proposal_create(actor=w.office, session=w.session, number="20250012",
                                    proposers=[w.other_proposer_record], title="关于增加学校学位和补充教师编制的建议",
                                    body=SCHOOL["body"])
    w.lead_a, _ = assign(w, w.a, co=False)
    w.lead_b, _ = assign(w, w.b, co=False)
    walk_to(w, w.lead_b, "replied")
    return w


def similar(client, user, proposal):
    client.force_login(user)
    return client.get(reverse("assist:similar", args=[proposal.pk]), HTTP_HX_REQUEST="true").content.decode()


def page(client, user, proposal):
    client.force_login(user)
    return client.get(reverse("workbench:proposal", args=[proposal.pk])).content.decode()


def merge(client, user, proposal, into, **extra):
    client.force_login(user)
    return client.post(reverse("workbench:proposal_merge", args=[proposal.pk]), {"into": into.pk}, **extra)


def merged_with(p):
    return Proposal.objects.values_list("merged_with_id", flat=True).get(pk=p.pk)


def test_the_office_sees_a_merge_button_beside_a_twin_and_merges_with_one_click(client, twins):
    w = twins
    html = similar(client, w.office, w.a)
    url = reverse("workbench:proposal_merge", args=[w.a.pk])
    assert "可并案" in html and f'hx-post="{url}"' in html and f'data-merge-into="{w.b.pk}"' in html
    assert 'name="csrfmiddlewaretoken"' in html and "hx-confirm=" in html
    response = merge(client, w.office, w.a, w.b, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.headers["HX-Redirect"] == reverse("workbench:proposal", args=[w.a.pk])
    assert merged_with(w.a) == w.b.pk
    html = page(client, w.office, w.a)
    assert "已并案办理：主件第20250012号，并入件第20250011号" in html
    assert "并案办理：" in html and f"第20250012号《{w.b.title}》</a>（主件）" in html and "本件为<strong>并入件" in html
    assert reverse("workbench:proposal", args=[w.b.pk]) in html and 'data-unmerge="' in html
    assert "并案办理：本件并入第20250012号" in html  # the timeline
    head = page(client, w.office, w.b)
    assert f"第20250011号《{w.a.title}》</a>（并入件）" in head and "本件为<strong>主件" in head
    assert "并案办理：第20250011号并入本件" in head
    # The twin is now marked as merged in the similar list, without a second button.
    html = similar(client, w.office, w.a)
    assert "已并案" in html and f'data-merge-into="{w.b.pk}"' not in html


def test_a_plain_form_post_merges_and_redirects_back_to_the_page(client, twins):
    w = twins
    response = merge(client, w.office, w.a, w.b)
    assert response.status_code == 302 and response.url == reverse("workbench:proposal", args=[w.a.pk])
    assert merged_with(w.a) == w.b.pk


@pytest.mark.parametrize("who", ["lead_handler", "lead_office", "lead_leader", "admin"])
def test_units_and_the_administrator_get_no_button_and_are_refused(client, twins, who):
    w = twins
    user = getattr(w, who)
    html = similar(client, user, w.a)
    assert "可并案" in html and "data-merge-into" not in html and "proposal_merge" not in html
    assert merge(client, user, w.a, w.b, HTTP_HX_REQUEST="true").status_code == 403
    assert merge(client, user, w.a, w.b).status_code == 403
    assert merged_with(w.a) is None and not Event.objects.filter(verb="merge").exists()


def test_a_unit_sees_the_group_line_but_no_unmerge_button(client, twins):
    w = twins
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    html = page(client, w.lead_handler, w.a)
    assert 'id="merge-status"' in html and f"第20250012号《{w.b.title}》</a>（主件）" in html
    assert "data-unmerge" not in html
    client.force_login(w.lead_office)
    assert client.post(reverse("workbench:proposal_unmerge", args=[w.a.pk])).status_code == 403
    assert merged_with(w.a) == w.b.pk


def test_a_unit_that_cannot_open_the_other_items_learns_only_how_many_there_are(client, twins):
    w = twins
    hidden = proposals.proposal_create(actor=w.office, session=w.session, number="20250013", proposers=["赵委员"],
                                       title="卫健局的事项：关于学位的建议")

    handling.assignment_create(proposal=hidden, unit=w.other_unit, role="lead", actor=w.office)
    proposals.proposal_merge(actor=w.office, proposal=hidden, into=w.b)
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    html = page(client, w.lead_handler, w.a)
    assert "其他1件" in html and hidden.title not in html and "第20250013号" not in html


def test_the_office_unmerges_from_the_item_page_and_from_the_heads_page(client, twins):
    w = twins
    c = proposals.proposal_create(actor=w.office, session=w.session, number="20250014", proposers=["赵委员"], **SCHOOL)
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    proposals.proposal_merge(actor=w.office, proposal=c, into=w.b)
    client.force_login(w.office)
    response = client.post(reverse("workbench:proposal_unmerge", args=[w.a.pk]), HTTP_HX_REQUEST="true")
    assert response.headers["HX-Redirect"] == reverse("workbench:proposal", args=[w.a.pk])
    assert merged_with(w.a) is None
    assert "已取消并案：第20250011号不再并入第20250012号" in page(client, w.office, w.a)
    head = page(client, w.office, w.b)
    assert f'name="item" value="{c.pk}"' in head and f'name="item" value="{w.a.pk}"' not in head
    response = client.post(reverse("workbench:proposal_unmerge", args=[w.b.pk]), {"item": c.pk})
    assert response.status_code == 302 and merged_with(c) is None
    assert 'id="merge-status"' not in page(client, w.office, w.b)
    # An item outside the head's group is not taken out through the head's page.
    proposals.proposal_merge(actor=w.office, proposal=c, into=Proposal.objects.get(pk=w.a.pk))
    client.post(reverse("workbench:proposal_unmerge", args=[w.b.pk]), {"item": c.pk})
    assert merged_with(c) == w.a.pk


def test_a_refused_merge_shows_the_reason_on_the_page(client, twins):
    w = twins
    c = proposals.proposal_create(actor=w.office, session=w.session, number="20250014", proposers=["赵委员"], **SCHOOL)
    d = proposals.proposal_create(actor=w.office, session=w.session, number="20250015", proposers=["钱委员"], **SCHOOL)
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    proposals.proposal_merge(actor=w.office, proposal=c, into=d)
    response = merge(client, w.office, w.b, d, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = page(client, w.office, w.b)
    assert "并案未完成" in html and "两组不能直接合并" in html
    assert merged_with(w.b) is None


def test_on_a_heads_page_the_button_takes_a_standalone_twin_into_its_group(client, twins):
    w = twins
    c = proposals.proposal_create(actor=w.office, session=w.session, number="20250014", proposers=["赵委员"], **SCHOOL)
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    merge(client, w.office, w.b, c)
    assert merged_with(c) == w.b.pk and merged_with(w.b) is None


def test_merged_items_still_answer_separately_on_the_page(client, twins):
    w = twins
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    walk_to(w, w.lead_a, "in_progress")
    html = page(client, w.lead_handler, w.a)
    assert 'data-action="submit_reply"' in html  # the merged item's own reply form
    client.force_login(w.lead_handler)
    prefix = f"a{w.lead_a.pk}-submit_reply-"
    response = client.post(reverse("workbench:action", args=[w.lead_a.pk, "submit_reply"]), {
        prefix + "reply_class": "A", prefix + "disclosure": "full", prefix + "body": "经研究，答复如下：一、已扩建。",
        prefix + "contact_person": "张敏", prefix + "contact_phone": "0755-12345678",
    })
    assert response.status_code == 302
    assert w.lead_a.replies.count() == 1 and w.lead_b.replies.filter(state="sent").count() == 1


def test_the_ledger_tags_merged_items_and_heads(client, twins):
    w = twins
    client.force_login(w.office)
    assert "data-merged" not in client.get(reverse("workbench:ledger")).content.decode()
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    html = client.get(reverse("workbench:ledger")).content.decode()
    assert 'data-merged="item"' in html and 'data-merged="head"' in html


def test_the_units_handling_a_merged_item_hear_of_the_merge_and_others_do_not(twins):
    w = twins
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    def heard(user):  # what the user's notification centre shows
        return {e.verb for group in selectors.notifications(user) for e in group.events}

    assert "merge" in heard(w.lead_handler)  # both items are the lead unit's: it must know they are handled together
    assert "merge" not in heard(w.other_handler)
    assert "merge" not in heard(w.office)  # his own doing
