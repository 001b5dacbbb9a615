"""Similar proposals (查重) and topic groups (热点) over a sparse TF-IDF index kept per process."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Hit:
    """One similar item: its key in the index and its cosine similarity to the query."""

    key: int
    score: float


def _text(title: str, body: str) -> str:
    # The title (案由) states the topic; repeat it so that it outweighs the body's background.
    title = normalize(title)
    return f"{title}。{title}。{normalize(body)[:BODY_CHARS]}"


class SimilarityIndex:
    """Sparse char-bigram TF-IDF of titles and bodies; a query touches only the postings of its own terms."""

    def __init__(self, keys: list[int], titles: list[str], bodies: list[str]):
        from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted

        self.keys = np.asarray(keys, dtype=np.int64)
        self.vectorizer = TfidfVectorizer(
            analyzer="char", ngram_range=(2, 2), sublinear_tf=True, max_df=MAX_DF if len(keys) > 200 else 1.0, dtype=np.float32
        )
        texts = [_text(t, b) for t, b in zip(titles, bodies)]
        if texts:
            matrix = self.vectorizer.fit_transform(texts)
            self.matrix = matrix.tocsc()  # term-major: column slices are the postings of a term
        else:
            self.matrix = None
        self.position = {int(k): i for i, k in enumerate(self.keys)}

    def __len__(self) -> int:
        return len(self.keys)

    def vector(self, title: str, body: str):
        return self.vectorizer.transform([_text(title, body)])

    def search(self, title: str, body: str, *, limit: int = 10, exclude: set[int] | frozenset = frozenset()) -> list[Hit]:
        """The items most similar to a text, best first."""
        if self.matrix is None:
            return []
        query = self.vector(title, body)
        if query.nnz == 0:
            return []
        postings = self.matrix[:, query.indices]
        scores = np.asarray(postings @ query.data).ravel()
        want = limit + len(exclude)
        if want < len(scores):
            top = np.argpartition(-scores, want)[:want]
        else:
            top = np.arange(len(scores))
        top = top[np.argsort(-scores[top])]
        hits = []
        for i in top:
            key = int(self.keys[i])
            if scores[i] <= 0 or key in exclude:
                continue
            hits.append(Hit(key, round(float(scores[i]), 4)))
            if len(hits) == limit:
                break
        return hits


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
