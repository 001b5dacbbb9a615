"""Writes for sessions, proposers and proposals."""
from __future__ import annotations

from django.db import IntegrityError, transaction

from banli.core.access import has_role, is_office_for, office_scopes
from banli.core.errors import DomainError, PermissionDenied
from banli.handling.workflow import write_event
from banli.organizations.choices import Role
from banli.proposals.choices import ProposalKind, ProposerKind
from banli.proposals.models import Proposal, ProposalProposer, Proposer, Session


def _require_office_of(actor, office_unit) -> None:
    if actor is None:
        return  # system jobs (demo loader, migrations) act without a user
    if has_role(actor, Role.ADMIN):
        return
    if not any(office_unit.is_within(unit) for unit in office_scopes(actor)):
        raise PermissionDenied("只有该届次的交办机构才能执行此操作。")


@transaction.atomic
def session_create(*, actor, name: str, body: str, level: str, year: int, assigning_office,
                   term: int = 1, meeting: int = 1, reply_scheme=None) -> Session:
    """Register a session (届次会次) under an assigning office."""
    _require_office_of(actor, assigning_office)
    name = (name or "").strip()
    if not name:
        raise DomainError("届次名称不能为空。", field="name")
    if Session.objects.filter(name=name).exists():
        raise DomainError(f"届次「{name}」已存在。", field="name")
    session = Session.objects.create(
        name=name, body=body, level=level, year=year, term=term, meeting=meeting,
        assigning_office=assigning_office, reply_scheme=reply_scheme,
    )
    write_event(verb="session_create", actor=actor, payload={"session": session.pk, "name": name})
    return session


def proposer_get_or_create(*, name: str, kind: str = ProposerKind.MEMBER, sector: str = "", user=None,
                           phone: str = "") -> Proposer:
    """Find a proposer by name (and kind), or add him (with his sign-in account and phone, if given)."""
    name = (name or "").strip()
    if not name:
        raise DomainError("提案人姓名不能为空。", field="proposers")
    proposer = Proposer.objects.filter(name=name, kind=kind).order_by("id").first()
    if proposer is None:
        proposer = Proposer.objects.create(name=name, kind=kind, sector=sector, user=user, phone=phone or None)
    return proposer


@transaction.atomic
def proposal_create(*, actor, session: Session, number: str, title: str, proposers: list,
                    kind: str = ProposalKind.PROPOSAL, body: str = "", category: str = "",
                    is_key: bool = False, submitted_on=None) -> Proposal:
    """Register a proposal or suggestion; `proposers` lists Proposer objects or names, the lead first."""
    _require_office_of(actor, session.assigning_office)
    number = (number or "").strip()
    title = (title or "").strip()
    kind_label = ProposalKind(kind).label
    if not number:
        raise DomainError(f"{kind_label}编号不能为空。", field="number")
    if not title:
        raise DomainError("案由（标题）不能为空。", field="title")
    if not proposers:
        raise DomainError(f"请至少填写一位{kind_label}人（领衔人）。", field="proposers")
    if Proposal.objects.filter(session=session, kind=kind, number=number).exists():
        raise DomainError(f"{session.name}已有第{number}号{kind_label}，编号不能重复。", field="number")
    try:
        with transaction.atomic():
            proposal = Proposal.objects.create(
                session=session, kind=kind, number=number, title=title, body=body,
                category=category, is_key=is_key, submitted_on=submitted_on,
            )
    except IntegrityError as exc:
        raise DomainError(f"{session.name}已有第{number}号{kind_label}，编号不能重复。", field="number") from exc
    seen = set()
    for position, item in enumerate(proposers):
        proposer = item if isinstance(item, Proposer) else proposer_get_or_create(name=str(item))
        if proposer.pk in seen:
            continue
        seen.add(proposer.pk)
        ProposalProposer.objects.create(proposal=proposal, proposer=proposer, is_lead=position == 0, position=position)
    write_event(
        verb="register",
        actor=actor,
        actor_role=Role.ASSIGNING_OFFICE if actor else "",
        proposal=proposal,
        payload={"number": number, "title": title, "proposers": [p if isinstance(p, str) else p.name for p in proposers]},
    )
    return proposal


@transaction.atomic
def proposal_update(*, actor, proposal: Proposal, **fields) -> Proposal:
    """Change a proposal's registered data (title, body, category, key flag); the change is logged."""
    if actor is not None and not (is_office_for(actor, proposal) or has_role(actor, Role.ADMIN)):
        raise PermissionDenied("只有交办机构才能修改提案建议的登记信息。")
    allowed = {"title", "body", "category", "is_key", "submitted_on"}
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError(f"不能修改这些字段：{'、'.join(sorted(unknown))}。")
    changed = {k: v for k, v in fields.items() if getattr(proposal, k) != v}
    if "title" in changed and not (changed["title"] or "").strip():
        raise DomainError("案由（标题）不能为空。", field="title")
    if not changed:
        return proposal
    before = {k: str(getattr(proposal, k)) for k in changed}
    Proposal.objects.filter(pk=proposal.pk).update(**changed)
    for k, v in changed.items():
        setattr(proposal, k, v)
    write_event(verb="proposal_update", actor=actor, proposal=proposal,
                payload={"before": before, "after": {k: str(v) for k, v in changed.items()}})
    return proposal
