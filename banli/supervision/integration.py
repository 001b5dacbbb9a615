"""Outbound event pushes to integrators (出站推送): which event verbs may be subscribed, what one delivery says,
and how it is signed.

A delivery is one JSON document about one event, POSTed to the subscriber's URL with these headers:
  X-Banli-Event       the event verb (e.g. `send_reply`)
  X-Banli-Delivery    the delivery's id, the same on every retry: a receiver keeps the ids it has seen and
                      ignores a repeat (a retry after a timeout may arrive twice)
  X-Banli-Timestamp   Unix seconds when this try was sent; a receiver refuses one older than a few minutes
  X-Banli-Signature   "sha256=" + hex HMAC-SHA256 of the raw body with the subscription's secret
The body carries `delivery_id` and `timestamp` too, so the signature covers them: a replayed or altered
request does not verify. The document never carries an event's payload: a unit's drafts, review steps and
contacts are never subscribable (access.INTERNAL_EVENT_VERBS), and nothing else of an unsent reply leaves Banli.
"""
from __future__ import annotations

import hashlib
import hmac
import json

from banli.core.access import INTERNAL_EVENT_VERBS
from banli.handling.workflow import TRANSITIONS

# Events that are not assignment transitions, with their Chinese names (the timeline shows the same words).
_OTHER_VERBS = {
    "register": "登记", "assign": "交办", "proposal_update": "修改登记信息", "import_list": "导入交办清单",
    "merge": "并案办理", "unmerge": "取消并案", "reply_delivered": "答复函送达提案人",
    "reply_published": "答复公开发布", "publication_withdrawn": "撤回公开答复", "urge": "催办",
    "supervise": "列为重点督办", "deadline_recount": "重新计算期限",
}


def subscribable_verbs() -> dict[str, str]:
    """verb -> Chinese label, for every event an integrator may subscribe to (internal steps left out)."""
    verbs = {t.action: t.label for t in TRANSITIONS.values()}
    verbs.update(_OTHER_VERBS)
    return {verb: label for verb, label in verbs.items() if verb not in INTERNAL_EVENT_VERBS}


def event_document(event) -> dict:
    """What a subscriber learns of one event: the item, the unit, the state change and its reason."""
    proposal, assignment = event.proposal, event.assignment
    return {
        "event_id": event.pk,
        "verb": event.verb,
        "verb_label": subscribable_verbs().get(event.verb, event.verb),
        "occurred_at": event.created_at.isoformat(),
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "actor_role": event.actor_role,
        "proposal": {
            "id": proposal.pk, "number": proposal.number, "title": proposal.title, "kind": proposal.kind,
            "session": proposal.session_id,
        } if proposal is not None else None,
        "assignment": {
            "id": assignment.pk, "unit": assignment.unit_id, "unit_name": assignment.unit.name,
            "role": assignment.role,
        } if assignment is not None else None,
    }


def signed_body(document_json: str, *, delivery_id: str, timestamp: int) -> bytes:
    """The bytes sent: the stored document with this try's delivery id and timestamp, so the signature covers them."""
    document = json.loads(document_json)
    document.update(delivery_id=delivery_id, timestamp=timestamp)
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    """The X-Banli-Signature header: HMAC-SHA256 of the raw body with the subscriber's secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does (and the tests): compare in constant time."""
    return hmac.compare_digest(signature(secret, body), header or "")
