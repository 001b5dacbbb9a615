"""The production stack (gunicorn, Celery worker and beat, PostgreSQL, Redis) started and used for real.

Runs in the PostgreSQL run of `make test` (CI runs both); on SQLite it is skipped, since the stack it proves is
the PostgreSQL one. The smoke itself is banli/ops/smoke.py (also runnable by hand).
"""
import os
import subprocess
import sys

import pytest
from django.db import connection, connections

from banli.ops.smoke import ROOT


@pytest.mark.slow
def test_production_stack_serves_signs_in_acts_delivers_and_reports_health(django_db_setup, django_db_blocker):
    if connection.vendor != "postgresql":
        pytest.skip("the production smoke runs in the PostgreSQL run (DATABASE_URL=postgres://…)")
    with django_db_blocker.unblock():
        template = connection.settings_dict["NAME"]  # the migrated test database, copied instead of migrating again
        connections.close_all()
    done = subprocess.run([sys.executable, "-m", "banli.ops.smoke", "--template", template], cwd=ROOT,
                          env=os.environ.copy(), capture_output=True, text=True, timeout=240)
    print(done.stdout)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert "production smoke passed" in done.stdout
