"""The append-only event log as hash chains: appending a row and verifying every chain.

A stream is one proposal's history ("proposal:<id>"), the security log ("security") or everything else
("system"). Each row's hash covers its content and the previous row's hash in the same stream; a unique
(stream, prev_hash) constraint makes racing writers retry instead of forking the chain.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

GENESIS = "0" * 64


def stream_for(proposal_id: int | None, verb: str) -> str:
    if proposal_id:
        return f"proposal:{proposal_id}"
    if verb.startswith("security."):
        return "security"
    return "system"


def _timestamp(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def digest(prev_hash: str, row) -> str:
    """SHA-256 over the previous hash and the row's content in a canonical form."""
    content = {
        "stream": row.stream,
        "proposal": row.proposal_id,
        "assignment": row.assignment_id,
        "actor": row.actor_id,
        "actor_role": row.actor_role,
        "verb": row.verb,
        "from": row.from_state,
        "to": row.to_state,
        "reason": row.reason,
        "payload": row.payload,
        "at": _timestamp(row.created_at),
        "ip": row.client_ip,
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + "\n" + text).encode("utf-8")).hexdigest()


def _wait_for_stream(stream: str) -> None:
    """On PostgreSQL, queue the writers of one stream (until their transactions end) instead of letting them
    race for the same chain link: 30 contacts logged at once on one item all get written, in turn, where the
    retries below would run out. SQLite writers are serialised by the database already."""
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.blake2b(f"banli-event-stream:{stream}".encode(), digest_size=8).digest(), "big",
                         signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def append(event) -> object:
    """Insert `event` (unsaved Event) at the end of its stream's chain; retries when another writer won."""
    from banli.handling.models import Event

    event.stream = stream_for(event.proposal_id, event.verb)
    _wait_for_stream(event.stream)
    for _attempt in range(20):
        last = Event.objects.filter(stream=event.stream).order_by("-id").values_list("hash", flat=True).first()
        event.prev_hash = last or GENESIS
        event.hash = digest(event.prev_hash, event)
        try:
            with transaction.atomic():
                event.save(force_insert=True)
            return event
        except IntegrityError:
            event.pk = None
            continue
    raise RuntimeError("event log busy: could not append after 20 attempts")


def chain_new_rows(events: list, last_hashes: dict[str, str] | None = None) -> list:
    """Fill stream, prev_hash and hash of unsaved events in order, for bulk_create (the data generator)."""
    last = dict(last_hashes or {})
    for event in events:
        event.stream = stream_for(event.proposal_id, event.verb)
        event.prev_hash = last.get(event.stream, GENESIS)
        event.hash = digest(event.prev_hash, event)
        last[event.stream] = event.hash
    return events


@dataclass
class Break:
    stream: str
    event_id: int
    problem: str


def verify(*, stream: str | None = None) -> tuple[int, Break | None]:
    """Walk every chain in id order; return (rows checked, first broken link or None)."""
    from banli.handling.models import Event

    qs = Event.objects.all()
    if stream:
        qs = qs.filter(stream=stream)
    expected_prev: dict[str, str] = {}
    checked = 0
    for row in qs.order_by("stream", "id").iterator(chunk_size=5000):
        prev = expected_prev.get(row.stream, GENESIS)
        if row.prev_hash != prev:
            return checked, Break(row.stream, row.pk, "与前一条记录的链接断开（前一条被修改或删除）")
        if digest(row.prev_hash, row) != row.hash:
            return checked, Break(row.stream, row.pk, "记录内容与其哈希不符（该记录被修改）")
        expected_prev[row.stream] = row.hash
        checked += 1
    return checked, None
