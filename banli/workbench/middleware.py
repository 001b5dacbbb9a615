"""Security headers Django does not set itself: a strict Content-Security-Policy and a Permissions-Policy."""
from __future__ import annotations

from django.conf import settings
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect

# Everything is served by the app itself (government intranets have no internet), so 'self' is enough.
# Inline styles are allowed because Bootstrap's components set style attributes; scripts are not.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # The API documentation pages too: Swagger's script is served as a file (the split view) and ReDoc's page is
        # ours (templates/drf_spectacular/redoc.html), so neither needs an inline script or another host.
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class HtmxLoginRedirectMiddleware:
    """When a session has ended (inactivity timeout, signed out elsewhere), a page left open still fires htmx
    requests; Django answers them with a redirect to the login page, which htmx would follow and paste
    inside the panel. Tell htmx to load the login page as the whole page instead (HX-Redirect), keeping
    `next` so the user comes back to where he was."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "htmx", False) and response.status_code in (301, 302):
            location = response.get("Location", "")
            if location.split("?", 1)[0] == resolve_url(settings.LOGIN_URL):
                return HttpResponseClientRedirect(location)
        return response
