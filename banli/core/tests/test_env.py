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
