"""The assignment notice (交办通知) of a unit: its list of items in a session, as .docx and .xlsx."""
from __future__ import annotations

import io

from banli.core.cells import safe_row
from banli.exchange.documents import notice_docx
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment
from banli.organizations.models import Unit


def rows_for(session, unit) -> list[dict]:
    assignments = (Assignment.objects.filter(proposal__session=session, unit=unit, parent__isnull=True)
                   .exclude(state=AssignmentState.WITHDRAWN).select_related("proposal").order_by("proposal__number", "id"))
    return [{"number": a.proposal.number, "title": a.proposal.title, "role": a.get_role_display(),
             "reply_due": a.reply_due if a.role != AssignmentRole.CO else a.opinion_due,
             "sign_due": a.sign_due, "category": a.proposal.category} for a in assignments]


def units_of(session) -> list[tuple[Unit, int]]:
    ids = (Assignment.objects.filter(proposal__session=session, parent__isnull=True).exclude(state=AssignmentState.WITHDRAWN)
           .values_list("unit_id", flat=True))
    counts: dict[int, int] = {}
    for unit_id in ids:
        counts[unit_id] = counts.get(unit_id, 0) + 1
    return [(u, counts[u.pk]) for u in Unit.objects.filter(pk__in=counts).order_by("sort_order", "id")]


def notice_docx_for(session, unit) -> bytes:
    return notice_docx(session=session, unit=unit, rows=rows_for(session, unit))


def notice_xlsx_for(session, unit) -> bytes:
    from openpyxl import Workbook  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written
    from openpyxl.styles import Font  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written

    wb = Workbook()
    ws = wb.active
    ws.title = "交办清单"
    ws.append(safe_row([f"{session.name} 交办清单（{unit.name}）"]))
    ws["A1"].font = Font(bold=True, size=14)
    headers = ["序号", "编号", "案由", "办理方式", "签收期限", "答复（会办意见）期限", "类别"]
    ws.append(headers)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for i, row in enumerate(rows_for(session, unit), start=1):
        ws.append(safe_row([i, row["number"], row["title"], row["role"], row["sign_due"], row["reply_due"], row["category"]]))
        for cell in ws[ws.max_row][4:6]:
            cell.number_format = "yyyy-mm-dd"
    for letter, width in zip("ABCDEFG", [6, 14, 50, 10, 12, 18, 12]):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
