"""SESSION_ENGINE for several servers (BANLI_CACHE_URL): Django's cached_db sessions with Banli's database read."""
from banli.core.sessions import CachedSessionStore as SessionStore

__all__ = ["SessionStore"]
