"""The user of each request is loaded with his proposer record (or its absence) in one query: whether he signed
items is asked on most pages, and it cost a query of its own on every request."""
import pytest

from banli.demo.auth import DemoModeModelBackend

pytestmark = pytest.mark.django_db


def test_the_requests_user_comes_with_his_proposer_record_in_one_query(world, django_assert_num_queries):
    backend = DemoModeModelBackend()
    with django_assert_num_queries(1):
        proposer = backend.get_user(world.proposer.pk)
        assert proposer.proposer.name == "李委员"
    with django_assert_num_queries(1):
        office = backend.get_user(world.office.pk)
        assert not hasattr(office, "proposer")
    assert backend.get_user(10**9) is None
