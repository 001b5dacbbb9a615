"""The area-wide handling summary (全区办理工作总结) an assigning office writes for a session, like seed 001:
the whole area's handling, its totals, one table row per unit, each unit's 自评 with its bonus lines.

Every number is computed from the records (banli.reports.figures and scoring), none is typed in.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.utils import timezone
from docx.shared import Pt

from banli.core.errors import DomainError
from banli.organizations.models import Unit
from banli.reports import aggregates, documents, figures, scoring, summary

UNIT_COLUMNS = ["承办单位", "交办件数", "主办", "分办", "会办", "答复率", "按时办结率", "满意率", "办结率", "考核得分"]


@dataclass
class AreaSummary:
    """Everything the area summary page and its .docx show, in order."""

    session: object
    office: object
    title: str
    addressee: str
    opening: str
    sections: list[tuple[str, list[str]]]
    unit_rows: list[list[str]]
    scores: list[str]
    date: dt.date
    totals: dict = field(default_factory=dict)
    unit_ids: list[int] = field(default_factory=list)  # the unit of each of unit_rows, in order


def _score_line(session, unit) -> tuple[str, str]:
    """A unit's 自评 in one sentence (base, each bonus line, deductions, total) and its total for the table."""
    try:
        result = scoring.score(session, unit, with_items=False)  # the area summary shows the sentence only
    except DomainError as exc:
        return f"{unit.name}：{exc.message}", "—"
    base = next((ln for ln in result.lines if ln.kind == "base"), None)
    bonus = [ln for ln in result.lines if ln.kind == "bonus" and ln.points]
    deductions = [ln for ln in result.lines if ln.kind == "deduction" and ln.points]
    text = f"{unit.name}："
    if base is not None:
        text += f"基础分{scoring.fmt(base.points)}分（{base.evidence}）"
    if bonus:
        text += "；加分" + "、".join(f"{ln.item}{scoring.fmt(ln.points)}分（{ln.evidence}）" for ln in bonus)
    if deductions:
        text += "；扣分" + "、".join(f"{ln.item}{scoring.fmt(-ln.points)}分（{ln.evidence}）" for ln in deductions)
    text += f"；自评{scoring.fmt(result.total)}分（上限{scoring.fmt(result.cap)}分）。"
    return text, scoring.fmt(result.total)


def build(session, *, today: dt.date | None = None) -> AreaSummary:
    """The area summary of `session` for its assigning office: totals, a row per unit, each unit's 自评."""
    office = session.assigning_office
    word = summary._kind_word(session)
    sl = figures.Slice(session_id=session.pk, as_of=today).resolve()
    src = aggregates.source_for(sl)  # the maintained cells where they answer the slice
    values = src.compute(sl)
    classes = src.reply_classes(sl)
    area = office.parent if office.parent_id else office
    area_name = "全区" if office.parent_id is None else area.name
    base = summary.basics(session, SimpleNamespace(name=area_name), values, classes,
                          figures.first_round_unsatisfied(sl))
    by_unit = src.compute_grouped(sl, "unit")
    units = {u.pk: u for u in Unit.objects.filter(pk__in=[k for k in by_unit if k])}
    rows, scores, unit_ids = [], [], []
    for unit in sorted(units.values(), key=lambda u: (-by_unit[u.pk]["assigned"].value, u.name)):
        v = by_unit[unit.pk]
        score_text, total = _score_line(session, unit)
        scores.append(score_text)
        unit_ids.append(unit.pk)
        rows.append([unit.name, str(v["assigned"].value), str(v["lead_count"].value), str(v["split_count"].value),
                     str(v["co_count"].value), summary._rate(v["reply_rate"]), summary._rate(v["on_time_rate"]),
                     summary._rate(v["satisfaction_rate"]), summary._rate(v["close_rate"]), total])
    unit_text = [f"本届次共交办{len(rows)}个承办单位，各单位办理情况见下表。"]
    sections = [
        ("一、基本情况", base),
        ("二、各单位办理情况", unit_text),
        ("三、主要做法", summary.practices_from_records(sl) or [summary.PRACTICES_PLACEHOLDER]),
        ("四、存在问题", summary.problems_from_records(values)),
        ("五、自评及加分情况", scores or ["本届次尚无承办单位。"]),
    ]
    return AreaSummary(
        session=session, office=office, title=f"{office.name}关于{session.name}{word}办理工作总结",
        addressee=area.name if area is not office else "【报送机关】",
        opening=f"{session.year}年，{area_name}认真办理{session.name}{word}，现将办理情况报告如下。",
        sections=sections, unit_rows=rows, scores=scores, date=today or timezone.localdate(),
        totals={k: values[k] for k in ("assigned", "reply_rate", "on_time_rate", "satisfaction_rate", "close_rate")},
        unit_ids=unit_ids,
    )


def area_docx(built: AreaSummary) -> bytes:
    """The area summary in the official layout, with the per-unit table after 二、各单位办理情况."""

    document, gb = documents._gb_document()
    documents._title(document, gb, built.title)
    documents._line(document, gb, f"{built.addressee}：", left=True)
    documents._line(document, gb, built.opening)
    for heading, paragraphs in built.sections:
        gb.add_body(document, heading)
        for text in paragraphs:
            gb.add_body(document, text)
        if heading.startswith("二、"):
            table = document.add_table(rows=1, cols=len(UNIT_COLUMNS))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, UNIT_COLUMNS):
                gb.set_run_font(cell.paragraphs[0].add_run(text), gb.FONT_HEADING_1, Pt(10.5))
            for row in built.unit_rows:
                for cell, text in zip(table.add_row().cells, row):
                    gb.set_run_font(cell.paragraphs[0].add_run(text), gb.FONT_BODY, Pt(10.5), latin=gb.FONT_LATIN)
    documents._sign_off(document, gb, built.office.name, documents._cn_date(built.date))
    return documents._to_bytes(document)
