"""An item's units are named 主办 first, then 分办, then 会办, wherever they are listed together: on the proposal
page, on the assigning page, on a proposer's cards and in the API. Ordering by the role's stored code had put the
会办 unit ("co") above the 主办 unit ("lead") in all four."""
from django.test import Client
from rest_framework.test import APIClient

from banli.api.services import api_token_create
from banli.core.testing import assign, make_proposal
from banli.handling.choices import AssignmentRole
from banli.handling.services import assignment_create


def _in_order(text: str, *markers: str) -> bool:
    positions = [text.find(m) for m in markers]
    return -1 not in positions and positions == sorted(positions)


def _item(world):
    proposal = make_proposal(world)
    # The 会办 unit assigned first (the lower id), as an office often does when it adds the lead unit last.
    co = assignment_create(proposal=proposal, unit=world.co_unit, role=AssignmentRole.CO, actor=world.office)
    lead, _ = assign(world, proposal, co=False)
    return proposal, lead, co


def _page(user, url) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_proposal_and_assigning_pages_name_the_lead_unit_first(world):
    proposal, lead, co = _item(world)
    page = _page(world.office, f"/proposals/{proposal.pk}/")
    assert _in_order(page, f'id="assignment-{lead.pk}"', f'id="assignment-{co.pk}"')
    assigning = _page(world.office, f"/proposals/{proposal.pk}/assign/")
    assert _in_order(assigning.split("<main", 1)[1], world.lead_unit.name, world.co_unit.name)


def test_a_proposers_card_names_the_lead_unit_first(world):
    _proposal, lead, co = _item(world)
    home = _page(world.proposer, "/")
    assert _in_order(home, f'data-assignment="{lead.pk}"', f'data-assignment="{co.pk}"')


def test_the_api_lists_an_items_lead_unit_first(world):
    proposal, lead, co = _item(world)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=world.office)[1]}")
    rows = client.get("/api/v1/proposals").json()["results"]
    row = next(r for r in rows if r["id"] == proposal.pk)
    assert [a["id"] for a in row["assignments"]] == [lead.pk, co.pk]
