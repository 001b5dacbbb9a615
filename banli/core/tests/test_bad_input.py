"""Bad input gets a clear Chinese message that says what to fix, and nothing is written."""
import pytest

from banli.core.errors import DomainError
from banli.core.testing import make_proposal
from banli.handling import services as handling
from banli.handling.models import Assignment, Event
from banli.organizations.selectors import normalize_unit_name, resolve_unit
from banli.proposals import services
from banli.proposals.models import Proposal

pytestmark = pytest.mark.django_db


def test_an_unknown_unit_is_named_in_the_message(world):
    with pytest.raises(DomainError, match="找不到单位「区宇航局」"):
        resolve_unit("区宇航局")


def test_unit_names_match_across_full_and_half_width_forms_and_aliases(world):
    assert normalize_unit_name("区住房（和）建设局 ") == normalize_unit_name("区住房(和)建设局")
    assert resolve_unit("教育局") == world.lead_unit  # alias
    assert resolve_unit("区住房和建设局") == world.co_unit
    assert resolve_unit("住房和建设局") == world.co_unit  # unique suffix


def test_a_duplicate_proposal_number_in_a_session_is_refused_and_nothing_is_written(world):
    make_proposal(world, number="20250001")
    events = Event.objects.count()
    with pytest.raises(DomainError, match="已有第20250001号提案，编号不能重复"):
        make_proposal(world, number="20250001", title="另一件")
    assert Proposal.objects.filter(number="20250001").count() == 1
    assert Event.objects.count() == events


def test_a_proposal_without_title_or_proposer_is_refused(world):
    with pytest.raises(DomainError, match="案由"):
        services.proposal_create(actor=world.office, session=world.session, number="1", title=" ", proposers=["李委员"])
    with pytest.raises(DomainError, match="领衔人"):
        services.proposal_create(actor=world.office, session=world.session, number="1", title="标题", proposers=[])
    assert not Proposal.objects.exists()


def test_assigning_to_an_assigning_office_or_in_an_unknown_role_is_refused(world):
    proposal = make_proposal(world)
    with pytest.raises(DomainError, match="是交办机构，不能作为承办单位"):
        handling.assignment_create(proposal=proposal, unit=world.office_unit, role="lead", actor=world.office)
    with pytest.raises(DomainError, match="未知的办理方式"):
        handling.assignment_create(proposal=proposal, unit=world.lead_unit, role="boss", actor=world.office)
    assert not Assignment.objects.exists()
