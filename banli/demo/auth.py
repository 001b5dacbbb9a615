"""Authentication: demo accounts sign in only in demo mode."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from banli.demo.builder import DEMO_EMAIL_DOMAIN


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
        try:
            user = get_user_model()._default_manager.select_related("proposer").get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
