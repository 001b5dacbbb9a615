"""Rate limits on the endpoints an attacker hammers: sign-in, API tokens and exports (django-ratelimit)."""
from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django_ratelimit.core import is_ratelimited

from banli.core import security

# (name, path pattern, methods, key, setting holding the rate)
RULES = [
    ("login", re.compile(r"^/(login/|login/otp/|oidc/callback/|admin/login/)"), ("POST", "GET"), "ip", "BANLI_RATE_LOGIN"),
    ("token", re.compile(r"^/api/v1/(auth/)?token"), ("POST",), "ip", "BANLI_RATE_TOKEN"),
    # Every download: exports, generated documents, attachments, templates, scans and the personal-data copy.
    ("export", re.compile(r"(export|download|\.xlsx$|\.csv$|\.docx$|\.zip$|/archive|/attachments/\d+/$|"
                          r"/templates/\d+/file/$|/scan/$|/data\.json$)"), ("GET", "POST"), "user_or_ip",
     "BANLI_RATE_EXPORT"),
]


class RateLimitMiddleware:
    """Answer 429 with a Chinese message once a client exceeds the rate for a rule."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, pattern, methods, key, rate_setting in RULES:
            if request.method not in methods or not pattern.search(request.path):
                continue
            if name == "login" and request.method == "GET":
                continue  # showing the form is free; only attempts count
            rate = getattr(settings, rate_setting, "")
            if rate and is_ratelimited(request, group=f"banli:{name}", key=key, rate=rate, increment=True):
                security.log("rate_limited", user=getattr(request, "user", None), request=request,
                             payload={"rule": name, "path": request.path})
                if request.path.startswith("/api/"):  # the API's one error body (banli.api.errors)
                    return JsonResponse({"code": "throttled", "message": "请求过于频繁，请稍后再试。"}, status=429,
                                        json_dumps_params={"ensure_ascii": False})
                return HttpResponse("操作过于频繁，请稍后再试。", status=429, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
