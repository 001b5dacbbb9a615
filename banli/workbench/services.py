"""工作台: writes that compose the foundation's services for the office's screens, and notification reads."""
from __future__ import annotations

from django.db import transaction

from banli.assist.choices import SuggestionTask
from banli.assist.services import suggestion_decision_record
from banli.core.errors import DomainError
from banli.handling import services as handling
from banli.handling.choices import ROLE_ORDER, AssignmentRole
from banli.handling.models import Event
from banli.handling.services import assignments_key_set
from banli.proposals import services as proposals
from banli.proposals.models import Proposal
from banli.supervision.selectors import is_key_item
from banli.workbench.models import NotificationCursor

def session_register(*, actor, name, body, level, year, assigning_office, term=1, meeting=1):
    """Register a session from the office's form."""
    return proposals.session_create(actor=actor, name=name, body=body, level=level, year=year,
                                    assigning_office=assigning_office, term=term, meeting=meeting)


@transaction.atomic
def proposal_register(*, actor, session, kind, number, title, proposers, body="", category="", is_key=False,
                      category_suggested: list[dict] | None = None):
    """Register a proposal from the office's form; proposers are names, the lead first.

    `category_suggested` is the category suggestion the office was shown while typing; the category it
    registered is logged against it (accepted or overridden) so that the suggestions' accuracy can be reported.
    """
    proposal = proposals.proposal_create(actor=actor, session=session, kind=kind, number=number, title=title,
                                         proposers=proposers, body=body, category=category, is_key=is_key)
    if category_suggested:  # shown: logged as accepted, changed, or ignored when no category was given

        suggestion_decision_record(proposal=proposal, task=SuggestionTask.CATEGORY, suggested=category_suggested,
                                   decided={"label": category}, actor=actor)
    return proposal


def _routing_decision(units_and_roles: list[tuple], suggested: list[dict]) -> tuple[list[dict], dict]:
    """The suggestion as logged (labels, roles, scores, words) and the units chosen, named as the model names
    them when the office took a suggested unit (the model may know a unit by its short name)."""
    label_of = {s["unit"].pk: s["label"] for s in suggested if s.get("unit") is not None}
    logged = [{k: s[k] for k in ("label", "role", "score", "words")} for s in suggested]
    names = [(label_of.get(unit.pk, unit.name), role) for unit, role in units_and_roles]
    leads = [n for n, r in names if r == AssignmentRole.LEAD] or [n for n, r in names if r == AssignmentRole.SPLIT]
    return logged, {"lead": leads[0] if leads else "", "co": [n for n, r in names if r == AssignmentRole.CO]}


@transaction.atomic
def assignments_create_many(*, proposal, actor, units_and_roles: list[tuple],
                            routing_suggested: list[dict] | None = None) -> list:
    """Assign several units at once (lead first); all or nothing.

    `routing_suggested` is the routing suggestion the office was shown on the assign page; what it assigned
    is logged against it (accepted, partly or overridden).
    """
    if not units_and_roles:
        raise DomainError("请至少选择一个承办单位，并选择办理方式（主办、会办或分办）。", field="unit")
    for unit, role in units_and_roles:
        if role not in ROLE_ORDER:
            raise DomainError(f"请为「{unit.name}」选择办理方式（主办、会办或分办）。", field="role")
    answering = {"lead", "split"}
    if not any(role in answering for _, role in units_and_roles) and not proposal.assignments.filter(
            role__in=answering).exclude(state="withdrawn").exists():
        # Nobody answers a proposal that has only co units: the office chooses the lead, we never guess it.
        raise DomainError("尚未指定主办单位：请把其中一个单位的办理方式选为“主办”（或各单位分别“分办”），再确认交办。",
                          field="role")
    ordered = sorted(units_and_roles, key=lambda pair: ROLE_ORDER[pair[1]])
    created = [handling.assignment_create(proposal=proposal, unit=unit, role=role, actor=actor) for unit, role in ordered]
    if routing_suggested:
        logged, decided = _routing_decision(ordered, routing_suggested)
        suggestion_decision_record(proposal=proposal, task=SuggestionTask.ROUTING, suggested=logged, decided=decided,
                                   actor=actor)
    return created


def proposal_mark_key(*, actor, proposal, is_key: bool):
    """Mark or unmark a key item (重点提案)."""
    proposal = proposals.proposal_update(actor=actor, proposal=proposal, is_key=is_key)
    assignments_key_set(proposal_ids=[proposal.pk], key=is_key_item(proposal))
    return proposal


def proposal_merge_with(*, actor, proposal, other):
    """并案 from the proposal page: the item on the page joins `other`'s group, except that a head (主件) the page
    shows takes a standalone `other` into its own group (the rules themselves are in proposals.proposal_merge)."""
    is_head = Proposal.objects.filter(merged_with=proposal).exists()
    standalone = other.merged_with_id is None and not Proposal.objects.filter(merged_with=other).exists()
    if is_head and proposal.merged_with_id is None and standalone and other.session_id == proposal.session_id:
        return proposals.proposal_merge(actor=actor, proposal=other, into=proposal)
    return proposals.proposal_merge(actor=actor, proposal=proposal, into=other)


@transaction.atomic
def notifications_mark_read(*, user, up_to: int | None = None) -> NotificationCursor:
    """Mark every notification up to event `up_to` (default: the latest) as read."""
    if up_to is None:
        up_to = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    cursor, _ = NotificationCursor.objects.select_for_update().get_or_create(user=user)
    if up_to > cursor.last_seen_event_id:
        cursor.last_seen_event_id = up_to
        cursor.save(update_fields=["last_seen_event_id", "updated_at"])
    return cursor
