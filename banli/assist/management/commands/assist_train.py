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

    def handle(self, *args, task, input=None, **options):
        rows = read_jsonl(input) if input else None
        try:
            meta = assist_model_train(task=task, rows=rows)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(meta, ensure_ascii=False))
