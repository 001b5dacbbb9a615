"""`load_demo --scale N --workers 2` on PostgreSQL: worker processes write the load in parallel.

In a module of its own: it commits (a transactional test), while test_demo_scale's checks share one load inside a
module-wide transaction, which must not be open when this test runs.
"""
from __future__ import annotations

import pytest
from django.db import connection

from banli.demo.tests.test_demo_scale import _generate
from banli.handling.models import Assignment
from banli.proposals.models import Proposal


@pytest.mark.django_db(transaction=True)
def test_scale_runs_in_parallel_processes_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("worker processes need a database server (SQLite's test database lives in this process)")
    session, output = _generate(300, workers=2)
    assert Assignment.objects.filter(session=session).count() >= 300
    assert Proposal.objects.filter(session=session).values("number").distinct().count() == \
        Proposal.objects.filter(session=session).count()
    assert output.count("一个进程完成") == 2
    # The load ends with VACUUM (ANALYZE): the written pages are all-visible, so counts can read an index alone.
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'handling_assignment'")
        pages, visible = cursor.fetchone()
    assert pages > 0 and visible == pages
