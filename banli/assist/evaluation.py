"""Evaluation of the category model: accuracy, macro-F1, top-3 accuracy, per-class figures and latency."""
from __future__ import annotations

import time
import warnings

import numpy as np

from banli.assist.classifier import TextClassifier

CALIBRATION_BINS = 10


def _figures(truth: list[str], predicted: list[str], top3_hits: int, ms: float, top_scores: list[float], cpu_ms: float) -> dict:
    from sklearn.metrics import (  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted
        accuracy_score,
        f1_score,
        precision_recall_fscore_support,
    )

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
        result = _figures(self.truth, self.predicted, self.top3, self.elapsed * 1000 / n, self.top_scores, self.cpu * 1000 / n)
        if self.truth:
            result["coverage"] = coverage_table([t == p for t, p in zip(self.truth, self.predicted)], self.top_scores)
        return result


def evaluate_category(model: TextClassifier, rows: list[dict]) -> dict:
    """Figures of a trained model on labelled rows."""
    tally = _Tally()
    tally.add(model, rows)
    return tally.figures()


def _texts(rows: list[dict]) -> list[dict]:
    """The rows without their labels: what an instance holds before anyone confirmed a category."""
    return [{"title": r.get("title") or "", "content": r.get("content") or r.get("body") or ""} for r in rows]


def cross_validate_category(rows: list[dict], *, folds: int = 5, repeats: int = 1, seed: int = 0,
                            unlabelled: list[dict] = (), transductive: bool = True, baseline: bool = False) -> dict:
    """Stratified k-fold cross-validation (repeated with other shuffles if asked) of the category model.

    This is nested cross-validation: every choice of the model (C, the NB-SVM half, the temperature) is made by
    `TextClassifier.fit` on the outer training folds alone. The model also sees text without labels: `unlabelled`
    and, when `transductive`, the held-out fold's texts without their labels (as an instance holds new items
    before they are assigned). The pooled figures are over every held-out prediction; `folds_macro_f1` gives the
    mean and the standard deviation of the macro-F1 of single folds, the spread to expect on a new set of that
    size. With `baseline`, the textbook model's macro-F1 on the same folds is reported beside it.
    """
    from sklearn.metrics import f1_score  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted
    from sklearn.model_selection import StratifiedKFold  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted

    labels = np.array([r["category"] for r in rows])
    tally = _Tally()
    per_fold = []
    base_truth, base_predicted = [], []
    for repeat in range(repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a class smaller than the fold count is expected in small histories
            splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed + repeat).split(rows, labels))
            for train, test in splits:
                held = [rows[i] for i in test]
                extra = list(_texts(unlabelled)) + (_texts(held) if transductive else [])
                model = TextClassifier().fit([rows[i] for i in train], list(labels[train]), unlabelled=extra)
                if baseline:
                    base_predicted.extend(baseline_predict([rows[i] for i in train], held))
                    base_truth.extend(labels[test])
                start = len(tally.truth)
                tally.add(model, [rows[i] for i in test])
                fold_truth = tally.truth[start:]
                per_fold.append(
                    f1_score(fold_truth, tally.predicted[start:], labels=sorted(set(fold_truth)), average="macro", zero_division=0)
                )
    result = tally.figures()
    result["folds"] = folds
    result["repeats"] = repeats
    if baseline:
        result["baseline_macro_f1"] = round(float(
            f1_score(base_truth, base_predicted, labels=sorted(set(base_truth)), average="macro", zero_division=0)), 4)
    result["folds_macro_f1"] = {
        "mean": round(float(np.mean(per_fold)), 4),
        "std": round(float(np.std(per_fold)), 4),
        "min": round(float(np.min(per_fold)), 4),
        "max": round(float(np.max(per_fold)), 4),
    }
    return result


def evaluate_routing(model, rows: list[dict]) -> dict:
    """Lead-unit figures of a trained routing model on rows {title, content, units} (lead first), in the keys of
    the category figures: `accuracy` is the top-1 share, `top3_accuracy` the share whose lead is among the first
    three lead suggestions, `calibration_error` that of the first suggestion's score. Leads the model never saw
    in training count as misses (a new unit cannot be suggested)."""
    truth, predicted, top_scores, top3 = [], [], [], 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for row in rows:
        leads = [s for s in model.suggest(row, cos=0) if s.role == "lead"]
        lead = row["units"][0]
        truth.append(lead)
        predicted.append(leads[0].unit if leads else "")
        top_scores.append(leads[0].score if leads else 0.0)
        top3 += lead in {s.unit for s in leads[:3]}
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    n = max(len(rows), 1)
    result = _figures(truth, predicted, top3, elapsed * 1000 / n, top_scores, cpu * 1000 / n)
    result["top1_accuracy"] = result["accuracy"]
    if truth:
        result["coverage"] = coverage_table([t == p for t, p in zip(truth, predicted)], top_scores)
    result["unseen_leads"] = sum(1 for t in truth if t not in set(model.lead_units))
    return result


def coverage_table(right: list[bool], scores: list[float], *, coverages=(0.5, 0.8, 1.0)) -> dict:
    """Accuracy of the suggestions shown when only the surest share of items gets one: for each coverage, the
    score the office would set as its threshold and the share right among the items above it."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    right_sorted = np.asarray(right, dtype=float)[order]
    scores_sorted = np.asarray(scores)[order]
    out = {}
    for coverage in coverages:
        k = max(1, int(round(coverage * len(order))))
        out[f"{int(coverage * 100)}%"] = {"accuracy": round(float(right_sorted[:k].mean()), 4),
                                         "threshold": round(float(scores_sorted[k - 1]), 4), "shown": k}
    return out


def baseline_predict(train: list[dict], test: list[dict]) -> list[str]:
    """The textbook model, the yardstick of every figure: one TF-IDF of character 1–3-grams of title and body
    (sublinear term frequency) and a linear SVM, as scikit-learn gives them, nothing chosen on any data."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted
    from sklearn.svm import LinearSVC  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted

    def text(r):
        return f"{r.get('title') or ''} {r.get('content') or ''}"

    model = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True), LinearSVC())
    model.fit([text(r) for r in train], [r["category"] for r in train])
    return [str(p) for p in model.predict([text(r) for r in test])]


def _order_key(value) -> tuple:
    """Numbers (ids) in numeric order, anything else (zero-padded filing numbers, years as text) as text."""
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value or ""))


def ordered_split_category(rows: list[dict], *, key: str, train_share: float = 0.7, unlabelled: list[dict] = (),
                           transductive: bool = True) -> dict:
    """Train on the first rows in the order of `key` (a year, or the filing number within one year), test on the
    rest, with the test rows' texts as unlabelled text unless not `transductive`: the temporal check. The baseline
    is fitted on the same split."""
    from sklearn.metrics import f1_score  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted

    ordered = sorted(rows, key=lambda r: _order_key(r.get(key)))
    cut = int(len(ordered) * train_share)
    train, test = ordered[:cut], ordered[cut:]
    model = TextClassifier().fit(train, [r["category"] for r in train], unlabelled=_texts(unlabelled) + (_texts(test) if transductive else []))
    result = evaluate_category(model, test)
    truth = [r["category"] for r in test]
    result["baseline_macro_f1"] = round(float(f1_score(truth, baseline_predict(train, test), labels=sorted(set(truth)),
                                                       average="macro", zero_division=0)), 4)
    result["train"], result["test"] = len(train), len(test)
    result.update(label_shift([r["category"] for r in train], truth))
    result["macro_f1_support_5"] = macro_f1_over_supported(result["per_class"], minimum=5)
    return result


def label_shift(train: list[str], test: list[str]) -> dict:
    """How the classes' shares move from the training rows to the test rows: each class's support on both sides,
    and the total variation distance of the two distributions (0 = same shares, 1 = no class in common)."""
    labels = sorted(set(train) | set(test))
    support = {label: {"train": train.count(label), "test": test.count(label)} for label in labels}
    distance = sum(abs(s["train"] / max(len(train), 1) - s["test"] / max(len(test), 1)) for s in support.values()) / 2
    return {"support": support, "label_shift_tv": round(float(distance), 4)}


def macro_f1_over_supported(per_class: dict, *, minimum: int) -> float:
    """Macro-F1 over the classes with at least `minimum` test items: on a test set of 100 to 150 items a class of
    one or two moves the plain macro-F1 by up to 1/classes on a single guess."""
    kept = [figures["f1"] for figures in per_class.values() if figures["support"] >= minimum]
    return round(float(np.mean(kept)), 4) if kept else 0.0


def small_history_category(rows: list[dict], *, folds: int = 5, seed: int = 0, transductive: bool = True) -> dict:
    """Inverted k-fold: train on one fold, test on the other k − 1, for every fold, pooled.

    The shape of an instance meeting a larger body of new text than it was trained on (the sealed sets are 1.4 to 5
    times the shared files): a small labelled history, a large pool of new items whose texts are the unlabelled
    text. The baseline is fitted on the same splits."""
    from sklearn.metrics import f1_score  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted
    from sklearn.model_selection import StratifiedKFold  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted

    labels = np.array([r["category"] for r in rows])
    tally = _Tally()
    base_truth, base_predicted = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for test, train in StratifiedKFold(folds, shuffle=True, random_state=seed).split(rows, labels):
            held, fold = [rows[i] for i in test], [rows[i] for i in train]
            model = TextClassifier().fit(fold, list(labels[train]), unlabelled=_texts(held) if transductive else [])
            tally.add(model, held)
            base_predicted.extend(baseline_predict(fold, held))
            base_truth.extend(labels[test])
    result = tally.figures()
    result["baseline_macro_f1"] = round(float(
        f1_score(base_truth, base_predicted, labels=sorted(set(base_truth)), average="macro", zero_division=0)), 4)
    return result
