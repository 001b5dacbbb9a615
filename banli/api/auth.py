"""API authentication: hashed, expiring, scoped tokens (`Authorization: Bearer <token>`), and who may read the docs."""
from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from banli.api.models import ApiToken, token_digest
from banli.api.services import api_token_used
from banli.core import access
from banli.core.access import password_change_pending
from banli.core.context import request_ip
from banli.core.errors import PermissionDenied

# Here, not in banli.api.errors: the API settings import this module while rest_framework.views loads, and
# banli.api.errors imports rest_framework.views.
PASSWORD_CHANGE_MESSAGE = "首次登录须先修改管理员设置的初始密码：请在网页上登录并修改密码后，再获取或使用 API 令牌。"


class PasswordChangeRequired(exceptions.PermissionDenied):
    """The account must change its initial password before it may use the API."""

    default_code = "password_change_required"
    default_detail = PASSWORD_CHANGE_MESSAGE


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` (the DRF form `Token <token>` too) against the hashed, expiring API tokens."""

    keyword = "Bearer"

    def authenticate_header(self, request):
        return self.keyword

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() not in (b"bearer", b"token"):
            return None
        if len(auth) != 2:
            raise exceptions.AuthenticationFailed("令牌格式不正确，应为 “Authorization: Bearer <令牌>”。")
        try:
            raw = auth[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("令牌含有非法字符。") from exc
        return self.authenticate_credentials(raw, request)

    def authenticate_credentials(self, raw, request=None):
        token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("令牌无效，请重新获取。")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("令牌已撤销，请重新获取。")
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("令牌已过期，请重新获取。")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("该账号已停用。")
        if password_change_pending(token.user):
            raise PasswordChangeRequired()
        if request is not None:
            api_token_used(token=token, ip=request_ip(request), method=request.method, path=request.path)
        return (token.user, token)


class TokenScopeAllows(BasePermission):
    """A read-only token reads; writing needs a read-write token (or a signed-in session)."""

    message = "该令牌为只读令牌，不能执行写操作；请使用读写权限的令牌。"

    def has_permission(self, request, view):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if not access.token_allows(token, request.method):
            # Our own error (not DRF's), so that the answer keeps this message instead of the generic one.
            raise PermissionDenied(self.message)
        return True


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


try:  # the OpenAPI document names the scheme (drf-spectacular registers the extension when this module loads)
    from drf_spectacular.extensions import OpenApiAuthenticationExtension

    class BearerTokenScheme(OpenApiAuthenticationExtension):
        target_class = "banli.api.auth.BearerTokenAuthentication"
        name = "bearerAuth"

        def get_security_definition(self, auto_schema):
            return {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <令牌>"}
except ImportError:  # pragma: no cover - drf-spectacular is a dependency
    pass
