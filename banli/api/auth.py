"""Token authentication per user: `Authorization: Bearer <token>` (the DRF `Token <token>` form also works)."""
from __future__ import annotations

from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework import exceptions

from banli.api.errors import PasswordChangeRequired
from banli.core.access import password_change_pending


class BearerTokenAuthentication(TokenAuthentication):
    """DRF's token authentication with the `Bearer` keyword other platforms send."""

    keyword = "Bearer"

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() not in (b"bearer", b"token"):
            return None
        if len(auth) != 2:
            raise exceptions.AuthenticationFailed("令牌格式不正确，应为 “Authorization: Bearer <令牌>”。")
        try:
            token = auth[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("令牌含有非法字符。") from exc
        return self.authenticate_credentials(token)

    def authenticate_credentials(self, key):
        model = self.get_model()
        try:
            token = model.objects.select_related("user").get(key=key)
        except model.DoesNotExist as exc:
            raise exceptions.AuthenticationFailed("令牌无效，请重新获取。") from exc
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("该账号已停用。")
        if password_change_pending(token.user):
            raise PasswordChangeRequired()
        return (token.user, token)
