"""The ledger (台账) in the office column layout, as rows for .xlsx and CSV, computed chunk by chunk.

Rows are made from the assignments in chunks (one query per chunk for proposers, their phones, who may see
them in full, co/lead units, reply classes and ratings), so an export of any size holds one chunk in memory;
the .xlsx download and the CSV stream as they are made (xlsx_chunks, csv_lines); write_xlsx (openpyxl, write-only)
stays for files written to disk.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections import defaultdict
from typing import Iterator

from django.db.models import BooleanField, ExpressionWrapper, QuerySet
from django.utils import timezone

from banli.core import pii
from banli.core.cells import safe_row
from banli.exchange.xlsx_stream import stream_xlsx
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment
from banli.handling.workflow import state_label
from banli.ledger.selectors import overdue_q
from banli.proposals.models import Proposal, ProposalProposer, Proposer
from banli.replies.choices import ReplyState, UnsatisfiedOutcome
from banli.replies.models import Feedback, Reply
from banli.replies.selectors import unsatisfied_outcome

# (header, column width in characters)
LEDGER_COLUMNS = [
    ("序号", 6), ("届次", 24), ("提案号", 12), ("案由", 48), ("提案人", 20), ("主办单位", 22), ("会办单位", 28),
    ("承办科室", 14), ("承办人", 10), ("签收时间", 12), ("答复时间", 12), ("答复类别", 9), ("满意度", 10),
    ("状态", 12), ("是否逾期", 9), ("并案", 20), ("首轮不满意处理", 18), ("提案人电话", 30),
]
# Personal information in the ledger: shown in full only to whom banli.core.pii allows, masked for the rest.
PHONE_COLUMN = "提案人电话"
HEADERS = [name for name, _ in LEDGER_COLUMNS]
DATE_COLUMNS = {"签收时间", "答复时间"}
CHUNK = 2000
RATING_ORDER = {"unsatisfied": 0, "basic": 1, "satisfied": 2}
RATING_LABELS = {"unsatisfied": "不满意", "basic": "基本满意", "satisfied": "满意"}


def _local_date(value) -> dt.date | None:
    return timezone.localdate(value) if value else None


def _worst_rating(results: list[str]) -> str:
    if not results:
        return ""
    return RATING_LABELS[min(results, key=RATING_ORDER.__getitem__)]


def _unsatisfied_label(assignment, ratings: dict) -> str:
    """首轮不满意处理: what became of an item rated 不满意 in the first round ("" for the others)."""
    outcome = unsatisfied_outcome(round=assignment.round, state=assignment.state, results_by_round=ratings)
    return UnsatisfiedOutcome(outcome).label if outcome else ""


def _chunk_rows(chunk: list[Assignment], start: int, today: dt.date, viewer, seen, phone_cache) -> list[list]:
    proposal_ids = {a.proposal_id for a in chunk}
    ids = [a.pk for a in chunk]
    proposers: dict[int, list[str]] = defaultdict(list)
    links: dict[int, list[int]] = defaultdict(list)
    for pid, proposer_id, name in (ProposalProposer.objects.filter(proposal_id__in=proposal_ids)
                                   .order_by("proposal_id", "position")
                                   .values_list("proposal_id", "proposer_id", "proposer__name")):
        proposers[pid].append(name)
        links[pid].append(proposer_id)
    # Each proposer's phone is decrypted once per export, however many items he signed.
    wanted = {i for ids in links.values() for i in ids} - phone_cache.keys()
    if wanted:
        phone_cache.update(Proposer.objects.filter(pk__in=wanted).values_list("pk", "phone"))
    phones = {pid: [(i, phone_cache[i]) for i in ids if phone_cache.get(i)] for pid, ids in links.items()}
    full = pii.full_view_proposers(viewer, {i for pairs in phones.values() for i, _ in pairs}) if viewer else set()

    lead_units: dict[int, list[str]] = defaultdict(list)
    co_units: dict[int, list[str]] = defaultdict(list)
    for pid, role, name in (Assignment.objects.filter(proposal_id__in=proposal_ids).exclude(state=AssignmentState.WITHDRAWN)
                            .order_by("proposal_id", "id").values_list("proposal_id", "role", "unit__name")):
        (co_units if role == AssignmentRole.CO else lead_units)[pid].append(name)
    classes: dict[int, str] = {}
    for aid, code in (Reply.objects.filter(assignment_id__in=ids, state=ReplyState.SENT)
                      .order_by("assignment_id", "round", "version").values_list("assignment_id", "reply_class")):
        classes[aid] = code  # the last sent version wins
    ratings: dict[tuple[int, int], list[str]] = defaultdict(list)
    rounds_of: dict[int, dict[int, list[str]]] = defaultdict(dict)
    for aid, rnd, result in Feedback.objects.filter(assignment_id__in=ids).values_list("assignment_id", "round", "result"):
        ratings[(aid, rnd)].append(result)
        rounds_of[aid][rnd] = ratings[(aid, rnd)]
    merged = _merge_labels(proposal_ids)
    rows = []
    for offset, a in enumerate(chunk):
        p = a.proposal
        own = a.unit.name
        if seen is not None:
            shown_full = sum(1 for i, _ in phones.get(p.pk, []) if i in full)
            seen["pii_full"] += shown_full
            seen["pii_masked"] += len(phones.get(p.pk, [])) - shown_full
        lead = [own] if a.role != AssignmentRole.CO else lead_units[p.pk]
        co = [own] if a.role == AssignmentRole.CO else co_units[p.pk]
        rows.append([
            start + offset,
            p.session.name,
            p.number,
            p.title,
            "、".join(proposers[p.pk]),
            "、".join(lead),
            "、".join(co),
            a.lead_section.name if a.lead_section_id else "",
            a.handler.label if a.handler_id else "",
            _local_date(a.signed_at),
            _local_date(a.replied_at or a.opinion_sent_at),
            classes.get(a.pk, ""),
            _worst_rating(ratings.get((a.pk, a.round), [])),
            state_label(a.state),
            "是" if a.export_overdue else "否",
            merged.get(p.pk, ""),
            _unsatisfied_label(a, rounds_of.get(a.pk, {})),
            "、".join(pii.export_value(phone, "phone", i in full) for i, phone in phones.get(p.pk, [])),
        ])
    return rows


def _merge_labels(proposal_ids) -> dict[int, str]:
    """并案 of each proposal: "并入第N号" for a merged item, "主件（第M、K号并入）" for a group's head."""
    labels = {pk: f"并入第{number}号" for pk, number in Proposal.objects.filter(
        pk__in=proposal_ids, merged_with__isnull=False).values_list("pk", "merged_with__number")}
    items: dict[int, list[str]] = defaultdict(list)
    for head, number in (Proposal.objects.filter(merged_with_id__in=proposal_ids)
                         .order_by("merged_with_id", "number").values_list("merged_with_id", "number")):
        items[head].append(f"第{number}号")
    labels.update({head: f"主件（{'、'.join(numbers)}并入）" for head, numbers in items.items()})
    return labels


def ledger_rows(queryset: QuerySet, *, viewer=None, today: dt.date | None = None, seen: dict | None = None) -> Iterator[list]:
    """The ledger rows of `queryset`, one chunk of assignments at a time.

    Proposers' phones are masked unless `viewer` may see them in full (no viewer: all masked); `seen` counts
    how many values went out in full and masked, for the export's security event.
    """
    today = today or timezone.localdate()

    # Overdue means what the ledger page means by it: the current step's deadline has passed.
    qs = queryset.select_related("proposal__session", "unit", "lead_section", "handler").annotate(
        export_overdue=ExpressionWrapper(overdue_q(today), output_field=BooleanField())
    )
    chunk: list[Assignment] = []
    phone_cache: dict[int, str | None] = {}
    number = 1
    for assignment in qs.iterator(chunk_size=CHUNK):
        chunk.append(assignment)
        if len(chunk) >= CHUNK:
            yield from _chunk_rows(chunk, number, today, viewer, seen, phone_cache)
            number += len(chunk)
            chunk = []
    if chunk:
        yield from _chunk_rows(chunk, number, today, viewer, seen, phone_cache)


def write_xlsx(rows, target, *, title: str = "台账") -> None:
    """Write the ledger to `target` (a path or binary file): frozen header, autofilter, widths, real dates."""
    from openpyxl import Workbook  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written
    from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written
    from openpyxl.styles import Alignment, Font, PatternFill  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written
    from openpyxl.utils import get_column_letter  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    for index, (_, width) in enumerate(LEDGER_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE4EE")
    header = []
    for name in HEADERS:
        cell = WriteOnlyCell(ws, value=name)
        cell.font, cell.fill, cell.alignment = bold, fill, Alignment(horizontal="center", vertical="center")
        header.append(cell)
    ws.append(header)
    date_indexes = [i for i, name in enumerate(HEADERS) if name in DATE_COLUMNS]
    count = 0
    for row in rows:
        for i in date_indexes:
            if row[i] is not None:
                cell = WriteOnlyCell(ws, value=row[i])
                cell.number_format = "yyyy-mm-dd"
                row[i] = cell
        ws.append(safe_row(row))
        count += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{count + 1}"
    wb.save(target)


def xlsx_chunks(rows, *, title: str = "台账") -> Iterator[bytes]:
    """The ledger workbook as it is made (banli.exchange.xlsx_stream): the same layout as write_xlsx, the first
    bytes at once, one chunk of rows in memory."""
    return stream_xlsx(safe_row(HEADERS), (safe_row(row) for row in rows), widths=[w for _, w in LEDGER_COLUMNS],
                       title=title)


def xlsx_tempfile(rows) -> tempfile.SpooledTemporaryFile:
    """The workbook in a temporary file (spooled to disk beyond 8 MB), rewound for streaming."""
    handle = tempfile.TemporaryFile()
    write_xlsx(rows, handle)
    handle.seek(0)
    return handle


def csv_lines(rows) -> Iterator[str]:
    """The ledger as CSV lines, UTF-8 with BOM so that Excel opens the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    writer.writerow(safe_row(HEADERS))
    for row in rows:
        writer.writerow(safe_row("" if v is None else (v.isoformat() if isinstance(v, dt.date) else v) for v in row))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
