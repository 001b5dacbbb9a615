"""Who may see and do what on the workbench's pages: outsiders get 403/404/redirect and see nothing."""
import pytest
from django.urls import reverse
from django.utils import timezone

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.models import Assignment, Event
from banli.organizations import services as orgs
from banli.organizations.choices import Role, UnitKind
from banli.proposals import services as proposals
from banli.proposals.choices import Body, Level

pytestmark = pytest.mark.django_db

SECRET_TITLE = "关于增加学位供给的提案"


@pytest.fixture
def item(world):
    proposal = make_proposal(world)
    lead, co = assign(world, proposal)
    return proposal, lead, co


def test_anonymous_visitor_is_sent_to_login_from_every_page(client, item):
    proposal, lead, co = item
    for url in (reverse("workbench:proposal", args=[proposal.pk]), reverse("workbench:ledger"),
                reverse("workbench:register"), reverse("workbench:assign", args=[proposal.pk]),
                reverse("workbench:notifications")):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response.url, url
    response = client.post(reverse("workbench:action", args=[lead.pk, "sign"]))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.state == "pending_sign"


@pytest.mark.parametrize("name", ["other_office", "other_handler", "other_proposer"])
def test_outsiders_get_404_on_the_proposal_page_and_see_nothing(client, world, item, name):
    proposal, lead, co = item
    client.force_login(getattr(world, name))
    response = client.get(reverse("workbench:proposal", args=[proposal.pk]))
    assert response.status_code == 404
    assert SECRET_TITLE not in response.content.decode()


@pytest.mark.parametrize("name", ["other_office", "other_handler", "other_proposer"])
def test_outsiders_do_not_find_the_item_in_the_ledger_or_workbench(client, world, item, name):
    client.force_login(getattr(world, name))
    for url in (reverse("workbench:ledger"), reverse("workbench:home")):
        assert SECRET_TITLE not in client.get(url).content.decode()


@pytest.mark.parametrize("name", ["other_office", "other_proposer", "co_office"])
def test_outsiders_cannot_sign_another_units_item(client, world, item, name):
    proposal, lead, co = item
    client.force_login(getattr(world, name))
    response = client.post(reverse("workbench:action", args=[lead.pk, "sign"]))
    assert response.status_code in (403, 404)
    assert SECRET_TITLE not in response.content.decode() or name == "co_office"
    lead.refresh_from_db()
    assert lead.state == "pending_sign"


def test_proposer_cannot_take_unit_actions(client, world, item):
    proposal, lead, co = item
    client.force_login(world.proposer)
    response = client.post(reverse("workbench:action", args=[lead.pk, "sign"]))
    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.state == "pending_sign"


def test_proposer_sees_no_action_forms_before_the_reply(client, world, item):
    proposal, lead, co = item
    client.force_login(world.proposer)
    html = client.get(reverse("workbench:proposal", args=[proposal.pk])).content.decode()
    assert 'data-action="' not in html


def test_only_the_offered_actions_appear_for_each_role(client, world, item):
    proposal, lead, co = item
    client.force_login(world.lead_office)
    html = client.get(reverse("workbench:proposal", args=[proposal.pk])).content.decode()
    assert f'action="/assignments/{lead.pk}/sign/"' in html
    assert f'action="/assignments/{co.pk}/sign/"' not in html
    client.force_login(world.lead_handler)
    html = client.get(reverse("workbench:proposal", args=[proposal.pk])).content.decode()
    assert "/sign/" not in html


def test_wrong_state_action_shows_the_domain_error_and_changes_nothing(client, world, item):
    proposal, lead, co = item
    lead = walk_to(world, lead, "signed")
    events = Event.objects.filter(assignment=lead).count()
    client.force_login(world.lead_office)
    response = client.post(reverse("workbench:action", args=[lead.pk, "sign"]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    # Signing what is signed is a conflict (a second tab, or a colleague was quicker): said as such, nothing done.
    assert "当前状态为「已签收」，「签收」刚刚已由他人" in html
    assert "alert-danger" in html
    lead.refresh_from_db()
    assert lead.state == "signed" and Event.objects.filter(assignment=lead).count() == events


def test_wrong_state_action_without_htmx_shows_the_full_page_with_the_error(client, world, item):
    proposal, lead, co = item
    lead = walk_to(world, lead, "signed")
    client.force_login(world.lead_office)
    response = client.post(reverse("workbench:action", args=[lead.pk, "sign"]))
    assert response.status_code == 409
    assert "「签收」刚刚已由他人" in response.content.decode()


def test_action_with_htmx_returns_the_panel_with_a_success_message(client, world, item):
    proposal, lead, co = item
    client.force_login(world.lead_office)
    response = client.post(reverse("workbench:action", args=[lead.pk, "sign"]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="proposal-panel"' in html and "<html" not in html
    assert "已签收。" in html
    lead.refresh_from_db()
    assert lead.state == "signed"


def test_other_units_contacts_and_drafts_are_hidden_from_the_timeline(client, world, item):
    proposal, lead, co = item
    lead = walk_to(world, lead, "in_progress")
    handling.contact_log(assignment=lead, actor=world.lead_handler, phase="before", method="phone",
                         contacted_on=timezone.localdate(), people="李委员", summary="内部沟通记录摘要")
    client.force_login(world.co_office)
    html = client.get(reverse("workbench:proposal", args=[proposal.pk])).content.decode()
    assert "内部沟通记录摘要" not in html and 'data-verb="log_contact"' not in html
    client.force_login(world.proposer)
    html = client.get(reverse("workbench:proposal", args=[proposal.pk])).content.decode()
    assert 'data-verb="log_contact"' not in html and 'data-verb="assign_section"' not in html
    client.force_login(world.lead_office)
    html = client.get(reverse("workbench:proposal", args=[proposal.pk])).content.decode()
    assert "内部沟通记录摘要" in html and 'data-verb="log_contact"' in html


def test_only_the_assigning_office_may_register_and_assign(client, world, item):
    proposal, lead, co = item
    for name in ("lead_office", "proposer", "other_handler"):
        client.force_login(getattr(world, name))
        assert client.get(reverse("workbench:register")).status_code == 403
        assert client.get(reverse("workbench:unit_search"), {"q": "教育"}).status_code == 403
    client.force_login(world.lead_office)
    response = client.post(reverse("workbench:assign", args=[proposal.pk]), {"unit": [world.other_unit.pk], f"role_{world.other_unit.pk}": "co"})
    assert response.status_code == 403
    assert not Assignment.objects.filter(proposal=proposal, unit=world.other_unit).exists()


def test_the_register_page_lists_the_offices_newest_registrations_first(client, world, item):
    """最近登记: the newest 20 of the office's own sessions, newest first; another office's items are not there."""
    town = orgs.unit_create(name="街道办督查组", kind=UnitKind.ASSIGNING_OFFICE)
    other = proposals.session_create(actor=world.admin, name="街道议事会", body=Body.CPPCC, level=Level.DISTRICT,
                                     year=2025, assigning_office=town)
    proposals.proposal_create(actor=world.admin, session=other, number="1", title="关于街道绿化的建议", body="增加绿地。",
                              proposers=[world.other_proposer_record])
    made = [make_proposal(world, title=f"关于第{i}条道路的提案") for i in range(22)]
    client.force_login(world.office)
    html = client.get(reverse("workbench:register")).content.decode()
    recent = html.split("最近登记")[1]
    titles = [p.title for p in reversed(made)][:20]
    assert [t for t in titles if t in recent] == titles
    assert recent.index(titles[0]) < recent.index(titles[1]) < recent.index(titles[19])
    assert made[0].title not in recent and "关于街道绿化的建议" not in recent


def test_role_switch_accepts_only_the_users_own_grants(client, world):
    orgs.role_grant(user=world.lead_office, role=Role.HANDLER, unit=world.lead_section)
    client.force_login(world.lead_office)
    mine = world.lead_office.grants.get(role=Role.HANDLER)
    foreign = world.office.grants.get()
    client.post(reverse("workbench:switch_role"), {"grant": foreign.pk})
    assert "待签收" in client.get(reverse("workbench:home")).content.decode()  # still the unit office's workbench
    client.post(reverse("workbench:switch_role"), {"grant": mine.pk})
    html = client.get(reverse("workbench:home")).content.decode()
    assert "我承办的事项" in html
