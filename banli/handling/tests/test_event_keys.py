"""Issue 17.14: the event chain is keyed (HMAC with BANLI_EVENT_KEY, outside the database) and anchored daily in a
file that verify_events checks; rows from before the key still verify, a plain row after it does not."""
import datetime as dt
import hashlib
import importlib
import json
import os
import stat

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from banli.core import eventlog
from banli.core.eventlog import write_event
from banli.core.testing import assign, make_proposal, walk_to
from banli.handling.models import Event

pytestmark = pytest.mark.django_db


class Tamper:
    """Raw writes to the event table past its append-only trigger, as someone with database access could."""

    def __enter__(self):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Deferred foreign-key checks queued by the test's own writes must run before the table is altered.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("ALTER TABLE handling_event DISABLE TRIGGER handling_event_append_only")
            else:
                cursor.execute("DROP TRIGGER IF EXISTS handling_event_no_update")
        return self

    def set(self, pk, **values):
        Event.objects.filter(pk=pk).update(**values)

    def __exit__(self, *exc):
        mig = importlib.import_module("banli.handling.migrations.1004_squashed")
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("ALTER TABLE handling_event ENABLE TRIGGER handling_event_append_only")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            else:
                cursor.execute(mig.SQLITE_APPEND_ONLY)


def plain_sha256(prev_hash, row):
    """What a forger without the key computes: the documented canonical form, hashed without the key."""
    row.scheme = None
    return eventlog.digest(prev_hash, row)


@pytest.fixture
def chain(world):
    lead, _co = assign(world, make_proposal(world))
    walk_to(world, lead, "replied")
    rows = list(Event.objects.filter(stream=f"proposal:{lead.proposal_id}").order_by("id"))
    assert len(rows) >= 5 and all(r.scheme == eventlog.KEYED for r in rows)
    return rows


def _rewrite_from(rows, index, compute, **change):
    """Change row `index` and recompute every later hash of its stream with `compute` (a forger's best effort)."""
    with Tamper() as t:
        prev = rows[index].prev_hash
        for n, row in enumerate(rows[index:]):
            for field, value in (change.items() if n == 0 else ()):
                setattr(row, field, value)
            row.prev_hash = prev
            row.hash = compute(prev, row)
            t.set(row.pk, prev_hash=row.prev_hash, hash=row.hash, scheme=row.scheme, **(change if n == 0 else {}))
            prev = row.hash


def test_a_row_rewritten_with_the_chain_recomputed_without_the_key_is_found(chain):
    _rewrite_from(chain, 2, plain_sha256, reason="改写的理由")
    checked, broken = eventlog.verify()
    assert broken is not None and broken.event_id == chain[2].pk


def test_a_row_rewritten_with_a_guessed_key_is_found(chain):
    def guessed(prev, row):
        return eventlog.digest(prev, row, key="banli-demo-event-key-not-secret")

    _rewrite_from(chain, 2, guessed, reason="改写的理由")
    checked, broken = eventlog.verify()
    assert broken is not None and broken.event_id == chain[2].pk and "事件密钥" in broken.problem


def test_a_second_key_still_verifies_rows_signed_with_the_first(chain, settings):
    settings.BANLI_EVENT_KEYS = ["a-new-event-key-0123456789", *settings.BANLI_EVENT_KEYS]
    assert eventlog.verify()[1] is None


def test_the_anchor_finds_a_cut_off_chain_end_that_the_chain_cannot(chain, tmp_path, capsys, settings):
    anchor = eventlog.anchor_create()
    assert anchor["last_id"] == Event.objects.order_by("-id").first().pk
    path = settings.BANLI_EVENT_ANCHOR_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    call_command("verify_events")
    assert json.loads(capsys.readouterr().out) == {"ok": True, "checked": Event.objects.count(), "anchors": 1}
    with Tamper():
        Event.objects.filter(pk=chain[-1].pk).delete()  # the newest row of the item's history, which no row follows
    assert eventlog.verify()[1] is None  # the chain alone cannot tell
    with pytest.raises(SystemExit):
        call_command("verify_events")
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["anchor_line"] == 1 and "锚点" in out["problem"]


def test_the_end_of_a_chain_rewritten_is_found_by_the_anchor(chain, settings):
    eventlog.anchor_create()
    last = chain[-1]
    with Tamper() as t:
        last.reason = "改写"
        t.set(last.pk, reason="改写", hash=eventlog.digest(last.prev_hash, last, key="guess-0123456789abcdef"))
    _, problem = eventlog.verify_anchors()
    assert problem is not None and problem.line == 1


def test_one_anchor_a_day(world, settings):

    now = timezone.now()
    assert eventlog.anchor_due(now=now) is not None
    assert eventlog.anchor_due(now=now + dt.timedelta(minutes=5)) is None
    assert eventlog.anchor_due(now=now + dt.timedelta(days=1)) is not None
    assert len(settings.BANLI_EVENT_ANCHOR_FILE.read_text().splitlines()) == 2


def test_rows_from_before_the_key_still_verify_and_no_plain_row_is_accepted_after_it(chain):
    # An instance from before the key: every row carries a plain SHA-256.
    streams = {}
    with Tamper() as t:
        for row in Event.objects.order_by("stream", "id"):
            row.prev_hash = streams.get(row.stream, eventlog.GENESIS)
            row.scheme = None
            row.hash = hashlib.sha256((row.prev_hash + "\n" + _canonical(row)).encode()).hexdigest()
            assert row.hash == eventlog.digest(row.prev_hash, row)
            t.set(row.pk, prev_hash=row.prev_hash, hash=row.hash, scheme=None)
            streams[row.stream] = row.hash
    assert eventlog.verify()[1] is not None  # plain rows without the keying marker are not accepted
    # The keying migration marks them, and they verify as before.
    importlib.import_module("banli.handling.migrations.0007_event_keyed_chain").mark_legacy_rows(apps, None)
    marker = Event.objects.get(verb=eventlog.MARKER_VERB)
    assert marker.payload["legacy_last_id"] == chain[-1].pk or marker.payload["legacy_last_id"] >= chain[-1].pk
    assert eventlog.verify()[1] is None
    # A row appended now is keyed; a plain one slipped in after the marker is refused.
    write_event(verb="note", proposal=chain[0].proposal)
    assert eventlog.verify()[1] is None
    forged = Event.objects.order_by("-id").first()
    with Tamper() as t:
        forged.scheme = None
        t.set(forged.pk, scheme=None, hash=eventlog.digest(forged.prev_hash, forged))
    checked, broken = eventlog.verify()
    assert broken is not None and broken.event_id == forged.pk and "启用密钥之后" in broken.problem


def _canonical(row):
    content = {"stream": row.stream, "proposal": row.proposal_id, "assignment": row.assignment_id,
               "actor": row.actor_id, "actor_role": row.actor_role, "verb": row.verb, "from": row.from_state,
               "to": row.to_state, "reason": row.reason, "payload": row.payload,
               "at": eventlog._timestamp(row.created_at), "ip": row.client_ip}
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
