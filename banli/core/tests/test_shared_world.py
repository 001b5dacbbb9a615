"""The named world is built once per module (conftest.py): what one test changes must not reach the next."""
from banli.core.testing import make_proposal
from banli.organizations.models import User
from banli.proposals.models import Proposal


def test_a_test_changes_the_world_in_memory_and_in_the_database(world):
    world.office.display_name = "改过的名字"
    world.office.save(update_fields=["display_name"])
    make_proposal(world)
    assert Proposal.objects.count() == 1


def test_the_next_test_sees_the_world_as_built(world):
    assert world.office.display_name == "督查室 王芳"
    assert User.objects.get(pk=world.office.pk).display_name == "督查室 王芳"
    assert Proposal.objects.count() == 0
    assert User.objects.filter(username="office").count() == 1


def test_a_test_without_the_world_does_not_see_it(db):
    assert not User.objects.filter(username="office").exists()


def test_the_world_comes_back_after_a_test_without_it(world):
    assert User.objects.filter(username="office").count() == 1
    assert Proposal.objects.count() == 0
