"""Token authentication per user: `Authorization: Bearer <token>` (the DRF `Token <token>` form also works)."""
from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from banli.core import access


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
        return (token.user, token)


class ApiDocsReader(BasePermission):
    """The OpenAPI document and its pages: see access.may_read_api_docs."""

    message = "请先登录后再查看接口文档。"

    def has_permission(self, request, view):
        return access.may_read_api_docs(request.user)


def docs_page(view):
    """A documentation page (Swagger, ReDoc) sends a visitor who may not read it to the sign-in page first."""

    @wraps(view)
    def page(request, *args, **kwargs):
        if not access.may_read_api_docs(request.user):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return page
