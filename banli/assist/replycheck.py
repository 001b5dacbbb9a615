"""Reply check (答复核稿辅助): the proposal's points, where a draft reply answers each, and advisory flags.

Advisory only: every finding is a hint for the handler and the office's 核稿 step, never a block.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from banli.assist.textproc import normalize, sentences, words

CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def cn_number(text: str) -> int:
    """一 → 1, 十二 → 12, 二十三 → 23 (enough for point numbering)."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return CN_DIGITS.get(text, 0)
    tens, _, ones = text.partition("十")
    return (CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (CN_DIGITS.get(ones, 0) if ones else 0)


_CN = "[一二三四五六七八九十]{1,3}"
_BOUNDARY = r"(?:^|(?<=[。；;：:！？!?，,）)\s]))"
# Families of point markers, from the most to the least formal; each captures the number.
MARKER_FAMILIES: dict[str, re.Pattern] = {
    "一、": re.compile(_BOUNDARY + rf"({_CN})[、．.，,](?![\d])"),
    # （－） is a common slip for （一） (a dash typed or recognised in place of the character).
    "（一）": re.compile(rf"[（(]({_CN}|[－\-—])[）)]"),
    "第一": re.compile(_BOUNDARY + rf"第({_CN})[，,、是：:](?!\d)"),
    "一是": re.compile(rf"(?:^|(?<=[。；;：:！？!?，,\s]))({_CN})是(?!否|指|由于)"),
    "1.": re.compile(_BOUNDARY + r"(\d{1,2})\s?[、．.，,；;](?!\d)"),
    "（1）": re.compile(r"[（(](\d{1,2})[）)]"),
    "①": re.compile("([①②③④⑤⑥⑦⑧⑨⑩])"),
    # Ordinal words: 首先… 其次… 再次… 最后…, and 一方面… 另一方面…
    "首先": re.compile(_BOUNDARY + "(首先|其次|再次|最后)[，,、：:]"),
    "一方面": re.compile(_BOUNDARY + "(一方面|另一方面|再一方面)"),
}
# A point's own marker (1; 一、 （二） 三是 首先，), which may end in a separator that also ends sentences.
_LEADING_MARKER = re.compile(r"\s*(?:[（(][^）)]{1,3}[）)]|[\d一二三四五六七八九十]{1,3}[、．.，,；;]|[①-⑩])")
SEQUENCE_WORDS = {"首先": 1, "一方面": 1, "另一方面": 2, "再一方面": 3}
# The first item often runs straight on from its lead-in (……提出如下建议1、…), with no boundary before it;
# later items of the same list must still start at one.
FIRST_MARKERS: dict[str, re.Pattern] = {
    "1.": re.compile(r"(?<![\dA-Za-z.．])(1)\s?[、．.，,](?!\d)"),
    "一是": re.compile("(?<![统唯之第单同专万逐划齐])(一)是(?!否|指|由于)"),
}
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
SECTION_HEADS = ("具体建议", "对策建议", "意见建议", "建议如下", "几点建议", "为此建议", "为此，建议", "建议：")


@dataclass
class Point:
    """One point of a proposal's suggestions."""

    number: int
    marker: str
    text: str
    start: int

    @property
    def heading(self) -> str:
        """The point's first sentence, which usually states it (e.g. 一是进一步明确…)."""
        marker = _LEADING_MARKER.match(self.text)
        cut = marker.end() if marker else 0
        head = self.text[:cut] + re.split(r"[。；;！？\n]", self.text[cut:], maxsplit=1)[0]
        return head[:80]


def suggestion_section(body: str) -> tuple[str, int]:
    """The part of a proposal that holds its suggestions, and where it starts; the whole body if unmarked."""
    text = body or ""
    best = -1
    for head in SECTION_HEADS:
        pos = text.rfind(head)
        if pos >= 0 and (best < 0 or head == "具体建议"):
            best = pos + len(head)
            if head == "具体建议":
                break
    if best < 0:
        return text, 0
    return text[best:], best


def _number(family: str, raw: str) -> int:
    if family == "①":
        return _CIRCLED.index(raw) + 1
    if raw in "－-—":
        return 1
    if raw in SEQUENCE_WORDS:
        return SEQUENCE_WORDS[raw]
    return cn_number(raw)


def _hits(family: str, text: str) -> list[tuple[int, int]]:
    """Every marker of one family in the text, as (number, position) pairs in text order."""
    hits = [(_number(family, m.group(1)), m.start()) for m in MARKER_FAMILIES[family].finditer(text)]
    if family in FIRST_MARKERS:
        seen = {pos for _, pos in hits}
        hits = sorted(hits + [(1, m.start()) for m in FIRST_MARKERS[family].finditer(text) if m.start() not in seen],
                      key=lambda hit: hit[1])
    if family == "首先":
        # 其次, 再次 and 最后 each come after the one before: they number on from 首先.
        numbered, last = [], 0
        for word_number, pos in hits:
            last = 1 if word_number == 1 else (last + 1 if last else 0)
            numbered.append((last, pos))
        hits = numbered
    return hits


def _chain(family: str, text: str) -> list[tuple[int, int]]:
    """The outer run of markers numbered 1, 2, 3… of one family, as (number, position) pairs.

    A nested list of the same family (二是… 一是… 二是… 三是… 三是…) restarts at 1; its numbers are
    skipped, and a number that both lists could take goes to the nested one when it occurs again later.
    """
    hits = _hits(family, text)
    for i, (n, pos) in enumerate(hits):
        if n != 1:
            continue
        chain, nested = [(1, pos)], None
        rest = hits[i + 1 :]
        for j, (m, p) in enumerate(rest):
            top = chain[-1][0]
            if m == top + 1:
                later = [k for k, _ in rest[j + 1 :] if k in (m, m + 1)]
                if nested == m - 1 and later and later[0] == m:
                    nested = m
                    continue
                chain.append((m, p))
                nested = None
            elif m == 1:
                nested = 1
            elif nested is not None and m == nested + 1:
                nested = m
        if len(chain) >= 2:
            return chain
    return []


def extract_points(body: str) -> list[Point]:
    """The proposal's points: the top-level numbered items of its suggestion section (one point if unnumbered)."""
    section, offset = suggestion_section(normalize_keep_lines(body))
    chains = {family: _chain(family, section) for family in MARKER_FAMILIES}
    numbered = {f: c for f, c in chains.items() if len(c) >= 2}
    if not numbered:
        text = section.strip(" ：:\n")
        return [Point(1, "", text, offset)] if text else []
    # The outermost list is the one that starts first; nested lists start inside its first item.
    family, chain = min(numbered.items(), key=lambda item: item[1][0][1])
    points = []
    for i, (n, pos) in enumerate(chain):
        end = chain[i + 1][1] if i + 1 < len(chain) else len(section)
        points.append(Point(n, family, section[pos:end].strip(), offset + pos))
    return points


def normalize_keep_lines(text: str) -> str:
    """Join the hard line breaks of text copied from PDFs; keep real paragraph breaks."""
    text = (text or "").replace("\r", "")
    return re.sub(r"(?<![。！？；：:])\n(?!\s*(?:[（(]?[一二三四五六七八九十\d]{1,3}[)）、．.]))", "", text)


# --- Reply side ---------------------------------------------------------------------------------------

MEASURE = re.compile(
    r"出台|制定|印发|修订|颁布|建成|建设|开展|组织|实施|完成|落实|设立|成立|启动|投入|安排|下达|拨付|新增|开通|"
    r"建立|推行|试点|培训|检查|整治|督促|协调|召开|部署|纳入|改造|配备|补贴|资助|专项|已将|已于"
)
NUMBER = re.compile(r"\d+(?:\.\d+)?\s*(?:万|亿|千|百)?\s*(?:元|个|家|人|次|项|所|条|台|辆|套|公里|米|平方米|亩|户|%|％|件|场|批|天|份|余)")
DATE = re.compile(r"\d{4}\s*年|\d{1,2}\s*月(?:底|份|\d{1,2}日)?|年底|年内|今年|明年|上半年|下半年|近期|目前已|截至")
BODY = re.compile(r"[\u4e00-\u9fff]{1,12}(?:局|厅|委员会|委|办公室|办|中心|部|署|院|站|所|队|公司|集团|政府|街道|社区)")
PAST = re.compile(r"已经|已|完成|建成|实现了|出台了|印发了|解决了|落实了|取得|达到")
FUTURE = re.compile(r"将|计划|拟|争取|力争|下一步|今后|逐步|研究|考虑|适时|继续")
REASON = re.compile(r"由于|因为|受.{0,12}限制|条件|暂不|暂无|尚不具备|困难|权限|事权")
CONTACT_PERSON = re.compile(r"联系人[：:\s]*[\u4e00-\u9fff]{2,4}")
CONTACT_PHONE = re.compile(r"(?:联系)?电话[：:\s]*[\d\-－ ]{7,}|1[3-9]\d{9}")

# Flags are stable keys; the template shows their Chinese text.
FLAG_NO_CONCRETE = "no_concrete_answer"
FLAG_POINTS_UNANSWERED = "points_unanswered"
FLAG_CLASS_A_FUTURE = "class_a_only_future"
FLAG_CLASS_B_NO_PLAN = "class_b_without_plan"
FLAG_CLASS_C_NO_REASON = "class_c_without_reason"
FLAG_NO_CONTACT_PERSON = "missing_contact_person"
FLAG_NO_CONTACT_PHONE = "missing_contact_phone"
FLAG_EMPTY = "empty_reply"

FLAG_TEXT = {
    FLAG_EMPTY: "答复正文为空",
    FLAG_NO_CONCRETE: "答复未对任何一条建议给出具体措施、数字、时间或责任单位，可能是“空泛答复”",
    FLAG_POINTS_UNANSWERED: "有建议条目在答复中没有找到对应内容",
    FLAG_CLASS_A_FUTURE: "答复类别为 A（已解决或基本解决），但正文只有“将、计划、争取”等将来时表述，没有已完成的事项",
    FLAG_CLASS_B_NO_PLAN: "答复类别为 B（正在解决或列入计划），但正文没有写明计划、时限或进度",
    FLAG_CLASS_C_NO_REASON: "答复类别为 C（因条件限制需待以后解决），但正文没有说明限制条件或原因",
    FLAG_NO_CONTACT_PERSON: "缺少联系人",
    FLAG_NO_CONTACT_PHONE: "缺少联系电话",
}


@dataclass
class PointAnswer:
    """Where (if anywhere) the reply answers one point, and how concretely."""

    point: Point
    answered: bool
    paragraph: int | None
    excerpt: str
    matched_words: list[str]
    concrete: bool
    evidence: list[str] = field(default_factory=list)


@dataclass
class ReplyCheck:
    """The result of checking one draft reply against its proposal."""

    points: list[PointAnswer]
    flags: list[str]

    @property
    def flag_texts(self) -> list[str]:
        return [FLAG_TEXT[f] for f in self.flags]

    @property
    def answered_count(self) -> int:
        return sum(1 for p in self.points if p.answered)


def reply_paragraphs(reply: str) -> list[str]:
    """A reply's paragraphs; one long paragraph is cut into sentences so that an answer can be located."""
    paras = [p.strip() for p in re.split(r"\n\s*\n|\n(?=\s*[（(]?[一二三四五六七八九十\d]{1,3}[)）、．.])|\n", reply or "") if p.strip()]
    if len(paras) <= 2:
        paras = [s for p in paras for s in sentences(p)]
    return paras


def concreteness(text: str) -> list[str]:
    """The kinds of concrete content in a passage: 措施, 数字, 时间, 责任单位."""
    found = []
    if MEASURE.search(text):
        found.append("措施")
    if NUMBER.search(text):
        found.append("数字")
    if DATE.search(text):
        found.append("时间")
    if BODY.search(text):
        found.append("责任单位")
    return found


def _is_concrete(evidence: list[str]) -> bool:
    # A measure alone ("加强协调") is a slogan; it must come with a number, a date or a named body.
    return bool({"数字", "时间"} & set(evidence)) or ("措施" in evidence and "责任单位" in evidence)


def _keywords(point: Point, limit: int = 12) -> list[str]:
    counts: dict[str, int] = {}
    head = set(words(point.heading))
    for w in words(point.text[:600]):
        counts[w] = counts.get(w, 0) + 1
    ranked = sorted(counts, key=lambda w: (w not in head, -counts[w], -len(w)))
    return ranked[:limit]


# A reply paragraph that names the point it answers: "二、关于培训。…", "（一）关于增加学位供给的建议，…".
_REPLY_LEAD = re.compile(
    r"^\s*(?:[（(]?([一二三四五六七八九十]{1,2}|\d{1,2})[)）、．.]\s*)?"
    r"(?:关于(.{2,30}?)(?:的(?:建议|问题|提案|意见))?(?:问题|方面)?[。，,：:；;]|关于)?"
)
_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}
# Phrases after 关于 that name the whole proposal, not one point.
_WHOLE_PROPOSAL = re.compile(r"您|提出|委员|代表|来信|提案")


def _numeral(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    if len(token) == 1:
        return _NUMERALS.get(token)
    if token.startswith("十"):
        return 10 + _NUMERALS.get(token[1], 0)
    return None


def _reply_lead(paragraph: str) -> tuple[int | None, str]:
    """The number a reply paragraph starts with and the topic after its 关于, where it has them."""
    m = _REPLY_LEAD.match(paragraph)
    if not m:
        return None, ""
    number = _numeral(m.group(1)) if m.group(1) else None
    topic = m.group(2) or ""
    return number, "" if _WHOLE_PROPOSAL.search(topic) else topic


def locate_answer(point: Point, paragraphs: list[str]) -> tuple[int | None, list[str], float, bool]:
    """The paragraph that best answers a point, the point's words found there, the share found, and whether it
    answers it.

    A paragraph answers a point when it shares enough of the point's words, when it names the point's topic
    ("关于培训" for a point on 急救培训), or when it carries the point's number and at least one of its words
    (replies usually follow the proposal's numbering).
    """
    keys = _keywords(point)
    if not keys or not paragraphs:
        return None, [], 0.0, False
    best, best_hits, best_score, best_answers = None, [], 0, False
    for i, para in enumerate(paragraphs):
        hits = [k for k in keys if k in para]
        number, topic = _reply_lead(para)
        topic_words = words(topic)
        names_topic = bool(topic_words) and all(w in point.text for w in topic_words)
        same_number = number == point.number and bool(hits)
        answers = names_topic or same_number or len(hits) >= 3 or len(hits) / len(keys) >= 0.3
        score = len(hits) + 3 * names_topic + 2 * same_number
        if score > best_score:
            best, best_hits, best_score, best_answers = i, hits, score, answers
    return best, best_hits, len(best_hits) / len(keys), best_answers


def check_reply(
    *, proposal_body: str, reply_body: str, reply_class: str = "", contact_person: str = "", contact_phone: str = ""
) -> ReplyCheck:
    """Check a draft reply against its proposal's points; returns per-point answers and advisory flags."""
    reply = normalize_keep_lines(reply_body or "")
    points = extract_points(proposal_body)
    paragraphs = reply_paragraphs(reply)
    answers = []
    for point in points:
        idx, hits, share, answered = locate_answer(point, paragraphs)
        answered = idx is not None and answered
        para = paragraphs[idx] if answered else ""
        evidence = concreteness(para) if answered else []
        answers.append(
            PointAnswer(
                point=point,
                answered=answered,
                paragraph=idx if answered else None,
                excerpt=para[:160],
                matched_words=hits if answered else [],
                concrete=_is_concrete(evidence),
                evidence=evidence,
            )
        )

    flags = []
    flat = normalize(reply)
    if not flat:
        flags.append(FLAG_EMPTY)
    else:
        whole = concreteness(flat)
        if not any(a.concrete for a in answers) and not (not answers and _is_concrete(whole)):
            flags.append(FLAG_NO_CONCRETE)
        if answers and any(not a.answered for a in answers):
            flags.append(FLAG_POINTS_UNANSWERED)
        code = (reply_class or "").strip().upper()
        if code == "A" and FUTURE.search(flat) and not PAST.search(flat):
            flags.append(FLAG_CLASS_A_FUTURE)
        if code == "B" and not (FUTURE.search(flat) and (DATE.search(flat) or "计划" in flat)):
            flags.append(FLAG_CLASS_B_NO_PLAN)
        if code == "C" and not REASON.search(flat):
            flags.append(FLAG_CLASS_C_NO_REASON)
    if not (contact_person or CONTACT_PERSON.search(flat)):
        flags.append(FLAG_NO_CONTACT_PERSON)
    if not (contact_phone or CONTACT_PHONE.search(flat)):
        flags.append(FLAG_NO_CONTACT_PHONE)
    return ReplyCheck(points=answers, flags=flags)
