"""Reading the JSON Lines files the assist commands take."""
import json
from pathlib import Path

from django.core.management.base import CommandError


def read_jsonl(path: str) -> list[dict]:
    file = Path(path)
    if not file.exists():
        raise CommandError(f"文件不存在：{path}")
    rows = []
    with file.open(encoding="utf-8") as handle:
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise CommandError(f"{path} 第 {n} 行不是有效的 JSON：{exc}") from exc
    return rows
