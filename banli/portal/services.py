"""Publishing disclosed replies on the public portal (after the reply is sent; idempotent)."""
from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from banli.core import access, eventlog
from banli.core.errors import ConflictError, DomainError, PermissionDenied
from banli.portal.models import PublicReply
from banli.replies.choices import Disclosure, ReplyState
from banli.replies.letters import letter_title
from banli.replies.models import Reply

# Personal data removed from anything published: e-mail addresses, ID card numbers, mobile and landline numbers.
REDACTED = "[已隐去]"
_PATTERNS = [
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    re.compile(r"(?<!\d)\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)"),
    re.compile(r"(?<!\d)\d{15}(?!\d)"),
    re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"),
    re.compile(r"(?<![\d-])(?:\(?0\d{2,3}\)?[- ]?)\d{7,8}(?:-\d{1,5})?(?!\d)"),
]


def redact(text: str) -> str:
    """Remove phone numbers, e-mail addresses and ID numbers from text meant for the public."""
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text or "")
    return text


def public_text(reply) -> str:
    """全文公开: the reply body; 摘要公开: only its summary; both redacted."""
    if reply.disclosure == Disclosure.FULL:
        return redact(reply.body)
    if reply.disclosure == Disclosure.SUMMARY:
        return redact(reply.public_summary)
    return ""


@transaction.atomic
def reply_publish(*, reply_id: int, now=None):
    """Copy a sent reply approved for disclosure to the portal; anything else is not published (idempotent)."""
    now = now or timezone.now()
    reply = Reply.objects.select_related("assignment__proposal__session", "assignment__unit").get(pk=reply_id)
    if reply.state != ReplyState.SENT or reply.disclosure not in (Disclosure.FULL, Disclosure.SUMMARY):
        return None
    existing = PublicReply.objects.filter(reply=reply).first()
    if existing is not None:
        return existing
    proposal = reply.assignment.proposal
    publication = PublicReply.objects.create(
        reply=reply, session=proposal.session, unit=reply.assignment.unit, kind=proposal.kind, number=proposal.number,
        title=letter_title(proposal), proposal_title=redact(proposal.title), category=proposal.category,
        reply_class=reply.reply_class, disclosure=reply.disclosure, text=public_text(reply), round=reply.round,
        replied_on=timezone.localdate(reply.sent_at or now), published_at=now,
    )
    eventlog.write_event(verb="reply_published", assignment=reply.assignment, now=now,
                         payload={"reply": reply.pk, "publication": publication.pk, "disclosure": reply.disclosure})
    return publication


def publish_pending(*, now=None) -> int:
    """Publish every sent, disclosed reply not yet on the portal (catch-up job; safe to run any time)."""
    pending = Reply.objects.filter(state="sent", disclosure__in=["full", "summary"], publication__isnull=True)
    count = 0
    for reply_id in pending.values_list("pk", flat=True):
        if reply_publish(reply_id=reply_id, now=now) is not None:
            count += 1
    return count


@transaction.atomic
def public_reply_withdraw(*, publication, actor, reason: str, now=None):
    """Take a publication off the portal, with the office's reason (the row and the event stay as the record)."""
    now = now or timezone.now()
    assignment = publication.reply.assignment
    if not access.can_withdraw_publication(actor, assignment.proposal):
        raise PermissionDenied("只有该届次的交办机构才能撤回公开答复。")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写撤回公开的理由。", field="reason")
    if len(reason) > 300:
        raise DomainError(f"撤回理由最多 300 字，现有 {len(reason)} 字。", field="reason")
    won = PublicReply.objects.filter(pk=publication.pk, withdrawn_at__isnull=True).update(
        withdrawn_at=now, withdrawn_by=actor, withdraw_reason=reason)
    if not won:
        raise ConflictError("该公开答复已经撤回。")
    eventlog.write_event(verb="publication_withdrawn", actor=actor, assignment=assignment, now=now, reason=reason,
                         payload={"publication": publication.pk, "reply": publication.reply_id})
    publication.refresh_from_db()
    return publication
