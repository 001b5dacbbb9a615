"""The sign-in session: read by a statement compiled once per process, saved on activity at most once a minute
instead of on every request.

SESSION_SAVE_EVERY_REQUEST keeps the inactivity timeout (SESSION_COOKIE_AGE) counting from the last request, but
makes every page view a database write and a commit. Here a request that changes nothing in the session saves it
only when its last save is at least BANLI_SESSION_TOUCH_SECONDS old, so a session still ends after
SESSION_COOKIE_AGE of inactivity, at most that many seconds early, never later. A session that changed is saved
as Django always does.
"""
from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.backends import cached_db, db
from django.contrib.sessions.middleware import SessionMiddleware
from django.contrib.sessions.models import Session
from django.db import router
from django.dispatch import receiver
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from banli.core.statements import KeptQuery

TOUCHED = "_banli_touched"

_SESSION = KeptQuery(lambda key: Session.objects.filter(session_key=key))


class _KeptRead:
    """Django's database session read, by key with its expiry checked here: the same row Django's
    `get(session_key=…, expire_date__gt=now)` reads, from a statement compiled once per process."""

    def _get_session_from_db(self):
        found = _SESSION.instances(self.session_key, using=router.db_for_read(Session))
        if found and found[0].expire_date > timezone.now():
            return found[0]
        self._session_key = None
        return None


class SessionStore(_KeptRead, db.SessionStore):
    """SESSION_ENGINE "banli.core.sessions": Django's database sessions."""


class CachedSessionStore(_KeptRead, cached_db.SessionStore):
    """Django's cached_db sessions (banli.core.cached_sessions), read from the database as above on a cache miss."""


class ThrottledSessionMiddleware(SessionMiddleware):
    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if session is None or not settings.SESSION_SAVE_EVERY_REQUEST:
            return super().process_response(request, response)
        touch = getattr(settings, "BANLI_SESSION_TOUCH_SECONDS", 60)
        if not session.modified and not session.is_empty():
            now = time.time()
            if now - session.get(TOUCHED, 0) < touch:
                # Nothing to save and saved a moment ago: answer without the write.
                patch_vary_headers(response, ("Cookie",))
                return response
            session[TOUCHED] = now
        elif session.modified and not session.is_empty():
            session[TOUCHED] = time.time()
        return super().process_response(request, response)


@receiver(user_logged_in)
def _touched_at_sign_in(sender, request, user, **kwargs):
    """Signing in saves the new session, so that is its last save: the requests of the next minute need not save it
    again. (The sign-in page's response saves it anyway; a session made without a response, as Django's test client
    `force_login` makes it, was written once more by the first request after it.)"""
    session = getattr(request, "session", None)
    if session is not None:
        session[TOUCHED] = time.time()
