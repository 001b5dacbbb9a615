"""Security events (logins, failures, lockouts, refusals, exports, role changes) into the event log."""
from __future__ import annotations

import contextvars

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import FileResponse

from banli.core.context import client_ip, request_ip
from banli.core.eventlog import write_event

# Refusals raised inside a transaction that then rolls back would lose their event row; they are kept
# here and written by the middleware once the view has returned.
_pending: contextvars.ContextVar[list | None] = contextvars.ContextVar("banli_pending_security", default=None)


def log(verb: str, *, user=None, request=None, payload: dict | None = None) -> None:
    """Write one security event now (outside any transaction that might roll back)."""
    ip = request_ip(request) if request is not None else client_ip.get()
    write_event(verb=f"security.{verb}", actor=user if getattr(user, "pk", None) else None,
                payload=payload or {}, client_ip=ip)


def note_denial(user, message: str, **details) -> None:
    """Remember a permission refusal; written after the request (see SecurityEventMiddleware)."""
    pending = _pending.get()
    entry = {"user": user if getattr(user, "pk", None) else None, "message": message, **details}
    if pending is None:
        try:
            log("denied", user=entry.pop("user"), payload=entry)
        except Exception:  # outside a request and inside a broken transaction: the caller's error wins
            pass
        return
    pending.append(entry)


def is_download(response) -> bool:
    return response.get("Content-Disposition", "").lower().startswith("attachment")


def log_export(request, response) -> None:
    """Every file that leaves Banli (ledger, reports, notices, archive, documents, attachments, personal data) is an
    export event with who, from which address, what and with which filters; views add details in `banli_export`."""
    disposition = response.get("Content-Disposition", "")
    filename = disposition.split("filename*=UTF-8''", 1)[-1] if "filename*=" in disposition else ""
    payload = {"path": request.path, "query": request.GET.urlencode()[:500], "file": filename[:300],
               **getattr(response, "banli_export", {})}
    log("export", user=getattr(request, "user", None), request=request, payload=payload)


def _logged_when_streamed(request, response, content):
    """A generated download (CSV) is logged when its last line has gone out, or the client stopped reading:
    only then are the counts the view keeps in `banli_export` (values shown in full and masked) known."""
    complete = False
    try:
        yield from content
        complete = True
    finally:
        response.banli_export = {**getattr(response, "banli_export", {}), "complete": complete}
        log_export(request, response)


class SecurityEventMiddleware:
    """Collect refusals during the request and write them when it ends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _pending.set([])
        try:
            response = self.get_response(request)
            if response.status_code in (401, 403):
                note_denial(getattr(request, "user", None), f"HTTP {response.status_code}", path=request.path)
            elif response.status_code == 200 and is_download(response):
                if response.streaming and not isinstance(response, FileResponse):
                    response.streaming_content = _logged_when_streamed(request, response, response.streaming_content)
                else:
                    log_export(request, response)
            return response
        finally:
            pending = _pending.get() or []
            _pending.reset(token)
            for entry in pending:
                user = entry.pop("user", None)
                log("denied", user=user, request=request, payload={"path": request.path, **entry})


@receiver(user_logged_in)
def _on_login(sender, request, user, **kwargs):
    log("login", user=user, request=request)


@receiver(user_logged_out)
def _on_logout(sender, request, user, **kwargs):
    log("logout", user=user, request=request)


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    log("login_failed", request=request, payload={"username": (credentials or {}).get("username", "")})


@receiver(user_locked_out)
def _on_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    """A lockout (django-axes) is a security event naming the account and the client address (request_ip)."""
    log("lockout", request=request, payload={"username": username or "", "ip": ip_address or ""})
