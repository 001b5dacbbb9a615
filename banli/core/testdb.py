"""The test databases of a parallel run (pytest-xdist): migrated once, then copied for each worker.

Each worker used to create its own test database and run every migration into it (about 15 s of CPU a worker on
SQLite and on PostgreSQL; the migrations hold RunSQL and RunPython, so they cannot be replaced by creating the
tables from the models). Now the first worker to get the lock migrates a template database with Django's own
create_test_db; each worker, the first included, then gets a copy of it: SQLite copies the file, PostgreSQL runs
CREATE DATABASE … TEMPLATE. The controller names the template for the run (one token per run, handed to the
workers) and drops it when the run ends. (Migrating it in the controller while the workers start was tried and
measured no faster on 2 cores: the workers' start-up uses them.) Used by
the root conftest.py (`django_db_setup` and the session hooks).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connections

WORKER_INPUT_KEY = "banli_db_template"
_templates: dict[str, str] = {}  # alias -> this run's template (SQLite file or PostgreSQL database), once set up


def template(alias: str = "default") -> str | None:
    """This run's migrated, empty template database for `alias`: a SQLite file or a PostgreSQL database name (None
    when the test databases were made another way). Tests that need a migrated instance of their own copy it."""
    return _templates.get(alias)


def supported(aliases: set[str]) -> bool:
    """The template serves the plain case: file SQLite or PostgreSQL databases, no test mirrors."""
    for alias in aliases:
        connection = connections[alias]
        if connection.settings_dict.get("TEST", {}).get("MIRROR"):
            return False
        if connection.vendor == "sqlite":
            if connection.creation.is_in_memory_db(connection.creation._get_test_db_name()):
                return False
        elif connection.vendor != "postgresql":
            return False
    return True


def _template_name(alias: str, token: str) -> str:
    connection = connections[alias]
    if connection.vendor == "sqlite":
        folder = Path(connection.creation._get_test_db_name()).parent
        return str(folder / f"test-template-{alias}-{token}.sqlite3")
    return f"test_tpl_{alias}_{token}"[:63]


def _lock_paths(token: str) -> tuple[Path, Path]:
    base = Path(tempfile.gettempdir()) / f"banli-test-template-{token}"
    return base.with_suffix(".lock"), base.with_suffix(".ready")


@contextlib.contextmanager
def _locked(path: Path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _set_name(alias: str, name: str) -> None:
    connections[alias].close()
    connections[alias].settings_dict["NAME"] = name
    settings.DATABASES[alias]["NAME"] = name


def _migrate_template(alias: str, template: str, verbosity: int) -> None:
    """Django's create_test_db (create, migrate, createcachetable) under the template's name."""
    connection = connections[alias]
    test_settings = connection.settings_dict.setdefault("TEST", {})
    worker_name = test_settings.get("NAME")
    test_settings["NAME"] = template
    try:
        old_name = connection.creation.create_test_db(verbosity=verbosity, autoclobber=True, serialize=False)
    finally:
        test_settings["NAME"] = worker_name
    _set_name(alias, old_name)


def _copy(alias: str, template: str, target: str) -> None:
    connection = connections[alias]
    if connection.vendor == "sqlite":
        for leftover in (target, f"{target}-journal", f"{target}-wal", f"{target}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(leftover)
        shutil.copyfile(template, target)
        return
    quote = connection.ops.quote_name
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(target)}")
        cursor.execute(f"CREATE DATABASE {quote(target)} TEMPLATE {quote(template)}")


def setup(token: str, aliases: set[str], serialized_aliases: set[str], verbosity: int) -> list:
    """Each alias's test database as a copy of the run's template (made first if no worker made it yet); returns
    the old-config list that django.test.utils.teardown_databases takes."""
    lock, ready = _lock_paths(token)
    old_config = []
    with _locked(lock):
        done = set(ready.read_text().split()) if ready.exists() else set()
        for alias in sorted(aliases):
            if alias not in done:
                _migrate_template(alias, _template_name(alias, token), verbosity)
                with open(ready, "a") as handle:
                    handle.write(f"{alias}\n")
        for alias in sorted(aliases):
            connection = connections[alias]
            target = connection.creation._get_test_db_name()
            old_name = connection.settings_dict["NAME"]
            _copy(alias, _template_name(alias, token), target)
            _set_name(alias, target)
            old_config.append((connection, old_name, True))
            _templates[alias] = _template_name(alias, token)
    for alias in sorted(serialized_aliases & aliases):
        connections[alias]._test_serialized_contents = connections[alias].creation.serialize_db_to_string()
    return old_config


def drop_templates(token: str) -> None:
    """Run by the controller when the run ends: the templates the workers made, and the lock files."""
    lock, ready = _lock_paths(token)
    if ready.exists():
        for alias in ready.read_text().split():
            connection = connections[alias]
            template = _template_name(alias, token)
            if connection.vendor == "sqlite":
                with contextlib.suppress(FileNotFoundError):
                    os.remove(template)
            else:
                with connection.creation._nodb_cursor() as cursor:
                    cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(template)} WITH (FORCE)")
    for path in (lock, ready):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
