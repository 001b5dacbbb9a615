"""Proposal bodies from Word files: one .docx per proposal (matched by the number in the file name or its
first lines), or one .docx holding many proposals, each starting with its number (第…号)."""
from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.db import transaction
from docx import Document

from banli.exchange.files import ImportFileError, open_office_zip
from banli.proposals import services as proposals
from banli.proposals.models import Proposal

_MARKER = re.compile(r"^\s*(?:第\s*)?([0-9A-Za-z][0-9A-Za-z\-]*)\s*号")
_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-]*")
MAX_BODY_CHARS = 200_000


def docx_paragraphs(data: bytes, filename: str) -> list[str]:
    """The non-empty paragraphs of a .docx (tables included, in order), after the file checks."""
    if not (filename or "").lower().endswith(".docx"):
        if (filename or "").lower().endswith((".doc", ".docm", ".wps")):
            raise ImportFileError(f"「{filename}」不是 .docx 文件，请在 Word 中另存为“Word 文档（.docx）”后再上传。")
        raise ImportFileError(f"不支持「{filename}」这种文件，提案正文请上传 Word 文档（.docx）。")
    open_office_zip(data, filename, expect="docx")
    try:
        document = Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for a damaged file
        raise ImportFileError(f"「{filename}」无法读取，请用 Word 打开后重新保存为 .docx 再上传。") from exc
    lines = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = "".join(node.text or "" for node in block.iter() if node.tag.endswith("}t"))
            if text.strip():
                lines.append(text.strip())
        elif tag == "tbl":
            for row in block.iter():
                if row.tag.endswith("}tr"):
                    cells = ["".join(t.text or "" for t in cell.iter() if t.tag.endswith("}t")).strip()
                             for cell in row if cell.tag.endswith("}tc")]
                    if any(cells):
                        lines.append("　".join(c for c in cells if c))
    return lines


@dataclass
class BodyPlan:
    updates: list[tuple[object, str, str]] = field(default_factory=list)  # (proposal, body, source)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def _body_from(lines: list[str], proposal) -> str:
    # Drop a heading that repeats the number or the title.
    while lines and (_MARKER.match(_norm(lines[0])) or _norm(lines[0]).strip("《》 ") == _norm(proposal.title)):
        lines = lines[1:]
    return "\n".join(lines).strip()


def plan_bodies(*, session, files: list[tuple[str, bytes]], kind: str = "proposal") -> BodyPlan:
    """Which proposals of `session` get which body from `files`; nothing is written."""
    plan = BodyPlan()
    known = {p.number: p for p in Proposal.objects.filter(session=session, kind=kind)}
    found: dict[str, str] = {}
    for filename, data in files:
        try:
            lines = docx_paragraphs(data, filename)
        except ImportFileError as exc:
            plan.errors.append(exc.message)
            continue
        if not lines:
            plan.errors.append(f"「{filename}」没有文字内容。")
            continue
        markers = [(i, m.group(1)) for i, line in enumerate(lines)
                   if (m := _MARKER.match(_norm(line))) and m.group(1) in known]
        if len(markers) > 1:
            # One document holding many proposals: each starts at its number.
            for position, (start, number) in enumerate(markers):
                end = markers[position + 1][0] if position + 1 < len(markers) else len(lines)
                _add(plan, found, known[number], _body_from(lines[start:end], known[number]), f"{filename} 第{start + 1}段")
            continue
        number = next((t for t in _TOKEN.findall(_norm(filename.rsplit(".", 1)[0])) if t in known), None)
        if number is None and markers:
            number = markers[0][1]
        if number is None:
            number = next((t for line in lines[:5] for t in _TOKEN.findall(_norm(line)) if t in known), None)
        if number is None:
            plan.errors.append(f"「{filename}」的文件名和开头几行中都找不到本届次已登记的编号，请在文件名中写明编号（如“第20250001号.docx”）。")
            continue
        _add(plan, found, known[number], _body_from(lines, known[number]), filename)
    return plan


def _add(plan: BodyPlan, found: dict, proposal, body: str, source: str) -> None:
    if proposal.number in found:
        plan.errors.append(f"第{proposal.number}号的正文出现了两次（{found[proposal.number]} 和 {source}），请只保留一份。")
        return
    found[proposal.number] = source
    if not body:
        plan.errors.append(f"{source}中第{proposal.number}号没有正文。")
    elif len(body) > MAX_BODY_CHARS:
        plan.errors.append(f"{source}中第{proposal.number}号正文过长（{len(body):,} 字）。")
    elif body == proposal.body:
        plan.unchanged.append(proposal.number)
    else:
        plan.updates.append((proposal, body, source))


@transaction.atomic
def apply_bodies(*, plan: BodyPlan, actor) -> int:
    """Write the planned bodies through proposal_update (events written), all or nothing."""
    if not plan.ok:
        raise ImportFileError("正文文件中还有错误，不能导入：" + "；".join(plan.errors))
    for proposal, body, _ in plan.updates:
        proposals.proposal_update(actor=actor, proposal=proposal, body=body)
    return len(plan.updates)
