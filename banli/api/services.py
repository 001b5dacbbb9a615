"""接口: services (API tokens)."""
from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from banli.api.choices import TokenScope
from banli.api.models import ApiToken, token_digest
from banli.core import access
from banli.core.errors import DomainError, NotFound
from banli.core.eventlog import write_event

TOKEN_PREFIX = "banli_"
# A token's use is a security event once per token, client address and hour; every use updates last_used_*.
USE_LOG_SECONDS = 3600


@transaction.atomic
def api_token_create(*, user, scope: str = TokenScope.WRITE, days: int | None = None, name: str = "",
                     now=None) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the raw token, which is shown once and never stored."""
    if scope not in TokenScope.values:
        raise DomainError("令牌权限只能是 read（只读）或 write（读写）。", field="scope")
    limit = settings.BANLI_API_TOKEN_DAYS
    days = limit if days is None else days
    if not 1 <= days <= limit:
        raise DomainError(f"令牌有效期应为 1 到 {limit} 天。", field="days")
    now = now or timezone.now()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=raw[:12], digest=token_digest(raw),
                                    scope=scope, created_at=now, expires_at=now + dt.timedelta(days=days))
    write_event(verb="security.token_created", actor=user,
                payload={"token": token.pk, "prefix": token.prefix, "scope": scope,
                         "expires_at": token.expires_at.isoformat(), "name": token.name})
    return token, raw


@transaction.atomic
def api_token_revoke(*, user, token_id: int, now=None) -> ApiToken:
    """Revoke one of the user's own tokens (someone else's is not found)."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
    if token is None or not access.may_manage_token(user, token):
        raise NotFound("找不到这个令牌。")
    if token.revoked_at is None:
        token.revoked_at = now or timezone.now()
        token.save(update_fields=["revoked_at"])
        write_event(verb="security.token_revoked", actor=user, payload={"token": token.pk, "prefix": token.prefix})
    return token


def api_token_used(*, token: ApiToken, ip: str, method: str, path: str, now=None) -> None:
    """Note a token's use: last use on the row (at most once a minute), a security event once an hour per address."""
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1) or token.last_used_ip != ip:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip[:45])
    if cache.add(f"banli:token-used:{token.pk}:{ip}", 1, USE_LOG_SECONDS):
        write_event(verb="security.token_used", actor=token.user, client_ip=ip,
                    payload={"token": token.pk, "prefix": token.prefix, "scope": token.scope, "method": method,
                             "path": path[:200]})
