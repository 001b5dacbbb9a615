"""The user's own API tokens as a page (beside the account security page): list, create (shown once), revoke."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from banli.api import services
from banli.api.choices import TokenScope
from banli.api.models import ApiToken
from banli.core.errors import DomainError


@login_required
def tokens(request):
    """GET lists the user's tokens; POST action=create makes one (its value shown this once), action=revoke ends one."""
    created = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "revoke":
                services.api_token_revoke(user=request.user, token_id=int(request.POST.get("token") or 0))
                messages.success(request, "令牌已撤销，使用它的接口请求将被拒绝。")
                return redirect("api_tokens")
            days = request.POST.get("days") or None
            token, raw = services.api_token_create(user=request.user, scope=request.POST.get("scope") or "read",
                                                   days=int(days) if days else None,
                                                   name=(request.POST.get("name") or "").strip())
            created = {"token": token, "raw": raw}
        except (DomainError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "请填写正确的有效天数（整数）。"))
    rows = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-id")
    return render(request, "api/tokens.html", {"tokens": rows, "created": created, "scopes": TokenScope.choices})
