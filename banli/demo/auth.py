"""Authentication: demo accounts sign in only in demo mode."""
from __future__ import annotations

from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connection, router
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django_otp import device_classes

from banli.core.statements import KeptQuery
from banli.demo.builder import DEMO_EMAIL_DOMAIN


HAS_DEVICE_ATTR = "banli_has_confirmed_device"  # set on the request's user by DemoModeModelBackend.get_user


def is_demo_account(user) -> bool:
    return (user.email or "").lower().endswith("@" + DEMO_EMAIL_DOMAIN)


class DemoModeModelBackend(ModelBackend):
    """Django's password backend, except that demo accounts (public passwords) work only when
    settings.DEMO_MODE is on (BANLI_DEMO=1): a server started without it refuses them."""

    def user_can_authenticate(self, user):
        if is_demo_account(user) and not settings.DEMO_MODE:
            return False
        return super().user_can_authenticate(user)

    def get_user(self, user_id):
        # The user of each request with his proposer record (or none) in the same query: whether he signed items
        # is asked on most pages (access: the items he may see), which cost a query of its own on every request.
        # Whether he has a confirmed second-factor device comes with it too: the sign-in guard asks on every page
        # of a session not verified with a device (HAS_DEVICE_ATTR).
        # The statement is compiled once per process (statements.KeptQuery): it is read on every request.
        try:
            user_id = get_user_model()._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        found = _USER.instances(user_id, using=router.db_for_read(get_user_model()))
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None


def _user_query(user_id):
    users = get_user_model()._default_manager.select_related("proposer")
    if _has_device_sql():
        users = users.annotate(**{HAS_DEVICE_ATTR: RawSQL(_has_device_sql(), [], output_field=BooleanField())})
    return users.filter(pk=user_id)


_USER = KeptQuery(_user_query)


@cache
def _has_device_sql() -> str:
    """EXISTS over each device table for the user row, written once per process: as ORM expressions (Exists in
    ExpressionWrapper) its compilation cost more on every request than the separate query it replaced."""
    qn = connection.ops.quote_name
    user = qn(get_user_model()._meta.db_table)
    return " OR ".join(f"EXISTS (SELECT 1 FROM {qn(m._meta.db_table)} d WHERE d.user_id = {user}.{qn('id')} "
                       f"AND d.confirmed)" for m in device_classes())
