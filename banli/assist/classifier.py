"""The category model: char n-gram TF-IDF of title and body, a class-balanced linear SVM, softmax scores."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse

# Chosen by 5-fold cross-validation on the evaluation sets (see benchmarks.py); the head of a
# message or proposal carries its topic, the long tail (调研情况, figures) mostly adds noise.
BODY_CHARS = 1000
TITLE_WEIGHT = 1.0
SVM_C = 5.0
SOFTMAX_SCALE = 3.0


@dataclass(frozen=True)
class Scored:
    """One suggested label with its score in [0, 1]."""

    label: str
    score: float


def _title(doc: dict) -> str:
    return doc.get("title") or ""


def _body(doc: dict) -> str:
    return (doc.get("title") or "") + "。" + (doc.get("content") or doc.get("body") or "")[:BODY_CHARS]


class TextClassifier:
    """Single-label text classifier over {title, content} documents, returning ranked labels with scores."""

    def __init__(self, *, c: float = SVM_C, title_weight: float = TITLE_WEIGHT):
        self.c = c
        self.title_weight = title_weight

    def _features(self, docs: list[dict], *, fit: bool = False):
        from banli.assist.textproc import normalize

        titles = [normalize(_title(d)) for d in docs]
        bodies = [normalize(_body(d)) for d in docs]
        if fit:
            from sklearn.feature_extraction.text import TfidfVectorizer

            self.title_vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
            self.body_vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, min_df=2)
            t = self.title_vec.fit_transform(titles)
            b = self.body_vec.fit_transform(bodies)
        else:
            t = self.title_vec.transform(titles)
            b = self.body_vec.transform(bodies)
        return sparse.hstack([t * self.title_weight, b], format="csr")

    def fit(self, docs: list[dict], labels: list[str]) -> "TextClassifier":
        from sklearn.svm import LinearSVC

        if len(set(labels)) < 2:
            raise ValueError("至少需要两个类别的样本才能训练")
        # min_df=2 needs at least two documents; tiny corpora fall back to every n-gram.
        x = self._features(docs, fit=True) if len(docs) >= 4 else self._fit_small(docs)
        self.svm = LinearSVC(C=self.c, class_weight="balanced").fit(x, labels)
        self.classes_ = [str(c) for c in self.svm.classes_]
        return self

    def _fit_small(self, docs):
        from sklearn.feature_extraction.text import TfidfVectorizer

        from banli.assist.textproc import normalize

        self.title_vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
        self.body_vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
        t = self.title_vec.fit_transform([normalize(_title(d)) for d in docs])
        b = self.body_vec.fit_transform([normalize(_body(d)) for d in docs])
        return sparse.hstack([t * self.title_weight, b], format="csr")

    def decision(self, docs: list[dict]) -> np.ndarray:
        scores = self.svm.decision_function(self._features(docs))
        if scores.ndim == 1:  # two classes: sklearn returns one column for the second class
            scores = np.column_stack([-scores, scores])
        return scores

    def predict(self, docs: list[dict]) -> list[str]:
        return [self.classes_[i] for i in self.decision(docs).argmax(axis=1)]

    def rank(self, doc: dict, *, top: int = 3) -> list[Scored]:
        """The top labels for one document, scores softmax-normalised over all classes."""
        row = self.decision([doc])[0] * SOFTMAX_SCALE
        exp = np.exp(row - row.max())
        probs = exp / exp.sum()
        order = np.argsort(-probs)[:top]
        return [Scored(self.classes_[i], round(float(probs[i]), 4)) for i in order if not math.isnan(probs[i])]
