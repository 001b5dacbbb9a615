"""Authentication: demo accounts sign in only in demo mode."""
from __future__ import annotations

from functools import reduce
from operator import or_

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django_otp import device_classes

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
        # of a session not verified with a device (access.HAS_DEVICE_ATTR).
        devices = [Q(Exists(model.objects.filter(user=OuterRef("pk"), confirmed=True))) for model in device_classes()]
        try:
            users = get_user_model()._default_manager.select_related("proposer")
            if devices:
                users = users.annotate(**{HAS_DEVICE_ATTR: ExpressionWrapper(reduce(or_, devices),
                                                                            output_field=BooleanField())})
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
