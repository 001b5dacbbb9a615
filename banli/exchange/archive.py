"""The archive (归档) of a session: every document and record, packed for the records office.

The .zip holds `index.xlsx` (one row per item), `session.json`, one folder per proposal with the proposal,
every reply version, co-opinions, contact records, ratings, commitments, assignments and the event log
(.docx / .xlsx / .json), and `MANIFEST.sha256` with the SHA-256 of every other file (`sha256sum -c` reads
it too). Building it only reads; `verify_archive` names every file that is missing, added or altered.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import zipfile
import zlib
from pathlib import Path

from django.utils import timezone

from banli.core.cells import safe_row
from banli.exchange.documents import co_opinion_docx, proposal_docx, reply_docx
from banli.handling.choices import AssignmentState
from banli.handling.models import ContactRecord, Event
from banli.proposals.models import Proposal
from banli.replies.models import Commitment, CoOpinion, Feedback, Reply

MANIFEST = "MANIFEST.sha256"


def _json(data) -> bytes:
    def default(value):
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        return str(value)

    return json.dumps(data, ensure_ascii=False, indent=2, default=default).encode("utf-8")


def _xlsx(headers: list[str], rows: list[list]) -> bytes:
    from openpyxl import Workbook  # noqa: PLC0415 - about 1 s to load: only when a workbook is read or written

    wb = Workbook()
    ws = wb.active
    ws.append(safe_row(headers))
    for row in rows:
        ws.append(safe_row(timezone.localtime(v).replace(tzinfo=None) if isinstance(v, dt.datetime) else v for v in row))
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _safe(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", text)[:60]


def _fixed_zipinfo(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def proposal_files(proposal) -> dict[str, bytes]:
    """The files of one proposal's folder (names relative to the folder)."""
    files: dict[str, bytes] = {}
    files["提案.docx"] = proposal_docx(proposal)
    assignments = list(proposal.assignments.select_related("unit", "lead_section", "handler").order_by("id"))
    files["交办.json"] = _json([
        {"id": a.pk, "unit": a.unit.name, "role": a.get_role_display(), "state": a.state_label, "round": a.round,
         "assigned_at": a.assigned_at, "signed_at": a.signed_at, "replied_at": a.replied_at,
         "opinion_sent_at": a.opinion_sent_at, "closed_at": a.closed_at, "reply_due": a.reply_due,
         "section": a.lead_section.name if a.lead_section_id else "", "handler": a.handler.label if a.handler_id else ""}
        for a in assignments
    ])
    files["提案.json"] = _json({
        "id": proposal.pk, "number": proposal.number, "kind": proposal.get_kind_display(), "title": proposal.title,
        "body": proposal.body, "category": proposal.category, "is_key": proposal.is_key,
        "status": proposal.get_status_display(),
        "proposers": [{"name": link.proposer.name, "lead": link.is_lead}
                      for link in proposal.proposer_links.select_related("proposer")],
    })
    for reply in Reply.objects.filter(assignment__proposal=proposal).select_related(
            "assignment__unit", "assignment__proposal__session").order_by("assignment_id", "round", "version"):
        stem = f"答复/{_safe(reply.assignment.unit.name)}_第{reply.round}轮_v{reply.version}_{reply.get_state_display()}"
        files[f"{stem}.docx"] = reply_docx(reply)
        files[f"{stem}.json"] = _json({
            "id": reply.pk, "state": reply.state, "class": reply.reply_class, "disclosure": reply.disclosure,
            "body": reply.body, "submitted_at": reply.submitted_at, "approved_at": reply.approved_at,
            "sent_at": reply.sent_at,
            "reviews": [{"step": r.step_name, "reviewer": r.reviewer.label, "decision": r.decision, "reason": r.reason,
                         "at": r.created_at} for r in reply.reviews.select_related("reviewer")],
        })
    for opinion in CoOpinion.objects.filter(assignment__proposal=proposal).select_related(
            "assignment__unit", "assignment__proposal__session"):
        files[f"会办意见/{_safe(opinion.assignment.unit.name)}_{opinion.pk}.docx"] = co_opinion_docx(opinion)
    contacts = ContactRecord.objects.filter(assignment__proposal=proposal).select_related("assignment__unit")
    files["沟通记录.xlsx"] = _xlsx(
        ["单位", "阶段", "方式", "日期", "参加人员", "情况摘要"],
        [[c.assignment.unit.name, c.get_phase_display(), c.get_method_display(), c.contacted_on, c.people, c.summary]
         for c in contacts],
    )
    feedback = Feedback.objects.filter(assignment__proposal=proposal).select_related("assignment__unit", "proposer")
    files["测评.xlsx"] = _xlsx(
        ["单位", "提案人", "轮次", "办理态度", "办理结果", "意见", "时间"],
        [[f.assignment.unit.name, f.proposer.name, f.round, f.get_attitude_display(), f.get_result_display(),
          f.comment, f.submitted_at] for f in feedback],
    )
    commitments = Commitment.objects.filter(assignment__proposal=proposal).select_related("assignment__unit")
    files["落实事项.xlsx"] = _xlsx(
        ["单位", "承诺事项", "完成时限", "状态", "落实情况", "完成时间"],
        [[c.assignment.unit.name, c.description, c.target_date, c.get_state_display(), c.done_note, c.done_at]
         for c in commitments],
    )
    events = Event.objects.filter(proposal=proposal).select_related("actor").order_by("created_at", "id")
    files["事件日志.json"] = _json([
        {"id": e.pk, "at": e.created_at, "verb": e.verb, "actor": e.actor.label if e.actor_id else "",
         "role": e.actor_role, "assignment": e.assignment_id, "from": e.from_state, "to": e.to_state,
         "reason": e.reason, "payload": e.payload}
        for e in events
    ])
    return files


def build_archive(session, target) -> dict:
    """Write the archive of `session` to `target` (path or binary file); returns a summary."""
    hashes: dict[str, str] = {}
    index_rows = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        def put(name: str, data: bytes) -> None:
            hashes[name] = hashlib.sha256(data).hexdigest()
            archive.writestr(_fixed_zipinfo(name), data)

        proposals = Proposal.objects.filter(session=session).select_related("session").order_by("kind", "number", "id")
        for position, proposal in enumerate(proposals.iterator(chunk_size=200), start=1):
            folder = f"{proposal.get_kind_display()}_{_safe(proposal.number)}"
            files = proposal_files(proposal)
            for name, data in files.items():
                put(f"{folder}/{name}", data)
            units = proposal.assignments.exclude(state=AssignmentState.WITHDRAWN).select_related("unit")
            index_rows.append([position, proposal.number, proposal.title,
                               "、".join(link.proposer.name for link in proposal.proposer_links.select_related("proposer")),
                               "、".join(f"{a.unit.name}（{a.get_role_display()}）" for a in units),
                               proposal.get_status_display(), folder, len(files)])
        put("index.xlsx", _xlsx(["序号", "编号", "案由", "提案人", "承办单位", "状态", "文件夹", "文件数"], index_rows))
        put("session.json", _json({
            "id": session.pk, "name": session.name, "body": session.get_body_display(),
            "level": session.get_level_display(), "year": session.year, "assigning_office": session.assigning_office.name,
            "archived_at": timezone.now(), "proposals": len(index_rows),
        }))
        manifest = "".join(f"{digest}  {name}\n" for name, digest in sorted(hashes.items()))
        archive.writestr(_fixed_zipinfo(MANIFEST), manifest.encode("utf-8"))
    return {"proposals": len(index_rows), "files": len(hashes)}


def verify_archive(source) -> list[str]:
    """Check an archive against its manifest; returns the problems (empty when intact), each naming the file."""
    problems: list[str] = []
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"归档文件已损坏，无法打开：{exc}"]
    with archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        if MANIFEST not in names:
            return [f"归档中缺少校验清单 {MANIFEST}。"]
        expected: dict[str, str] = {}
        for line in archive.read(MANIFEST).decode("utf-8", "replace").splitlines():
            if line.strip():
                digest, _, name = line.partition("  ")
                expected[name] = digest
        for name in names:
            if name == MANIFEST:
                continue
            if name not in expected:
                problems.append(f"{name}：不在校验清单中（被添加）。")
                continue
            try:
                digest = hashlib.sha256(archive.read(name)).hexdigest()
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
                problems.append(f"{name}：无法读取（{type(exc).__name__}），文件已被改动。")
                continue
            if digest != expected[name]:
                problems.append(f"{name}：校验值不符，文件已被改动。")
        for name in expected:
            if name not in names:
                problems.append(f"{name}：文件缺失。")
    return problems


def archive_path_for(session, directory: Path) -> Path:
    return Path(directory) / f"归档_{_safe(session.name)}_{timezone.localdate():%Y%m%d}.zip"
