"""`make bench` figures for the assist features, measured on ../shared/data/ when it is present.

Nothing here is shipped trained: every model is fitted inside the benchmark and thrown away.
"""
from __future__ import annotations

import json
import random
import time
from pathlib import Path

from django.conf import settings

from banli.handling.choices import AssignmentRole



def shared_data_dir() -> Path:
    """../shared/data beside the repository (CI layout), or beside a parent folder for a git worktree."""
    import os

    if os.environ.get("BANLI_SHARED_DATA"):
        return Path(os.environ["BANLI_SHARED_DATA"])
    for parent in Path(settings.BASE_DIR).resolve().parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    # A clone made elsewhere (e.g. CI's temporary folder) on a machine of this workplace.
    if Path("/work/shared/data").is_dir():
        return Path("/work/shared/data")
    return Path(settings.BASE_DIR) / ".." / "shared" / "data"


# Generated proposals for the search latency figure: topics of plausible policy words, none taken from data.
TOPIC_WORDS = {
    "教育": "学校 教师 学生 课程 义务教育 职业教育 校园 招生 减负 幼儿园 课后服务 教材",
    "医疗": "医院 医生 医保 药品 基层医疗 家庭医生 诊疗 公共卫生 疫苗 护理 慢性病 分级诊疗",
    "养老": "养老 老年人 社区养老 护理院 居家养老 助餐 适老化 长期护理 失能 养老金",
    "交通": "道路 公交 地铁 停车 拥堵 交通安全 非机动车 高速公路 停车位 信号灯 出行",
    "环境": "污水 垃圾分类 大气污染 河道 生态 绿化 噪声 扬尘 固体废物 环境监测 排放",
    "住房": "住房 保障房 老旧小区 物业 加装电梯 租赁 公积金 房价 棚户区 改造",
    "就业": "就业 创业 职业培训 农民工 工资 社保 灵活就业 高校毕业生 技能 人才",
    "农业": "农村 农民 耕地 种粮 合作社 乡村振兴 农产品 冷链 农田水利 宅基地",
    "产业": "企业 制造业 民营经济 营商环境 融资 税费 园区 科技创新 数字经济 产业链",
    "文化": "文化 旅游 博物馆 非遗 图书馆 景区 文物 演出 文创 公共文化",
    "安全": "安全生产 消防 食品安全 应急 防汛 隐患 执法 监管 电动车 燃气",
    "政务": "政务服务 一网通办 审批 数据共享 窗口 办事 电子证照 效能 投诉 热线",
}
GENERAL_WORDS = "建议 进一步 加强 完善 机制 推进 政策 资金 标准 服务 管理 体系 试点 考核 宣传 保障 统筹 落实 部门 群众".split()


def generated_proposals(count: int, *, seed: int = 8):
    """(key, title, body) triples of synthetic proposals on the topics above."""
    rng = random.Random(seed)
    topics = [(name, text.split()) for name, text in TOPIC_WORDS.items()]
    for key in range(1, count + 1):
        name, vocab = topics[rng.randrange(len(topics))]
        picked = rng.sample(vocab, 3)
        title = f"关于{picked[0]}{picked[1]}{rng.choice(GENERAL_WORDS)}的建议"
        pieces = []
        for _ in range(60):
            pieces.append(rng.choice(vocab) if rng.random() < 0.55 else rng.choice(GENERAL_WORDS))
        body = "，".join("".join(pieces[i : i + 4]) for i in range(0, len(pieces), 4)) + "。"
        yield key, title, body


def _rows(name: str) -> list[dict]:
    path = shared_data_dir() / name
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def bench_category_cross_validation():
    """Macro-F1 of the category model, 5-fold cross-validation repeated over 3 shuffles, on each labelled file.

    `macro_f1_cv5` pools every held-out prediction; `macro_f1_fold_mean` / `_fold_std` are the mean and
    spread of single folds. The shuffles (seeds 2–4) are not those the recipe was chosen on (0–1).
    """
    from banli.assist.evaluation import cross_validate_category

    for name, label in (("proposals_2019.jsonl", "proposals_2019"), ("messages_labeled.jsonl", "messages")):
        rows = _rows(name)
        if not rows:
            continue
        result = cross_validate_category(rows, folds=5, repeats=3, seed=2)
        yield f"assist.category.{label}.macro_f1_cv5", result["macro_f1"], "ratio"
        yield f"assist.category.{label}.macro_f1_fold_mean", result["folds_macro_f1"]["mean"], "ratio"
        yield f"assist.category.{label}.macro_f1_fold_std", result["folds_macro_f1"]["std"], "ratio"
        yield f"assist.category.{label}.accuracy_cv5", result["accuracy"], "ratio"
        yield f"assist.category.{label}.top3_accuracy_cv5", result["top3_accuracy"], "ratio"
        yield f"assist.category.{label}.calibration_error_cv5", result["calibration_error"], "ratio"
        yield f"assist.category.{label}.ms_per_prediction", result["ms_per_prediction"], "ms"
        yield f"assist.category.{label}.cpu_ms_per_prediction", result["cpu_ms_per_prediction"], "ms"
        baseline = char_ngram_baseline_macro_f1(rows, folds=5, repeats=3, seed=2)
        yield f"assist.category.{label}.baseline_char_ngram_macro_f1_cv5", baseline, "ratio"
        yield f"assist.category.{label}.macro_f1_over_baseline", result["macro_f1"] / baseline, "ratio"


def char_ngram_baseline_macro_f1(rows: list[dict], *, folds: int, repeats: int, seed: int) -> float:
    """Pooled macro-F1 of the textbook baseline on the same folds: one TF-IDF of character 1–3-grams of title
    and body (sublinear term frequency) and a linear SVM, as scikit-learn gives them. The yardstick for the
    model's own figure, measured in the same run."""
    import warnings

    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    texts = [f"{r.get('title') or ''} {r.get('content') or ''}" for r in rows]
    labels = np.array([r["category"] for r in rows])
    truth, predicted = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for repeat in range(repeats):
            for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed + repeat).split(texts, labels):
                model = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True), LinearSVC())
                model.fit([texts[i] for i in train], labels[train])
                predicted.extend(model.predict([texts[i] for i in test]))
                truth.extend(labels[test])
    return float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0))


def bench_point_extraction():
    """Share of the hand-checked proposals whose extracted point count matches the count read by hand."""
    from banli.assist.replycheck import extract_points
    from banli.assist.tests.test_point_extraction import EXPECTED_POINT_COUNTS

    rows = {r["proposal_number"]: r for r in _rows("proposals_2019.jsonl")}
    if not rows:
        return
    checked = [n for n in EXPECTED_POINT_COUNTS if n in rows]
    right = sum(1 for n in checked if len(extract_points(rows[n]["content"])) == EXPECTED_POINT_COUNTS[n])
    yield "assist.points.hand_checked", len(checked), "proposals"
    yield "assist.points.count_accuracy", right / len(checked), "ratio"
    started = time.perf_counter()
    for row in rows.values():
        extract_points(row["content"])
    yield "assist.points.ms_per_proposal", (time.perf_counter() - started) * 1000 / len(rows), "ms"


def shuffled_real_proposals(count: int, *, seed: int = 8):
    """(key, title, body) triples built by recombining sentences of the shared files at run time.

    Real sentences give the index a realistic vocabulary (far more distinct bigrams than the topic
    generator), so the latency measured is that of real text; nothing is stored.
    """
    from banli.assist.textproc import sentences

    sources = _rows("proposals_2019.jsonl") + _rows("messages_labeled.jsonl") + _rows("messages_replies.jsonl")
    if not sources:
        return
    titles = [r["title"] for r in sources]
    pool = [s for r in sources for s in sentences(r.get("content", ""))[:12] if len(s) > 8]
    rng = random.Random(seed)
    for key in range(1, count + 1):
        body = "".join(rng.choice(pool) for _ in range(rng.randint(3, 12)))
        yield key, rng.choice(titles), body


def bench_similar_search_100k():
    """Build time and query latency of the similar-proposal search over 100,000 generated proposals."""
    yield from _similar_latency("generated", list(generated_proposals(100_000)))
    real = list(shuffled_real_proposals(100_000))
    if real:
        yield from _similar_latency("recombined_real", real)


def _similar_latency(label: str, rows):
    from banli.assist.similarity import SimilarityIndex

    started = time.perf_counter()
    index = SimilarityIndex([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    yield f"assist.similar.{label}.build_100k", time.perf_counter() - started, "s"
    timings = []
    for _, title, body in random.Random(1).sample(rows, 300):
        t0 = time.perf_counter()
        index.search(title, body, limit=10)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    yield f"assist.similar.{label}.query_100k_median", timings[len(timings) // 2], "ms"
    yield f"assist.similar.{label}.query_100k_p95", timings[int(len(timings) * 0.95)], "ms"


# Weak routing labels for messages_replies.jsonl: the kinds of department a reply names, the first as lead.
# The file has no unit field; about half the replies name a department, so this measures the model on
# noisy labels (a lower bound of what a real assignment history gives).
DEPARTMENT_KINDS = [
    ("教育局", "教育"), ("住房和城乡建设|住建", "住建"), ("交通运输局|交通局|交通运输部门", "交通"),
    ("人力资源和社会保障|人社", "人社"), ("交警|公安", "公安"), ("城市管理|城管", "城管"),
    ("卫生健康|卫健|卫计|卫生局", "卫健"), ("生态环境|环境保护局|环保局", "生态环境"),
    ("自然资源|国土|规划局", "自然资源和规划"), ("市场监督管理|市场监管|工商局|食品药品", "市场监管"),
    ("民政局", "民政"), ("住房保障|房屋交易|房产局|住房公积金", "住房保障"), ("街道办事处|街道办", "街道"),
    ("镇人民政府|镇政府", "乡镇"), ("水利局|水务", "水务"), ("医保", "医保"), ("文化旅游|文旅|旅游局", "文旅"),
    ("发展和改革|发改", "发改"), ("税务", "税务"),
]


def reply_departments(reply: str) -> list[str]:
    """Kinds of department named in a reply, in order of first mention."""
    import re

    found = []
    for pattern, kind in DEPARTMENT_KINDS:
        m = re.search(pattern, reply)
        if m:
            found.append((m.start(), kind))
    return [kind for _, kind in sorted(found)]


def bench_routing_cross_validation():
    """Lead-unit top-1/top-3 accuracy of the routing model, 5-fold CV on messages_replies (weak labels)."""
    import warnings

    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from banli.assist.routing import RoutingModel

    rows = []
    for r in _rows("messages_replies.jsonl"):
        units = reply_departments(r.get("reply", ""))
        if units:
            rows.append({"title": r["title"], "content": r["content"], "units": units})
    if not rows:
        return
    leads = np.array([r["units"][0] for r in rows])
    counts = {u: int((leads == u).sum()) for u in set(leads)}
    rows = [r for r in rows if counts[r["units"][0]] >= 5]
    leads = np.array([r["units"][0] for r in rows])
    top1 = top3 = 0
    elapsed = 0.0
    truth, first, first_scores = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(rows, leads):
            model = RoutingModel().fit([rows[i] for i in train], [rows[i]["units"] for i in train])
            started = time.perf_counter()
            for i in test:
                suggested = [s for s in model.suggest(rows[i]) if s.role == AssignmentRole.LEAD]
                ranked = [s.unit for s in suggested]
                truth.append(str(leads[i]))
                first.append(ranked[0])
                first_scores.append(suggested[0].score)
                top1 += ranked[:1] == [leads[i]]
                top3 += leads[i] in ranked[:3]
            elapsed += time.perf_counter() - started
    yield "assist.routing.messages_replies.items", len(rows), "items"
    yield "assist.routing.messages_replies.lead_kinds", len(set(leads)), "classes"
    yield "assist.routing.messages_replies.lead_top1_cv5", top1 / len(rows), "ratio"
    yield "assist.routing.messages_replies.lead_top3_cv5", top3 / len(rows), "ratio"
    yield "assist.routing.messages_replies.ms_per_suggestion", elapsed * 1000 / len(rows), "ms"
    from banli.assist.evaluation import _calibration_error

    # |score of the first lead suggestion − share of such suggestions that were right|, over score bins.
    yield "assist.routing.messages_replies.lead_calibration_error", _calibration_error(truth, first, first_scores), "ratio"
    yield "assist.routing.messages_replies.lead_mean_top_score", float(np.mean(first_scores)), "ratio"
