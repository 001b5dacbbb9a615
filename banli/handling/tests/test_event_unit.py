"""Each event row carries its assignment's handling unit (Event.unit): a unit's events are one index range."""
import pytest

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.models import Event
from banli.workbench import selectors

pytestmark = pytest.mark.django_db


def test_every_event_of_an_assignment_names_its_unit_and_proposal_level_events_none(world):
    p = make_proposal(world)
    lead, co = assign(world, p)
    walk_to(world, lead, "closed")
    handling.assignment_sign(assignment=co, actor=world.co_office)
    events = list(Event.objects.filter(proposal=p))
    assert {e.verb for e in events} >= {"assign", "sign", "assign_section", "submit_reply", "send_reply", "close"}
    for event in events:
        expected = event.assignment.unit_id if event.assignment_id else None
        assert event.unit_id == expected, (event.verb, event.unit_id, expected)
    assert {e.unit_id for e in events if e.assignment_id} == {world.lead_unit.pk, world.co_unit.pk}


def test_a_unit_hears_of_its_own_assignments_only_through_the_copied_unit(world):
    """The notification centre reads the unit column: each unit's staff hear of their own assignments' events
    (made by others), never of the other unit's on the same item."""
    p = make_proposal(world)
    lead, co = assign(world, p)
    handling.assignment_sign(assignment=co, actor=world.co_office)
    handling.assignment_sign(assignment=lead, actor=world.lead_office)
    def heard(user):  # what the user's notification centre shows: (assignment, verb)
        return {(e.assignment_id, e.verb) for group in selectors.notifications(user) for e in group.events}

    lead_events, co_events = heard(world.lead_office), heard(world.co_office)
    assert (lead.pk, "assign") in lead_events and not any(a == co.pk for a, _ in lead_events)
    assert (co.pk, "assign") in co_events and not any(a == lead.pk for a, _ in co_events)
