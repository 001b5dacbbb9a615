"""Settings for the test suite (pytest, `make bench`): banli.settings with throw-away keys.

Production refuses to start without SECRET_KEY, BANLI_FIELD_KEYS and BANLI_EVENT_KEY outside demo mode; the tests run
outside demo mode too, so these keys are supplied here, never in banli/settings.py. Set in os.environ (not only
here) so that the instances the tests start in a subprocess (backup, restore) inherit them. Two-factor login is on
by default in production; the tests that check it turn it on themselves.
"""
import os

for _name, _value in {
    "SECRET_KEY": "test-only-secret-key-0123456789abcdefghijklmnop",
    "BANLI_FIELD_KEYS": "test-only-field-key-0123456789",
    "BANLI_EVENT_KEY": "test-only-event-key-0123456789",
    "BANLI_REQUIRE_2FA": "0",
}.items():
    os.environ.setdefault(_name, _value)

from banli.settings import *  # noqa: E402,F401,F403

# The test databases are thrown away when the run ends: SQLite need not wait for the disk at every commit (the
# browser tests and the transactional tests commit after every request). Production keeps the default.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    _options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405 - none when DATABASE_URL names the file
    _options["init_command"] = _options.get("init_command", "") + "PRAGMA synchronous=OFF;"
