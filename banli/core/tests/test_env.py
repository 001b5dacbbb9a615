"""Settings read from the environment fail loudly on a bad value."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from banli.env import SettingError, env_bool, env_int, env_list


def test_a_bad_boolean_or_integer_is_refused_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("BANLI_X", "perhaps")
    with pytest.raises(SettingError, match="BANLI_X"):
        env_bool("BANLI_X")
    monkeypatch.setenv("BANLI_N", "ten")
    with pytest.raises(SettingError, match="BANLI_N"):
        env_int("BANLI_N", 1)


def test_defaults_apply_when_nothing_is_set(monkeypatch):
    monkeypatch.delenv("BANLI_X", raising=False)
    assert env_bool("BANLI_X", True) is True
    assert env_int("BANLI_X", 7) == 7
    assert env_list("BANLI_X", ["a"]) == ["a"]
    monkeypatch.setenv("BANLI_X", "a, b,,c")
    assert env_list("BANLI_X") == ["a", "b", "c"]


def test_the_test_settings_load_with_an_sqlite_file_named_by_database_url(tmp_path):
    """`DATABASE_URL=sqlite:///…` (a profiling or bench script against its own file) gives a connection without the
    default's OPTIONS: the test settings add their pragma to it instead of failing with a KeyError."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "DJANGO_SETTINGS_MODULE": "banli.settings_test"}
    code = "import json; from django.conf import settings; print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3], env=env,  # noqa: S603
                         capture_output=True, text=True, check=True).stdout
    assert "synchronous=OFF" in json.loads(out)["init_command"]


@pytest.mark.parametrize("extra, expected", [
    ({}, "-c max_parallel_workers_per_gather=0"),
    ({"BANLI_DB_PARALLEL_WORKERS": "2", "BANLI_DB_STATEMENT_TIMEOUT": "30"},
     "-c max_parallel_workers_per_gather=2 -c statement_timeout=30000"),
])
def test_postgresql_connections_carry_the_server_settings(extra, expected):
    """Each PostgreSQL connection is opened with its planner and timeout settings (no statement of a page sets
    them), after any the DATABASE_URL itself gives."""
    url = "postgres://banli@127.0.0.1:5432/banli?options=-c%20search_path%3Dpublic"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANLI_DB_")}
    env.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "banli.settings_test", **extra})
    code = "import json; from django.conf import settings; print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3], env=env,  # noqa: S603
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["options"] == "-c search_path=public " + expected


def test_a_negative_parallel_worker_count_is_refused():
    env = {**os.environ, "BANLI_DB_PARALLEL_WORKERS": "-1", "DJANGO_SETTINGS_MODULE": "banli.settings_test"}
    result = subprocess.run([sys.executable, "-c", "import django.conf as c; c.settings.DATABASES"],  # noqa: S603
                            cwd=Path(__file__).resolve().parents[3], env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "BANLI_DB_PARALLEL_WORKERS" in result.stderr
