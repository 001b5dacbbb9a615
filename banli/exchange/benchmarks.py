"""Benchmarks of the exchange app (`make bench`): the ledger export of 100,000 rows, in memory and time.

Rows are bulk-inserted (the benchmark measures the export, not the services). Memory is measured two ways:
the peak of Python allocations during the export (tracemalloc) and the process's peak resident size
(resource.getrusage), which includes Django and the data set in the database cache.
"""
from __future__ import annotations

import datetime as dt
import os
import resource
import tempfile
import time
import tracemalloc

from django.utils import timezone

from banli.exchange import ledger
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment
from banli.organizations.choices import UnitKind
from banli.organizations.models import Unit
from banli.proposals.models import Proposal, ProposalProposer, Proposer, Session

ROWS = int(os.environ.get("BANLI_BENCH_LEDGER_ROWS", "100000"))


def _seed(n: int):

    office = Unit.objects.create(name="基准交办机构", kind=UnitKind.ASSIGNING_OFFICE)
    units = [Unit.objects.create(name=f"基准单位{i}") for i in range(20)]
    session = Session.objects.create(name="基准届次", body="cppcc", level="city", year=2025, assigning_office=office)
    proposers = Proposer.objects.bulk_create([Proposer(name=f"委员{i}") for i in range(200)])
    now = timezone.now()
    batch = 5000
    for start in range(0, n, batch):
        proposals = Proposal.objects.bulk_create([
            Proposal(session=session, number=f"{i:07d}", title=f"关于第{i}项民生事项的提案" + "（说明）" * 5,
                     category="城建", status="handling")
            for i in range(start, min(start + batch, n))
        ])
        ProposalProposer.objects.bulk_create([
            ProposalProposer(proposal=p, proposer=proposers[i % 200], is_lead=True) for i, p in enumerate(proposals)
        ])
        Assignment.objects.bulk_create([
            Assignment(proposal=p, unit=units[i % 20], role=AssignmentRole.LEAD, state=AssignmentState.IN_PROGRESS, assigned_at=now,
                       signed_at=now, reply_due=dt.date(2025, 6, 30), opinion_due=dt.date(2025, 5, 31))
            for i, p in enumerate(proposals)
        ])
    return session


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bench_ledger_export_100k():
    """Time and peak resident memory of the .xlsx and CSV exports (no tracing, so the time is real)."""
    _seed(ROWS)
    yield "exchange.ledger_seeded_process_max_rss", _rss_mb(), "MB"
    qs = Assignment.objects.order_by("proposal__number", "id")
    for fmt in ("xlsx", "csv"):
        started = time.perf_counter()
        rows = ledger.ledger_rows(qs)
        if fmt == "xlsx":
            with tempfile.TemporaryFile() as handle:
                ledger.write_xlsx(rows, handle)
                size = handle.tell()
        else:
            size = sum(len(line.encode("utf-8")) for line in ledger.csv_lines(rows))
        yield f"exchange.ledger_{fmt}_{ROWS}_rows_seconds", round(time.perf_counter() - started, 2), "s"
        yield f"exchange.ledger_{fmt}_{ROWS}_rows_file", round(size / 1024 / 1024, 1), "MB"
        yield f"exchange.ledger_{fmt}_{ROWS}_rows_process_max_rss", _rss_mb(), "MB"
    # The download as it streams (xlsx_chunks): the first bytes, the whole file, against openpyxl write-only (above).
    started = time.perf_counter()
    chunks = ledger.xlsx_chunks(ledger.ledger_rows(qs))
    size = len(next(chunks))
    yield f"exchange.ledger_xlsx_stream_{ROWS}_rows_first_byte_ms", round((time.perf_counter() - started) * 1000, 1), "ms"
    size += sum(len(chunk) for chunk in chunks)
    yield f"exchange.ledger_xlsx_stream_{ROWS}_rows_seconds", round(time.perf_counter() - started, 2), "s"
    yield f"exchange.ledger_xlsx_stream_{ROWS}_rows_file", round(size / 1024 / 1024, 1), "MB"
    yield f"exchange.ledger_xlsx_stream_{ROWS}_rows_process_max_rss", _rss_mb(), "MB"
    # Python allocations of one chunked pass (tracemalloc slows the run down, so it is measured on its own).
    tracemalloc.start()
    for _ in ledger.ledger_rows(qs[:20_000]):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    yield "exchange.ledger_rows_20000_python_peak", round(peak / 1024 / 1024, 1), "MB"
