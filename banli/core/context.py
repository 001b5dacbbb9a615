"""Per-request context (client address) for the event log, set by middleware, read by write_event."""
from __future__ import annotations

import contextvars
import ipaddress
from functools import lru_cache

from django.conf import settings

client_ip: contextvars.ContextVar[str] = contextvars.ContextVar("banli_client_ip", default="")
# Reads resolved once per request (e.g. a user's ledger scope), dropped when the request ends; None outside a
# request, so code called directly (tests, commands) always reads afresh.
request_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("banli_request_memo", default=None)


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple:
    """BANLI_TRUSTED_PROXIES as networks (a bare address is a /32 or /128); settings.py has refused bad entries."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _is_trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def request_ip(request) -> str:
    """The client's address, for the event log, the lockout (django-axes) and the rate limits alike.

    X-Forwarded-For is read only when the request comes from a proxy listed in BANLI_TRUSTED_PROXIES, and then from
    the right: each trusted proxy appends the address it saw, so the first address from the right that is not one
    of ours is the client; anything left of it was written by the client and proves nothing. Without trusted
    proxies (the default) the header is ignored and REMOTE_ADDR is the client.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    networks = trusted_networks(tuple(getattr(settings, "BANLI_TRUSTED_PROXIES", ()) or ()))
    if not networks or not _is_trusted(remote, networks):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:  # a forged or broken entry: the last proxy is all we know
                return remote
    return hops[0] if hops else remote


class RequestContextMiddleware:
    """Remember the client address for the duration of the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = client_ip.set(request_ip(request))
        memo = request_memo.set({})
        try:
            return self.get_response(request)
        finally:
            request_memo.reset(memo)
            client_ip.reset(token)
