"""Shared pytest configuration: fast settings, artifacts folder, the named test world."""
import os

import pytest


@pytest.fixture(autouse=True)
def _fast_settings(settings, tmp_path):
    from django.core.cache import cache

    cache.clear()  # rate-limit counters and throttles must not leak from one test into the next
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BANLI_ASSIST_DIR = tmp_path / "assist-models"  # no test trains into the instance's var/
    settings.BANLI_EVENT_ANCHOR_FILE = tmp_path / "event-anchors.jsonl"
    from banli.assist import tasks as assist_tasks

    assist_tasks._last_attempt.clear()
    from banli.core import tasks as core_tasks

    core_tasks._last_sweep.clear()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(scope="session", autouse=True)
def _session_clock():
    """BANLI_TEST_NOW=2026-12-03T16:30:00+00:00 runs the suite with the clock there (ticking), e.g. in the hours
    when the UTC date and the local (Asia/Shanghai) date differ, where date bugs hide."""
    start = os.environ.get("BANLI_TEST_NOW")
    if not start:
        yield
        return
    import time_machine

    with time_machine.travel(start, tick=True):
        yield


@pytest.fixture
def still_clock():
    """The clock held still for one test. django-ratelimit counts in fixed windows, each key's ending at a second of
    its own within the period: requests that straddle that second start counting again (seen in a run: a 3/m limit
    let the fourth sign-in attempt through). Tests that count requests against a limit hold the clock."""
    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now(), tick=False):
        yield


# --- Test databases: migrated once per run, copied for each xdist worker (banli/core/testdb.py) -------------------
_template_token = pytest.StashKey[str]()


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller, or the one process of a run without xdist
        import uuid

        config.stash[_template_token] = uuid.uuid4().hex[:12]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist (controller): every worker of the run gets the same template name."""
    token = node.config.stash.get(_template_token, None)
    if token:
        from banli.core import testdb

        node.workerinput[testdb.WORKER_INPUT_KEY] = token


def pytest_sessionfinish(session):
    token = session.config.stash.get(_template_token, None)
    if token and not hasattr(session.config, "workerinput"):
        from banli.core import testdb

        with session.config.stash[_blocker_key()].unblock():
            testdb.drop_templates(token)


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_use_migrations,
                    django_db_keepdb, django_db_createdb, django_db_modify_db_settings):
    """pytest-django's fixture of the same name, except that the test database is a copy of the run's migrated
    template: the xdist workers share one migration (--reuse-db and --nomigrations: as before)."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    from banli.core import testdb

    verbosity = request.config.option.verbose
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    if not aliases:
        # A test that asks for the test database itself (the production smoke copies it) and runs alone: no marker
        # names a database, but it needs the default one all the same.
        aliases = {"default"}
    if hasattr(request.config, "workerinput"):
        token = request.config.workerinput.get(testdb.WORKER_INPUT_KEY)
    else:
        token = request.config.stash.get(_template_token, None)
    keepdb = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        if token and django_db_use_migrations and not keepdb and testdb.supported(aliases):
            db_cfg = testdb.setup(token, aliases, serialized_aliases, verbosity)
        else:
            if not django_db_use_migrations:
                _disable_migrations()
            db_cfg = setup_databases(verbosity=verbosity, interactive=False, aliases=aliases,
                                     serialized_aliases=serialized_aliases, keepdb=keepdb)
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            try:
                teardown_databases(db_cfg, verbosity=verbosity)
            except Exception as exc:
                request.node.warn(pytest.PytestWarning(f"Error when trying to teardown test databases: {exc!r}"))


@pytest.fixture(scope="session")
def artifacts_dir():
    path = os.environ.get("BANLI_ARTIFACTS") or os.path.join(os.getcwd(), "var", "test-artifacts")
    os.makedirs(path, exist_ok=True)
    return path


# --- The named world, built once per module ---------------------------------------------------------------------
# 474 tests ask for `world` (13 users, 7 units, a session). Building it for each test cost 0.2 s on SQLite and 0.4 s
# on PostgreSQL. As Django's TestCase.setUpTestData does, the world is now built once in a transaction opened before
# the first test of a module that asks for it; each test runs inside it in its own savepoint (pytest-django's `db`
# nests there) and gets a deep copy of the world objects, so what a test changes, in the database or in memory,
# is undone before the next. The transaction is rolled back when the module ends, and before any test that does not
# use this world (it must not see it) or that needs real commits (transactional_db, live_server): those build the
# world themselves as before.

class _SharedWorld:
    def __init__(self):
        self.module = None
        self.world = None
        self.block = None

    def open(self, module):
        from django.db import transaction

        from banli.core.testing import build_world

        self.block = transaction.atomic()
        self.block.__enter__()
        try:
            self.world = build_world()
        except BaseException:
            self.close()
            raise
        self.module = module

    def close(self):
        from django.db import transaction

        from django.db import connection

        if self.block is not None:
            block, self.block, self.world, self.module = self.block, None, None, None
            if not connection.in_atomic_block:
                # The connection was closed under it (its uncommitted world went with it): nothing to roll back.
                return
            if connection.atomic_blocks and connection.atomic_blocks[-1] is not block:
                raise RuntimeError("the shared test world's transaction is not the innermost one: a module-scoped "
                                   "fixture opened a transaction inside it (use the root `world` or its own only)")
            transaction.set_rollback(True)
            block.__exit__(None, None, None)


_shared_world = _SharedWorld()
_TRANSACTIONAL = {"transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}


def _is_root_world(fixturedef) -> bool:
    return fixturedef.argname == "world" and getattr(fixturedef.func, "__module__", None) == __name__


def _uses_shared_world(item) -> bool:
    """True for a test that asks for the root `world` fixture below (directly or through an override that builds on
    it) inside the per-test transaction of pytest-django's `db`."""
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.get("world") if info else None
    if not defs:
        return False
    index = len(defs) - 1
    while index > 0 and not _is_root_world(defs[index]) and "world" in defs[index].argnames:
        index -= 1
    if not _is_root_world(defs[index]) or "world" not in item.fixturenames:
        return False
    if _TRANSACTIONAL & set(item.fixturenames):
        return False
    marker = item.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])
                               or marker.kwargs.get("reset_sequences") or marker.kwargs.get("serialized_rollback")):
        return False
    return True


def pytest_collection_modifyitems(items):
    # pytest-django creates the test databases only for tests that declare database use (a django_db marker or the
    # db fixtures); `world` asks for `db` at run time, so a run of world tests alone would find no tables.
    for item in items:
        if "world" in getattr(item, "fixturenames", ()) and item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db)
    # Then (after pytest-django's own order, which this keeps otherwise) the files none of whose tests touch a
    # database go first. With xdist the first worker runs them (about 7 s of CPU) while the other migrates the run's
    # template (banli/core/testdb.py) instead of one worker idling at the template's lock until it is ready.
    needs_db = {}
    for item in items:
        needs_db[item.module] = needs_db.get(item.module, False) or _needs_db(item)
    items.sort(key=lambda item: needs_db[item.module])


_DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_setup", "django_db_reset_sequences",
                "django_db_serialized_rollback"}


def _needs_db(item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(_DB_FIXTURES & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Before any fixture of the test, so the world's transaction is the outer one and `db`'s is a savepoint in it.
    wanted = _uses_shared_world(item)
    if _shared_world.block is not None and (not wanted or _shared_world.module is not item.module):
        _close_shared_world(item)
    if wanted and _shared_world.block is None and _test_databases_ready(item):
        with item.session.config.stash[_blocker_key()].unblock():
            _shared_world.open(item.module)


def _test_databases_ready(item) -> bool:
    """django_db_setup (session) has run: the first world test of a session builds its world inside its own test."""
    defs = item.session._fixturemanager.getfixturedefs("django_db_setup", item)
    return bool(defs) and defs[-1].cached_result is not None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    if _shared_world.block is not None and (nextitem is None or nextitem.module is not item.module):
        _close_shared_world(item)


def _close_shared_world(item):
    with item.session.config.stash[_blocker_key()].unblock():
        _shared_world.close()


def _blocker_key():
    from pytest_django.plugin import blocking_manager_key

    return blocking_manager_key


@pytest.fixture
def world(request):
    """Named units and users per role (see banli.core.testing.build_world)."""
    import copy

    if _shared_world.block is not None and _shared_world.module is request.node.module \
            and _uses_shared_world(request.node):
        request.getfixturevalue("db")
        return copy.deepcopy(_shared_world.world)
    if not _TRANSACTIONAL & set(request.fixturenames):
        request.getfixturevalue("db")
    from banli.core.testing import build_world

    return build_world()
