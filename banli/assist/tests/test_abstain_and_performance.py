"""Abstention at the office's threshold, the training log with refusal of a worse retraining, the monthly
performance page, the routing evaluation command and the routing model's use of the category."""
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from banli.assist import selectors, store
from banli.assist.models import AssistSetting, ModelTraining, SuggestionDecision
from banli.assist.classifier import TextClassifier
from banli.assist.routing import RoutingModel
from banli.assist.selectors import assist_performance
from banli.assist.services import assist_model_train, assist_setting_save, suggestion_decision_record
from banli.assist.tests.helpers import generated_history
from banli.core.errors import DomainError, PermissionDenied
from banli.proposals import services as proposals

pytestmark = pytest.mark.django_db

SCHOOL = dict(title="关于增加学校学位和教师编制的建议", body="具体建议：一、扩建学校，增加学位。二、补充教师编制。")
_numbers = iter(range(1, 10_000))


def _proposal(w, **text):
    return proposals.proposal_create(actor=w.office, session=w.session, number=f"2026{next(_numbers):04d}",
                                     proposers=[w.proposer_record], **(text or SCHOOL))


def test_suggestions_below_the_offices_threshold_are_not_shown_and_the_page_says_why(client, trained_world):
    w = trained_world
    p = _proposal(w)
    vague = _proposal(w, title="建议", body="")
    shown = selectors.category_suggestions(user=w.office, proposal=p)
    assert len(shown) == 3 and shown[0]["label"] == "教育事业"
    leads = [s for s in selectors.routing_suggestions(user=w.office, proposal=p) if s["role"] == "lead"]
    cut = leads[0]["score"] - 1e-4
    assert len(leads) == 3 and leads[1]["score"] < cut
    vague_top = selectors.category_suggestions(user=w.office, proposal=vague)[0]["score"]
    assert vague_top < 0.999
    assist_setting_save(office=w.office_unit, actor=w.office, category_min_score=shown[1]["score"] + 1e-4,
                        routing_min_score=cut)
    assert [s["label"] for s in selectors.category_suggestions(user=w.office, proposal=p)] == ["教育事业"]
    assert [s["label"] for s in selectors.routing_suggestions(user=w.office, proposal=p) if s["role"] == "lead"] == ["区教育局"]
    client.force_login(w.office)
    assist_setting_save(office=w.office_unit, actor=w.office, category_min_score=0.999, routing_min_score=1.0)
    html = client.get(reverse("assist:category", args=[vague.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "data-withheld" in html and "把握不足" in html and "尚未训练" not in html
    routed = selectors.routing_suggestions(user=w.office, proposal=vague)
    assert all(s["score"] >= 1.0 for s in routed if s["role"] == "lead")
    if not routed:  # no lead sure enough: no co-handling units either, and the page says why
        html = client.get(reverse("assist:routing", args=[vague.pk]), HTTP_HX_REQUEST="true").content.decode()
        assert "data-withheld" in html


def test_only_the_office_sets_its_thresholds_and_only_between_0_and_1(trained_world):
    w = trained_world
    with pytest.raises(PermissionDenied):
        assist_setting_save(office=w.office_unit, actor=w.lead_handler, category_min_score=0.5, routing_min_score=0.5)
    with pytest.raises(DomainError, match="0 到 1"):
        assist_setting_save(office=w.office_unit, actor=w.office, category_min_score=1.5, routing_min_score=0.5)
    assert not AssistSetting.objects.exists()


def test_the_office_edits_its_thresholds_on_the_performance_page(client, trained_world):
    w = trained_world
    client.force_login(w.office)
    url = reverse("assist:office")
    prefix = f"o{w.office_unit.pk}"
    r = client.post(url, {"office": w.office_unit.pk, f"{prefix}-category_min_score": "2",
                          f"{prefix}-routing_min_score": "0.5"})
    assert r.status_code == 200 and "0 到 1 之间" in r.content.decode() and not AssistSetting.objects.exists()
    r = client.post(url, {"office": w.office_unit.pk, f"{prefix}-category_min_score": "0.6",
                          f"{prefix}-routing_min_score": "0.4"})
    assert r.status_code == 302
    setting = AssistSetting.objects.get(office=w.office_unit)
    assert (setting.category_min_score, setting.routing_min_score, setting.updated_by) == (0.6, 0.4, w.office)
    assert client.get(url).status_code == 200
    client.force_login(w.proposer)
    assert client.get(url).status_code == 403


def test_the_performance_page_counts_per_month_shown_accepted_changed_ignored_and_top3(client, trained_world):
    w = trained_world
    shown = [{"label": "教育事业", "score": 0.7}, {"label": "医卫体育", "score": 0.2}, {"label": "城乡建设", "score": 0.1}]
    for decided in ("教育事业", "医卫体育", "资源环境", ""):
        suggestion_decision_record(proposal=_proposal(w), task="category", suggested=shown,
                                   decided={"label": decided}, actor=w.office)
    outcomes = list(SuggestionDecision.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["accepted", "overridden", "overridden", "ignored"]

    months = assist_performance(user=w.office)["months"]
    assert len(months) == 1
    row = months[0]
    assert (row["task"], row["shown"], row["accepted"], row["changed"], row["ignored"]) == ("category", 4, 1, 2, 1)
    assert row["top3_rate"] == round(2 / 3, 4)  # of the three decided: 教育事业 and 医卫体育 were in the top three
    client.force_login(w.office)
    html = client.get(reverse("assist:office")).content.decode()
    assert 'id="assist-months"' in html and "67%" in html and "类别建议" in html


def test_a_category_left_empty_after_seeing_suggestions_is_logged_as_ignored(trained_world):
    w = trained_world
    d = suggestion_decision_record(proposal=_proposal(w), task="category", suggested=[{"label": "教育事业", "score": 0.8}],
                                   decided={"label": ""}, actor=w.office)
    assert (d.outcome, d.top1_hit, d.top3_hit) == ("ignored", False, False)


def test_every_training_is_logged_with_its_own_cross_validated_figure(history_world):
    meta = assist_model_train(task="category", rows=generated_history(per_category=10))
    assert 0 < meta["cv"]["macro_f1"] <= 1
    log = ModelTraining.objects.get()
    assert (log.task, log.outcome, log.cv["macro_f1"], log.previous_macro_f1) == ("category", "installed", meta["cv"]["macro_f1"], None)
    assert store.load_bundle("category")["meta"]["cv"] == meta["cv"]


def test_a_retraining_with_a_worse_figure_is_refused_and_logged_and_the_old_model_stays(history_world):
    good = generated_history(per_category=10)
    first = assist_model_train(task="category", rows=good)
    # The same texts with the categories shuffled: nothing left to learn, the cross-validated figure drops.
    labels = [r["category"] for r in good]
    worse = [{**r, "category": labels[(i * 7) % len(labels)]} for i, r in enumerate(good)]
    second = assist_model_train(task="category", rows=worse)
    assert second["refused"] is True and second["in_use"] == first["version"]
    assert second["cv"]["macro_f1"] < first["cv"]["macro_f1"] - 0.02
    assert store.load_bundle("category")["meta"]["version"] == first["version"]
    refused = ModelTraining.objects.get(outcome="refused")
    assert refused.previous_macro_f1 == first["cv"]["macro_f1"] and "保留在用模型" in refused.reason
    forced = assist_model_train(task="category", rows=worse, force=True)
    assert "refused" not in forced and store.load_bundle("category")["meta"]["cv"] == forced["cv"]


def test_routing_takes_the_category_so_an_education_item_is_led_by_the_education_bureau():
    rows = generated_history(per_category=10)
    model = RoutingModel().fit(rows, [r["units"] for r in rows])
    assert model.categories == sorted({r["category"] for r in rows})
    vague = {"title": "关于加强管理的建议", "content": "当前存在不足，建议完善制度。"}
    leads = {c: [s.unit for s in model.suggest({**vague, "category": c}) if s.role == "lead"][0]
             for c in ("教育事业", "资源环境")}
    assert leads == {"教育事业": "区教育局", "资源环境": "区生态环境局"}
    # Without a category the model guesses it from the text, as for a new item.
    guessed = model.suggest({"title": "关于学校教师和幼儿园招生的建议", "content": "学校教师不足。"})
    assert guessed[0].unit == "区教育局"
    assert 0 <= model.cv_["top1_accuracy"] <= model.cv_["top3_accuracy"] <= 1


def _replies_file(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_assist_eval_routing_reads_the_unit_from_the_reply_and_prints_the_category_tasks_keys(tmp_path, capsys, db):
    reply_for = {"区教育局": "经市教育局调查核实，", "区卫生健康局": "经区卫生健康局核实，", "区住房和建设局": "经区住建局核实，",
                 "区生态环境局": "经区生态环境局现场检查，"}
    rows = [{"id": i, "title": r["title"], "content": r["content"], "reply": reply_for[r["units"][0]] + "已处理。"}
            for i, r in enumerate(generated_history(per_category=10))]
    train = _replies_file(tmp_path / "train.jsonl", rows[::2])
    test = _replies_file(tmp_path / "test.jsonl", rows[1::2] + [{"id": 999, "title": "无部门", "content": "", "reply": "谢谢。"}])
    call_command("assist_eval", "--task", "routing", "--train", str(train), "--test", str(test))
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 20 and result["train"] == 20  # the reply naming no department is left out
    assert set(result["per_class"]) <= {"教育", "卫健", "住建", "生态环境"}
    assert result["top1_accuracy"] == result["accuracy"] >= 0.8 and result["top3_accuracy"] >= result["top1_accuracy"]
    assert {"calibration_error", "ms_per_prediction", "macro_f1", "coverage"} <= set(result)
    with pytest.raises(CommandError, match="--test"):
        call_command("assist_eval", "--task", "routing", "--train", str(train))


def test_assist_eval_category_uses_the_test_texts_as_unlabelled_and_reports_the_baseline(tmp_path, capsys, db):
    rows = generated_history(per_category=10)
    train = _replies_file(tmp_path / "train.jsonl", rows[::2])
    test = _replies_file(tmp_path / "test.jsonl", rows[1::2])
    call_command("assist_eval", "--train", str(train), "--test", str(test), "--baseline")
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 20 and 0 <= result["baseline_macro_f1"] <= 1 and "macro_f1" in result["model_cv"]
    assert set(result["coverage"]) == {"50%", "80%", "100%"}
    assert result["coverage"]["50%"]["shown"] == 10


def test_the_office_sees_what_each_least_score_would_do_on_the_models_held_out_items(client, trained_world):
    w = trained_world
    category = store.load_bundle("category")["model"]
    held = category.held_out_
    assert len(held["scores"]) == category.cv_["rows"] == len(generated_history(per_category=10))
    # At 0 every held-out item gets a suggestion and the share right is the model's own cross-validated accuracy.
    everything = selectors.abstention(held, [0.0])[0]
    assert (everything["shown_share"], everything["accuracy"]) == (1.0, category.cv_["accuracy"])
    steps = selectors.abstention(held, selectors.ABSTENTION_STEPS)
    shown = [s["shown"] for s in steps]
    assert shown == sorted(shown, reverse=True)  # the surer, the fewer items get one
    above = selectors.abstention(held, [max(held["scores"]) + 1e-4])[0]
    assert (above["shown"], above["shown_share"], above["accuracy"]) == (0, 0.0, None)
    client.force_login(w.office)
    html = client.get(reverse("assist:office")).content.decode()
    assert 'id="assist-abstention"' in html and "0（全部显示）" in html and "其中首选正确" in html
    assert f"100%（{len(held['scores'])} 件）" in html
    # The office's own setting is read against the same items: at the median score about half get a suggestion.
    median = sorted(held["scores"])[len(held["scores"]) // 2]
    assist_setting_save(office=w.office_unit, actor=w.office, category_min_score=median, routing_min_score=1.0)
    effect = selectors.threshold_effect(
        {"category": held, "routing": store.load_bundle("routing")["model"].held_out_},
        AssistSetting.objects.get(office=w.office_unit))
    row = effect[0]
    assert row["task"] == "category" and row["shown"] == sum(s >= median for s in held["scores"])
    assert row["accuracy"] == round(sum(r for s, r in zip(held["scores"], held["right"]) if s >= median) / row["shown"], 4)
    html = client.get(reverse("assist:office")).content.decode()
    assert f"类别建议约 {round(row['shown_share'] * 100)}% 的事项显示建议" in html
    routing = effect[1]
    assert routing["task"] == "routing" and routing["min_score"] == 1.0
    assert f"交办建议约 {round(routing['shown_share'] * 100)}% 的事项显示建议" in html


def test_a_class_with_one_item_stays_in_training_and_the_others_are_still_cross_validated():
    rows = generated_history(per_category=10)
    rows.append({"title": "关于规范网约车平台的建议", "content": "网约车平台抽成过高。", "category": "交通运输"})
    model = TextClassifier().fit(rows, [r["category"] for r in rows])
    # Before, one such class switched the inner cross-validation off: no figure, no fitted temperature.
    assert model.cv_["rows"] == len(rows) - 1 and 0 < model.cv_["macro_f1"] <= 1
    assert len(model.held_out_["scores"]) == len(rows) - 1
    assert "交通运输" in model.classes_
