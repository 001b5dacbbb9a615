"""Personal information: masked by default, shown in full only to roles that need it, each full view logged."""
from __future__ import annotations

from banli.core import access
from banli.core.errors import PermissionDenied
from banli.core.security import log
from banli.handling.models import Event
from banli.proposals.models import ProposalProposer, Proposer
from banli.replies.models import Feedback, Reply

PII_FIELDS = {"phone": "电话", "id_number": "证件号码", "address": "地址"}


def mask_phone(value: str | None) -> str:
    """138****0000: keep the first three and last four digits."""
    value = (value or "").strip()
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_id_number(value: str | None) -> str:
    """Keep the first four and last four characters of an ID number."""
    value = (value or "").strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_address(value: str | None) -> str:
    """Keep the district-level beginning of an address."""
    value = (value or "").strip()
    if not value:
        return ""
    return value[: min(6, max(len(value) // 3, 1))] + "****"


MASKS = {"phone": mask_phone, "id_number": mask_id_number, "address": mask_address}


def masked(proposer, field: str) -> str:
    return MASKS[field](getattr(proposer, field))


def may_see_full(user, proposer) -> bool:
    """The proposer himself, the assigning office of his items and the staff of units handling them."""
    if proposer.user_id and proposer.user_id == getattr(user, "pk", None):
        return True
    if not access.may_see_personal_data(user):
        return False
    return access.visible_proposals(user).filter(proposer_links__proposer=proposer).exists()


def full_view_proposers(user, proposer_ids) -> set[int]:
    """Of `proposer_ids`, those whose full values `user` may see: may_see_full for many proposers in one query."""
    ids = set(proposer_ids)
    if not ids or not getattr(user, "is_authenticated", False):
        return set()
    full = set(Proposer.objects.filter(pk__in=ids, user=user).values_list("pk", flat=True))
    if access.may_see_personal_data(user):
        links = access.naming_visible_proposals(ProposalProposer.objects.filter(proposer_id__in=ids - full), user)
        full |= set(links.values_list("proposer_id", flat=True))
    return full


def export_value(value: str | None, field: str, full: bool) -> str:
    """A personal value as an export shows it: in full for those who may see it, masked for everyone else."""
    return (value or "") if full else MASKS[field](value)


def reveal(user, proposer, field: str) -> str:
    """The full value for a user who may see it; the view is written to the security log."""
    if field not in PII_FIELDS:
        raise ValueError(field)
    if not may_see_full(user, proposer):
        raise PermissionDenied(f"您无权查看该提案人的完整{PII_FIELDS[field]}。")
    log("pii_view", user=user, payload={"proposer": proposer.pk, "field": field})
    return getattr(proposer, field) or ""


def proposer_data_export(user) -> dict:
    """Everything Banli holds about the signed-in proposer (个人信息查阅复制权)."""
    proposer = Proposer.objects.filter(user=user).first()
    account = {"username": user.username, "display_name": user.display_name, "email": user.email, "phone": user.phone}
    if proposer is None:
        return {"account": account, "proposer": None, "items": [], "ratings": []}
    items = []
    links = list(proposer.proposal_links.select_related("proposal__session").order_by("proposal__id"))
    # Every sent reply of those items in one read (not one query per item: a member may have signed thousands).
    replies: dict[int, list] = {}
    for r in (Reply.objects.filter(assignment__proposal__in=[link.proposal_id for link in links], state="sent")
              .select_related("assignment__unit").order_by("assignment__proposal_id", "id")):
        replies.setdefault(r.assignment.proposal_id, []).append(r)
    for link in links:
        p = link.proposal
        sent = replies.get(p.pk, [])
        items.append({
            "session": p.session.name, "number": p.number, "title": p.title, "body": p.body,
            "lead_proposer": link.is_lead, "status": p.get_status_display(),
            "replies": [{"unit": r.assignment.unit.name, "class": r.reply_class, "body": r.body,
                         "sent_at": r.sent_at.isoformat() if r.sent_at else None} for r in sent],
        })
    ratings = [
        {"proposal": f.assignment.proposal.number, "unit": f.assignment.unit.name, "round": f.round,
         "attitude": f.get_attitude_display(), "result": f.get_result_display(), "comment": f.comment,
         "at": f.submitted_at.isoformat()}
        for f in Feedback.objects.filter(proposer=proposer).select_related("assignment__proposal", "assignment__unit")
    ]
    activity = [
        {"verb": e.verb, "at": e.created_at.isoformat(), "ip": e.client_ip}
        for e in Event.objects.filter(actor=user).order_by("id")[:5000]
    ]
    return {
        "account": account,
        "proposer": {"name": proposer.name, "kind": proposer.get_kind_display(), "sector": proposer.sector,
                     "phone": proposer.phone or "", "email": proposer.email, "address": proposer.address or "",
                     "id_number": proposer.id_number or ""},
        "items": items,
        "ratings": ratings,
        "activity": activity,
    }
