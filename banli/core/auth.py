"""Sign-in hardening: TOTP second factor, forced password change, sign out everywhere, OpenID Connect.

- TOTP (django-otp): optional for everyone; required for the assigning office and system administrators
  when settings.BANLI_REQUIRE_2FA is on. Until the token is given the session is not verified and every
  page redirects to the token (or enrolment) page.
- An account created by an administrator must choose its own password at first sign-in.
- "Sign out on all devices" bumps the user's session version, which every other session's hash carries.
- OpenID Connect (mozilla-django-oidc) maps the identity platform's claim to an existing Banli user.
"""
from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from banli.api.auth import PASSWORD_CHANGE_MESSAGE
from banli.core import access, security
from banli.demo.auth import HAS_DEVICE_ATTR
from banli.organizations.models import User
from banli.organizations.services import user_sign_out_everywhere

# Paths a signed-in user may reach before finishing the second factor or the password change.
OPEN_PREFIXES = ("/static/", "/login", "/logout", "/account/2fa", "/healthz", "/oidc/", "/public/")


def two_factor_required(user) -> bool:
    return bool(getattr(settings, "BANLI_REQUIRE_2FA", False)) and access.needs_second_factor(user)


class SignInGuardMiddleware:
    """Send a signed-in user to the token page, the enrolment page or the password change page when due."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        path = request.path
        if user is not None and user.is_authenticated and not path.startswith(OPEN_PREFIXES):
            # A session verified with a device needs no look at the devices (one query less on every page).
            if not request.session.get("banli_oidc") and not user.is_verified():
                has_device = getattr(user, HAS_DEVICE_ATTR, None)  # read with the user (one query less)
                if has_device is None:
                    has_device = user_has_device(user, confirmed=True)
                if has_device:
                    return redirect(f"{reverse('otp_verify')}?next={path}")
                if two_factor_required(user):
                    return redirect("otp_setup")
            if access.password_change_pending(user) and path.startswith("/api/"):
                return JsonResponse({"code": "password_change_required", "message": PASSWORD_CHANGE_MESSAGE},
                                    status=403, json_dumps_params={"ensure_ascii": False})
            if user.must_change_password and not path.startswith("/password/"):
                messages.info(request, "首次登录请先修改密码（管理员为您设置的初始密码不能继续使用）。")
                return redirect("workbench:password_change")
        return self.get_response(request)


@login_required
def otp_verify(request):
    """Ask for the 6-digit code from the authenticator app."""
    error = ""
    if request.method == "POST":
        token = (request.POST.get("token") or "").strip().replace(" ", "")
        device = next(
            (d for d in TOTPDevice.objects.filter(user=request.user, confirmed=True) if d.verify_token(token)), None
        )
        if device is not None:
            otp_login(request, device)
            security.log("otp_verified", user=request.user, request=request)
            target = request.POST.get("next") or request.GET.get("next") or "/"
            return redirect(target if target.startswith("/") and not target.startswith("//") else "/")
        security.log("otp_failed", user=request.user, request=request)
        error = "动态验证码不正确或已过期，请查看身份验证器中的最新 6 位数字后重试。"
    return render(request, "core/otp_verify.html", {"error": error, "next": request.GET.get("next", "/")})


def _qr_data_uri(config_url: str) -> str:
    image = qrcode.make(config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@login_required
def otp_setup(request):
    """Enrol an authenticator app: scan the code, then confirm with one token."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="身份验证器", confirmed=False)
    error = ""
    if request.method == "POST":
        token = (request.POST.get("token") or "").strip().replace(" ", "")
        if device.verify_token(token):
            device.confirmed = True
            device.save()
            otp_login(request, device)
            security.log("otp_enrolled", user=request.user, request=request)
            messages.success(request, "已启用动态验证码。以后登录时需输入身份验证器中的 6 位数字。")
            return redirect("account_security")
        error = "验证码不正确，请确认手机时间准确后重新输入。"
    secret = base64.b32encode(device.bin_key).decode()
    return render(request, "core/otp_setup.html", {
        "qr": _qr_data_uri(device.config_url), "secret": secret, "error": error,
        "required": two_factor_required(request.user),
    })


@login_required
def account_security(request):
    """The user's own security page: second factor status, sign out on all devices, data download."""
    return render(request, "core/account_security.html", {
        "has_device": user_has_device(request.user, confirmed=True),
        "required": two_factor_required(request.user),
    })


@login_required
@require_POST
def sign_out_everywhere(request):
    user = user_sign_out_everywhere(user=request.user)
    update_session_auth_hash(request, user)  # keep this session, end all others
    messages.success(request, "已退出其他所有设备上的登录。")
    return redirect("account_security")


# --- OpenID Connect ----------------------------------------------------------------------------

try:
    from mozilla_django_oidc.auth import OIDCAuthenticationBackend
except ImportError:  # pragma: no cover - the dependency is pinned
    OIDCAuthenticationBackend = object


class BanliOIDCBackend(OIDCAuthenticationBackend):
    """Map the identity platform's claim (settings.BANLI_OIDC_USER_CLAIM) to an existing Banli account."""

    def filter_users_by_claims(self, claims):
        value = claims.get(settings.BANLI_OIDC_USER_CLAIM)
        if not value:
            return User.objects.none()
        field = settings.BANLI_OIDC_USER_FIELD
        return User.objects.filter(**{field: value}, is_active=True)

    def create_user(self, claims):
        # Accounts and their roles are granted inside Banli; an unknown identity is refused, not created.
        security.log("oidc_unknown_identity", payload={"claim": str(claims.get(settings.BANLI_OIDC_USER_CLAIM, ""))})
        return None

    def update_user(self, user, claims):
        return user

    def authenticate(self, request, **kwargs):
        user = super().authenticate(request, **kwargs)
        if user is not None and request is not None:
            request.session["banli_oidc"] = True  # the identity platform did the strong authentication
        return user
