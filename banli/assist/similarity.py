"""Similar proposals (查重) and topic groups (热点).

The similarity index is a term-major (postings) matrix of hashed char bigrams with TF-IDF weights. It is built in
chunks, so memory stays bounded whatever the number of items, and it can be written to .npy files that every
process maps read-only (the operating system shares the pages): at a million assignments no process holds its own
copy, and no request waits for a build (banli.assist.simindex keeps it current).
"""
from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from banli.assist.textproc import normalize, words

BODY_CHARS = 600
# Char bigrams found in more than this share of the items say nothing about similarity and would make
# every query touch most of the index; dropping them keeps a search over 100,000 items in milliseconds.
MAX_DF = 0.05
NEAR_DUPLICATE = 0.55
# Below this cosine a neighbour is mostly unrelated: on proposals_2019, hits under 0.05 shared the
# proposal's category 34% of the time, hits from 0.05 up 61% or more. They are not shown.
MIN_SIMILAR = 0.05
# Bigrams are hashed into this many buckets: no vocabulary to hold or ship, and a text is turned into its
# terms without the corpus. Chinese text has a few hundred thousand distinct bigrams, so collisions are rare.
N_FEATURES = 2**21
CHUNK = 5000
_ARRAYS = ("keys", "cols", "idf", "indptr", "rows", "data")
_hashers: list = []


def _hash(texts: list[str]):
    """The texts' bigram counts (a sparse row each), hashed into N_FEATURES buckets."""
    if not _hashers:
        from sklearn.feature_extraction.text import HashingVectorizer  # noqa: PLC0415 - scikit-learn takes seconds to load: the scheduler and workers import this module at start

        _hashers.append(HashingVectorizer(analyzer="char", ngram_range=(2, 2), n_features=N_FEATURES,
                                          alternate_sign=False, norm=None, dtype=np.float32))
    return _hashers[0].transform(texts)


@dataclass(frozen=True)
class Hit:
    """One similar item: its key in the index and its cosine similarity to the query."""

    key: int
    score: float


def _text(title: str, body: str) -> str:
    # The title (案由) states the topic; repeat it so that it outweighs the body's background.
    title = normalize(title)
    return f"{title}。{title}。{normalize(body)[:BODY_CHARS]}"


def _chunks(keys, titles, bodies, size: int = CHUNK):
    for start in range(0, len(keys), size):
        yield list(zip(keys[start:start + size], titles[start:start + size], bodies[start:start + size]))


class SimilarityIndex:
    """Postings of hashed char bigrams (sublinear TF × smoothed IDF, rows L2-normalised); a query touches only the
    postings of its own terms. `SimilarityIndex(keys, titles, bodies)` builds one in memory; `build` writes one to
    a folder in bounded memory and `open` maps it back."""

    def __init__(self, keys=(), titles=(), bodies=(), *, arrays: dict | None = None, vocabulary=None):
        if arrays is None:
            arrays = _build(_chunks(list(keys), list(titles), list(bodies)), folder=None, vocabulary=vocabulary)
        self.keys = arrays["keys"]
        self.cols = arrays["cols"]
        self.idf = arrays["idf"]
        self.indptr = arrays["indptr"]
        self.rows = arrays["rows"]
        self.data = arrays["data"]
        self.meta: dict = arrays.get("meta", {})

    @classmethod
    def build(cls, chunks: Iterable[list[tuple[int, str, str]]], folder: Path, meta: dict | None = None) -> SimilarityIndex:
        """Write the index of (key, title, body) chunks, keys ascending, into `folder` and return it mapped."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = _build(chunks, folder=folder)
        (folder / "meta.json").write_text(json.dumps({**(meta or {}), "items": int(len(arrays["keys"])),
                                                      "postings": int(len(arrays["rows"]))}), encoding="utf-8")
        del arrays
        return cls.open(folder)

    @classmethod
    def open(cls, folder: Path) -> SimilarityIndex:
        """The index written in `folder`, its arrays mapped read-only (shared between processes, paged on demand)."""
        folder = Path(folder)
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
        arrays["meta"] = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        return cls(arrays=arrays)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def vocabulary(self):
        """The kept terms and their IDF, for an index of further items that must score on the same scale."""
        return self.cols, self.idf

    def positions(self, keys) -> np.ndarray:
        """The row positions of those keys that are in the index (keys are stored ascending)."""
        keys = np.asarray(sorted(keys), dtype=np.int64)
        if not len(keys) or not len(self.keys):
            return np.empty(0, dtype=np.int64)
        at = np.searchsorted(self.keys, keys)
        found = at < len(self.keys)
        at, keys = at[found], keys[found]
        return at[np.asarray(self.keys[at]) == keys]

    def search(self, title: str, body: str, *, limit: int = 10, exclude: set[int] | frozenset = frozenset(),
               hidden: np.ndarray | None = None) -> list[Hit]:
        """The items most similar to a text, best first; `hidden` row positions never come back."""
        if not len(self.keys) or not len(self.cols):
            return []
        terms, weights = _query(self.cols, self.idf, _text(title, body))
        if not len(terms):
            return []
        starts, ends = self.indptr[terms], self.indptr[terms + 1]
        rows = np.concatenate([self.rows[s:e] for s, e in zip(starts, ends)])
        if not len(rows):
            return []
        values = np.concatenate([self.data[s:e] for s, e in zip(starts, ends)]) * np.repeat(weights, ends - starts)
        scores = np.bincount(rows, weights=values, minlength=len(self.keys))
        if hidden is not None and len(hidden):
            scores[hidden] = 0
        want = limit + len(exclude)
        top = np.flatnonzero(scores > 0)
        if want < len(top):
            top = top[np.argpartition(-scores[top], want)[:want]]
        top = top[np.argsort(-scores[top], kind="stable")]
        hits = []
        for i in top:
            key = int(self.keys[i])
            if key in exclude:
                continue
            hits.append(Hit(key, round(float(scores[i]), 4)))
            if len(hits) == limit:
                break
        return hits


def _query(cols: np.ndarray, idf: np.ndarray, text: str) -> tuple[np.ndarray, np.ndarray]:
    """A text's kept terms (positions in `cols`) and their L2-normalised weights."""
    counts = _hash([text])
    at = np.searchsorted(cols, counts.indices)
    inside = at < len(cols)
    at, tf = at[inside], counts.data[inside]
    known = np.asarray(cols[at]) == counts.indices[inside]
    at, tf = at[known], tf[known]
    weights = (1 + np.log(tf)) * np.asarray(idf[at])
    norm = math.sqrt(float(weights @ weights)) if len(weights) else 0.0
    if norm == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    return at.astype(np.int64), (weights / norm).astype(np.float32)


def _array(folder: Path | None, name: str, shape: int, dtype):
    if folder is None:
        return np.zeros(shape, dtype=dtype)
    return np.lib.format.open_memmap(folder / f"{name}.npy", mode="w+", dtype=dtype, shape=(shape,))


def _build(chunks: Iterable[list[tuple[int, str, str]]], *, folder: Path | None, vocabulary=None) -> dict:
    """Two passes: hash each chunk's texts and count document frequencies (the counts of a chunk are kept in memory
    or, when writing to a folder, spilled beside it), then weight each chunk and place its entries in the postings.
    Memory is bounded by one chunk plus the term arrays, whatever the number of items."""
    spill = Path(tempfile.mkdtemp(dir=folder, prefix="spill-")) if folder is not None else None
    try:
        df = np.zeros(N_FEATURES, dtype=np.int64)
        kept_chunks, key_parts, n = [], [], 0
        for number, chunk in enumerate(chunks):
            if not chunk:
                continue
            counts = _hash([_text(title, body) for _, title, body in chunk])
            df += np.bincount(counts.indices, minlength=N_FEATURES)
            key_parts.append(np.fromiter((k for k, _, _ in chunk), dtype=np.int64, count=len(chunk)))
            part = (counts.indptr.astype(np.int64), counts.indices.astype(np.int32), counts.data.astype(np.float32))
            if spill is None:
                kept_chunks.append(part)
            else:
                np.savez(spill / f"{number}.npz", indptr=part[0], indices=part[1], data=part[2])
                kept_chunks.append(spill / f"{number}.npz")
            n += len(chunk)
        if vocabulary is not None:
            cols, idf = np.asarray(vocabulary[0]), np.asarray(vocabulary[1])
        else:
            keep = df > 0
            if n > 200:
                keep &= df <= MAX_DF * n
            cols = np.flatnonzero(keep).astype(np.int32)
            idf = (np.log((1 + n) / (1 + df[cols])) + 1).astype(np.float32)
        column = np.full(N_FEATURES, -1, dtype=np.int32)
        column[cols] = np.arange(len(cols), dtype=np.int32)
        out = {"keys": _array(folder, "keys", n, np.int64), "cols": _array(folder, "cols", len(cols), np.int32),
               "idf": _array(folder, "idf", len(cols), np.float32)}
        out["cols"][:] = cols
        out["idf"][:] = idf
        if n:
            out["keys"][:] = np.concatenate(key_parts)
        del key_parts
        # Postings per kept term: its document frequency (the hasher sums a term's entries within a row).
        if vocabulary is None:
            lengths = df[cols]
        else:  # another index's terms: count this corpus's postings of them
            lengths = np.zeros(len(cols), dtype=np.int64)
            for stored in kept_chunks:
                term = column[_load(stored)[1]]
                lengths += np.bincount(term[term >= 0], minlength=len(cols))
        del df
        indptr = _array(folder, "indptr", len(cols) + 1, np.int64)
        indptr[1:] = np.cumsum(lengths)
        total = int(indptr[-1])
        rows_out, data_out = _array(folder, "rows", total, np.int32), _array(folder, "data", total, np.float32)
        cursor = np.array(indptr[:-1], dtype=np.int64)
        offset = 0
        for stored in kept_chunks:
            ptr, indices, counts = _load(stored)
            size = len(ptr) - 1
            local = np.repeat(np.arange(size, dtype=np.int64), np.diff(ptr))
            term = column[indices]
            known = term >= 0
            local, term, tf = local[known], term[known], counts[known]
            weight = (1 + np.log(tf)) * idf[term]
            norm = np.sqrt(np.bincount(local, weights=weight * weight, minlength=size))
            norm[norm == 0] = 1
            weight = weight / norm[local]
            order = np.argsort(term, kind="stable")  # term-major, rows ascending within a term
            term, row, weight = term[order], local[order] + offset, weight[order]
            first = np.searchsorted(term, term, side="left")
            place = cursor[term] + (np.arange(len(term)) - first)
            rows_out[place] = row
            data_out[place] = weight
            cursor += np.bincount(term, minlength=len(cols))
            offset += size
        if folder is not None:
            for array in (*out.values(), indptr, rows_out, data_out):
                array.flush()
        out.update(indptr=indptr, rows=rows_out, data=data_out)
        return out
    finally:
        if spill is not None:
            shutil.rmtree(spill, ignore_errors=True)


def _load(stored):
    if isinstance(stored, tuple):
        return stored
    with np.load(stored) as f:
        return f["indptr"], f["indices"], f["data"]


@dataclass
class Topic:
    """A group of a session's items about one subject, named by its most telling words."""

    words: list[str]
    keys: list[int]

    @property
    def label(self) -> str:
        return "、".join(self.words)


def group_topics(keys: list[int], titles: list[str], bodies: list[str], *, max_topics: int = 20) -> list[Topic]:
    """Group items into topics (热点) by k-means over word TF-IDF; biggest topic first."""
    n = len(keys)
    if n == 0:
        return []
    if n < 4:
        return [Topic(words=_top_words(titles), keys=list(keys))]
    from sklearn.cluster import KMeans  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted

    docs = [words(f"{t} {t} {normalize(b)[:BODY_CHARS]}") for t, b in zip(titles, bodies)]
    vectorizer = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True, min_df=1, max_df=0.5 if n > 10 else 1.0)
    matrix = vectorizer.fit_transform(docs)
    k = max(2, min(max_topics, round(math.sqrt(n / 2))))
    model = KMeans(n_clusters=k, n_init=4, random_state=0).fit(matrix)
    vocab = np.array(vectorizer.get_feature_names_out())
    topics = []
    for c in range(k):
        members = [keys[i] for i in np.flatnonzero(model.labels_ == c)]
        if not members:
            continue
        centre = model.cluster_centers_[c]
        top_words = [str(w) for w in vocab[np.argsort(-centre)[:3]]]
        topics.append(Topic(words=top_words, keys=members))
    topics.sort(key=lambda t: -len(t.keys))
    return topics


def _top_words(titles: list[str]) -> list[str]:
    counts = Counter(w for t in titles for w in words(t))
    return [w for w, _ in counts.most_common(3)]
