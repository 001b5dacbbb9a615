"""Evaluation of the category model: accuracy, macro-F1, top-3 accuracy, per-class figures and latency."""
from __future__ import annotations

import time

import numpy as np

from banli.assist.classifier import TextClassifier


def _figures(truth: list[str], predicted: list[str], top3_hits: int, ms: float) -> dict:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    return {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)), 4),
        "top3_accuracy": round(top3_hits / len(truth), 4) if truth else 0.0,
        "ms_per_prediction": round(ms, 3),
        "per_class": {
            label: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
    }


def evaluate_category(model: TextClassifier, rows: list[dict]) -> dict:
    """Figures of a trained model on labelled rows, predicting one row at a time as the web page does."""
    truth, predicted, top3 = [], [], 0
    started = time.perf_counter()
    for row in rows:
        ranked = model.rank(row, top=3)
        predicted.append(ranked[0].label)
        top3 += row["category"] in {s.label for s in ranked}
        truth.append(row["category"])
    ms = (time.perf_counter() - started) * 1000 / max(len(rows), 1)
    return _figures(truth, predicted, top3, ms)


def cross_validate_category(rows: list[dict], *, folds: int = 5, seed: int = 0) -> dict:
    """Stratified k-fold cross-validation of the category model on labelled rows."""
    import warnings

    from sklearn.model_selection import StratifiedKFold

    labels = np.array([r["category"] for r in rows])
    truth, predicted, top3, elapsed = [], [], 0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a class smaller than the fold count is expected in small histories
        splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(rows, labels))
    for train, test in splits:
        model = TextClassifier().fit([rows[i] for i in train], list(labels[train]))
        started = time.perf_counter()
        for i in test:
            ranked = model.rank(rows[i], top=3)
            predicted.append(ranked[0].label)
            top3 += rows[i]["category"] in {s.label for s in ranked}
            truth.append(rows[i]["category"])
        elapsed += time.perf_counter() - started
    return _figures(truth, predicted, top3, elapsed * 1000 / len(rows))
