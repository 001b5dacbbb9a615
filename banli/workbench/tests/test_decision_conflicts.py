"""A decision someone has just taken (an adjustment or extension request decided in another tab or by a colleague)
is a conflict: the page answers 409 with the conflict message, the API 409 with its error body, nothing is done
twice. The same races with 30 parallel requests on PostgreSQL: banli/api/tests/test_races.py."""
import datetime as dt

from django.urls import reverse
from rest_framework.test import APIClient

from banli.api.services import api_token_create
from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.models import AdjustmentRequest, ExtensionRequest


def _fields(assignment, action, **values):
    """The action form's fields as the page posts them (prefixed per item and action)."""
    return {f"a{assignment.pk}-{action}-{key}": value for key, value in values.items()}


def _decided_adjustment(world):
    lead, _ = assign(world, make_proposal(world))
    handling.adjustment_request(assignment=lead, actor=world.lead_office, reason="不属于本单位职责")
    handling.adjustment_approve(request=AdjustmentRequest.objects.get(assignment=lead), actor=world.office,
                                new_unit=world.other_unit)
    return lead


def test_deciding_an_adjustment_already_decided_on_the_page_is_a_conflict(world, client):
    lead = _decided_adjustment(world)
    before = lead.proposal.assignments.count()
    client.force_login(world.office)
    response = client.post(reverse("workbench:action", args=[lead.pk, "decide_adjustment"]),
                           _fields(lead, "decide_adjustment", decision="approve", new_unit=world.co_unit.pk, note="改交住建局"))
    assert response.status_code == 409
    assert "调整申请刚刚已被审批（已同意）" in response.content.decode()
    assert lead.proposal.assignments.count() == before


def test_deciding_an_adjustment_already_decided_on_the_api_is_a_conflict(world):
    lead = _decided_adjustment(world)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=world.office, scope='write')[1]}")
    response = client.post(f"/api/v1/assignments/{lead.pk}/actions/decide_adjustment",
                           {"approve": False, "reason": "仍由教育局办理"}, format="json")
    assert response.status_code == 409 and "刚刚已被审批" in response.json()["message"]


def test_deciding_an_extension_already_decided_is_a_conflict_and_with_none_asked_a_refusal(world, client):
    lead, _ = assign(world, make_proposal(world))
    lead = walk_to(world, lead, "in_progress")
    client.force_login(world.office)
    url = reverse("workbench:action", args=[lead.pk, "decide_extension"])
    never_asked = client.post(url, _fields(lead, "decide_extension", decision="approve"))
    assert never_asked.status_code == 400 and "没有待审批的延期申请" in never_asked.content.decode()
    request = handling.extension_request(assignment=lead, actor=world.lead_office, reason="需实地调研",
                                         requested_due=lead.reply_due + dt.timedelta(days=10))
    handling.extension_decide(request=request, actor=world.office, approve=True)
    again = client.post(url, _fields(lead, "decide_extension", decision="approve"))
    assert again.status_code == 409 and "延期申请刚刚已被审批" in again.content.decode()
    assert ExtensionRequest.objects.filter(assignment=lead).count() == 1
