"""Reports, exports and API lists read the replica; writes, sign-in state and a user's next seconds do not."""
from types import SimpleNamespace
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import RequestFactory

from banli.handling.models import Assignment
from banli.ops import middleware as mw
from banli.ops.routers import ReplicaRouter, reading_replica
from banli.organizations.models import User


@pytest.fixture
def replica(monkeypatch):
    monkeypatch.setattr(mw, "replica_configured", lambda: True)
    monkeypatch.setattr("banli.ops.routers.replica_configured", lambda: True)


def run(request, view_name, status=200, seen=None):
    def view(req):
        seen.append(reading_replica.get()) if seen is not None else None
        return HttpResponse(status=status)

    middleware = mw.ReplicaMiddleware(lambda req: (middleware.process_view(req, None, (), {}), view(req))[1])
    request.resolver_match = SimpleNamespace(view_name=view_name)
    return middleware(request)


def test_report_pages_exports_and_api_lists_may_read_the_replica():
    assert mw.replica_view("reports:figures") and mw.replica_view("exchange:ledger_csv")
    assert mw.replica_view("api:proposal-list") and mw.replica_view("api:figures")
    assert not mw.replica_view("api:proposal-detail") and not mw.replica_view("workbench:ledger")


def test_a_report_request_reads_the_replica_and_resets_afterwards(replica):
    seen = []
    run(RequestFactory().get("/reports/"), "reports:index", seen=seen)
    assert seen == [True] and reading_replica.get() is False


def test_a_user_who_just_wrote_reads_the_primary_until_the_pin_runs_out(replica, settings):
    response = run(RequestFactory().post("/proposals/1/assign/"), "workbench:assign", status=302)
    pin = response.cookies[mw.PIN_COOKIE]
    assert pin["max-age"] == settings.BANLI_REPLICA_PIN_SECONDS and pin["httponly"]
    seen = []
    pinned = RequestFactory().get("/reports/")
    pinned.COOKIES[mw.PIN_COOKIE] = "1"
    run(pinned, "reports:index", seen=seen)
    assert seen == [False]


def test_a_refused_write_does_not_pin(replica):
    response = run(RequestFactory().post("/proposals/1/assign/"), "workbench:assign", status=400)
    assert mw.PIN_COOKIE not in response.cookies


def test_without_a_replica_nothing_is_marked_or_pinned():
    seen = []
    response = run(RequestFactory().post("/reports/"), "reports:index", status=302, seen=seen)
    assert seen == [False] and mw.PIN_COOKIE not in response.cookies


def test_router_sends_domain_reads_to_the_replica_but_keeps_sign_in_state_and_transactions_on_the_primary(replica):
    router = ReplicaRouter()
    token = reading_replica.set(True)
    try:
        assert router.db_for_read(Assignment) == "replica"
        assert router.db_for_read(User) is None

        assert router.db_for_read(Session) is None
        with mock.patch("banli.ops.routers.connections") as conns:
            conns.__getitem__.return_value.in_atomic_block = True
            assert router.db_for_read(Assignment) is None  # a service reading before it writes
        assert router.db_for_write(Assignment) is None
        assert router.allow_migrate("replica", "handling") is False
    finally:
        reading_replica.reset(token)
    assert router.db_for_read(Assignment) is None
