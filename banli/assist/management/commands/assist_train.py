"""Train an assist model from the database (default) or a JSON Lines file and store it under VAR_DIR."""
import json

from django.core.management.base import BaseCommand, CommandError

from banli.assist.management.commands._jsonl import read_jsonl
from banli.assist.services import assist_model_train
from banli.core.errors import DomainError


class Command(BaseCommand):
    help = "训练智能辅助模型：--task category|routing，默认使用本系统的历史数据，或 --input 指定 JSON Lines 文件"

    def add_arguments(self, parser):
        parser.add_argument("--task", choices=["category", "routing"], default="category")
        parser.add_argument("--input", help="JSON Lines：title, content, category（routing 需要 units 列表，主办在前）")
        parser.add_argument("--unlabelled", action="append", default=[],
                            help="类别模型的无标注文本（JSON Lines，title/content）；默认用本系统尚未分类的提案")
        parser.add_argument("--force", action="store_true", help="交叉验证成绩比在用模型差时也启用新模型")

    def handle(self, *args, task, input=None, force=False, **options):
        rows = read_jsonl(input) if input else None
        unlabelled = [r for path in options["unlabelled"] for r in read_jsonl(path)] or None
        try:
            meta = assist_model_train(task=task, rows=rows, unlabelled=unlabelled, force=force)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(meta, ensure_ascii=False))
        if meta.get("refused"):
            self.stderr.write(f"新模型的交叉验证成绩低于在用模型，已拒绝并记录；在用模型仍为 {meta['in_use']}（可加 --force 强制启用）。")
