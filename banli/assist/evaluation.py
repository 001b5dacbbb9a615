"""Evaluation of the category model: accuracy, macro-F1, top-3 accuracy, per-class figures and latency."""
from __future__ import annotations

import time

import numpy as np

from banli.assist.classifier import TextClassifier

CALIBRATION_BINS = 10


def _figures(truth: list[str], predicted: list[str], top3_hits: int, ms: float, top_scores: list[float], cpu_ms: float) -> dict:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    return {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)), 4),
        "top3_accuracy": round(top3_hits / len(truth), 4) if truth else 0.0,
        "calibration_error": round(_calibration_error(truth, predicted, top_scores), 4),
        "ms_per_prediction": round(ms, 3),
        "cpu_ms_per_prediction": round(cpu_ms, 3),
        "per_class": {
            label: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
    }


def _calibration_error(truth: list[str], predicted: list[str], top_scores: list[float]) -> float:
    """Expected calibration error of the first suggestion: |score − share right| averaged over score bins."""
    if not truth:
        return 0.0
    right = np.array([t == p for t, p in zip(truth, predicted)], dtype=float)
    scores = np.array(top_scores)
    bins = np.minimum((scores * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    return float(sum(abs(scores[bins == b].mean() - right[bins == b].mean()) * (bins == b).sum() for b in set(bins)) / len(truth))


class _Tally:
    def __init__(self):
        self.truth, self.predicted, self.top_scores, self.top3, self.elapsed, self.cpu = [], [], [], 0, 0.0, 0.0

    def add(self, model: TextClassifier, rows: list[dict]) -> None:
        """Predict one row at a time, as the web page does, and count the time of each prediction.

        Wall time is what a user waits; CPU time is the cost of the prediction itself, which does not grow
        when other processes share the machine.
        """
        started, cpu_started = time.perf_counter(), time.process_time()
        for row in rows:
            ranked = model.rank(row, top=3)
            self.predicted.append(ranked[0].label)
            self.top_scores.append(ranked[0].score)
            self.top3 += row["category"] in {s.label for s in ranked}
            self.truth.append(row["category"])
        self.elapsed += time.perf_counter() - started
        self.cpu += time.process_time() - cpu_started

    def figures(self) -> dict:
        n = max(len(self.truth), 1)
        return _figures(self.truth, self.predicted, self.top3, self.elapsed * 1000 / n, self.top_scores, self.cpu * 1000 / n)


def evaluate_category(model: TextClassifier, rows: list[dict]) -> dict:
    """Figures of a trained model on labelled rows."""
    tally = _Tally()
    tally.add(model, rows)
    return tally.figures()


def cross_validate_category(rows: list[dict], *, folds: int = 5, repeats: int = 1, seed: int = 0) -> dict:
    """Stratified k-fold cross-validation (repeated with other shuffles if asked) of the category model.

    The pooled figures are over every held-out prediction; `folds_macro_f1` gives the mean and the
    standard deviation of the macro-F1 of single folds, the spread to expect on a new set of that size.
    """
    import warnings

    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    labels = np.array([r["category"] for r in rows])
    tally = _Tally()
    per_fold = []
    for repeat in range(repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a class smaller than the fold count is expected in small histories
            splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed + repeat).split(rows, labels))
            for train, test in splits:
                model = TextClassifier().fit([rows[i] for i in train], list(labels[train]))
                start = len(tally.truth)
                tally.add(model, [rows[i] for i in test])
                fold_truth = tally.truth[start:]
                per_fold.append(
                    f1_score(fold_truth, tally.predicted[start:], labels=sorted(set(fold_truth)), average="macro", zero_division=0)
                )
    result = tally.figures()
    result["folds"] = folds
    result["repeats"] = repeats
    result["folds_macro_f1"] = {
        "mean": round(float(np.mean(per_fold)), 4),
        "std": round(float(np.std(per_fold)), 4),
        "min": round(float(np.min(per_fold)), 4),
        "max": round(float(np.max(per_fold)), 4),
    }
    return result
