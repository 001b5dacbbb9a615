"""The user of each request is loaded with his proposer record (or its absence) in one query: whether he signed
items is asked on most pages, and it cost a query of its own on every request."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice

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


def test_whether_he_has_a_second_factor_comes_with_him_and_the_guard_asks_nothing_more(world, client):
    backend = DemoModeModelBackend()
    assert backend.get_user(world.lead_office.pk).banli_has_confirmed_device is False
    TOTPDevice.objects.create(user=world.lead_office, name="身份验证器", confirmed=True)
    assert backend.get_user(world.lead_office.pk).banli_has_confirmed_device is True
    # A signed-in page reads no device table of its own: session, user (with the flag), and the page's own reads.
    client.force_login(world.office)
    client.get("/healthz")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/ledger/").status_code == 200
    assert not [q for q in queries.captured_queries if "otp_" in q["sql"] and "EXISTS" not in q["sql"]]
