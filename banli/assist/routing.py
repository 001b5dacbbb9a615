"""The routing model (智能交办): lead and co units from past assignments, with supporting words and items."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from banli.assist.classifier import held_out_first, softmax_temperature
from banli.assist.textproc import normalize, words
from banli.handling.choices import AssignmentRole

BODY_CHARS = 1000
# The category as a feature of routing: one column per category of the history, 1 for the item's confirmed
# category (or the category model's scores for an item not yet categorised), weighted like one text view (each
# text view is an L2-normalised block), so that a unit that always handles 教育 items follows the category.
CATEGORY_WEIGHT = 1.0
DEFAULT_TEMPERATURE = 3.0
CALIBRATION_FOLDS = 3


@dataclass
class UnitSuggestion:
    """A suggested unit for one role, with its score and why."""

    unit: str
    role: str
    score: float
    words: list[str] = field(default_factory=list)
    past_items: list[tuple[str, float]] = field(default_factory=list)  # (title, similarity)


def _text(doc: dict) -> str:
    return normalize((doc.get("title") or "") + "。" + (doc.get("content") or doc.get("body") or "")[:BODY_CHARS])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-2.0 * x))


def _category_columns(docs: list[dict], categories: list[str]):
    """Rows of category features: a confirmed `category` as 1, else `category_scores` ({label: score}) as given."""
    index = {c: i for i, c in enumerate(categories)}
    rows, cols, vals = [], [], []
    for r, doc in enumerate(docs):
        scores = {doc["category"]: 1.0} if doc.get("category") else (doc.get("category_scores") or {})
        for label, score in scores.items():
            if label in index and score > 0:
                rows.append(r), cols.append(index[label]), vals.append(float(score) * CATEGORY_WEIGHT)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(categories)))


def _soft_categories(x_train, train_labels: list[str], x_test, categories: list[str]):
    """Category columns for held-out rows as the model will see a new item: guessed from its text."""
    from sklearn.svm import LinearSVC  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted

    known = [i for i, c in enumerate(train_labels) if c]
    if len({train_labels[i] for i in known}) < 2:
        return sparse.csr_matrix((x_test.shape[0], len(categories)))
    svm = LinearSVC(C=1.0, class_weight="balanced").fit(x_train[known], [train_labels[i] for i in known])
    raw = svm.decision_function(x_test)
    if raw.ndim == 1:
        raw = np.column_stack([-raw, raw])
    exp = np.exp(DEFAULT_TEMPERATURE * (raw - raw.max(axis=1, keepdims=True)))
    probs = exp / exp.sum(axis=1, keepdims=True)
    docs = [{"category_scores": dict(zip([str(c) for c in svm.classes_], row))} for row in probs]
    return _category_columns(docs, categories)


def _fit_temperature(texts: list[str], leads: np.ndarray, cats=None, cat_labels=None, categories=None
                     ) -> tuple[float, dict, dict | None]:
    """The softmax temperature of the lead scores that minimises log-loss on out-of-fold SVM decisions, the
    figures of those decisions, and the held-out items' first lead scores (classifier.held_out_first).

    With a fixed temperature the right unit among thirty often showed 0.10 beside a co-handling unit's 0.55;
    fitted, a lead score reads as how often such a suggestion was right in this instance's own history.
    """
    from sklearn.model_selection import StratifiedKFold  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted
    from sklearn.svm import LinearSVC  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted

    classes, counts = np.unique(leads, return_counts=True)
    # Only items whose lead unit led at least one other item can be held out; units seen once stay in training.
    # A real history has many such units (35 leads among 64 items in the demo), so requiring every unit twice
    # would leave the temperature unfitted exactly where users see the scores first.
    kept = np.flatnonzero(counts[np.searchsorted(classes, leads)] >= 2)
    kept_counts = np.unique(leads[kept], return_counts=True)[1]
    if len(kept) < 20 or len(kept_counts) < 2:
        return DEFAULT_TEMPERATURE, {}, None
    folds = min(CALIBRATION_FOLDS, int(kept_counts.min()))
    decisions = np.full((len(leads), len(classes)), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, held in StratifiedKFold(folds, shuffle=True, random_state=0).split(kept, leads[kept]):
            test = kept[held]
            train = np.setdiff1d(np.arange(len(leads)), test)
            # Features fitted on the fold's training texts only: a vocabulary that has seen the held-out texts
            # makes the decisions look surer than they will be on a new proposal.
            word_vec, char_vec = _vectorizers()
            train_texts, test_texts = [texts[i] for i in train], [texts[i] for i in test]
            x_train = sparse.hstack([word_vec.fit_transform(train_texts), char_vec.fit_transform(train_texts)], format="csr")
            x_test = sparse.hstack([word_vec.transform(test_texts), char_vec.transform(test_texts)], format="csr")
            if cats is not None:
                # Held-out items get the category guessed from their text, as a new item does, not the true one.
                guessed = _soft_categories(x_train, [cat_labels[i] for i in train], x_test, categories)
                x_train = sparse.hstack([x_train, cats[train]], format="csr")
                x_test = sparse.hstack([x_test, guessed], format="csr")
            svm = LinearSVC(C=1.0, class_weight="balanced").fit(x_train, leads[train])
            raw = svm.decision_function(x_test)
            if raw.ndim == 1:
                raw = np.column_stack([-raw, raw])
            decisions[np.ix_(test, np.searchsorted(classes, svm.classes_))] = raw
    decisions = np.nan_to_num(decisions[kept], nan=-10.0)  # a unit missing from a fold's training: never its answer
    truth = np.searchsorted(classes, leads[kept])
    top3 = np.argsort(-decisions, axis=1)[:, :3]
    # The model's own estimate of how well it does here: lead top-1 and top-3 on the held-out items.
    cv = {"folds": folds, "items": int(len(kept)),
          "top1_accuracy": round(float((decisions.argmax(axis=1) == truth).mean()), 4),
          "top3_accuracy": round(float((top3 == truth[:, None]).any(axis=1).mean()), 4)}
    temperature = softmax_temperature(decisions, truth)
    return temperature, cv, held_out_first(decisions, truth, temperature)


def _vectorizers():
    """The routing features: jieba words and characters 1–2, each TF-IDF with sublinear term frequency."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted

    return (TfidfVectorizer(analyzer=words, sublinear_tf=True),
            TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True))


class RoutingModel:
    """Lead unit: a class-balanced linear SVM; every involved unit: one-vs-rest SVMs; words: jieba TF-IDF."""

    def fit(self, docs: list[dict], unit_lists: list[list[str]]) -> "RoutingModel":
        from sklearn.multiclass import OneVsRestClassifier  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted
        from sklearn.preprocessing import MultiLabelBinarizer  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted
        from sklearn.svm import LinearSVC  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted

        pairs = [(d, u) for d, u in zip(docs, unit_lists) if u]
        if not pairs:
            raise ValueError("没有带承办单位的历史数据，无法训练交办建议")
        docs = [d for d, _ in pairs]
        unit_lists = [list(dict.fromkeys(u)) for _, u in pairs]
        texts = [_text(d) for d in docs]
        self.word_vec, self.char_vec = _vectorizers()
        xw = self.word_vec.fit_transform(texts)
        self.categories = sorted({d["category"] for d in docs if d.get("category")})
        cats = _category_columns(docs, self.categories) if self.categories else None
        x_text = sparse.hstack([xw, self.char_vec.fit_transform(texts)], format="csr")
        x = sparse.hstack([x_text] + ([cats] if cats is not None else []), format="csr")
        # For an item without a category yet (and no category model's scores at hand), the routing model guesses
        # the category itself from the same text, so the category column is never silently empty.
        self.category_svm = None
        labelled = [i for i, d in enumerate(docs) if d.get("category")]
        if len(self.categories) > 1:
            self.category_svm = LinearSVC(C=1.0, class_weight="balanced").fit(
                x_text[labelled], [docs[i]["category"] for i in labelled])
        self.n_words = xw.shape[1]
        self.word_vocab = self.word_vec.get_feature_names_out()  # building it per suggestion costs ~50 ms
        leads = [u[0] for u in unit_lists]
        self.lead_units = sorted(set(leads))
        self.lead_svm = LinearSVC(C=1.0, class_weight="balanced").fit(x, leads) if len(self.lead_units) > 1 else None
        self.temperature, self.cv_, self.held_out_ = (_fit_temperature(
            texts, np.asarray(leads), cats, [d.get("category") or "" for d in docs], self.categories) if self.lead_svm is not None
                                                      else (DEFAULT_TEMPERATURE, {}, None))
        self.binarizer = MultiLabelBinarizer().fit(unit_lists)
        y = self.binarizer.transform(unit_lists)
        keep = (y.sum(axis=0) > 0) & (y.sum(axis=0) < len(y))
        self.any_units = [str(u) for u, k in zip(self.binarizer.classes_, keep) if k]
        self.any_svm = OneVsRestClassifier(LinearSVC(C=1.0, class_weight="balanced")).fit(x, y[:, keep]) if keep.sum() >= 2 else None
        if self.any_svm is not None:
            # One matrix product per suggestion instead of one validated sklearn call per unit.
            self.any_coef = np.vstack([e.coef_.ravel() for e in self.any_svm.estimators_])
            self.any_intercept = np.array([float(np.ravel(e.intercept_)[0]) for e in self.any_svm.estimators_])
        # Past items shown as evidence: their word vectors, titles and units.
        self.past_words = xw.tocsr()
        self.past_titles = [d.get("title") or "" for d in docs]
        self.past_units = unit_lists
        return self

    def _features(self, doc: dict):
        text = _text(doc)
        xw = self.word_vec.transform([text])
        x_text = sparse.hstack([xw, self.char_vec.transform([text])], format="csr")
        categories = getattr(self, "categories", [])
        if not categories:
            return xw, x_text
        if not doc.get("category") and not doc.get("category_scores"):
            doc = {**doc, "category_scores": self._guess_category(x_text)}
        return xw, sparse.hstack([x_text, _category_columns([doc], categories)], format="csr")

    def _guess_category(self, x_text) -> dict[str, float]:
        if getattr(self, "category_svm", None) is None:
            return {self.categories[0]: 1.0} if len(self.categories) == 1 else {}
        raw = np.atleast_1d(self.category_svm.decision_function(x_text)[0])
        if raw.size == 1:
            raw = np.array([-raw[0], raw[0]])
        exp = np.exp(DEFAULT_TEMPERATURE * (raw - raw.max()))
        return dict(zip([str(c) for c in self.category_svm.classes_], exp / exp.sum()))

    def _supporting_words(self, xw, coef_words, limit=6) -> list[str]:
        contrib = xw.multiply(coef_words).toarray().ravel()
        order = np.argsort(-contrib)[:limit]
        return [str(self.word_vocab[i]) for i in order if contrib[i] > 0]

    def _past_items(self, sims, order, unit: str, limit=3) -> list[tuple[str, float]]:
        out = []
        for i in order:
            if sims[i] <= 0 or len(out) == limit:
                break
            if unit in self.past_units[i]:
                out.append((self.past_titles[i], round(float(sims[i]), 3)))
        return out

    def suggest(self, doc: dict, *, leads: int = 3, cos: int = 3) -> list[UnitSuggestion]:
        """Ranked lead suggestions, then co-handling suggestions (units other than the top lead)."""
        xw, x = self._features(doc)
        sims = (self.past_words @ xw.T).toarray().ravel()
        order = np.argsort(-sims)[:200]
        out: list[UnitSuggestion] = []
        if self.lead_svm is None:
            lead_scores = {self.lead_units[0]: 1.0}
            lead_coef = {}
        else:
            raw = self.lead_svm.decision_function(x)[0]
            classes = [str(c) for c in self.lead_svm.classes_]
            if raw.ndim == 0 or np.ndim(raw) == 0:
                raw = np.array([-float(raw), float(raw)])
            exp = np.exp(getattr(self, "temperature", DEFAULT_TEMPERATURE) * (raw - raw.max()))
            probs = exp / exp.sum()
            lead_scores = dict(zip(classes, probs))
            coef = self.lead_svm.coef_
            if coef.shape[0] == 1:
                coef = np.vstack([-coef, coef])
            lead_coef = {c: coef[i, : self.n_words] for i, c in enumerate(classes)}
        for unit, score in sorted(lead_scores.items(), key=lambda kv: -kv[1])[:leads]:
            support = self._supporting_words(xw, lead_coef[unit]) if unit in lead_coef else []
            out.append(UnitSuggestion(unit, AssignmentRole.LEAD, round(float(score), 4), support, self._past_items(sims, order, unit)))
        if self.any_svm is not None:
            top_lead = out[0].unit if out else None
            raw = np.asarray(x @ self.any_coef.T).ravel() + self.any_intercept
            scored = sorted(zip(self.any_units, _sigmoid(raw), range(len(raw))), key=lambda t: -t[1])
            for unit, score, i in scored:
                if unit == top_lead or len([s for s in out if s.role == AssignmentRole.CO]) >= cos:
                    continue
                if score < 0.3:
                    break
                coef = self.any_coef[i, : self.n_words]
                out.append(
                    UnitSuggestion(unit, "co", round(float(score), 4), self._supporting_words(xw, coef), self._past_items(sims, order, unit))
                )
        return out
