"""Writes for sessions, proposers and proposals."""
from __future__ import annotations

import zlib

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from banli.core import access
from banli.core.errors import ConflictError, DomainError, NotFound, PermissionDenied
from banli.core.eventlog import build_event, write_event, write_events
from banli.core.security import note_denial
from banli.organizations.choices import Role
from banli.proposals.choices import ProposalKind, ProposalStatus, ProposerKind
from banli.proposals.models import Proposal, ProposalProposer, Proposer, Session
from banli.proposals.search import search_text_for


def _require_office_of(actor, office_unit) -> None:
    if actor is None:
        return  # system jobs (demo loader, migrations) act without a user
    if not access.can_register_in(actor, office_unit):
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


def proposer_match(*, name: str, kind: str | None = None) -> Proposer:
    """The proposer a name (and, if given, kind) refers to, never a silent duplicate: the one registered under
    that name (a body such as 致公党深圳市委会 is found whatever kind the caller assumed); a new one only when
    none is registered; an error naming the candidates when the name is ambiguous."""
    name = (name or "").strip()
    if not name:
        raise DomainError("提案人姓名不能为空。", field="proposers")
    if kind is not None and kind not in ProposerKind.values:
        raise DomainError(f"提案人类型「{kind}」无效，应为 {'/'.join(ProposerKind.values)} 之一。", field="proposers")
    candidates = list(Proposer.objects.filter(name=name, **({"kind": kind} if kind else {})).order_by("id"))
    if not candidates:
        return Proposer.objects.create(name=name, kind=kind or ProposerKind.MEMBER)
    return _pick_proposer(name, candidates)


def _pick_proposer(name: str, candidates: list) -> Proposer:
    """One of the proposers registered under `name` (ordered by id), or an error naming them."""
    if len(candidates) == 1:
        return candidates[0]
    with_account = [p for p in candidates if p.user_id]
    if len(with_account) == 1:
        return with_account[0]  # the one who can sign in, see and rate the item
    if len({p.kind for p in candidates}) == 1 and not with_account:
        return candidates[0]
    listed = "、".join(f"编号{p.pk}（{p.get_kind_display()}{'，有账号' if p.user_id else ''}）" for p in candidates)
    raise DomainError(f"有多位名为「{name}」的提案人：{listed}，请用编号指明是哪一位。", field="proposers")


def proposer_from_ref(ref) -> Proposer:
    """A proposer named in a request: a Proposer, an id, {"id": …}, {"name": …, "kind": …} or a plain name."""
    if isinstance(ref, Proposer):
        return ref
    if isinstance(ref, dict) and ref.get("id") is not None or isinstance(ref, int) and not isinstance(ref, bool):
        pk = ref["id"] if isinstance(ref, dict) else ref
        proposer = Proposer.objects.filter(pk=pk).first() if isinstance(pk, int) and 0 < pk < 2**63 else None
        if proposer is None:
            raise DomainError(f"找不到编号为 {pk} 的提案人。", field="proposers")
        return proposer
    if isinstance(ref, dict):
        return proposer_match(name=str(ref.get("name") or ""), kind=ref.get("kind") or None)
    return proposer_match(name=str(ref))


PROPOSER_FIELDS = ("name", "kind", "sector", "phone", "email", "user")


def _require_proposer_keeper(actor) -> None:
    if actor is not None and not access.can_manage_proposers(actor):
        raise PermissionDenied("只有交办机构或系统管理员才能登记、修改提案人。")


def _lock_name(key: str) -> None:
    """Serialise concurrent registrations of one name until the transaction ends (PostgreSQL advisory lock; other
    databases serialise writes anyway), so two simultaneous requests cannot both find none and both insert."""

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x62616E6C, zlib.crc32(key.encode()) - 2**31])


def _check_proposer_account(user, proposer=None) -> None:
    if user is None:
        return
    taken = Proposer.objects.filter(user=user).exclude(pk=getattr(proposer, "pk", None)).first()
    if taken is not None:
        raise ConflictError(f"该账号已关联提案人「{taken.name}」（编号{taken.pk}）。", field="user")


@transaction.atomic
def proposer_create(*, actor, name: str, kind: str = ProposerKind.MEMBER, sector: str = "", phone: str = "",
                    email: str = "", user=None) -> Proposer:
    """Register a proposer (委员, 代表, 党派团体, 界别, 专委会). One already registered under the same name and kind
    is a conflict naming it, never a silent second one (proposer_match finds it by that name)."""
    _require_proposer_keeper(actor)
    name = (name or "").strip()
    if not name:
        raise DomainError("提案人姓名（名称）不能为空。", field="name")
    if kind not in ProposerKind.values:
        raise DomainError(f"提案人类型「{kind}」无效，应为 {'/'.join(ProposerKind.values)} 之一。", field="kind")
    _lock_name(f"proposer:{kind}:{name}")
    same = Proposer.objects.filter(name=name, kind=kind).order_by("id").first()
    if same is not None:
        raise ConflictError(f"已有{ProposerKind(kind).label}「{name}」（编号{same.pk}），请直接使用该编号。", field="name")
    _check_proposer_account(user)
    try:
        with transaction.atomic():
            proposer = Proposer.objects.create(name=name, kind=kind, sector=(sector or "").strip(), user=user,
                                               phone=phone or None, email=email or "")
    except IntegrityError as exc:
        raise ConflictError("该提案人刚刚已由他人登记，请刷新后查看。", field="name") from exc
    write_event(verb="proposer_create", actor=actor,
                payload={"proposer": proposer.pk, "name": name, "kind": kind, "user": getattr(user, "pk", None)})
    return proposer


@transaction.atomic
def proposer_update(*, actor, proposer: Proposer, **fields) -> Proposer:
    """Correct a proposer's name, kind, sector, contact or sign-in account; the change is logged (personal data
    such as the phone number only as "changed")."""
    _require_proposer_keeper(actor)
    unknown = set(fields) - set(PROPOSER_FIELDS)
    if unknown:
        raise DomainError(f"不能修改这些字段：{'、'.join(sorted(unknown))}。")
    locked = Proposer.objects.select_for_update().get(pk=proposer.pk)
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"]:
            raise DomainError("提案人姓名（名称）不能为空。", field="name")
    if "kind" in fields and fields["kind"] not in ProposerKind.values:
        raise DomainError(f"提案人类型「{fields['kind']}」无效。", field="kind")
    if "phone" in fields:
        fields["phone"] = fields["phone"] or None
    changed = {k: v for k, v in fields.items() if getattr(locked, k) != v}
    if not changed:
        return locked
    name, kind = changed.get("name", locked.name), changed.get("kind", locked.kind)
    if {"name", "kind"} & changed.keys():
        same = Proposer.objects.filter(name=name, kind=kind).exclude(pk=locked.pk).first()
        if same is not None:
            raise ConflictError(f"已有{ProposerKind(kind).label}「{name}」（编号{same.pk}），不能重复登记。", field="name")
    if "user" in changed:
        _check_proposer_account(changed["user"], locked)
    for key, value in changed.items():
        setattr(locked, key, value)
    locked.save(update_fields=list(changed))
    if "name" in changed:
        for link in ProposalProposer.objects.filter(proposer=locked).select_related("proposal"):
            proposal_search_refresh(proposal=link.proposal)
    write_event(verb="proposer_update", actor=actor, payload={
        "proposer": locked.pk,
        "changed": {k: ("已修改" if k in ("phone", "email") else getattr(v, "pk", v)) for k, v in changed.items()},
    })
    return locked


@transaction.atomic
def proposal_cosigner_add(*, actor, proposal: Proposal, proposer) -> ProposalProposer:
    """Add a co-signer (附议人/联名人) to a registered item, after the ones it has."""
    if actor is not None and not access.can_correct_registration(actor, proposal):
        raise PermissionDenied("只有交办机构才能修改提案建议的登记信息。")
    proposer = proposer_from_ref(proposer)
    Proposal.objects.select_for_update().filter(pk=proposal.pk).first()
    if ProposalProposer.objects.filter(proposal=proposal, proposer=proposer).exists():
        raise ConflictError(f"「{proposer.name}」已是该件的提案人。", field="proposer")
    last = ProposalProposer.objects.filter(proposal=proposal).order_by("-position").values_list("position", flat=True).first()
    try:
        with transaction.atomic():
            link = ProposalProposer.objects.create(proposal=proposal, proposer=proposer, is_lead=False,
                                                   position=(last if last is not None else -1) + 1)
    except IntegrityError as exc:
        raise ConflictError(f"「{proposer.name}」已是该件的提案人。", field="proposer") from exc
    proposal_search_refresh(proposal=proposal)
    write_event(verb="cosigner_add", actor=actor, proposal=proposal,
                payload={"proposer": proposer.pk, "name": proposer.name})
    return link


@transaction.atomic
def proposal_cosigner_remove(*, actor, proposal: Proposal, proposer) -> None:
    """Take a co-signer off a registered item; the lead proposer stays (register the item anew to change him)."""
    if actor is not None and not access.can_correct_registration(actor, proposal):
        raise PermissionDenied("只有交办机构才能修改提案建议的登记信息。")
    Proposal.objects.select_for_update().filter(pk=proposal.pk).first()
    link = ProposalProposer.objects.filter(proposal=proposal, proposer=proposer).first()
    if link is None:
        raise NotFound("该提案人不在这件提案建议的提案人中。")
    if link.is_lead:
        raise DomainError("领衔人不能移除。", field="proposer")
    link.delete()
    proposal_search_refresh(proposal=proposal)
    write_event(verb="cosigner_remove", actor=actor, proposal=proposal,
                payload={"proposer": proposer.pk, "name": proposer.name})


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
        raise ConflictError(f"{session.name}已有第{number}号{kind_label}，编号不能重复。", field="number")
    try:
        with transaction.atomic():
            proposal = Proposal.objects.create(
                session=session, kind=kind, number=number, title=title, body=body,
                category=category, is_key=is_key, submitted_on=submitted_on,
            )
    except IntegrityError as exc:
        raise ConflictError(f"{session.name}已有第{number}号{kind_label}，编号不能重复。", field="number") from exc
    seen, names = set(), []
    for position, item in enumerate(proposers):
        proposer = proposer_from_ref(item)
        names.append(proposer.name)
        if proposer.pk in seen:
            continue
        seen.add(proposer.pk)
        ProposalProposer.objects.create(proposal=proposal, proposer=proposer, is_lead=position == 0, position=position)
    proposal_search_refresh(proposal=proposal)
    write_event(
        verb="register",
        actor=actor,
        actor_role=Role.ASSIGNING_OFFICE if actor else "",
        proposal=proposal,
        payload={"number": number, "title": title, "proposers": names},
    )
    return proposal


@transaction.atomic
def proposal_update(*, actor, proposal: Proposal, **fields) -> Proposal:
    """Change a proposal's registered data (title, body, category, key flag); the change is logged."""
    if actor is not None and not access.can_correct_registration(actor, proposal):
        raise PermissionDenied("只有交办机构才能修改提案建议的登记信息。")
    if actor is not None and "category" in fields and fields["category"] != proposal.category \
            and not access.can_decide_handling(actor, proposal):
        # The category is a handling decision (it routes the item); the administrator acts on no case.
        raise PermissionDenied("只有该届次的交办机构才能确定类别。")
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
    # updated_at too: a queryset update skips auto_now, and the similar-proposals index reads changes by it.
    Proposal.objects.filter(pk=proposal.pk).update(**changed, updated_at=timezone.now())
    for k, v in changed.items():
        setattr(proposal, k, v)
    if {"title", "body"} & changed.keys():
        proposal_search_refresh(proposal=proposal)
    write_event(verb="proposal_update", actor=actor, proposal=proposal,
                payload={"before": before, "after": {k: str(v) for k, v in changed.items()}})
    return proposal


def proposal_search_refresh(*, proposal: Proposal) -> None:
    """Store the segmented words of the proposal's number, title, body and proposer names (the search index)."""
    names = ProposalProposer.objects.filter(proposal=proposal).values_list("proposer__name", flat=True)
    text = search_text_for(number=proposal.number, title=proposal.title, body=proposal.body, names=list(names))
    Proposal.objects.filter(pk=proposal.pk).update(search_text=text)
    proposal.search_text = text


# --- 并案: items of one session on the same subject, handled together and answered separately ----------------
#
# A group is one head (主件) and the items merged into it (并入件): `merged_with` of each item points at the head,
# the head's own `merged_with` is empty. Groups are never chained, so the head of any item is one step away.
# Each item keeps its own assignments and its own reply (分别答复); only the grouping is recorded here.


def _label(proposal) -> str:
    return f"第{proposal.number}号"


def _require_merging_office(actor, proposal, message: str) -> None:
    # Grouping items is a handling decision of the session's assigning office; the administrator acts on no case.
    if actor is not None and not access.can_decide_handling(actor, proposal):
        note_denial(actor, message, proposal=proposal.pk)
        raise PermissionDenied(message)


def _locked(*pks: int) -> dict:
    """The proposals `pks`, locked in id order (two offices grouping overlapping items wait for each other)."""
    return {p.pk: p for p in Proposal.objects.select_for_update().filter(pk__in=set(pks)).order_by("pk")}


_RACE = "并案关系刚刚已被他人修改，您的操作未执行，请刷新后重试。"


def _write_merge_events(verb: str, actor, item: Proposal, head: Proposal) -> None:
    # One row on each timeline: the item says where it went, the head says what joined it.
    write_event(verb=verb, actor=actor, actor_role=Role.ASSIGNING_OFFICE if actor else "", proposal=item,
                payload={"role": "item", "head": head.pk, "head_number": head.number, "head_title": head.title})
    write_event(verb=verb, actor=actor, actor_role=Role.ASSIGNING_OFFICE if actor else "", proposal=head,
                payload={"role": "head", "item": item.pk, "item_number": item.number, "item_title": item.title})


@transaction.atomic
def proposal_merge(*, actor, proposal: Proposal, into: Proposal) -> Proposal:
    """Merge `proposal` into `into`'s group (并案办理): same session, no chains; returns the group's head."""
    _require_merging_office(actor, proposal, "只有该届次的交办机构才能并案。")
    if proposal.pk == into.pk:
        raise DomainError("不能与本件自身并案。", field="into")
    if proposal.session_id != into.session_id:
        raise DomainError(f"只有同一届次会议的事项才能并案：{_label(into)}属于{into.session.name}，"
                          f"本件属于{proposal.session.name}。", field="into")
    # Merging into an item that is itself merged joins its head: a group has one head and no chains.
    head_id = into.merged_with_id or into.pk
    rows = _locked(proposal.pk, into.pk, head_id)
    item, target, head = rows[proposal.pk], rows[into.pk], rows.get(head_id)
    if head is None or head.merged_with_id is not None or (target.merged_with_id or target.pk) != head.pk:
        raise ConflictError(_RACE)
    if head.pk == item.pk:
        raise DomainError(f"{_label(target)}已并入本件（本件为主件），无需再并案。", field="into")
    if item.merged_with_id == head.pk:
        raise DomainError(f"本件已与{_label(head)}并案。", field="into")
    if item.merged_with_id is not None:
        current = Proposal.objects.filter(pk=item.merged_with_id).values_list("number", flat=True).first()
        raise DomainError(f"本件已并入第{current}号，不能同时并入{_label(head)}；如需改并，请先取消并案。",
                          field="into")
    own = list(Proposal.objects.filter(merged_with=item).order_by("number").values_list("number", flat=True))
    if own:
        listed = "、".join(f"第{n}号" for n in own)
        if Proposal.objects.filter(merged_with=head).exists():
            advice = (f"{_label(head)}也是并案主件，两组不能直接合并：请先对{listed}取消并案，"
                      f"再将本件和它们逐件并入{_label(head)}。")
        else:
            advice = f"可以改为将{_label(head)}并入本件；或先对{listed}取消并案，再将各件并入{_label(head)}。"
        raise DomainError(f"本件是并案主件（{listed}已并入本件），不能再并入{_label(head)}。{advice}", field="into")
    for row in (item, head):
        if row.status == ProposalStatus.CLOSED:
            which = "本件" if row.pk == item.pk else _label(row)
            raise DomainError(f"{which}已办结，不能再并案办理。", field="into")
    if not Proposal.objects.filter(pk=item.pk, merged_with__isnull=True).update(merged_with=head):
        raise ConflictError(_RACE)
    proposal.merged_with = head
    _write_merge_events("merge", actor, item, head)
    return head


@transaction.atomic
def proposal_unmerge(*, actor, proposal: Proposal) -> Proposal:
    """Take `proposal` out of its 并案 group (it is handled on its own again); returns the former head."""
    _require_merging_office(actor, proposal, "只有该届次的交办机构才能取消并案。")
    head_id = Proposal.objects.filter(pk=proposal.pk).values_list("merged_with_id", flat=True).first()
    if head_id is None:
        if Proposal.objects.filter(merged_with=proposal).exists():
            raise DomainError("本件是并案主件：请在各并入件上逐件取消并案。")
        raise DomainError("本件没有并案，无需取消。")
    rows = _locked(proposal.pk, head_id)
    item, head = rows[proposal.pk], rows[head_id]
    if item.status == ProposalStatus.CLOSED:
        raise DomainError("本件已办结，并案关系已随办理结果存档，不能再取消。")
    if not Proposal.objects.filter(pk=item.pk, merged_with=head).update(merged_with=None):
        raise ConflictError(_RACE)
    proposal.merged_with = None
    _write_merge_events("unmerge", actor, item, head)
    return head


@transaction.atomic
def proposal_create_many(*, actor, session: Session, items: list[dict]) -> list[Proposal]:
    """Register many proposals at once (an imported list): what proposal_create does per item, checked up front and
    written in a few inserts (proposals, new proposers, proposer links, one `register` event each).

    Each item holds number, title, proposers (names or Proposer objects, the lead first) and optionally kind, body,
    category, is_key. A refusal names the item's number; nothing is written then."""
    _require_office_of(actor, session.assigning_office)
    seen: set[tuple[str, str]] = set()
    for item in items:
        item["number"] = (item.get("number") or "").strip()
        item["title"] = (item.get("title") or "").strip()
        item.setdefault("kind", ProposalKind.PROPOSAL)
        kind_label = ProposalKind(item["kind"]).label
        if not item["number"]:
            raise DomainError(f"{kind_label}编号不能为空。", field="number")
        if not item["title"]:
            raise DomainError(f"第{item['number']}号：案由（标题）不能为空。", field="title")
        if not item.get("proposers"):
            raise DomainError(f"第{item['number']}号：请至少填写一位{kind_label}人（领衔人）。", field="proposers")
        if (item["kind"], item["number"]) in seen:
            raise DomainError(f"第{item['number']}号出现了两次，编号不能重复。", field="number")
        seen.add((item["kind"], item["number"]))
    taken = Proposal.objects.filter(session=session, number__in=[i["number"] for i in items]).values_list("kind", "number")
    for kind, number in taken:
        if (kind, number) in seen:
            raise DomainError(f"{session.name}已有第{number}号{ProposalKind(kind).label}，编号不能重复。", field="number")

    names = {str(p).strip() for i in items for p in i["proposers"] if not isinstance(p, Proposer)}
    if any(not name for name in names):
        raise DomainError("提案人姓名不能为空。", field="proposers")
    # The same matching as proposer_match: a registered body (致公党深圳市委会) is linked, never duplicated.
    registered: dict[str, list] = {}
    for proposer in Proposer.objects.filter(name__in=names).order_by("id"):
        registered.setdefault(proposer.name, []).append(proposer)
    by_name: dict[str, Proposer] = {name: _pick_proposer(name, found) for name, found in registered.items()}
    missing = sorted(names - set(by_name))
    for proposer in Proposer.objects.bulk_create([Proposer(name=n, kind=ProposerKind.MEMBER) for n in missing]):
        by_name[proposer.name] = proposer

    try:
        with transaction.atomic():
            proposals = Proposal.objects.bulk_create([
                Proposal(session=session, kind=i["kind"], number=i["number"], title=i["title"], body=i.get("body") or "",
                         category=i.get("category") or "", is_key=bool(i.get("is_key")),
                         submitted_on=i.get("submitted_on"),
                         # The search words, as proposal_search_refresh stores them (proposer names included).
                         search_text=search_text_for(
                             number=i["number"], title=i["title"], body=i.get("body") or "",
                             names=list(dict.fromkeys(p.name if isinstance(p, Proposer) else str(p).strip()
                                                      for p in i["proposers"]))))
                for i in items
            ], batch_size=500)
    except IntegrityError as exc:
        raise ConflictError(f"{session.name}刚刚已登记了其中的编号，请刷新后重新导入。") from exc
    links, events = [], []
    for proposal, item in zip(proposals, items):
        done = set()
        for position, entry in enumerate(item["proposers"]):
            proposer = entry if isinstance(entry, Proposer) else by_name[str(entry).strip()]
            if proposer.pk in done:
                continue
            done.add(proposer.pk)
            links.append(ProposalProposer(proposal=proposal, proposer=proposer, is_lead=position == 0, position=position))
        events.append(build_event(
            verb="register", actor=actor, actor_role=Role.ASSIGNING_OFFICE if actor else "", proposal=proposal,
            payload={"number": item["number"], "title": item["title"],
                     "proposers": [p if isinstance(p, str) else p.name for p in item["proposers"]]},
        ))
    ProposalProposer.objects.bulk_create(links, batch_size=1000)
    write_events(events)
    return proposals
