"""`load_demo` refuses to create accounts with public passwords outside demo mode."""
from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from banli.proposals.models import Session


def test_load_demo_refuses_outside_demo_mode_and_writes_nothing(db, settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="BANLI_DEMO=1"):
        call_command("load_demo")
    assert not Session.objects.exists()


def test_demo_accounts_says_when_no_demo_data_is_loaded(db, capsys):
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    assert "尚未载入演示数据" in out.getvalue()
