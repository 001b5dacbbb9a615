"""The category classifier's own behaviour: text views, fast scoring, calibrated scores, stored bundles."""
import pickle

import numpy as np
import pytest
from sklearn.svm import LinearSVC

import banli.assist.classifier as classifier
from banli.assist.benchmarks import _shift_lines
from banli.assist.classifier import (
    C_GRID,
    DEFAULT_TEMPERATURE,
    NB_ALPHA,
    NB_C,
    SVM_MAX_ITER,
    SVM_TOL,
    TextClassifier,
    _views,
)
from banli.assist.evaluation import (
    coverage_table,
    cross_validate_category,
    label_shift,
    macro_f1_over_supported,
    ordered_split_category,
)
from banli.assist.tests.helpers import generated_history
from banli.assist.textproc import compact, tokens


@pytest.fixture(scope="module")
def history():
    return generated_history()


@pytest.fixture(scope="module")
def model(history):
    return TextClassifier().fit(history, [r["category"] for r in history])


def test_compact_joins_line_breaks_inside_chinese_and_drops_place_codes_and_digits():
    assert compact("城市环卫\n公厕指引") == "城市环卫公厕指引"
    assert compact("A3区大道西行，K市") == "区大道西行,市"  # NFKC: full-width comma to ASCII
    assert compact("2019 年 4 月") == "0 年 0 月"  # a gap beside a digit is kept
    assert compact("ＡＢＣ  road 12") == "ABC road 0"


def test_tokens_keep_words_and_punctuation_but_not_spaces():
    assert tokens("加强校园 安全，") == ["加强", "校园", "安全", "，"]


def test_fast_scoring_equals_the_vectorizers_and_the_linear_model(model, history):
    docs = history[:10] + [{"title": "医院", "content": "没有训练时见过的字词：甲乙丙丁"}, {"title": "", "content": ""}]
    expected = model._matrix([_views(d) for d in docs]) @ model.coef_.T + model.intercept_
    np.testing.assert_allclose(model.decision(docs), expected, atol=1e-9)


def test_the_model_is_the_plain_svm_plus_the_nb_svm_on_ratio_scaled_features_without_intercepts(model, history):
    """Both halves are fitted with their intercepts, which are then left out of every decision (CLASS_PRIORS)."""
    bounds = {"class_weight": "balanced", "tol": SVM_TOL, "max_iter": SVM_MAX_ITER, "random_state": 0}

    docs = history[:12]
    # The training rows: the history, then one text per class, its name (CLASS_NAME_DOCUMENTS).
    names = sorted({r["category"] for r in history})
    train = history + [{"title": name, "content": name} for name in names]
    labels = np.array([r["category"] for r in history] + names)
    x_train = model._matrix([_views(d) for d in train])
    x = model._matrix([_views(d) for d in docs])
    svm = LinearSVC(C=model.c, **bounds).fit(x_train, labels)
    expected = svm.decision_function(x) - svm.intercept_
    np.testing.assert_array_equal(model.intercept_, np.zeros(len(model.classes_)))
    if not model.use_nb:
        np.testing.assert_allclose(model.decision(docs), expected, atol=1e-6)
        return
    present = (x_train > 0).toarray()
    for i, label in enumerate(model.classes_):
        mine = labels == label
        p, q = NB_ALPHA + present[mine].sum(axis=0), NB_ALPHA + present[~mine].sum(axis=0)
        ratio = np.log((p / p.sum()) / (q / q.sum()))
        nb = LinearSVC(C=NB_C, **bounds).fit(x_train.multiply(ratio).tocsr(), mine)
        expected[:, i] += nb.decision_function(x.multiply(ratio).tocsr()) - nb.intercept_[0]
    np.testing.assert_allclose(model.decision(docs), expected, atol=1e-6)


def test_with_class_priors_the_intercepts_stay_in_the_decisions(history):
    """The switch of CLASS_PRIORS: kept, the intercepts (the class base rates) are part of every decision, and a text
    with little known wording falls back on them; left out, the same coefficients decide alone."""
    labels = [r["category"] for r in history]
    with_priors = TextClassifier(class_priors=True, select=False).fit(history, labels)
    without = TextClassifier(class_priors=False, select=False).fit(history, labels)
    assert np.abs(with_priors.intercept_).max() > 0.1
    np.testing.assert_array_equal(without.intercept_, np.zeros(len(without.classes_)))
    docs = history[:5] + [{"title": "", "content": "甲乙丙丁"}]
    np.testing.assert_allclose(with_priors.decision(docs) - without.decision(docs),
                               np.tile(with_priors.intercept_, (len(docs), 1)), atol=1e-9)
    np.testing.assert_allclose(without.coef_, with_priors.coef_)


def test_scores_are_in_zero_one_sorted_and_sum_to_one_over_all_classes(model):
    doc = {"title": "关于治理河道污水的建议", "content": "污水直排河道。"}
    ranked = model.rank(doc)
    assert ranked[0].label == "资源环境"
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    assert all(0.0 <= s.score <= 1.0 for s in ranked)
    assert abs(sum(s.score for s in model.rank(doc, top=len(model.classes_))) - 1) < 1e-3


def test_temperature_is_fitted_on_out_of_fold_decisions_when_the_history_allows(model, history):
    assert model.temperature != DEFAULT_TEMPERATURE and 0.1 <= model.temperature <= 50
    tiny = history[:8]
    assert TextClassifier().fit(tiny, [r["category"] for r in tiny]).temperature == DEFAULT_TEMPERATURE


def test_a_clear_text_gets_a_confident_first_score_and_an_empty_one_does_not(model):
    clear = model.rank({"title": "关于幼儿园教师和课后服务的建议", "content": "学校教师不足，幼儿园学位紧张。"})
    empty = model.rank({"title": "", "content": ""})
    assert clear[0].label == "教育事业" and clear[0].score > 0.5
    assert empty[0].score < clear[0].score


def test_two_classes_rank_both_with_scores(history):
    rows = [r for r in history if r["category"] in {"教育事业", "资源环境"}]
    model = TextClassifier().fit(rows, [r["category"] for r in rows])
    ranked = model.rank({"title": "河道污水", "content": "扬尘和污水。"})
    assert [s.label for s in ranked] == ["资源环境", "教育事业"]
    assert abs(sum(s.score for s in ranked) - 1) < 1e-3


def test_fit_refuses_mismatched_rows_and_a_single_class(history):
    with pytest.raises(ValueError, match="不一致"):
        TextClassifier().fit(history, ["教育事业"])
    with pytest.raises(ValueError, match="两个类别"):
        TextClassifier().fit(history[:3], ["教育事业"] * 3)


def test_a_pickled_model_ranks_the_same_after_loading(model):
    doc = {"title": "关于医保药品的建议", "content": "基层医疗缺药。"}
    assert pickle.loads(pickle.dumps(model)).rank(doc) == model.rank(doc)
    assert "_compiled" not in pickle.loads(pickle.dumps(model)).__dict__


def test_a_bundle_stored_before_the_word_view_still_ranks(model, history):
    views = [_views(d) for d in history]
    old = {"c": 5.0, "title_weight": 1.0, "title_vec": model.vectorizers["title"], "body_vec": model.vectorizers["body"]}
    old_x = np.hstack([old["title_vec"].transform([v["title"] for v in views]).toarray(),
                       old["body_vec"].transform([v["body"] for v in views]).toarray()])
    old["svm"] = LinearSVC(C=5.0).fit(old_x, [r["category"] for r in history])
    old["classes_"] = [str(c) for c in old["svm"].classes_]
    restored = TextClassifier.__new__(TextClassifier)
    restored.__setstate__(old)
    assert restored.rank({"title": "关于幼儿园招生的建议", "content": "学校教师不足。"})[0].label == "教育事业"


def test_repeated_cross_validation_reports_the_spread_over_folds(history):
    result = cross_validate_category(history, folds=3, repeats=2)
    spread = result["folds_macro_f1"]
    assert result["repeats"] == 2 and result["n"] == 2 * len(history)
    assert spread["min"] <= spread["mean"] <= spread["max"] and spread["std"] >= 0
    assert 0.0 <= result["calibration_error"] <= 1.0


def test_c_and_the_nb_half_are_chosen_by_inner_cross_validation_on_the_training_rows(model):
    variants = model.cv_["variants"]
    assert len(variants) == 2 * len(C_GRID)
    chosen = f"C={model.c}{'+NB' if model.use_nb else ''}"
    assert variants[chosen] == max(variants.values()) == model.cv_["macro_f1"]
    assert 0 < model.cv_["accuracy"] <= model.cv_["top3_accuracy"] <= 1


def test_idf_is_fitted_on_all_text_but_words_only_unlabelled_text_has_are_no_columns(history):
    labels = [r["category"] for r in history]
    once = [{"title": "关于航线的建议", "content": "开通航线。"}]  # 航线: in one labelled text only
    new_text = [{"title": "关于低空经济无人机航线的建议", "content": "低空经济发展需要学校无人机航线。"}] * 30
    plain = TextClassifier().fit(history + once, labels + ["教育事业"])
    adapted = TextClassifier().fit(history + once, labels + ["教育事业"], unlabelled=new_text)
    words = adapted.vectorizers["words"]
    # Words only the new text has are no columns: they would take their share of a new text's norm for nothing.
    assert "无人机" not in words.vocabulary_
    # A word one labelled and one new text share is a column (alone it is below min_df).
    assert "航线" in words.vocabulary_ and "航线" not in plain.vectorizers["words"].vocabulary_
    # A labelled word the new text uses often weighs less than in the labelled rows alone.
    assert words.idf_[words.vocabulary_["学校"]] < plain.vectorizers["words"].idf_[plain.vectorizers["words"].vocabulary_["学校"]]
    assert adapted.pseudo_labelled == 0  # self-training is off unless asked for
    # The matrices of the single pass are those the fitted vectorizers give.
    doc = new_text[0]
    assert np.allclose(adapted.decision([doc])[0], adapted._matrix([_views(doc)]) @ adapted.coef_.T + adapted.intercept_)
    # The recipe before issue 19 (every n-gram of two texts of all) stays available for comparison.
    old = TextClassifier(vocabulary="all").fit(history + once, labels + ["教育事业"], unlabelled=new_text)
    assert "无人机" in old.vectorizers["words"].vocabulary_


def test_self_training_adds_the_sure_unlabelled_items_with_their_suggested_label(history):
    labels = [r["category"] for r in history]
    sure = [{"title": "关于学校教师课程的建议", "content": "学校教师不足，课程和招生、幼儿园都要加强。"}] * 4
    model = TextClassifier(self_train=0.5).fit(history, labels, unlabelled=sure)
    assert model.pseudo_labelled == 4
    assert model.rank(sure[0])[0].label == "教育事业"


def test_coverage_table_gives_the_accuracy_of_the_surest_items():
    table = coverage_table([True, True, False, True], [0.9, 0.8, 0.7, 0.2], coverages=(0.5, 1.0))
    assert table["50%"] == {"accuracy": 1.0, "threshold": 0.8, "shown": 2}
    assert table["100%"] == {"accuracy": 0.75, "threshold": 0.2, "shown": 4}


def test_a_large_history_chooses_its_variant_on_a_stratified_sample_and_fits_on_all(history, monkeypatch):
    monkeypatch.setattr(classifier, "SELECT_MAX_ROWS", 24)
    model = TextClassifier().fit(history, [r["category"] for r in history])
    assert model.cv_ and model.cv_["macro_f1"] > 0
    assert model.rank({"title": "关于治理河道污水的建议", "content": "污水直排河道。"})[0].label == "资源环境"


def test_fits_stopped_by_the_iteration_bound_are_counted_not_hidden(history, monkeypatch):
    labels = [r["category"] for r in history]
    # Without the class names' texts: with them, one fit of this tiny generated history needs more passes.
    model = TextClassifier(class_names=False).fit(history, labels)
    assert model.cv_["svm_fits"] > 0
    assert model.cv_["svm_fits_stopped_at_max_iter"] == 0  # the small history converges within the bound
    monkeypatch.setattr(classifier, "SVM_MAX_ITER", 1)
    bounded = TextClassifier(class_names=False).fit(history, labels)
    assert bounded.cv_["svm_fits_stopped_at_max_iter"] == bounded.cv_["svm_fits"] == model.cv_["svm_fits"]


def test_label_shift_gives_each_classes_support_and_the_total_variation_distance():
    shift = label_shift(["甲", "甲", "乙", "乙"], ["甲", "丙", "丙", "丙"])
    assert shift["support"] == {"甲": {"train": 2, "test": 1}, "乙": {"train": 2, "test": 0}, "丙": {"train": 0, "test": 3}}
    assert shift["label_shift_tv"] == 0.75  # (|0.5-0.25| + |0.5-0| + |0-0.75|) / 2
    assert label_shift(["甲", "乙"], ["乙", "甲"])["label_shift_tv"] == 0.0


def test_macro_f1_over_supported_leaves_out_the_classes_with_few_test_items():
    per_class = {"甲": {"f1": 0.8, "support": 10}, "乙": {"f1": 0.6, "support": 5}, "丙": {"f1": 0.0, "support": 1}}
    assert macro_f1_over_supported(per_class, minimum=5) == 0.7
    assert macro_f1_over_supported(per_class, minimum=50) == 0.0


def test_an_ordered_split_reports_the_support_of_both_sides_beside_its_figures(history):
    rows = [dict(r, number=f"{i:03d}") for i, r in enumerate(history)]
    result = ordered_split_category(rows, key="number")
    assert result["train"] + result["test"] == len(rows)
    assert {k: v["train"] for k, v in result["support"].items()} == {
        c: sum(1 for r in rows[: result["train"]] if r["category"] == c) for c in result["support"]}
    assert sum(v["test"] for v in result["support"].values()) == result["test"]
    assert 0.0 <= result["label_shift_tv"] <= 1.0
    assert 0.0 < result["macro_f1_support_5"] <= 1.0


def test_the_benchmark_prints_each_classes_support_and_f1_beside_the_shift():
    result = {"macro_f1_support_5": 0.7, "label_shift_tv": 0.25, "per_class": {"甲": {"f1": 0.5, "support": 3}},
              "support": {"甲": {"train": 4, "test": 3}, "乙": {"train": 2, "test": 0}}}
    lines = {name: (value, unit) for name, value, unit in _shift_lines("p", result)}
    assert lines["p.macro_f1_classes_with_5_or_more_test_items"] == (0.7, "ratio")
    assert lines["p.label_shift_total_variation"] == (0.25, "ratio")
    assert lines["p.class.甲.train_items"] == (4, "items") and lines["p.class.甲.test_items"] == (3, "items")
    assert lines["p.class.甲.f1"] == (0.5, "ratio")
    assert lines["p.class.乙.test_items"] == (0, "items") and lines["p.class.乙.f1"] == (0.0, "ratio")


def test_each_class_name_is_one_more_text_of_its_class_and_never_held_out(history):
    """CLASS_NAME_DOCUMENTS: a class whose few items share no word with a new text is still tied to its name."""
    few = [{"title": "关于渠道清淤的建议", "content": "渠道淤塞，灌溉困难。"},
           {"title": "关于灌溉渠道维修的建议", "content": "灌溉渠道年久失修。"}]
    rows = history + few
    labels = [r["category"] for r in history] + ["农林水利", "农林水利"]
    # Its name's words, beside one word of another class's history (生态).
    new = {"title": "关于支持农林水利的建议", "content": "农林水利是生态的基础。"}
    named = TextClassifier().fit(rows, labels)
    plain = TextClassifier(class_names=False).fit(rows, labels)
    assert named.rank(new)[0].label == "农林水利"
    assert plain.rank(new)[0].label != "农林水利"
    # The inner cross-validation's figures are over the instance's own rows, the names only in its training folds.
    assert named.cv_["rows"] == plain.cv_["rows"] == len(rows)
    # A label that already is a text of its class is not shaken: the history still decides its own items.
    assert named.predict(history) == plain.predict(history)
