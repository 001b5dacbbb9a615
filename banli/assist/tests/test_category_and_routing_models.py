"""The category and routing models, trained on a small generated corpus (no shared data needed)."""
import numpy as np
import pytest

from banli.assist import routing
from banli.assist.classifier import TextClassifier, softmax_temperature
from banli.assist.evaluation import cross_validate_category
from banli.assist.routing import RoutingModel
from banli.assist.tests.helpers import generated_history


@pytest.fixture(scope="module")
def history():
    return generated_history()


def test_category_model_ranks_the_right_category_first_with_scores(history):
    model = TextClassifier().fit(history, [r["category"] for r in history])
    ranked = model.rank({"title": "关于增加幼儿园学位和教师编制的建议", "content": "学校招生困难，教师不足。"})
    assert ranked[0].label == "教育事业"
    assert len(ranked) == 3
    assert ranked[0].score > ranked[1].score >= ranked[2].score
    assert abs(sum(s.score for s in model.rank({"title": "医院", "content": ""}, top=4)) - 1) < 1e-3


def test_cross_validation_reports_macro_f1_top3_and_latency(history):
    result = cross_validate_category(history, folds=3)
    assert result["macro_f1"] > 0.9
    assert result["top3_accuracy"] == 1.0
    assert result["ms_per_prediction"] < 20
    assert set(result["per_class"]) == {r["category"] for r in history}


def test_routing_model_suggests_lead_unit_with_supporting_words_and_past_items(history):
    model = RoutingModel().fit(history, [r["units"] for r in history])
    suggestions = model.suggest({"title": "关于治理河道污水和扬尘的建议", "content": "污水直排河道，扬尘严重。"})
    lead = suggestions[0]
    assert (lead.unit, lead.role) == ("区生态环境局", "lead")
    assert lead.words and set(lead.words) & {"污水", "河道", "扬尘"}
    assert lead.past_items and lead.past_items[0][1] > 0
    assert all(s.unit != "区生态环境局" for s in suggestions if s.role == "co")


def test_routing_lead_scores_are_calibrated_on_the_instances_own_history(history):
    """The temperature is fitted on out-of-fold decisions and is the one the scores use (with the fixed default,
    the right unit among many showed a low score beside a co-handling unit's high one)."""
    model = RoutingModel().fit(history, [r["units"] for r in history])
    assert model.temperature != routing.DEFAULT_TEMPERATURE
    doc = {"title": "关于治理河道污水和扬尘的建议", "content": "污水直排河道，扬尘严重，建议加强环境监测。"}
    fitted = model.suggest(doc)[0]
    model.temperature = routing.DEFAULT_TEMPERATURE
    assert fitted.unit == "区生态环境局" and fitted.score != model.suggest(doc)[0].score
    # The shared fit: decisions that are right but timid get a temperature above 1, overconfident wrong ones below.
    right = np.array([[1.0, 0.0], [0.0, 1.0]] * 10)
    assert softmax_temperature(right * 0.1, np.array([0, 1] * 10)) > 10
    assert softmax_temperature(right * 5, np.array([1, 0] * 10)) < 0.2
    tiny = RoutingModel().fit(history[:10], [r["units"] for r in history[:10]])
    assert tiny.temperature == routing.DEFAULT_TEMPERATURE  # too little history to fit on: the default


def test_routing_temperature_is_fitted_when_many_units_led_only_once(history):
    """Real histories have many units that led one item; they stay in training and the rest calibrate."""
    units = [list(r["units"]) for r in history]
    for i in range(0, len(units), 4):
        units[i][0] = f"单次主办单位{i}"
    model = RoutingModel().fit(history, units)

    assert model.temperature != routing.DEFAULT_TEMPERATURE
