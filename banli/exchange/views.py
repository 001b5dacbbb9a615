"""数据交换 pages: import lists and bodies (upload → columns → dry run → import), export the ledger,
print assignment notices, download a session's archive. Views are thin: services write, selectors read."""
from __future__ import annotations

import tempfile
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from banli.core import access
from banli.core.errors import DomainError
from banli.exchange import importer, ledger, notices, services
from banli.exchange.archive import build_archive
from banli.exchange.choices import BatchKind
from banli.exchange.models import ImportBatch
from banli.ledger.filtersets import filtered_ledger
from banli.organizations.models import Unit
from banli.proposals.choices import KIND_OF_BODY, ProposalKind
from banli.proposals.models import Session

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _office_sessions(user):
    """Sessions the user imports into and exports notices and archives of: their assigning office only."""
    return access.restrict(Session.objects.select_related("assigning_office"), user, "assign")


def _office_session(user, pk) -> Session:
    session = _office_sessions(user).filter(pk=pk).first()
    if session is None:
        raise Http404("找不到该届次，或您不是它的交办机构。")
    return session


def _batch(user, pk) -> ImportBatch:
    batch = ImportBatch.objects.select_related("session__assigning_office").filter(pk=pk).first()
    if batch is None or not _office_sessions(user).filter(pk=batch.session_id).exists():
        raise Http404("找不到该导入批次。")
    return batch


def _attachment(response, filename: str):
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def _upload(request, name="file"):
    upload = request.FILES.get(name)
    if upload is None:
        raise DomainError("请选择要上传的文件。")

    if upload.size > settings.BANLI_UPLOAD_MAX_BYTES:
        raise DomainError(
            f"文件「{upload.name}」大小为 {upload.size / 1024 / 1024:.1f} MB，超过上传上限 "
            f"{settings.BANLI_UPLOAD_MAX_BYTES / 1024 / 1024:.0f} MB。"
        )
    return upload.name, upload.read()


@login_required
@require_GET
def index(request):
    sessions = _office_sessions(request.user)
    recent = ImportBatch.objects.filter(session__in=sessions).select_related("session")[:10]
    return render(request, "exchange/index.html", {"sessions": sessions, "recent": recent})


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    sessions = _office_sessions(request.user)
    if not sessions.exists():
        raise DjangoPermissionDenied("只有交办机构才能导入交办清单。")
    error = None
    if request.method == "POST":
        try:
            session = _office_session(request.user, request.POST.get("session") or 0)
            kind = request.POST.get("kind") or ProposalKind.PROPOSAL
            if kind not in ProposalKind.values:
                raise DomainError("请选择提案或建议。")
            filename, data = _upload(request)
            batch = services.batch_create(actor=request.user, session=session, filename=filename, data=data,
                                          proposal_kind=kind)
            return redirect("exchange:import_mapping", batch.pk)
        except DomainError as exc:
            error = exc.message
    # Active sessions first, newest first; each names the kind its body receives, and the form keeps what was
    # posted when it comes back with an error (the kind otherwise follows the first session).
    sessions = list(sessions.order_by("-is_active", "-year", "-id"))
    for s in sessions:
        s.received_kind = KIND_OF_BODY.get(s.body, ProposalKind.PROPOSAL)
    posted = request.POST.get("session", "")
    chosen = next((s for s in sessions if str(s.pk) == posted), sessions[0])
    kind = request.POST.get("kind") if request.POST.get("kind") in ProposalKind.values else chosen.received_kind
    return render(request, "exchange/import_upload.html",
                  {"sessions": sessions, "kinds": ProposalKind.choices, "error": error, "chosen_session": chosen.pk,
                   "chosen_kind": kind}, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request, pk):
    batch = _batch(request.user, pk)
    table = services.batch_table(batch)
    error = None
    if request.method == "POST":
        mapping = {f.key: request.POST.get(f"field_{f.key}", "") for f in importer.FIELDS}
        try:
            services.batch_set_mapping(batch=batch, actor=request.user, mapping=mapping)
            return redirect("exchange:import_preview", batch.pk)
        except DomainError as exc:
            error = exc.message
            batch.mapping = mapping
    fields = [(f, batch.mapping.get(f.key, "")) for f in importer.FIELDS]
    sample = table.rows[:3]
    return render(request, "exchange/import_mapping.html",
                  {"batch": batch, "headers": table.headers, "fields": fields, "sample": sample, "error": error,
                   "remembered": importer.remembered_mapping(table.headers) is not None})


@login_required
@require_http_methods(["GET", "POST"])
def import_preview(request, pk):
    batch = _batch(request.user, pk)
    error = None
    if request.method == "POST":
        try:
            if "answer" in request.POST:
                answers = {key[len("unit_"):]: int(value) for key, value in request.POST.items()
                           if key.startswith("unit_") and value.isdigit()}
                services.batch_answer(batch=batch, actor=request.user, answers=answers,
                                      remember=bool(request.POST.get("remember")))
                return redirect("exchange:import_preview", batch.pk)
            if settings.BANLI_IMPORT_IN_BACKGROUND:
                services.batch_import_start(batch=batch, actor=request.user,
                                            fill_categories=request.POST.get("fill_categories") == "1")
                return redirect("exchange:import_preview", batch.pk)
            counts = services.batch_import(batch=batch, actor=request.user,
                                           fill_categories=request.POST.get("fill_categories") == "1")
            categorized = counts.pop("categorized", 0)
            total = sum(counts.values())
            note = f"其中 {categorized} 件按智能建议填入类别，可在提案页修改。" if categorized else ""
            messages.success(request, f"导入完成：共 {total} 项变化。{note}" if total else "文件与系统中已登记的内容一致，没有需要导入的变化。")
            return redirect("exchange:import_preview", batch.pk)
        except DomainError as exc:
            error = exc.message
    if batch.state in services.RUNNING_STATES:
        # The plan is being carried out: show the progress (polled by htmx), not a plan that is changing.
        return render(request, "exchange/import_running.html",
                      {"batch": batch, "progress": services.batch_progress(batch)})
    plan = services.batch_plan(batch)
    suggested = services.plan_category_suggestions(plan=plan, actor=request.user) if plan.ok else {}
    changes = [(c, suggested.get(c.number) if c.action == "register" else None) for c in plan.changes]
    return render(request, "exchange/import_preview.html",
                  {"batch": batch, "plan": plan, "error": error, "changes": changes, "suggested": suggested},
                  status=400 if error else 200)


@login_required
@require_GET
def import_progress(request, pk):
    """The progress bar of a running import (htmx polls it); once the job has ended the page reloads itself."""
    batch = _batch(request.user, pk)
    if batch.state not in services.RUNNING_STATES:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "exchange/_import_progress.html", {"batch": batch, "progress": services.batch_progress(batch)})


@login_required
@require_http_methods(["GET", "POST"])
def import_bodies(request):
    sessions = _office_sessions(request.user)
    if not sessions.exists():
        raise DjangoPermissionDenied("只有交办机构才能导入提案正文。")
    context = {"sessions": sessions, "kinds": ProposalKind.choices}
    if request.method == "POST":
        try:
            session = _office_session(request.user, request.POST.get("session") or 0)
            kind = request.POST.get("kind") or ProposalKind.PROPOSAL
            if "confirm" in request.POST:
                ids = [int(x) for x in request.POST.getlist("batch") if x.isdigit()]
                batches = [_batch(request.user, i) for i in ids]
                files = [(b.filename, b.file.open("rb").read()) for b in batches]
                plan, written = services.import_bodies(actor=request.user, session=session, files=files,
                                                       proposal_kind=kind)
                if written is None:
                    raise DomainError("；".join(plan.errors))
                messages.success(request, f"已导入 {written} 件的正文。" if written else "正文与已登记的一致，没有变化。")
                return redirect("exchange:import_bodies")
            uploads = request.FILES.getlist("files")
            if not uploads:
                raise DomainError("请选择 Word 文件（.docx）。")
            batches, files = [], []
            for upload in uploads:
                data = upload.read()
                batches.append(services.batch_create(actor=request.user, session=session, filename=upload.name,
                                                     data=data, kind=BatchKind.BODIES, proposal_kind=kind))
                files.append((upload.name, data))
            plan, _ = services.import_bodies(actor=request.user, session=session, files=files, proposal_kind=kind,
                                             dry_run=True)
            context.update(plan=plan, batches=batches, session=session, kind=kind)
        except DomainError as exc:
            context["error"] = exc.message
    return render(request, "exchange/import_bodies.html", context, status=400 if context.get("error") else 200)


# --- ledger export -------------------------------------------------------------------------------


def _ledger_queryset(request):
    filterset = filtered_ledger(request)
    if not filterset.is_valid():
        raise Http404("筛选条件有误。")
    return filterset.qs


@login_required
@require_GET
def ledger_xlsx(request):
    seen = _export_counts()
    rows = ledger.ledger_rows(_ledger_queryset(request), viewer=request.user, seen=seen)
    # Streamed as it is made: the first bytes leave at once, however many rows (core.security logs the export
    # with complete counts once the last chunk has gone out).
    response = StreamingHttpResponse(ledger.xlsx_chunks(rows), content_type=XLSX)
    response.banli_export = seen
    return _attachment(response, f"台账_{timezone.localdate():%Y%m%d}.xlsx")


@login_required
@require_GET
def ledger_csv(request):
    seen = _export_counts()
    rows = ledger.ledger_rows(_ledger_queryset(request), viewer=request.user, seen=seen)
    response = StreamingHttpResponse(ledger.csv_lines(rows), content_type="text/csv; charset=utf-8")
    # Streamed: the security event is written once the last line has gone out (core.security), counts complete.
    response.banli_export = seen
    return _attachment(response, f"台账_{timezone.localdate():%Y%m%d}.csv")


def _export_counts() -> dict:
    """The export event's details: proposers' phones that went out in full and masked (ledger_rows counts)."""
    return {"what": "ledger", "pii_full": 0, "pii_masked": 0}


# --- notices and archive -------------------------------------------------------------------------


@login_required
@require_GET
def notice_list(request, session_id):
    session = _office_session(request.user, session_id)
    return render(request, "exchange/notices.html", {"session": session, "units": notices.units_of(session)})


@login_required
@require_GET
def notice_download(request, session_id, unit_id, fmt):
    session = _office_session(request.user, session_id)
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise Http404("找不到该单位。")
    if fmt == "docx":
        data, content_type = notices.notice_docx_for(session, unit), DOCX
    else:
        data, content_type = notices.notice_xlsx_for(session, unit), XLSX
    return _attachment(HttpResponse(data, content_type=content_type), f"交办通知_{unit.name}.{fmt}")


@login_required
@require_GET
def archive_download(request, session_id):
    session = _office_session(request.user, session_id)
    handle = tempfile.TemporaryFile()
    build_archive(session, handle)
    handle.seek(0)
    return _attachment(FileResponse(handle, content_type="application/zip"),
                       f"归档_{session.name}_{timezone.localdate():%Y%m%d}.zip")
