"""Evaluate the category model: train on one file, test on another (or cross-validate one), print JSON."""
import json

from django.core.management.base import BaseCommand, CommandError

from banli.assist.management.commands._jsonl import read_jsonl


class Command(BaseCommand):
    help = "评估类别建议：--train 与 --test 两个 JSON Lines 文件，或只给 --train 做 k 折交叉验证；输出 JSON"

    def add_arguments(self, parser):
        parser.add_argument("--task", choices=["category"], default="category")
        parser.add_argument("--train", required=True)
        parser.add_argument("--test")
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--repeats", type=int, default=1, help="交叉验证重复次数（每次重新随机分折）")

    def handle(self, *args, task, train, test=None, folds=5, repeats=1, **options):
        from banli.assist.classifier import TextClassifier
        from banli.assist.evaluation import cross_validate_category, evaluate_category

        train_rows = [r for r in read_jsonl(train) if r.get("category")]
        if len({r["category"] for r in train_rows}) < 2:
            raise CommandError("训练数据至少需要两个类别。")
        if test:
            model = TextClassifier().fit(train_rows, [r["category"] for r in train_rows])
            result = evaluate_category(model, [r for r in read_jsonl(test) if r.get("category")])
        else:
            result = cross_validate_category(train_rows, folds=folds, repeats=repeats)
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
