"""Choose the database a request reads from, and keep a user who has just written on the primary."""
from __future__ import annotations

from fnmatch import fnmatchcase

from django.conf import settings

from banli.ops.routers import reading_replica, replica_configured

PIN_COOKIE = "banli_primary"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def replica_view(view_name: str) -> bool:
    """Whether a view (by its namespaced URL name, e.g. reports:figures) may read from the replica."""
    return any(fnmatchcase(view_name, pattern) for pattern in settings.BANLI_REPLICA_VIEWS)


class ReplicaMiddleware:
    """Reports, exports and API lists read the replica, except for BANLI_REPLICA_PIN_SECONDS after the user's own
    write (read-your-writes: a cookie set on every successful write request sends him to the primary)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.banli_replica_token = None
        try:
            response = self.get_response(request)
        finally:
            if request.banli_replica_token is not None:
                reading_replica.reset(request.banli_replica_token)
        if request.method not in SAFE_METHODS and response.status_code < 400 and replica_configured():
            response.set_cookie(PIN_COOKIE, "1", max_age=settings.BANLI_REPLICA_PIN_SECONDS, httponly=True,
                                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not replica_configured() or request.method not in SAFE_METHODS or request.COOKIES.get(PIN_COOKIE):
            return None
        match = request.resolver_match
        if match is not None and replica_view(match.view_name):
            request.banli_replica_token = reading_replica.set(True)
        return None
