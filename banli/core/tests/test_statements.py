"""Reads compiled once per process (statements.KeptQuery) give what their querysets give, on SQLite and PostgreSQL."""
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from banli.core import access
from banli.core.statements import SLOT, KeptQuery
from banli.demo.auth import HAS_DEVICE_ATTR, DemoModeModelBackend
from banli.organizations.models import RoleGrant, Unit
from banli.proposals.models import Proposer, Session

pytestmark = pytest.mark.django_db

GRANT_FIELDS = [f.attname for f in RoleGrant._meta.concrete_fields]
UNIT_FIELDS = [f.attname for f in Unit._meta.concrete_fields]


def _grant(g) -> tuple:
    unit = g.unit
    parent = unit.parent if unit is not None else None
    return ([getattr(g, name) for name in GRANT_FIELDS],
            unit and [getattr(unit, name) for name in UNIT_FIELDS],
            parent and [getattr(parent, name) for name in UNIT_FIELDS])


def test_grants_come_with_their_units_and_parents_as_the_queryset_gives_them(world):
    users = [world.office, world.lead_office, world.lead_section_head, world.co_office, world.proposer, world.admin]
    for user in users:
        expected = list(RoleGrant.objects.filter(user=user).select_related("unit", "unit__parent"))
        fresh = get_user_model().objects.get(pk=user.pk)
        with CaptureQueriesContext(connection) as ctx:
            kept = access.grants(fresh)
            shown = [_grant(g) for g in kept]  # units and parents come with the grants: no query more
        assert len(ctx.captured_queries) == 1, user
        assert shown == [_grant(g) for g in expected] and shown, user
        assert all(g._state.db == "default" and not g._state.adding for g in kept)
    # The units' JSON field comes back as the queryset converts it (a list, not its text).
    unit = Unit.objects.filter(grants__user=world.lead_office).first()
    Unit.objects.filter(pk=unit.pk).update(aliases=["教体局", "教育局"])
    again = access.grants(get_user_model().objects.get(pk=world.lead_office.pk))
    assert ["教体局", "教育局"] in [g.unit.aliases for g in again if g.unit_id == unit.pk]


def test_the_signed_in_user_comes_with_his_proposer_record_and_device_flag(world):
    backend = DemoModeModelBackend()
    for user, signed in ((world.proposer, True), (world.office, False)):
        with CaptureQueriesContext(connection) as ctx:
            found = backend.get_user(str(user.pk))  # the session holds the id as text
            assert hasattr(found, "proposer") is signed
            assert getattr(found, HAS_DEVICE_ATTR) is False
        assert len(ctx.captured_queries) == 1
        expected = get_user_model().objects.select_related("proposer").get(pk=user.pk)
        assert [getattr(found, f.attname) for f in get_user_model()._meta.concrete_fields] == [
            getattr(expected, f.attname) for f in get_user_model()._meta.concrete_fields]
        if signed:  # the proposer record's encrypted fields come back decrypted, as the queryset gives them
            Proposer.objects.filter(pk=found.proposer.pk).update(phone="13800000000")
            again = backend.get_user(user.pk).proposer
            assert again.phone == "13800000000" == Proposer.objects.get(pk=again.pk).phone
    assert backend.get_user(10**9) is None and backend.get_user("x") is None
    get_user_model().objects.filter(pk=world.office.pk).update(is_active=False)
    assert backend.get_user(world.office.pk) is None


def test_values_rows_and_the_parameter_stand_in():
    kept = KeptQuery(lambda _none: Session.objects.order_by("pk").values_list("pk", "assigning_office__path"))
    assert kept.rows(using="default") == list(Session.objects.order_by("pk").values_list("pk", "assigning_office__path"))
    two = KeptQuery(lambda pk: Session.objects.filter(pk=pk, assigning_office_id=SLOT))
    with pytest.raises(ValueError, match="one parameter"):
        two.instances(1, using="default")
