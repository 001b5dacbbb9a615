"""Small helpers for the assist tests: shared evaluation data and a generated training corpus."""
from __future__ import annotations

import json
import random

from banli.assist.benchmarks import shared_data_dir

# A tiny generated history: each category has its own words, so a model trained on it must get them right.
CATEGORY_WORDS = {
    "教育事业": "学校 教师 学生 课程 校园 招生 幼儿园 课后服务 教材 义务教育".split(),
    "医卫体育": "医院 医生 医保 药品 诊疗 护理 疫苗 体育 健身 基层医疗".split(),
    "城乡建设": "道路 小区 物业 电梯 停车 市政 改造 公厕 排水 路灯".split(),
    "资源环境": "污水 垃圾 河道 大气 生态 绿化 噪声 扬尘 排放 湿地".split(),
}
UNIT_FOR_CATEGORY = {"教育事业": "区教育局", "医卫体育": "区卫生健康局", "城乡建设": "区住房和建设局", "资源环境": "区生态环境局"}


def shared_rows(name: str) -> list[dict]:
    path = shared_data_dir() / name
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def generated_history(per_category: int = 12, *, seed: int = 3) -> list[dict]:
    """JSON-Lines-like rows {title, content, category, units} for four categories with distinct words."""
    rng = random.Random(seed)
    rows = []
    for category, vocab in CATEGORY_WORDS.items():
        for i in range(per_category):
            a, b, c = rng.sample(vocab, 3)
            rows.append(
                {
                    "title": f"关于加强{a}{b}管理的建议",
                    "content": f"当前{a}和{c}方面存在不足。具体建议：一、完善{a}制度。二、加大{b}投入。三、做好{c}工作。",
                    "category": category,
                    "units": [UNIT_FOR_CATEGORY[category]] + (["区财政局"] if i % 3 == 0 else []),
                }
            )
    rng.shuffle(rows)
    return rows
