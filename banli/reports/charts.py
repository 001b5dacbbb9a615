"""Dashboard charts: each one is a table of numbers (shown as a table, exported as .xlsx, drawn by ECharts).

A chart's table is the single source: the page embeds it as JSON for ECharts, prints it as an HTML table and
the export writes the same rows to a workbook, so the three can never disagree.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Callable

from django.conf import settings

from banli.core.cells import safe_row
from banli.handling.workflow import STATES
from banli.organizations.models import Unit
from banli.replies.choices import NATIONAL_REPLY_CLASSES, Rating
from banli.reports import figures
from banli.reports.figures import Slice

STATE_LABELS = None


@dataclass
class Table:
    """Columns and rows of a chart; `kind` tells the page how to draw it."""

    key: str
    title: str
    columns: list[str]
    rows: list[list]
    kind: str = "bar"  # bar | pie | line | rank
    note: str = ""
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"key": self.key, "title": self.title, "columns": self.columns, "rows": self.rows,
                "kind": self.kind, "extra": self.extra}


def min_rank_sample() -> int:
    return int(getattr(settings, "REPORTS_MIN_RANK_SAMPLE", 3))


def _progress(sl: Slice, opts: dict, src=figures) -> Table:
    rows = [[STATES[key].label, n] for key, n in src.states(sl)]
    return Table("progress", "办理进度（按状态）", ["状态", "件数"], rows, kind="bar")


def _classes(sl: Slice, opts: dict, src=figures) -> Table:
    labels = dict(NATIONAL_REPLY_CLASSES)
    rows = [[f"{code}类" + (f" {labels[code]}" if code in labels else ""), n] for code, n in src.reply_classes(sl)]
    return Table("classes", "答复类别", ["类别", "件数"], rows, kind="pie")


def _ratings(sl: Slice, opts: dict, src=figures) -> Table:
    rows = [[Rating(key).label, n] for key, n in src.ratings(sl)]
    return Table("ratings", "测评结果（按提案人逐人计，最后一轮）", ["办理结果", "测评数"], rows, kind="pie")


def _overdue(sl: Slice, opts: dict, src=figures) -> Table:
    rows = [[day.isoformat(), n] for day, n in src.overdue_by_week(sl, weeks=int(opts.get("weeks") or 12))]
    return Table("overdue", "逾期未答复趋势（每周末）", ["周末日期", "逾期件数"], rows, kind="line",
                 note="每周末已过答复期限、当时仍未答复的主办、分办件。")


def _categories(sl: Slice, opts: dict, src=figures) -> Table:
    rows = [[c, n] for c, n in src.categories(sl)]
    return Table("categories", "类别分布", ["类别", "件数"], rows, kind="pie")


RANKABLE = ["on_time_rate", "reply_rate", "satisfaction_rate", "basic_satisfaction_rate", "close_rate",
            "contact_rate", "fulfilment_rate"]


def _rank(sl: Slice, opts: dict, src=figures) -> Table:
    """Rates by unit (or, inside one unit, by lead section), ranked; too small samples are listed unranked."""
    rate = opts.get("rate") if opts.get("rate") in RANKABLE else "on_time_rate"
    minimum = int(opts.get("min") or min_rank_sample())
    group = "lead_section" if sl.unit_id else "unit"
    groups = src.compute_grouped(sl, group)
    names = dict(Unit.objects.filter(pk__in=[g for g in groups if g]).values_list("pk", "name"))
    entries = []
    for gid, values in groups.items():
        v = values[rate]
        sample = v.denominator or 0
        entries.append((names.get(gid, "未分配科室"), v.value, sample, values["assigned"].value))
    ranked = sorted([e for e in entries if e[2] >= minimum and e[1] is not None], key=lambda e: (-e[1], -e[2], e[0]))
    unranked = sorted([e for e in entries if not (e[2] >= minimum and e[1] is not None)], key=lambda e: e[0])
    rows = [[i + 1, name, value, sample, total] for i, (name, value, sample, total) in enumerate(ranked)]
    rows += [["不排名", name, value, sample, total] for name, value, sample, total in unranked]
    figure = figures.FIGURES[rate]
    who = "科室" if group == "lead_section" else "单位"
    return Table("rank", f"各{who}{figure.name}排名", ["名次", who, f"{figure.name}(%)", "样本数", "交办件数"], rows,
                 kind="rank", note=f"样本数为该比率的分母；样本数少于 {minimum} 的{who}不参与排名。{figure.formula}",
                 extra={"rate": rate, "min": minimum, "choices": [[k, figures.FIGURES[k].name] for k in RANKABLE]})


CHARTS: dict[str, Callable[[Slice, dict], Table]] = {
    "progress": _progress,
    "rank": _rank,
    "classes": _classes,
    "ratings": _ratings,
    "overdue": _overdue,
    "categories": _categories,
}


def build(key: str, sl: Slice, opts: dict | None = None, src=figures) -> Table:
    """One chart; `src` answers the counts (figures over the raw rows, or banli.reports.aggregates' cells)."""
    return CHARTS[key](sl, opts or {}, src)


def build_all(sl: Slice, opts: dict | None = None, src=figures) -> list[Table]:
    sl = sl.resolve()
    return [fn(sl, opts or {}, src) for fn in CHARTS.values()]


def to_xlsx(tables: list[Table], *, heading: str = "") -> bytes:
    """The tables as a workbook, one sheet each, with the heading and the note under the numbers."""
    from openpyxl import Workbook  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written
    from openpyxl.styles import Font  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written
    from openpyxl.utils import get_column_letter  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written

    wb = Workbook()
    wb.remove(wb.active)
    for table in tables:
        ws = wb.create_sheet(title=table.title[:31].replace("/", "、"))
        ws.append(safe_row([heading or table.title]))
        ws["A1"].font = Font(bold=True, size=13)
        ws.append(safe_row(table.columns))
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            ws.append(safe_row("" if v is None else v for v in row))
        if table.note:
            ws.append([])
            ws.append(safe_row([table.note]))
        for i, _ in enumerate(table.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = 18 if i > 1 else 22
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
