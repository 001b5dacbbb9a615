"""Settings read from the environment fail loudly on a bad value."""
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
