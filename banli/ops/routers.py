"""Read from the PostgreSQL replica where a page only reads (reports, exports, the API's read lists).

The middleware (banli.ops.middleware) marks such a request; everything else, every write, and every read made
inside a transaction on the primary (a service checking state before it writes, the event chain's last hash)
stays on the primary, so a lagging replica can never feed a write.
"""
from __future__ import annotations

import contextvars

from django.conf import settings
from django.db import connections

REPLICA = "replica"
reading_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("banli_reading_replica", default=False)
# Sign-in state must never lag: sessions, lockouts, tokens, second factors and the user row stay on the primary.
PRIMARY_ONLY_APPS = {"sessions", "axes", "authtoken", "otp_totp", "otp_static", "django_otp", "ops"}


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not reading_replica.get() or not replica_configured():
            return None
        if model._meta.app_label in PRIMARY_ONLY_APPS or model._meta.label == settings.AUTH_USER_MODEL:
            return None
        if connections["default"].in_atomic_block:
            return None
        return REPLICA

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, **hints):
        return db != REPLICA
