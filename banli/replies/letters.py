"""From a reply or co-opinion to its .docx: the letter's context, the unit's template, the bytes."""
from __future__ import annotations

import datetime as dt
import io
import re

from django.utils import timezone
from docx import Document

from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment
from banli.proposals.choices import PERSON_KINDS
from banli.replies import documents
from banli.replies.choices import DocumentKind
from banli.replies.documents import LetterContext
from banli.replies.models import DocumentTemplate


def kind_word(proposal) -> str:
    return "建议" if proposal.kind == "suggestion" else "提案"


def letter_title(proposal, *, co_opinion: bool = False) -> str:
    """关于<session>第<number>号提案的答复 / …建议的答复 / …的会办意见."""
    suffix = "会办意见" if co_opinion else "答复"
    return f"关于{proposal.session.name}第{proposal.number}号{kind_word(proposal)}的{suffix}"


def chinese_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        value = timezone.localdate()
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return f"{value.year}年{value.month}月{value.day}日"


def salutation_for(proposal) -> str:
    """The addressees: every proposer, members with 委员/代表 after the name, bodies as they are."""
    suffix = "代表" if proposal.kind == "suggestion" else "委员"
    names = []
    for link in proposal.proposer_links.select_related("proposer").order_by("-is_lead", "position", "id"):
        name = link.proposer.name
        if link.proposer.kind in PERSON_KINDS and not name.endswith(suffix):
            name += suffix
        names.append(name)
    return f"{'、'.join(names)}：" if names else ""


TYPED_SALUTATION = re.compile(r"^[^一二三四五六七八九十（(\d][^。；;！？]{0,60}[：:]$")


def split_typed_salutation(body: str, default: str) -> tuple[str, str]:
    """The addressee line and the body without it: a clerk often starts the body with "李文涛委员：";
    that line is then the letter's salutation (printed once), else the generated `default` is."""
    lines = (body or "").splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and TYPED_SALUTATION.match(lines[first].strip()):
        typed = lines[first].strip()
        return typed[:-1] + "：", "\n".join(lines[first + 1:]).strip("\n")
    return default, body


TYPED_DATE = re.compile(r"^(\d{4}|[〇○零一二三四五六七八九]{4})\s*年\s*[\d〇○零一二三四五六七八九十]{1,3}\s*月\s*"
                        r"[\d〇○零一二三四五六七八九十]{1,3}\s*日$")


def strip_typed_signature(body: str, unit) -> str:
    """The body without a signature typed at its end: a clerk often closes the text with the unit's name and the
    date, as on paper, and the letter prints both itself below the body (they came out twice). Only the last two
    lines are looked at, and only a date line or the unit's own name (full or short) is left out."""
    names = {name for name in (unit.name, unit.short_name) if name}
    lines = (body or "").rstrip().splitlines()
    cut, taken = len(lines), 0
    while cut > 0 and taken < 2:
        line = lines[cut - 1].strip()
        if not (TYPED_DATE.match(line) or line in names):
            break
        cut, taken = cut - 1, taken + 1
    return "\n".join(lines[:cut]).rstrip() if taken else body


def default_cc(assignment) -> list[str]:
    """抄送: the session's assigning office (政协提案委 / 人大代表工委 / 政府督查室)."""
    return [assignment.proposal.session.assigning_office.name]


def reply_context(reply) -> LetterContext:
    assignment = reply.assignment
    proposal = assignment.proposal
    unit = assignment.unit
    date = chinese_date(reply.approved_at or reply.created_at)
    salutation, body = split_typed_salutation(strip_typed_signature(reply.body, unit), salutation_for(proposal))
    return LetterContext(
        title=letter_title(proposal), body=body, unit_name=unit.name, salutation=salutation,
        class_mark=f"{reply.reply_class}类" if reply.reply_class else "", doc_number=reply.doc_number,
        signer=reply.signer, is_upward=reply.is_upward, date=date, contact_person=reply.contact_person,
        contact_phone=reply.contact_phone, cc=list(reply.cc or default_cc(assignment)),
        printer=f"{unit.name}办公室　　{date}印发",
    )


def co_opinion_context(opinion) -> LetterContext:
    assignment = opinion.assignment
    proposal = assignment.proposal
    lead = Assignment.objects.filter(proposal=proposal, role=AssignmentRole.LEAD).exclude(state=AssignmentState.WITHDRAWN).select_related("unit").first()
    date = chinese_date(opinion.sent_at or opinion.created_at)
    salutation, body = split_typed_salutation(strip_typed_signature(opinion.body, assignment.unit),
                                              f"{lead.unit.name}：" if lead else "")
    return LetterContext(
        title=letter_title(proposal, co_opinion=True), body=body, unit_name=assignment.unit.name,
        salutation=salutation, doc_number=opinion.doc_number, date=date,
        contact_person=opinion.contact_person, contact_phone=opinion.contact_phone,
        attachments=[a.name for a in opinion.attachments.all()] if opinion.pk else [],
    )


def template_for(unit, kind: str):
    """The unit's active template of this kind, else the one for every unit, else None (built-in layout)."""
    found = None
    for template in DocumentTemplate.objects.filter(kind=kind, is_active=True).filter(
        unit__isnull=True
    ) | DocumentTemplate.objects.filter(kind=kind, is_active=True, unit=unit):
        if template.unit_id == getattr(unit, "pk", None):
            return template
        found = template
    return found


def render(ctx: LetterContext, unit, kind: str) -> bytes:
    template = template_for(unit, kind)
    if template is None:
        return documents.to_bytes(documents.build_document(ctx))
    with template.file.open("rb") as handle:
        return documents.render_template(handle, ctx)


def reply_kind(proposal) -> str:
    return DocumentKind.SUGGESTION_REPLY if proposal.kind == "suggestion" else DocumentKind.PROPOSAL_REPLY


def reply_docx(reply) -> bytes:
    """The reply letter; a signed-off version returns the document frozen at sign-off."""
    if reply.is_frozen and reply.document:
        with reply.document.open("rb") as handle:
            return handle.read()
    return render(reply_context(reply), reply.assignment.unit, reply_kind(reply.assignment.proposal))


def co_opinion_docx(opinion) -> bytes:
    if opinion.document:
        with opinion.document.open("rb") as handle:
            return handle.read()
    return render(co_opinion_context(opinion), opinion.assignment.unit, DocumentKind.CO_OPINION)


def reply_filename(reply) -> str:
    proposal = reply.assignment.proposal
    return f"{letter_title(proposal)}_v{reply.version}.docx"


def co_opinion_filename(opinion) -> str:
    return f"{letter_title(opinion.assignment.proposal, co_opinion=True)}.docx"


ALIGN_CLASSES = {1: "text-center", 2: "text-end", 3: "text-justify"}


def preview_lines(docx: bytes) -> list[dict]:
    """The letter's paragraphs as the page shows them, read back from the very .docx that is downloaded
    (built-in layout, the unit's template or the document frozen at sign-off): the preview cannot drift."""
    lines = []
    for paragraph in Document(io.BytesIO(docx)).paragraphs:
        text = paragraph.text
        if not text.strip():
            continue
        align = paragraph.paragraph_format.alignment
        indent = bool(paragraph.paragraph_format.first_line_indent)
        lines.append({"text": text, "css": ALIGN_CLASSES.get(int(align) if align is not None else 0, ""), "indent": indent})
    return lines
