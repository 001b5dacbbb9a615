"""相似提案: the similarity index of every proposal, kept current without making a request wait for a build.

- **The base**: every proposal, built by `build_index` in bounded memory into a folder under the assist model
  directory and published by replacing `current.json`. Every process maps the newest base read-only, so the
  operating system shares one copy between the server's workers. It is rebuilt in the background: by the
  scheduler (`rebuild_if_stale`, every tick of `run_scheduler` and hourly under Celery beat), or when a request
  finds too many changes since it (`enqueue_build`: Celery, else a thread of the process, else inline).
- **The changes since**: proposals registered or edited after the base was read (`updated_at` after its stamp),
  indexed in the process on the base's terms and IDF, cached until the next change; their base rows are hidden.
- An instance of up to BANLI_SIMILAR_INLINE_MAX proposals builds its first base in the request (a second or two);
  a larger one answers "being built" until the background build is published.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from celery import current_app
from django.conf import settings
from django.db import connections
from django.db.models import Count, Max
from django.utils import timezone

from banli.assist import store
from banli.assist.similarity import CHUNK, Hit, SimilarityIndex
from banli.proposals.models import Proposal

log = logging.getLogger(__name__)

_lock = threading.Lock()
_bases: dict[str, SimilarityIndex] = {}  # folder -> mapped base (the newest only)
_delta: dict = {}  # {"key": (version, stamp), "index": SimilarityIndex | None, "hidden": positions in the base}
_builder: dict[str, threading.Thread] = {}


def _root() -> Path:
    return store.model_dir() / "similar"


def _current() -> dict | None:
    try:
        return json.loads((_root() / "current.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


@dataclass
class LiveIndex:
    """The base plus the proposals changed since; `note` says, in Chinese, what the results may lack."""

    base: SimilarityIndex | None
    delta: SimilarityIndex | None = None
    hidden: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    note: str = ""

    def search(self, title: str, body: str, *, limit: int = 10, exclude: set[int] | frozenset = frozenset()) -> list[Hit]:
        if self.base is None:
            return []
        hits = self.base.search(title, body, limit=limit, exclude=exclude, hidden=self.hidden)
        if self.delta is not None:
            hits += self.delta.search(title, body, limit=limit, exclude=exclude)
        return sorted(hits, key=lambda h: -h.score)[:limit]


# --- building ------------------------------------------------------------------------------------------------------

def _proposal_chunks():
    """Every proposal's key, title and body, by key, a chunk at a time (keyset: no OFFSET, no long cursor)."""
    last = 0
    while True:
        rows = list(Proposal.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "title", "body")[:CHUNK])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def build_index(*, wait: bool = False) -> dict:
    """Build a base of every proposal and publish it. One build at a time on the machine (a file lock): without
    `wait` a second caller returns at once; with it, it waits and then uses the base the first one published."""
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    asked = time.time()
    with open(root / "build.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return {"skipped": "另一个相似提案索引正在建立"}
        current = _current()
        if wait and current and current.get("published", 0) >= asked:
            return {"version": current["version"], "items": current["items"], "reused": True}
        started = time.monotonic()
        # Everything changed after this stamp is read again as a change since the base, so a proposal edited
        # while the base is being read is never lost.
        stamp = Proposal.objects.aggregate(t=Max("updated_at"))["t"]
        version = timezone.now().strftime("%Y%m%dT%H%M%S%f")
        index = SimilarityIndex.build(_proposal_chunks(), root / version,
                                      meta={"built_from": stamp.isoformat() if stamp else None})
        info = {"version": version, "built_from": stamp.isoformat() if stamp else None, "items": len(index),
                "postings": int(len(index.rows)), "seconds": round(time.monotonic() - started, 1),
                "published": time.time()}
        tmp = root / f"current.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(tmp, root / "current.json")
        # Keep the previous base too: a process that read the old current.json a moment ago can still map it.
        for old in sorted(p for p in root.iterdir() if p.is_dir() and p.name != version)[:-1]:
            shutil.rmtree(old, ignore_errors=True)
        log.info("similar-proposals index built: %s", info)
        return info


def _in_thread() -> None:
    try:
        build_index()
    except Exception:  # logged; the next request or scheduler tick tries again
        log.exception("similar-proposals index build failed")
    finally:
        connections.close_all()


def enqueue_build() -> str | dict:
    """Start a build where this deployment runs background work; returns how, or the build's result inline."""
    if settings.CELERY_BROKER_URL:
        current_app.send_task("assist.build_similar_index")  # banli.assist.tasks
        return "celery"
    if settings.BANLI_SIMILAR_IN_BACKGROUND:
        with _lock:
            running = _builder.get("thread")
            if running is not None and running.is_alive():
                return "running"
            thread = threading.Thread(target=_in_thread, name="similar-index", daemon=True)
            _builder["thread"] = thread
        thread.start()
        return "thread"
    return build_index()


def _changes(since: str | None) -> tuple[int, object]:
    rows = Proposal.objects.all()
    if since:
        rows = rows.filter(updated_at__gt=dt.datetime.fromisoformat(since))
    stamp = rows.aggregate(n=Count("pk"), t=Max("updated_at"))
    return stamp["n"], stamp["t"]


def rebuild_if_stale(*, now=None, start=build_index):
    """The scheduler's round: build (or `start` a build) when there is no base yet and there are proposals, when
    more than BANLI_SIMILAR_DELTA_MAX proposals changed since it, or when it is a day old and anything changed."""
    now = now or timezone.now()
    current = _current()
    if current is None:
        return start() if Proposal.objects.exists() else None
    changed, _ = _changes(current.get("built_from"))
    age = now.timestamp() - current.get("published", 0)
    if changed > settings.BANLI_SIMILAR_DELTA_MAX or (changed and age > 24 * 3600):
        return start()
    return None


# --- reading -------------------------------------------------------------------------------------------------------

def _base(info: dict) -> SimilarityIndex | None:
    folder = _root() / info["version"]
    with _lock:
        base = _bases.get(str(folder))
    if base is not None:
        return base
    try:
        base = SimilarityIndex.open(folder)
    except FileNotFoundError:  # replaced and removed between reading current.json and mapping it
        return None
    with _lock:
        _bases.clear()  # unmapped once no search holds the old one
        _bases[str(folder)] = base
    return base


def live_index() -> LiveIndex:
    """The index for a search now: the newest base and the proposals changed since it."""
    info = _current()
    if info is None:
        if Proposal.objects.count() > settings.BANLI_SIMILAR_INLINE_MAX:
            enqueue_build()
            return LiveIndex(base=None, note="相似提案索引正在建立（提案较多，首次约需几分钟），请稍后刷新本页。")
        build_index(wait=True)
        info = _current()
    base = _base(info) if info else None
    if base is None:
        enqueue_build()
        return LiveIndex(base=None, note="相似提案索引正在更新，请稍后刷新本页。")
    changed, newest = _changes(info.get("built_from"))
    key = (str(_root() / info["version"]), changed, newest)
    with _lock:
        if _delta.get("key") == key:
            return LiveIndex(base=base, delta=_delta["index"], hidden=_delta["hidden"], note=_delta["note"])
    note = ""
    if changed > settings.BANLI_SIMILAR_DELTA_MAX:
        enqueue_build()
    if changed > settings.BANLI_SIMILAR_DELTA_CAP:
        # Too many to index in a request: the base alone until the rebuild is published.
        delta, hidden = None, np.empty(0, dtype=np.int64)
        note = f"最近登记或修改的 {changed} 件提案正在加入相似提案索引，暂未列入比对。"
    else:
        rows = Proposal.objects.order_by("pk").values_list("pk", "title", "body")
        if info.get("built_from"):
            rows = rows.filter(updated_at__gt=dt.datetime.fromisoformat(info["built_from"]))
        rows = list(rows)
        delta = SimilarityIndex([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                                vocabulary=base.vocabulary) if rows else None
        hidden = base.positions([r[0] for r in rows])
    with _lock:
        _delta.update(key=key, index=delta, hidden=hidden, note=note)
    return LiveIndex(base=base, delta=delta, hidden=hidden, note=note)
