"""Per-request context (client address) for the event log, set by middleware, read by write_event."""
from __future__ import annotations

import contextvars

client_ip: contextvars.ContextVar[str] = contextvars.ContextVar("banli_client_ip", default="")


def request_ip(request) -> str:
    """The client address; behind a proxy set BANLI_TRUST_X_FORWARDED_FOR=1 to read X-Forwarded-For."""
    from django.conf import settings

    if getattr(settings, "BANLI_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


class RequestContextMiddleware:
    """Remember the client address for the duration of the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = client_ip.set(request_ip(request))
        try:
            return self.get_response(request)
        finally:
            client_ip.reset(token)
