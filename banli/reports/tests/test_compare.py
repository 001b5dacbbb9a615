import pytest
from django.urls import reverse

from banli.core.testing import make_proposal
from banli.handling import services as handling
from banli.proposals import services as proposals
from banli.proposals.choices import Body, Level


def test_previous_sessions_side_by_side_with_items_carried_over(client, world):
    old = proposals.session_create(actor=world.office, name="区政协往届会议", body=Body.CPPCC, level=Level.DISTRICT,
                                   year=world.session.year - 1, assigning_office=world.office_unit)
    world_session = world.session
    world.session = old
    carried = make_proposal(world, title="往年未办结的提案")
    handling.assignment_create(proposal=carried, unit=world.lead_unit, role="lead", actor=world.office)
    world.session = world_session
    current = make_proposal(world, title="今年的提案")
    handling.assignment_create(proposal=current, unit=world.lead_unit, role="lead", actor=world.office)
    handling.assignment_create(proposal=current, unit=world.co_unit, role="co", actor=world.office)
    client.force_login(world.lead_office)
    r = client.get(reverse("reports:compare"))
    html = r.content.decode()
    assert r.status_code == 200
    assert "区政协往届会议" in html and world.session.name in html
    assert "往年未办结的提案" in html.split("往年结转未办结事项")[1]
    assert "今年的提案" not in html.split("往年结转未办结事项")[1]


@pytest.mark.parametrize("user", ["proposer"])
def test_compare_is_for_staff_only(client, world, user):
    client.force_login(getattr(world, user))
    assert client.get(reverse("reports:compare")).status_code == 404
