"""Stored files no row points at (an upload whose transaction rolled back) are swept; referenced ones stay."""
import datetime as dt
import io
import json
import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from openpyxl import Workbook

from banli.core import tasks as core_tasks
from banli.core import uploads
from banli.replies import services
from banli.replies.models import CoOpinionAttachment
from banli.replies.tests.helpers import lead_and_co_in_progress


def _xlsx() -> bytes:
    buf = io.BytesIO()
    Workbook().save(buf)
    return buf.getvalue()


def _stored(settings) -> set[str]:
    root = os.path.join(settings.MEDIA_ROOT, uploads.PRIVATE_DIR)
    return {os.path.relpath(os.path.join(d, f), settings.MEDIA_ROOT).replace(os.sep, "/")
            for d, _, files in os.walk(root) for f in files}


def _stamp_by_the_clock(settings) -> None:
    """Give the stored files the test clock's time (the filesystem keeps the real one), so the sweep's age check
    holds under a travelled clock too (BANLI_TEST_NOW)."""
    now = time.time()
    for name in _stored(settings):
        os.utime(os.path.join(settings.MEDIA_ROOT, name), (now, now))


class Later(Exception):
    """Something after the upload fails, so the whole request rolls back."""


@pytest.fixture
def co(world):
    return lead_and_co_in_progress(world)[1]


def test_a_file_left_by_a_rolled_back_upload_is_swept_and_a_kept_one_is_not(world, co, settings):
    with pytest.raises(Later), transaction.atomic():
        services.co_opinion_send(assignment=co, actor=world.co_handler, body="建议统筹用地。",
                                 attachments=[SimpleUploadedFile("用地表.xlsx", _xlsx())])
        raise Later
    assert not CoOpinionAttachment.objects.exists()
    (orphan,) = _stored(settings)  # the row is gone, its file is not

    services.co_opinion_send(assignment=co, actor=world.co_handler, body="建议统筹用地。",
                             attachments=[SimpleUploadedFile("用地表.xlsx", _xlsx())])
    kept = CoOpinionAttachment.objects.get().file.name
    assert _stored(settings) == {orphan, kept}
    _stamp_by_the_clock(settings)

    # A fresh file may belong to a transaction still open: the default sweep leaves it alone.
    assert uploads.sweep_orphans()["removed"] == 0
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=25)
    assert uploads.sweep_orphans(now=later, dry_run=True)["removed"] == 1
    assert _stored(settings) == {orphan, kept}
    result = uploads.sweep_orphans(now=later)
    assert result["removed"] == 1 and result["checked"] == 2 and result["bytes"] > 0
    assert _stored(settings) == {kept}


def test_the_command_prints_what_it_removed(world, co, settings):
    with pytest.raises(Later), transaction.atomic():
        services.co_opinion_send(assignment=co, actor=world.co_handler, body="意见",
                                 attachments=[SimpleUploadedFile("表.xlsx", _xlsx())])
        raise Later
    _stamp_by_the_clock(settings)
    out = io.StringIO()
    call_command("sweep_files", "--hours", "0", stdout=out)
    result = json.loads(out.getvalue())
    assert (result["checked"], result["removed"], result["dry_run"]) == (1, 1, False)
    assert _stored(settings) == set()


def test_the_embedded_scheduler_sweeps_at_most_once_a_day(db, settings):
    now = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)
    assert core_tasks.sweep_if_due(now=now) is not None
    assert core_tasks.sweep_if_due(now=now + dt.timedelta(hours=23)) is None
    assert core_tasks.sweep_if_due(now=now + dt.timedelta(hours=24)) is not None
