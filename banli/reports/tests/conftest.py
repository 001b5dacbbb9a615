"""The seed-001 world is built once per test module (like TestCase.setUpTestData) and rolled back after it."""
import pytest
from django.db import transaction

from banli.core.testing import build_world
from banli.reports.testing import build_seed_001


@pytest.fixture(scope="module")
def seed_world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        block = transaction.atomic()
        block.__enter__()
        try:
            world = build_world()
            case = build_seed_001(world)
            yield world, case
        finally:
            transaction.set_rollback(True)
            block.__exit__(None, None, None)


@pytest.fixture
def world_seed(seed_world, db):
    """(world, seed) shared by the module; each test runs in its own savepoint."""
    return seed_world
