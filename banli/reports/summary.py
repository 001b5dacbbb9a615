"""The annual handling summary (办理工作总结), drafted from the records like the seeds.

基本情况 holds only computed numbers (locked); 主要做法 starts from what the event log and contact records
show, followed by the unit's own text; 典型案例 quotes the proposal's points and the reply's measures; 存在问题
and 下一步打算 are prefilled from overdue items, unsatisfied ratings and open commitments until the unit writes
its own; 自评 comes from the score.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from banli.core.errors import DomainError
from banli.handling.choices import AssignmentRole, ContactMethod, ContactPhase
from banli.handling.models import Assignment, ContactRecord, Event
from banli.proposals.choices import Body
from banli.replies.choices import UnsatisfiedOutcome
from banli.replies.models import Feedback, Reply
from banli.reports import aggregates, figures, scoring

CN_NUM = "一二三四五六七八九十"
PRACTICES_PLACEHOLDER = "【请在此填写本单位的主要做法，如领导重视、制度建设、督办机制等。】"
NEXT_PLACEHOLDER = "【请在此填写下一步打算。】"


@dataclass
class Summary:
    """Everything the document and the page show, in order."""

    unit: object
    session: object
    title: str
    addressee: str
    opening: str
    sections: list[tuple[str, list[str]]]
    basics: list[str]
    date: dt.date
    typical: list = field(default_factory=list)


def _rate(v: figures.Value) -> str:
    return v.display if v.value is not None else "不适用"


def _kind_word(session) -> str:
    return "提案" if session.body == Body.CPPCC else "建议"


def unsatisfied_sentence(counts: dict[str, int]) -> str:
    """How many were rated 不满意 in the first round and what became of them; "" when none were."""
    total = sum(counts.values())
    if not total:
        return ""
    parts = "、".join(f"{label}{counts[key]}件" for key, label in UnsatisfiedOutcome.choices if counts.get(key))
    return f"首轮测评办理结果为“不满意”的{total}件，其中{parts}（满意率等按最后一轮测评计算）。"


def basics(session, unit, values: dict, classes: list, unsatisfied: dict | None = None) -> list[str]:
    """基本情况: every number computed from the records."""
    v = values
    word = _kind_word(session)
    text = (
        f"{session.year}年，{unit.name}办理{session.name}{word}共{v['assigned'].value}件"
        f"（包括主办件{v['lead_count'].value}件、分办件{v['split_count'].value}件、会办件{v['co_count'].value}件），"
        f"已办结{v['close_rate'].numerator}件，办结率{_rate(v['close_rate'])}。"
    )
    answering = v["reply_rate"].denominator or 0
    if answering:
        text += (
            f"主办、分办件{answering}件中，已答复{v['reply_rate'].numerator}件，答复率{_rate(v['reply_rate'])}；"
            f"按时答复{v['on_time_rate'].numerator}件，按时办结率{_rate(v['on_time_rate'])}；"
            f"答复前与提案人沟通的{v['contact_rate'].numerator}件，沟通率{_rate(v['contact_rate'])}。"
        )
    ratings = v["ratings"].value
    if ratings:
        text += (
            f"收到提案人测评{ratings}份，其中“满意”{v['satisfaction_rate'].numerator}份，满意率{_rate(v['satisfaction_rate'])}，"
            f"满意及基本满意率{_rate(v['basic_satisfaction_rate'])}。"
        )
    out = [text]
    if unsatisfied_sentence(unsatisfied or {}):
        out.append(unsatisfied_sentence(unsatisfied or {}))
    if classes:
        out.append("答复类别：" + "，".join(f"{code}类{n}件" for code, n in classes) + "。")
    if v["fulfilment_rate"].denominator:
        out.append(
            f"答复中承诺的落实事项到期{v['fulfilment_rate'].denominator}项，已落实{v['fulfilment_rate'].numerator}项，"
            f"落实率{_rate(v['fulfilment_rate'])}。"
        )
    return out


PRACTICE_VERBS = ("approve_reply", "return_reply", "send_co_opinion", "approve_co_opinion", "request_extension")


def practices_from_records(sl: figures.Slice) -> list[str]:
    """主要做法 as the records show it: contacts by phase and method, review steps, co-opinions, supervision."""
    contacts = list(ContactRecord.objects.filter(sl.q("assignment__")).order_by()
                    .values_list("phase", "method").annotate(n=Count("pk")))
    # Only the steps the paragraphs name are counted (a session's every event was read: the area summary of a
    # 327k-assignment session counted 2M events, 2.2 s; these verbs, 1.1 s).
    verbs = dict(Event.objects.filter(sl.q("assignment__"), verb__in=PRACTICE_VERBS).order_by().values_list("verb")
                 .annotate(n=Count("pk")))
    out = []
    if contacts:
        total = sum(n for _, _, n in contacts)
        by_phase, by_method = {}, {}
        for phase, method, n in contacts:
            by_phase[phase] = by_phase.get(phase, 0) + n
            by_method[method] = by_method.get(method, 0) + n
        phases = "、".join(f"{ContactPhase(p).label}{by_phase[p]}次" for p in ContactPhase.values if by_phase.get(p))
        methods = "、".join(f"{ContactMethod(m).label}{n}次" for m, n in sorted(by_method.items(), key=lambda x: -x[1]))
        out.append(f"（一）加强沟通联系。与提案人沟通{total}次，其中{phases}；方式包括{methods}。")
    approved, returned = verbs.get("approve_reply", 0), verbs.get("return_reply", 0)
    if approved or returned:
        out.append(f"（{CN_NUM[len(out)]}）严格审核把关。答复函经科室、办公室核稿、领导审签逐级审核{approved + returned}次，"
                   f"其中退回修改{returned}次。")
    # A 会办意见 reaches the lead either sent directly or signed off by the co unit's leader.
    co_sent = verbs.get("send_co_opinion", 0) + verbs.get("approve_co_opinion", 0)
    if co_sent:
        out.append(f"（{CN_NUM[len(out)]}）认真做好会办。按时向主办单位送达会办意见{co_sent}件。")
    extensions = verbs.get("request_extension", 0)
    if extensions:
        out.append(f"（{CN_NUM[len(out)]}）强化时限管理。对确需延期的事项按程序申请延期{extensions}次。")
    return out


_REPLY_OPENING = re.compile(r"^.*?(?:答复如下|报告如下|函复如下)[：:]")


def _measures(reply_body: str) -> str:
    """The measures of a reply letter, without its salutation and opening courtesies."""
    body = re.sub(r"\s+", "", reply_body or "")
    match = _REPLY_OPENING.match(body)
    return body[match.end():] if match else body


def _points(text: str, limit: int = 160) -> str:
    text = re.sub(r"\s+", "", text or "")
    return text if len(text) <= limit else text[:limit] + "……"


def typical_cases(session, unit, draft) -> list[str]:
    """典型案例: the items the unit marked (else its key items), quoting the proposal and the reply."""
    chosen = list(draft.typical.all()) if draft is not None and draft.pk else []
    if not chosen:
        sl = figures.Slice(session_id=session.pk, unit_id=unit.pk).resolve()
        chosen = list(Assignment.objects.filter(sl.q()).filter(figures.ANSWERING, proposal__is_key=True)[:5])
    if not chosen:
        return []
    ids = [a.pk for a in chosen]
    chosen = list(Assignment.objects.filter(pk__in=ids).select_related("proposal").prefetch_related(
        "proposal__proposer_links__proposer").order_by("proposal__number"))
    replies = {}
    for reply in Reply.objects.filter(assignment_id__in=ids, state="sent").order_by("round", "version"):
        replies[reply.assignment_id] = reply  # the last sent one wins
    results = {}
    for fb in Feedback.objects.filter(assignment_id__in=ids).select_related("proposer").order_by("round", "id"):
        results.setdefault(fb.assignment_id, {})[fb.proposer.name] = fb.get_result_display()
    out = []
    for i, a in enumerate(chosen):
        p = a.proposal
        lead = next((link.proposer.name for link in p.proposer_links.all() if link.is_lead), "")
        reply = replies.get(a.pk)
        text = f"（{CN_NUM[i % 10]}）{lead + '提出的' if lead else ''}《{p.title}》（第{p.number}号）。"
        if p.body:
            text += f"提案提出：{_points(p.body)}"
        role = "主办" if a.role == AssignmentRole.LEAD else "分办"
        if reply is not None:
            text += f"{unit.name}作为{role}单位，认真办理和答复：{_points(_measures(reply.body), 240)}"
        for name, result in (results.get(a.pk) or {}).items():
            text += f"{name}对办理答复工作给予“{result}”评价。"
        out.append(text)
    return out


def problems_from_records(values: dict) -> list[str]:
    """存在问题, prefilled from what went wrong: overdue and late replies, unsatisfied ratings, open commitments."""
    items = []
    late = values["late"].value + values["overdue"].value
    if late:
        items.append(f"个别事项答复不够及时，有{late}件未在答复期限内答复")
    if values["unsatisfied"].value:
        items.append(f"办理质量仍需提高，有{values['unsatisfied'].value}份测评为“不满意”")
    fr = values["fulfilment_rate"]
    if fr.denominator and fr.numerator < fr.denominator:
        items.append(f"部分承诺事项落实不到位，到期未落实{fr.denominator - fr.numerator}项")
    if not items:
        return ["【办理记录未显示逾期、不满意或未落实的情况；如有其他问题，请在此填写。】"]
    return ["；".join(f"{CN_NUM[i]}是{t}" for i, t in enumerate(items)) + "。"]


def self_evaluation(session, unit) -> list[str]:
    """自评, from the score: base, each bonus and deduction line, the cap and the total."""
    try:
        result = scoring.score(session, unit, with_items=False)  # the sentence only
    except DomainError as exc:
        return [exc.message]
    base = next((ln for ln in result.lines if ln.kind == "base"), None)
    bonus = [ln for ln in result.lines if ln.kind == "bonus" and ln.points]
    deductions = [ln for ln in result.lines if ln.kind == "deduction" and ln.points]
    text = f"依据《{result.rule_set.name}》，" if result.rule_set else ""
    if base is not None:
        text += f"自评基础分{scoring.fmt(base.points)}分（{base.evidence}）。"
    if bonus:
        text += f"加分项共{scoring.fmt(sum(ln.points for ln in bonus))}分（" + "；".join(
            f"{i}.{ln.item}：{ln.evidence}，加{scoring.fmt(ln.points)}分" for i, ln in enumerate(bonus, 1)) + "）。"
    if deductions:
        text += "扣分项共{}分（".format(scoring.fmt(-sum(ln.points for ln in deductions))) + "；".join(
            f"{ln.item}：{ln.evidence}" for ln in deductions) + "）。"
    text += f"总分上限{scoring.fmt(result.cap)}分，自评得分{scoring.fmt(result.total)}分。"
    return [text]


def build(session, unit, draft=None, *, today: dt.date | None = None) -> Summary:
    """The whole summary of a unit for a session: computed sections plus the unit's own text."""
    sl = figures.Slice(session_id=session.pk, unit_id=unit.pk, as_of=today).resolve()
    src = aggregates.source_for(sl)  # the maintained cells where they answer the slice
    values = src.compute(sl)
    classes = src.reply_classes(sl)
    word = _kind_word(session)
    base = basics(session, unit, values, classes, figures.first_round_unsatisfied(sl))
    practices = practices_from_records(sl)
    own_practices = [t for t in (draft.practices.splitlines() if draft and draft.practices else []) if t.strip()]
    problems = [t for t in (draft.problems.splitlines() if draft and draft.problems else []) if t.strip()]
    next_steps = [t for t in (draft.next_steps.splitlines() if draft and draft.next_steps else []) if t.strip()]
    sections = [
        ("一、基本情况", base),
        ("二、主要做法", practices + (own_practices or [PRACTICES_PLACEHOLDER])),
        ("三、典型案例", typical_cases(session, unit, draft) or ["【请在本页勾选本单位的典型案例。】"]),
        ("四、存在问题", problems or problems_from_records(values)),
        ("五、下一步打算", next_steps or [NEXT_PLACEHOLDER]),
        ("六、自评情况", self_evaluation(session, unit)),
    ]
    return Summary(
        unit=unit, session=session, title=f"{unit.name}关于{session.name}{word}办理工作总结",
        addressee=(draft.addressee if draft else "") or session.assigning_office.name,
        opening=(f"{session.year}年，{unit.name}认真办理{session.name}{word}，现将办理情况报告如下。"),
        sections=sections, basics=base, date=today or timezone.localdate(),
    )
