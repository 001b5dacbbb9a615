"""Evaluate an assist model: train on one file, test on another (or cross-validate one), print JSON."""
import json

from django.core.management.base import BaseCommand, CommandError

from banli.assist.classifier import TextClassifier
from banli.assist.evaluation import (
    _texts,
    baseline_predict,
    cross_validate_category,
    evaluate_category,
    evaluate_routing,
)
from banli.assist.management.commands._jsonl import read_jsonl
from banli.assist.routing import RoutingModel
from banli.assist.weaklabels import routing_rows


class Command(BaseCommand):
    help = (
        "评估智能辅助：--task category|routing，--train 与 --test 两个 JSON Lines 文件，或只给 --train 做 k 折（嵌套）"
        "交叉验证；输出 JSON。交办建议的主办单位取自行的 units（主办在前），没有时从 reply 答复文本中读出部门。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--task", choices=["category", "routing"], default="category")
        parser.add_argument("--train", required=True)
        parser.add_argument("--test")
        parser.add_argument("--unlabelled", action="append", default=[],
                            help="无标注文本（JSON Lines，title/content），用于词表、IDF 和自训练；可多次给出")
        parser.add_argument("--no-transductive", action="store_true",
                            help="不把测试集的文本（不含类别）当作无标注文本使用")
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--repeats", type=int, default=1, help="交叉验证重复次数（每次重新随机分折）")
        parser.add_argument("--baseline", action="store_true", help="同时报告教科书基线（字符 1–3 元 TF-IDF + 线性 SVM）")

    def handle(self, *args, task, train, test=None, folds=5, repeats=1, **options):
        unlabelled = [r for path in options["unlabelled"] for r in read_jsonl(path)]
        transductive = not options["no_transductive"]
        if task == "routing":
            result = self._routing(train, test)
        else:
            result = self._category(train, test, unlabelled, transductive, folds, repeats, options["baseline"])
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))

    def _category(self, train, test, unlabelled, transductive, folds, repeats, baseline):
        train_rows = [r for r in read_jsonl(train) if r.get("category")]
        if len({r["category"] for r in train_rows}) < 2:
            raise CommandError("训练数据至少需要两个类别。")
        if not test:
            return cross_validate_category(train_rows, folds=folds, repeats=repeats, unlabelled=unlabelled,
                                           transductive=transductive, baseline=baseline)
        test_all = read_jsonl(test)
        test_rows = [r for r in test_all if r.get("category")]
        # The test file's texts, never its labels: what an instance holds before it assigns the new items.
        extra = _texts(unlabelled) + (_texts(test_all) if transductive else [])
        model = TextClassifier().fit(train_rows, [r["category"] for r in train_rows], unlabelled=extra)
        result = evaluate_category(model, test_rows)
        result["model_cv"] = model.cv_
        result["pseudo_labelled"] = model.pseudo_labelled
        if baseline and test_rows:
            from sklearn.metrics import f1_score  # noqa: PLC0415 - scikit-learn takes seconds to load: only where a model is fitted

            truth = [r["category"] for r in test_rows]
            result["baseline_macro_f1"] = round(float(f1_score(
                truth, baseline_predict(train_rows, test_rows), labels=sorted(set(truth)), average="macro", zero_division=0)), 4)
        return result

    def _routing(self, train, test):
        train_rows = routing_rows(read_jsonl(train))
        if len({r["units"][0] for r in train_rows}) < 2:
            raise CommandError("训练数据至少需要两个不同的主办单位（units 字段，或答复文本中写明的部门）。")
        if not test:
            raise CommandError("交办建议的评估需要 --test 文件。")
        test_rows = routing_rows(read_jsonl(test))
        if not test_rows:
            raise CommandError("测试文件中没有可读出主办单位的行。")
        model = RoutingModel().fit(train_rows, [r["units"] for r in train_rows])
        result = evaluate_routing(model, test_rows)
        result["train"] = len(train_rows)
        return result
