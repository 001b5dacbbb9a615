"""The append-only event log as keyed hash chains: writing a row, verifying every chain, daily anchors.

Every app records what happens through `write_event` (one row) or `build_event` + `write_events` (a bulk service's
rows). The log lives in core, below the domain apps, so any of them may write to it; the Event model itself is the
table handling_event, looked up by its app label here (no import of a domain app).

A stream is one proposal's history ("proposal:<id>"), the security log ("security") or everything else
("system"). Each row's hash covers its content and the previous row's hash in the same stream; a unique
(stream, prev_hash) constraint makes racing writers retry instead of forking the chain.

The hash is an HMAC with BANLI_EVENT_KEY (scheme 2), a key kept outside the database: write access to the database
is not enough to rewrite a row and recompute the chain after it. Rows written before the key was introduced keep
their plain SHA-256 (scheme empty); the migration that introduced the key wrote one keyed marker event
(`security.eventlog_keyed`) naming the last such row, and no plain row after it is accepted. A daily anchor (the head
of every chain, itself keyed) goes to a file outside the database; `verify_events` checks the chains against every
anchor, so even the end of a chain (which no later row protects) cannot be cut or rewritten unnoticed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from banli.core.context import client_ip as current_ip

GENESIS = "0" * 64
KEYED = 2
MARKER_VERB = "security.eventlog_keyed"
anchor_log = logging.getLogger("banli.anchor")


def event_model():
    """The Event model (banli.handling.models.Event, table handling_event)."""
    return apps.get_model("handling", "Event")


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


def _keys() -> list[str]:
    return list(settings.BANLI_EVENT_KEYS)


def digest(prev_hash: str, row, key: str | None = None) -> str:
    """The row's hash over the previous hash and its content in a canonical form: HMAC-SHA-256 with the event key
    for keyed rows (the first key unless `key` is given), plain SHA-256 for rows from before the key."""
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
    message = (prev_hash + "\n" + text).encode("utf-8")
    if getattr(row, "scheme", None) == KEYED:
        return hmac.new((key or _keys()[0]).encode("utf-8"), message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def _valid(row) -> bool:
    """Whether the row's hash matches its content under one of the configured keys (rotation: old keys verify)."""
    if getattr(row, "scheme", None) != KEYED:
        return hmac.compare_digest(digest(row.prev_hash, row), row.hash)
    return any(hmac.compare_digest(digest(row.prev_hash, row, key), row.hash) for key in _keys())


def _wait_for_stream(stream: str) -> None:
    """On PostgreSQL, queue the writers of one stream (until their transactions end) instead of letting them
    race for the same chain link: 30 contacts logged at once on one item all get written, in turn, where the
    retries below would run out (the system stream too: 30 integrators' subscriptions made at once). SQLite writers
    are serialised by the database already."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block or stream == "security":
        return  # outside a transaction the lock would end with its own statement; security rows retry
    key = int.from_bytes(hashlib.blake2b(f"banli-event-stream:{stream}".encode(), digest_size=8).digest(), "big",
                         signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def append(event) -> object:
    """Insert `event` (unsaved Event) at the end of its stream's chain; retries when another writer won."""
    Event = event_model()

    event.stream = stream_for(event.proposal_id, event.verb)
    event.scheme = KEYED
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
        event.scheme = KEYED
        event.prev_hash = last.get(event.stream, GENESIS)
        event.hash = digest(event.prev_hash, event)
        last[event.stream] = event.hash
    return events


@dataclass
class Break:
    stream: str
    event_id: int
    problem: str


def legacy_limit() -> int:
    """The id of the last row allowed to carry a plain SHA-256: named by the keyed marker the keying migration wrote
    (0 on an instance that was keyed from the start, or whose marker does not verify)."""
    Event = event_model()

    marker = Event.objects.filter(verb=MARKER_VERB, scheme=KEYED).order_by("id").first()
    if marker is None or not _valid(marker):
        return 0
    return int(marker.payload.get("legacy_last_id") or 0)


def verify(*, stream: str | None = None) -> tuple[int, Break | None]:
    """Walk every chain in id order; return (rows checked, first broken link or None)."""
    Event = event_model()

    limit = legacy_limit()
    qs = Event.objects.all()
    if stream:
        qs = qs.filter(stream=stream)
    expected_prev: dict[str, str] = {}
    checked = 0
    for row in qs.order_by("stream", "id").iterator(chunk_size=5000):
        prev = expected_prev.get(row.stream, GENESIS)
        if row.prev_hash != prev:
            return checked, Break(row.stream, row.pk, "与前一条记录的链接断开（前一条被修改或删除）")
        if row.scheme != KEYED and row.pk > limit:
            return checked, Break(row.stream, row.pk, "记录没有密钥签名，却写在启用密钥之后（疑似被改写）")
        if not _valid(row):
            return checked, Break(row.stream, row.pk, "记录内容与其哈希不符（该记录被修改，或事件密钥不对）")
        expected_prev[row.stream] = row.hash
        checked += 1
    return checked, None


# --- daily anchors ---------------------------------------------------------------------------------------------


def _heads_digest(heads: list[tuple[str, int, str]]) -> str:
    text = "\n".join(f"{stream} {pk} {head}" for stream, pk, head in sorted(heads))
    return hmac.new(_keys()[0].encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def _heads(last_id: int) -> list[tuple[str, int, str]]:
    """The head (last row) of every stream among the rows up to `last_id`."""
    Event = event_model()

    ids = [row["last"] for row in Event.objects.filter(id__lte=last_id).values("stream").annotate(last=Max("id"))]
    return list(Event.objects.filter(id__in=ids).values_list("stream", "id", "hash"))


def anchor_create(*, path: Path | None = None, now=None) -> dict:
    """Append the current heads of every chain to the anchor file (0600) and the `banli.anchor` logger."""
    Event = event_model()

    last_id = Event.objects.aggregate(last=Max("id"))["last"] or 0
    heads = _heads(last_id)
    anchor = {"at": (now or timezone.now()).isoformat(), "last_id": last_id, "streams": len(heads),
              "rows": Event.objects.filter(id__lte=last_id).count(), "heads": _heads_digest(heads)}
    path = Path(path or settings.BANLI_EVENT_ANCHOR_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(anchor, ensure_ascii=False, sort_keys=True) + "\n")
    anchor_log.info("event chain anchor %s", json.dumps(anchor, sort_keys=True))
    return anchor


def anchor_due(*, now=None) -> dict | None:
    """Write today's anchor unless the file already has one from today (the scheduler calls this every round)."""
    now = now or timezone.now()
    today = timezone.localdate(now).isoformat()
    path = Path(settings.BANLI_EVENT_ANCHOR_FILE)
    if path.exists():
        lines = path.read_text(encoding="utf-8").strip().splitlines()
        if lines and timezone.localdate(dt.datetime.fromisoformat(json.loads(lines[-1])["at"])).isoformat() == today:
            return None
    return anchor_create(path=path, now=now)


@dataclass
class AnchorProblem:
    line: int
    at: str
    problem: str


def verify_anchors(*, path: Path | None = None) -> tuple[int, AnchorProblem | None]:
    """Check the chains against every anchor in the file: (anchors checked, first one that no longer matches)."""
    Event = event_model()

    path = Path(path or settings.BANLI_EVENT_ANCHOR_FILE)
    if not path.exists():
        return 0, None
    checked = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            anchor = json.loads(line)
            last_id, expected = int(anchor["last_id"]), anchor["heads"]
        except (ValueError, KeyError, TypeError):
            return checked, AnchorProblem(number, "", "锚点文件该行无法读取")
        heads = _heads(last_id)
        if Event.objects.filter(id__lte=last_id).count() != anchor.get("rows"):
            return checked, AnchorProblem(number, anchor.get("at", ""), "锚点之前的记录条数与当时不同（记录被删除或插入）")
        if not hmac.compare_digest(_heads_digest(heads), expected):
            return checked, AnchorProblem(number, anchor.get("at", ""), "各链末端与锚点不符（记录被改写或截断）")
        checked += 1
    return checked, None


def write_event(*, verb: str, actor=None, actor_role: str = "", proposal=None, assignment=None,
                from_state: str = "", to_state: str = "", reason: str = "", payload: dict | None = None, now=None,
                client_ip: str | None = None):
    """Append one row to the event log (hash-chained); call inside the transaction of the change it records."""
    return append(build_event(
        verb=verb, actor=actor, actor_role=actor_role, proposal=proposal, assignment=assignment,
        from_state=from_state, to_state=to_state, reason=reason, payload=payload, now=now, client_ip=client_ip))


def write_events(events: list) -> list:
    """Append many unsaved events (from build_event) in one insert: a bulk service's rows, chained per stream
    after each stream's last row; a writer racing on one of the streams makes the insert fail (event_chain_no_fork)."""
    Event = event_model()
    for event in events:
        event.stream = stream_for(event.proposal_id, event.verb)
    last: dict[str, str] = {}
    for stream, hash_ in (Event.objects.filter(stream__in={e.stream for e in events})
                          .order_by("id").values_list("stream", "hash")):
        last[stream] = hash_
    return Event.objects.bulk_create(chain_new_rows(events, last), batch_size=500)


def build_event(*, verb: str, actor=None, actor_role: str = "", proposal=None, assignment=None,
                from_state: str = "", to_state: str = "", reason: str = "", payload: dict | None = None, now=None,
                client_ip: str | None = None):
    """The unsaved event row write_event appends (the same row for one change or for a bulk service's many)."""
    if proposal is None and assignment is not None:
        proposal = assignment.proposal
    return event_model()(
        proposal=proposal,
        assignment=assignment,
        unit_id=assignment.unit_id if assignment is not None else None,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_role=actor_role,
        verb=verb,
        from_state=from_state,
        to_state=to_state,
        reason=reason or "",
        payload=json.loads(json.dumps(payload or {}, default=str)),
        created_at=now or timezone.now(),
        client_ip=client_ip if client_ip is not None else current_ip.get(),
    )
