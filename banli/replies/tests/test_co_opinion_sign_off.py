"""A co unit may require its leader's sign-off (审签) before its 会办意见 goes to the lead (a per-unit setting)."""
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from banli.actions.registry import offered_actions
from banli.api.services import api_token_create
from banli.core.errors import ConflictError, DomainError, PermissionDenied
from banli.core.testing import PASSWORD, make_user
from banli.handling.models import Event
from banli.organizations.choices import Role
from banli.replies import selectors, services
from banli.replies.models import CoOpinion
from banli.replies.tests.helpers import lead_and_co_in_progress
from banli.workbench.selectors import Clock, workbench_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(world):
    world.co_leader = make_user("build_leader", "住建局分管领导 钱坤", (Role.LEADER, world.co_unit))
    return lead_and_co_in_progress(world)


@pytest.fixture
def api():

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, scope='write')[1]}")
        return client

    return make


def _needs_leader(world):
    services.co_opinion_set_sign_off(unit=world.co_unit, needs_leader=True, actor=world.co_office)


def _offered(assignment, user):
    return {o.key for o in offered_actions(assignment, user, {"reply": None})}


def _leader_todo(user):
    return next(s for s in workbench_for(user, "leader", Clock.now()) if s.key == "co_opinion_sign_off")


def _leader_lists(user):
    return {s.key for s in workbench_for(user, "leader", Clock.now())}


def test_the_leaders_sign_off_list_shows_only_where_his_unit_takes_that_step(world, item):
    # Every leader saw 待审签的会办意见 with its hint "本单位设置会办意见须经领导审签" though his unit had no such step.
    assert "co_opinion_sign_off" not in _leader_lists(world.co_leader)
    _needs_leader(world)
    assert "co_opinion_sign_off" in _leader_lists(world.co_leader)
    assert "co_opinion_sign_off" not in _leader_lists(world.lead_leader)


def test_without_the_setting_the_opinion_goes_straight_to_the_lead(world, item):
    lead, co = item
    opinion = services.co_opinion_send(assignment=co, actor=world.co_handler, body="建议统筹用地。")
    assert opinion.state == "sent" and opinion.signed_by is None
    assert selectors.co_opinions_for_lead(world.lead_handler, lead) == [opinion]


def test_with_the_setting_the_lead_sees_nothing_until_the_co_units_leader_signs_off(world, item):
    lead, co = item
    _needs_leader(world)
    opinion = services.co_opinion_send(assignment=co, actor=world.co_handler, body="建议统筹用地。")
    co.refresh_from_db()
    assert opinion.state == "pending" and opinion.doc_number == "" and co.state == "in_progress"
    assert selectors.co_opinions_for_lead(world.lead_handler, lead) == []
    assert Event.objects.filter(assignment=co, verb="submit_co_opinion").exists()
    # The leader's to-do; the handler is not offered a second send meanwhile, nor may he sign off himself.
    assert [r.pk for r in _leader_todo(world.co_leader).rows] == [co.pk]
    assert "co_opinion_sign_off" not in _leader_lists(world.lead_leader)  # his unit does not take the step
    assert "sign_off_co_opinion" in _offered(co, world.co_leader)
    assert "send_co_opinion" not in _offered(co, world.co_handler)
    with pytest.raises(ConflictError, match="已送领导审签"):
        services.co_opinion_send(assignment=co, actor=world.co_handler, body="再送一次")
    with pytest.raises(PermissionDenied):
        services.co_opinion_sign_off(opinion=opinion, actor=world.co_handler, approve=True)
    with pytest.raises(PermissionDenied):
        services.co_opinion_sign_off(opinion=opinion, actor=world.lead_leader, approve=True)

    opinion = services.co_opinion_sign_off(opinion=opinion, actor=world.co_leader, approve=True)
    co.refresh_from_db()
    assert opinion.state == "sent" and opinion.signed_by == world.co_leader and opinion.doc_number
    assert co.state == "opinion_sent" and co.opinion_sent_at is not None
    assert selectors.co_opinions_for_lead(world.lead_handler, lead) == [opinion]
    assert Event.objects.get(assignment=co, verb="approve_co_opinion").actor == world.co_leader
    assert _leader_todo(world.co_leader).count == 0
    with pytest.raises(DomainError):
        services.co_opinion_sign_off(opinion=opinion, actor=world.co_leader, approve=True)


def test_the_leader_returns_it_with_a_reason_and_the_handler_writes_it_again(world, item):
    lead, co = item
    _needs_leader(world)
    opinion = services.co_opinion_send(assignment=co, actor=world.co_handler, body="初稿")
    with pytest.raises(DomainError, match="必须填写理由"):
        services.co_opinion_sign_off(opinion=opinion, actor=world.co_leader, approve=False)
    opinion = services.co_opinion_sign_off(opinion=opinion, actor=world.co_leader, approve=False,
                                           reason="用地数据须与规划一致。")
    assert opinion.state == "returned" and opinion.return_reason == "用地数据须与规划一致。"
    assert Event.objects.get(assignment=co, verb="return_co_opinion").reason == "用地数据须与规划一致。"
    assert selectors.co_opinions_for_lead(world.lead_handler, lead) == []
    co.refresh_from_db()
    assert "send_co_opinion" in _offered(co, world.co_handler)
    second = services.co_opinion_send(assignment=co, actor=world.co_handler, body="修改稿")
    assert second.state == "pending"


def test_the_unit_sets_it_on_its_review_chain_page_and_the_leader_signs_off_on_the_proposal_page(world, item, client):
    lead, co = item
    client.login(username=world.co_office.username, password=PASSWORD)
    page = client.get(reverse("replies:chain"))
    assert "会办意见须经本单位分管领导审签" in page.content.decode()
    steps = "\n".join(f"{s.name}, {s.get_role_display()}" for s in services.review_steps_for(world.co_unit))
    response = client.post(reverse("replies:chain"), {"unit": world.co_unit.pk, "steps": steps,
                                                      "co_opinion_needs_leader": "1"})
    assert response.status_code == 302
    assert services.co_opinion_needs_leader(world.co_unit)
    assert Event.objects.filter(verb="co_opinion_sign_off_set").exists()

    client.login(username=world.co_handler.username, password=PASSWORD)
    response = client.post(reverse("replies:co_opinion", args=[co.pk]), {"body": "建议统筹用地。"}, follow=True)
    assert "已送本单位领导审签" in response.content.decode()
    assert "等待本单位领导审签" in response.content.decode()
    assert CoOpinion.objects.get(assignment=co).state == "pending"

    client.login(username=world.co_leader.username, password=PASSWORD)
    page = client.get(reverse("workbench:proposal", args=[co.proposal_id])).content.decode()
    assert 'data-action="sign_off_co_opinion"' in page
    url = reverse("workbench:action", args=[co.pk, "sign_off_co_opinion"])
    response = client.post(url, {f"a{co.pk}-sign_off_co_opinion-decision": "approve"}, follow=True)
    assert "会办意见已审签" in response.content.decode()
    assert CoOpinion.objects.get(assignment=co).state == "sent"


def test_the_api_takes_the_sign_off_as_an_action(world, item, api):
    lead, co = item
    _needs_leader(world)
    services.co_opinion_send(assignment=co, actor=world.co_handler, body="建议统筹用地。")
    url = f"/api/v1/assignments/{co.pk}/actions/sign_off_co_opinion"
    denied = api(world.co_handler).post(url, {"approve": True}, format="json")
    assert denied.status_code == 403, denied.json()
    refused = api(world.co_leader).post(url, {"approve": False}, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "reason"
    done = api(world.co_leader).post(url, {"approve": True}, format="json")
    assert done.status_code == 200, done.json()
    assert CoOpinion.objects.get(assignment=co).state == "sent"
