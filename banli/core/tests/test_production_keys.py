"""Issue 17.12: outside demo mode Banli refuses to start without its own keys (the error names the variable), and
two-factor login is on by default for the office and administrators; the demo needs nothing set."""
import json
import os
import subprocess
import sys

import pytest
from django.urls import reverse

KEYS = {
    "SECRET_KEY": "a-production-secret-key-0123456789abcdef",
    "BANLI_FIELD_KEYS": "a-production-field-key-0123",
    "BANLI_EVENT_KEY": "a-production-event-key-0123",
}
PROBE = ("import json, banli.settings as s; print(json.dumps({'2fa': s.BANLI_REQUIRE_2FA, 'field': s.SALT_KEY, "
         "'secret': s.SECRET_KEY}))")


def _start(tmp_path, **env):
    """Import the production settings in a fresh interpreter with exactly these variables (and no test keys)."""
    base = {k: v for k, v in os.environ.items()
            if k not in KEYS and not k.startswith(("BANLI_", "DJANGO_")) and k not in ("DATABASE_URL",)}
    base["BANLI_VAR_DIR"] = str(tmp_path / "var")
    base.update(env)
    return subprocess.run([sys.executable, "-c", PROBE], env=base, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("missing", list(KEYS))
def test_outside_demo_mode_each_missing_key_stops_the_start_naming_it(tmp_path, missing):
    result = _start(tmp_path, **{k: v for k, v in KEYS.items() if k != missing})
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("banli.env.SettingError") and missing in last and "is not set" in last
    assert not (tmp_path / "var" / "secret_key").exists()  # no key is made up beside the data


@pytest.mark.parametrize("name, demo_value", [("BANLI_FIELD_KEYS", "banli-field-key-1"),
                                              ("BANLI_EVENT_KEY", "banli-demo-event-key-not-secret")])
def test_the_public_demo_key_is_refused_outside_demo_mode(tmp_path, name, demo_value):
    result = _start(tmp_path, **{**KEYS, name: demo_value})
    assert result.returncode != 0 and name in result.stderr.strip().splitlines()[-1]


def test_with_its_own_keys_production_starts_with_two_factor_login_required(tmp_path):
    result = _start(tmp_path, **KEYS)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["2fa"] is True and values["field"] == [KEYS["BANLI_FIELD_KEYS"]]
    result = _start(tmp_path, **KEYS, BANLI_REQUIRE_2FA="0")
    assert json.loads(result.stdout)["2fa"] is False  # an explicit choice is still honoured


def test_the_demo_needs_nothing_set_and_asks_no_second_factor(tmp_path):
    result = _start(tmp_path, BANLI_DEMO="1")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["2fa"] is False and values["field"] == ["banli-field-key-1"] and len(values["secret"]) >= 32


def test_the_office_must_set_up_a_second_factor_when_it_is_required(client, world, settings):
    settings.BANLI_REQUIRE_2FA = True
    for user in (world.office, world.admin):
        client.force_login(user)
        response = client.get(reverse("workbench:home"))
        assert response.status_code == 302 and response.url == reverse("otp_setup")
    client.force_login(world.lead_handler)
    assert client.get(reverse("workbench:home")).status_code == 200
