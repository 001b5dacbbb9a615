"""Writes for co-opinions, replies and their review, proposers' feedback and commitments."""
from __future__ import annotations

import datetime as dt
import io

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from banli.core import access, eventlog, uploads
from banli.core.errors import ConflictError, DomainError, PermissionDenied, conflict_on_duplicate
from banli.handling import deadlines, workflow
from banli.handling.choices import DeadlineStep
from banli.organizations.choices import Role
from banli.portal.services import reply_publish
from banli.proposals.models import ProposalProposer
from banli.replies import documents, letters
from banli.replies.choices import (
    CHECKLIST_ITEMS,
    NATIONAL_REPLY_CLASSES,
    CommitmentState,
    CoOpinionState,
    DeliveryKind,
    Disclosure,
    DocumentKind,
    Rating,
    ReplyState,
    ReviewDecision,
    StepKind,
)
from banli.replies.letters import default_cc
from banli.replies.models import (
    Commitment,
    CoOpinion,
    CoOpinionAttachment,
    DocumentTemplate,
    DraftComment,
    Feedback,
    FeedbackCallback,
    Reply,
    ReplyClass,
    ReplyClassScheme,
    ReplyDelivery,
    ReviewChain,
    ReviewChainStep,
    ReviewRecord,
)
from banli.replies.workflow import reply_check, reply_move

DEFAULT_CHAIN = list(access.DEFAULT_REVIEW_STEPS)


def national_scheme() -> ReplyClassScheme:
    """The national NPC A–D scheme, created on first use."""
    scheme, created = ReplyClassScheme.objects.get_or_create(name="全国人大 A/B/C/D 四类")
    if created:
        for position, (code, label) in enumerate(NATIONAL_REPLY_CLASSES):
            ReplyClass.objects.create(scheme=scheme, code=code, label=label, position=position,
                                      needs_commitment=code in ("B", "C"))
    return scheme


def reply_classes_for(session) -> list[ReplyClass]:
    scheme = session.reply_scheme or national_scheme()
    return list(scheme.classes.all())


def review_steps_for(unit) -> list[ReviewChainStep]:
    """The unit's review chain, or the default chain (section → office check → deputy leader → head signs off)."""
    chain, created = ReviewChain.objects.get_or_create(unit=unit)
    if created:
        for position, (name, role) in enumerate(DEFAULT_CHAIN, start=1):
            ReviewChainStep.objects.create(chain=chain, position=position, name=name, role=role)
    return list(chain.steps.all())


def _step_spec(step) -> dict:
    """A step given as (name, role), (name, role, kind) or a dict with name, role, kind, checklist_required."""
    if isinstance(step, dict):
        spec = dict(step)
    else:
        name, role, *rest = step
        spec = {"name": name, "role": role, "kind": rest[0] if rest else StepKind.REVIEW}
    spec.setdefault("kind", StepKind.REVIEW)
    # Opt-in per step: e.g. {"name": "督查室二次把关", "role": "assigning_office", "checklist_required": True}.
    spec.setdefault("checklist_required", False)
    return spec


@transaction.atomic
def review_chain_set(*, unit, steps: list, actor=None, allow_same_reviewer: bool | None = None) -> list[ReviewChainStep]:
    """Replace a unit's review chain with `steps` [(name, role[, kind])… or dicts]; the last step signs off.

    A step of kind 征求意见稿 (consult) shares the draft with the proposers for comments; the unit office
    closes it. A final step of the assigning office is its own check (二次把关) before the reply may be sent.
    """
    if not steps:
        raise DomainError("审核链至少需要一个环节。")
    specs = [_step_spec(step) for step in steps]
    for spec in specs:
        name, role, kind = spec.get("name", ""), spec.get("role"), spec["kind"]
        if not (name or "").strip():
            raise DomainError("每个审核环节都要有名称。")
        if role not in access.REVIEW_STEP_ROLES:
            raise DomainError(f"环节「{name}」的审核角色无效。")
        if kind not in StepKind.values:
            raise DomainError(f"环节「{name}」的类型无效。")
        if kind == StepKind.CONSULT and role not in access.CONSULT_STEP_ROLES:
            raise DomainError(f"征求意见稿环节「{name}」应由本单位联络员或承办人收集意见后结束。")
    if specs[-1]["kind"] == StepKind.CONSULT:
        raise DomainError("征求意见稿环节之后还需要签发环节。")
    for spec in specs:
        for person in spec.get("reviewers") or ():
            if not access.holds_role_in_unit(person, unit, spec["role"]):
                raise DomainError(f"环节「{spec['name']}」指定的审核人「{person.label}」在本单位没有该环节的审核角色。")
    chain, _ = ReviewChain.objects.get_or_create(unit=unit)
    if allow_same_reviewer is not None and chain.allow_same_reviewer != allow_same_reviewer:
        chain.allow_same_reviewer = allow_same_reviewer
        chain.save(update_fields=["allow_same_reviewer"])
    chain.steps.all().delete()
    result = []
    for i, spec in enumerate(specs, start=1):
        step = ReviewChainStep.objects.create(chain=chain, position=i, name=spec["name"].strip(), role=spec["role"],
                                              kind=spec["kind"], checklist_required=bool(spec["checklist_required"]))
        step.reviewers.set(spec.get("reviewers") or ())
        result.append(step)
    eventlog.write_event(verb="review_chain_set", actor=actor,
                         payload={"unit": unit.pk, "allow_same_reviewer": chain.allow_same_reviewer,
                                  "steps": [[s.name, s.role, s.kind, [u.pk for u in s.reviewers.all()]] for s in result]})
    return result


def _check_checklist(step, checklist: dict | None, approve: bool) -> dict:
    """The office's check list (逐条答复, 文字, 格式, 公开属性): known items, all passed to approve."""
    checklist = dict(checklist or {})
    labels = dict(CHECKLIST_ITEMS)
    # Units may add their own items; the four standard ones are what a required check list must cover.
    if step.checklist_required and approve:
        missing = [labels[key] for key, _ in CHECKLIST_ITEMS if key not in checklist]
        if missing:
            raise DomainError(f"「{step.name}」须逐项填写核稿清单，尚缺：{'、'.join(missing)}。", field="checklist")
    if approve:
        failed = [labels.get(key, key) for key, ok in checklist.items() if not ok]
        if failed:
            raise DomainError(f"核稿清单「{'、'.join(failed)}」未通过，请退回修改而不是通过。", field="checklist")
    return {key: bool(value) for key, value in checklist.items()}


# --- uploads ------------------------------------------------------------------------------------

SCAN_KINDS = ("pdf", "png", "jpeg")


def _checked_upload(upload, *, field: str, allowed=uploads.DEFAULT_ALLOWED, what: str = "附件"):
    """The upload's real kind, or a DomainError naming the file and what to do (nothing is stored then)."""
    try:
        return uploads.validate_upload(upload, allowed=allowed)
    except DomainError as exc:
        name = (getattr(upload, "name", "") or "").rsplit("/", 1)[-1]
        label = f"{what}「{name}」" if name else what
        raise DomainError(f"{label}未上传：{exc.message}", field=field) from exc


def _store_upload(fieldfile, upload, kind) -> None:
    """Store a checked upload under a random name (every upload of a call is checked before anything is written)."""
    uploads.store(fieldfile, upload, kind)


# --- co-opinions --------------------------------------------------------------------------------


def co_opinion_needs_leader(unit) -> bool:
    """The unit's setting: its 会办意见 waits for its leader's sign-off before it goes to the lead unit."""
    return ReviewChain.objects.filter(unit=unit, co_opinion_needs_leader=True).exists()


@transaction.atomic
def co_opinion_set_sign_off(*, unit, needs_leader: bool, actor=None) -> ReviewChain:
    """Turn the unit's 会办意见 leader sign-off on or off (recorded)."""
    chain, _ = ReviewChain.objects.get_or_create(unit=unit)
    if chain.co_opinion_needs_leader != needs_leader:
        chain.co_opinion_needs_leader = needs_leader
        chain.save(update_fields=["co_opinion_needs_leader"])
        eventlog.write_event(verb="co_opinion_sign_off_set", actor=actor,
                             payload={"unit": unit.pk, "co_opinion_needs_leader": needs_leader})
    return chain


def _co_opinion_number(assignment, now) -> str:
    prefix = _unit_prefix(assignment.unit) + "会办"
    year = timezone.localdate(now).year
    existing = CoOpinion.objects.filter(assignment__unit=assignment.unit, doc_number__startswith=f"{prefix}〔{year}〕")
    return _next_number(prefix, year, existing.values_list("doc_number", flat=True))


def pending_co_opinion(assignment) -> CoOpinion | None:
    """The co unit's opinion waiting for its leader's sign-off, if any."""
    return CoOpinion.objects.filter(assignment=assignment, state=CoOpinionState.PENDING).order_by("-id").first()


@transaction.atomic
def co_opinion_send(*, assignment, actor, body: str, contact_person: str = "", contact_phone: str = "",
                    attachments=None, now=None) -> CoOpinion:
    """A co unit sends its written opinion (text, .docx and attachments) to the lead unit (会办意见).

    When the unit's setting asks for it, the opinion first waits for the unit's leader (co_opinion_sign_off)."""
    now = now or timezone.now()
    needs_leader = co_opinion_needs_leader(assignment.unit)
    workflow.check(assignment, "submit_co_opinion" if needs_leader else "send_co_opinion", actor)
    if not (body or "").strip():
        raise DomainError("会办意见内容不能为空。", field="body")
    if needs_leader and pending_co_opinion(assignment) is not None:
        raise ConflictError("本单位的会办意见已送领导审签，请等待审签结果。")
    checked = [(upload, _checked_upload(upload, field="attachments")) for upload in attachments or []]
    if needs_leader:
        opinion = CoOpinion.objects.create(
            assignment=assignment, round=assignment.round, body=body.strip(), contact_person=contact_person,
            contact_phone=contact_phone, state=CoOpinionState.PENDING, written_by=actor,
        )
        workflow.perform(assignment, "submit_co_opinion", actor, now=now, payload={"co_opinion": opinion.pk})
    else:
        opinion = CoOpinion.objects.create(
            assignment=assignment, round=assignment.round, body=body.strip(), contact_person=contact_person,
            contact_phone=contact_phone, state=CoOpinionState.SENT, written_by=actor, sent_by=actor, sent_at=now,
            doc_number=_co_opinion_number(assignment, now),
        )
        workflow.perform(assignment, "send_co_opinion", actor, now=now, changes={"opinion_sent_at": now},
                         payload={"co_opinion": opinion.pk, "doc_number": opinion.doc_number})
    # Files are written last: a lost race above rolls back before anything reached the disk.
    for upload, kind in checked:
        attachment = CoOpinionAttachment(opinion=opinion, name=uploads.offered_name(getattr(upload, "name", ""), kind),
                                         uploaded_by=actor)
        _store_upload(attachment.file, upload, kind)
        attachment.save()
    if not needs_leader:
        opinion_id = opinion.pk
        transaction.on_commit(lambda: co_opinion_freeze_document(opinion_id=opinion_id))
    return opinion


@transaction.atomic
def co_opinion_sign_off(*, opinion: CoOpinion, actor, approve: bool, reason: str = "", now=None) -> CoOpinion:
    """The co unit's leader signs off its 会办意见 (it goes to the lead unit) or returns it with a reason."""
    now = now or timezone.now()
    assignment = workflow.fresh_assignment(opinion.assignment_id)
    action = "approve_co_opinion" if approve else "return_co_opinion"
    workflow.check(assignment, action, actor, reason=reason)
    if opinion.state != CoOpinionState.PENDING:
        raise ConflictError("该会办意见已经审签或退回，请刷新后查看。")
    if approve:
        changes = {"state": CoOpinionState.SENT, "signed_by": actor, "signed_at": now, "sent_by": actor,
                   "sent_at": now, "doc_number": _co_opinion_number(assignment, now)}
    else:
        changes = {"state": CoOpinionState.RETURNED, "signed_by": actor, "signed_at": now,
                   "return_reason": reason.strip()}
    if not CoOpinion.objects.filter(pk=opinion.pk, state=CoOpinionState.PENDING).update(**changes):
        raise ConflictError("该会办意见刚刚已由他人审签或退回，请刷新后查看。")
    payload = {"co_opinion": opinion.pk}
    if approve:
        payload["doc_number"] = changes["doc_number"]
    workflow.perform(assignment, action, actor, now=now, reason=reason,
                     changes={"opinion_sent_at": now} if approve else None, payload=payload)
    opinion.refresh_from_db()
    if approve:
        opinion_id = opinion.pk
        transaction.on_commit(lambda: co_opinion_freeze_document(opinion_id=opinion_id))
    return opinion


def co_opinion_freeze_document(*, opinion_id: int) -> CoOpinion:
    """Store the sent co-opinion's .docx (idempotent)."""
    opinion = CoOpinion.objects.select_related("assignment__proposal__session", "assignment__unit").get(pk=opinion_id)
    if opinion.document:
        return opinion
    content = letters.render(letters.co_opinion_context(opinion), opinion.assignment.unit, DocumentKind.CO_OPINION)
    opinion.document.save(f"co-opinion-{opinion.pk}.docx", ContentFile(content), save=False)
    CoOpinion.objects.filter(pk=opinion.pk, document="").update(document=opinion.document.name)
    return opinion


# --- replies ------------------------------------------------------------------------------------


def current_reply(assignment) -> Reply | None:
    """The latest version of the current round's reply."""
    return Reply.objects.filter(assignment=assignment, round=assignment.round).order_by("-version").first()


def _validate_class(assignment, reply_class: str) -> None:
    if not reply_class:
        return
    codes = [c.code for c in reply_classes_for(assignment.proposal.session)]
    if reply_class not in codes:
        raise DomainError(f"答复类别「{reply_class}」无效，应为 {'/'.join(codes)} 之一。", field="reply_class")


@transaction.atomic
def reply_save_draft(*, assignment, actor, body: str, reply_class: str = "", disclosure: str = Disclosure.FULL,
                     disclosure_reason: str = "", public_summary: str = "", contact_person: str = "",
                     contact_phone: str = "", adopted_opinions=None, is_upward: bool | None = None,
                     cc: list[str] | None = None, now=None) -> Reply:
    """Write or revise the draft reply; a returned or signed-off version is kept and a new version starts."""
    workflow.check(assignment, "save_reply_draft", actor)
    if not (body or "").strip():
        raise DomainError("答复正文不能为空。", field="body")
    if disclosure not in Disclosure.values:
        raise DomainError("请选择公开属性。", field="disclosure")
    _validate_class(assignment, reply_class)
    latest = current_reply(assignment)
    fields = dict(
        body=body.strip(), reply_class=reply_class, disclosure=disclosure, disclosure_reason=disclosure_reason,
        public_summary=public_summary, contact_person=contact_person, contact_phone=contact_phone,
    )
    if is_upward is not None:
        fields["is_upward"] = bool(is_upward)
    if cc is not None:
        fields["cc"] = [name.strip() for name in cc if name and name.strip()]
    if latest is not None and latest.state != ReplyState.DRAFT:
        # A new version starts from the previous one: what the form leaves out is carried over.
        fields.setdefault("is_upward", latest.is_upward)
        fields.setdefault("cc", latest.cc)
        fields["revised_from"] = latest
    if latest is not None and latest.state == ReplyState.DRAFT:
        for key, value in fields.items():
            setattr(latest, key, value)
        latest.save()
        reply = latest
    else:
        version = (latest.version + 1) if latest else 1
        with conflict_on_duplicate("该事项的答复刚刚已由他人起草保存（同一版本），本次保存未执行，请刷新后在其基础上修改。"):
            reply = Reply.objects.create(assignment=assignment, round=assignment.round, version=version,
                                         drafted_by=actor, **fields)
        if latest is not None and adopted_opinions is None:
            reply.adopted_opinions.set(latest.adopted_opinions.all())
    if adopted_opinions is not None:
        lead_proposal = assignment.proposal_id
        for opinion in adopted_opinions:
            if opinion.assignment.proposal_id != lead_proposal or opinion.state != CoOpinionState.SENT:
                raise DomainError("只能吸收本事项已送达的会办意见。", field="adopted_opinions")
        reply.adopted_opinions.set(adopted_opinions)
    eventlog.write_event(verb="reply_draft", actor=actor, assignment=assignment,
                         payload={"reply": reply.pk, "version": reply.version}, now=now)
    return reply


@transaction.atomic
def reply_submit(*, reply: Reply, actor, now=None) -> Reply:
    """Submit the draft to the unit's review chain (提交审核)."""
    now = now or timezone.now()
    assignment = workflow.fresh_assignment(reply.assignment_id)
    reply_check(reply, "submit")
    if not reply.reply_class:
        raise DomainError("请先选择答复类别（如 A、B、C、D 类）再提交审核。", field="reply_class")
    if reply.disclosure == Disclosure.NONE and not reply.disclosure_reason.strip():
        raise DomainError("公开属性为“不公开”时，必须填写不公开理由。", field="disclosure_reason")
    if reply.disclosure == Disclosure.SUMMARY and not reply.public_summary.strip():
        raise DomainError("公开属性为“摘要公开”时，请填写公开摘要。", field="public_summary")
    steps = review_steps_for(assignment.unit)
    reply_move(reply, "submit", review_position=steps[0].position, submitted_at=now)
    workflow.perform(assignment, "submit_reply", actor, now=now,
                     payload={"reply": reply.pk, "version": reply.version, "class": reply.reply_class})
    reply.refresh_from_db()
    return reply


@transaction.atomic
def reply_review(*, reply: Reply, actor, approve: bool, reason: str = "", checklist: dict | None = None,
                 now=None) -> Reply:
    """One review step approves (the next step follows, or the reply is signed off) or returns it with a reason."""
    now = now or timezone.now()
    assignment = workflow.fresh_assignment(reply.assignment_id)
    reply_check(reply, "return")
    steps = review_steps_for(assignment.unit)
    step = next((s for s in steps if s.position == reply.review_position), None)
    if step is None:
        raise DomainError("审核链配置已变化，请退回后重新提交。")
    refusal = access.review_refusal(actor, assignment, reply, step)
    if refusal is not None:
        taken = (ReviewRecord.objects.filter(reply=reply, position__lt=step.position).order_by("-position")
                 .select_related("reviewer").first())
        earlier = next((s for s in steps if taken is not None and s.position == taken.position), None)
        if earlier is not None and access.review_step_just_taken(actor, assignment, step, earlier):
            # The step this reviewer takes was just taken (by a colleague, or in another tab): a lost race.
            raise ConflictError(f"「{earlier.name}」环节刚刚已由{taken.reviewer}审核，当前为「{step.name}」环节，"
                                f"本次未重复审核，请刷新后查看。")
        raise PermissionDenied(refusal)
    role = access.review_role(actor, assignment, step)
    action = "approve_reply" if approve else "return_reply"
    if not approve and not (reason or "").strip():
        raise DomainError("退回修改时必须填写理由。", field="reason")
    workflow.check(assignment, action, actor, reason=reason, role=role)
    checklist = _check_checklist(step, checklist, approve)
    try:
        with transaction.atomic():
            ReviewRecord.objects.create(
                reply=reply, position=step.position, step_name=step.name, reviewer=actor,
                decision=ReviewDecision.APPROVE if approve else ReviewDecision.RETURN,
                reason=reason or "", checklist=checklist or {}, created_at=now,
            )
    except IntegrityError as exc:
        raise ConflictError(f"「{step.name}」环节刚刚已由他人审核，请刷新后查看。") from exc
    later = [s for s in steps if s.position > step.position]
    if approve and later:
        move, changes = "approve_step", {"review_position": later[0].position}
    elif approve:
        # Sign-off: the issuing number and the signer are fixed now and printed on the frozen letter.
        move, changes = "sign_off", {"approved_at": now, "doc_number": reply.doc_number or _next_reply_number(assignment, now),
                                     "signer": reply.signer or _person_name(actor)}
    else:
        move, changes = "return", {}
    reply_move(reply, move, match={"review_position": step.position},
               conflict=f"「{step.name}」环节刚刚已由他人审核，请刷新后查看。", **changes)
    workflow.perform(
        assignment, action, actor, reason=reason, now=now, actor_role=role,
        payload={"reply": reply.pk, "version": reply.version, "step": step.name,
                 "signed_off": approve and not later, "checklist": checklist or {}},
    )
    reply.refresh_from_db()
    if reply.state == ReplyState.APPROVED:
        reply_id = reply.pk
        transaction.on_commit(lambda: reply_freeze_document(reply_id=reply_id))
    return reply


def _person_name(user) -> str:
    """The name printed as 签发人: the display name without its "单位 职务" prefix."""
    name = (getattr(user, "display_name", "") or user.get_username()).strip()
    return name.split()[-1] if name else ""


def _next_number(prefix: str, year: int, existing) -> str:
    """The next 〔year〕n号 for `prefix` among `existing` numbers (a unit's replies or co-opinions)."""
    head = f"{prefix}〔{year}〕"
    highest = 0
    for number in existing:
        if number.startswith(head) and number.endswith("号"):
            digits = number[len(head):-1]
            if digits.isdigit():
                highest = max(highest, int(digits))
    return f"{head}{highest + 1}号"


def _unit_prefix(unit) -> str:
    return unit.short_name or unit.name


def _next_reply_number(assignment, now) -> str:
    """文号 of a reply letter: <unit>提复〔year〕n号 (建复 for suggestions), numbered per unit and year."""
    word = "建复" if assignment.proposal.kind == "suggestion" else "提复"
    prefix = _unit_prefix(assignment.unit) + word
    year = timezone.localdate(now).year
    existing = Reply.objects.filter(assignment__unit=assignment.unit, doc_number__startswith=f"{prefix}〔{year}〕")
    return _next_number(prefix, year, existing.values_list("doc_number", flat=True))


def reply_freeze_document(*, reply_id: int) -> Reply:
    """Store the signed-off letter as it was signed (idempotent: an existing document is kept)."""
    reply = Reply.objects.select_related("assignment__proposal__session__assigning_office", "assignment__unit").get(pk=reply_id)
    if reply.document or reply.state not in (ReplyState.APPROVED, ReplyState.SENT):
        return reply
    content = letters.render(letters.reply_context(reply), reply.assignment.unit,
                             letters.reply_kind(reply.assignment.proposal))
    reply.document.save(f"reply-{reply.pk}-v{reply.version}.docx", ContentFile(content), save=False)
    Reply.objects.filter(pk=reply.pk, document="").update(document=reply.document.name)
    return reply


@transaction.atomic
def reply_revise(*, reply: Reply, actor, reason: str, now=None) -> Reply:
    """Reopen a signed-off but unsent reply: the signed version stays frozen, a new draft version starts."""
    now = now or timezone.now()
    assignment = workflow.fresh_assignment(reply.assignment_id)
    reply_check(reply, "reopen")
    if not (reason or "").strip():
        raise DomainError("重新修改已签发的答复必须填写理由。", field="reason")
    latest = current_reply(assignment)
    if latest is None or latest.pk != reply.pk:
        raise ConflictError("该答复已有更新的版本，请刷新后查看。")
    role = access.reopening_role(actor, assignment)
    if role is None:
        raise PermissionDenied("只有单位联络员或领导可以重新修改已签发的答复。")
    assignment = workflow.perform(assignment, "return_reply", actor, reason=reason, now=now, actor_role=role,
                                  payload={"reply": reply.pk, "version": reply.version, "reopened_signed": True})
    draft = Reply.objects.create(
        assignment=assignment, round=reply.round, version=reply.version + 1, drafted_by=actor, revised_from=reply,
        body=reply.body, reply_class=reply.reply_class, disclosure=reply.disclosure,
        disclosure_reason=reply.disclosure_reason, public_summary=reply.public_summary,
        contact_person=reply.contact_person, contact_phone=reply.contact_phone, is_upward=reply.is_upward,
        cc=reply.cc,
    )
    draft.adopted_opinions.set(reply.adopted_opinions.all())
    return draft


@transaction.atomic
def draft_comment_add(*, reply: Reply, actor, body: str, now=None) -> DraftComment:
    """A proposer comments on the draft shared with him (征求意见稿) while that step is open."""
    now = now or timezone.now()
    link = ProposalProposer.objects.filter(proposal_id=reply.assignment.proposal_id, proposer__user=actor).select_related("proposer").first()
    if link is None:
        raise PermissionDenied("只有该事项的提案人本人才能对征求意见稿提出意见。")
    step = ReviewChainStep.objects.filter(chain__unit=reply.assignment.unit, position=reply.review_position).first()
    if reply.state != ReplyState.IN_REVIEW or step is None or step.kind != StepKind.CONSULT:
        raise DomainError("该答复目前不在征求意见阶段，不能提出意见。")
    if not (body or "").strip():
        raise DomainError("请填写您对答复稿的意见。", field="body")
    comment = DraftComment.objects.create(reply=reply, proposer=link.proposer, author=actor, body=body.strip(),
                                          created_at=now)
    eventlog.write_event(verb="draft_comment", actor=actor, actor_role=Role.PROPOSER, assignment=reply.assignment,
                         payload={"reply": reply.pk, "comment": comment.pk}, now=now)
    return comment


# --- document templates -------------------------------------------------------------------------


@transaction.atomic
def document_template_upload(*, unit, kind: str, file, actor) -> DocumentTemplate:
    """The office uploads its edited .docx template for one unit and kind (none: every unit); it replaces the last."""
    if kind not in DocumentKind.values:
        raise DomainError("请选择文书类型（提案答复函、建议答复函或会办意见）。", field="kind")
    if not access.can_manage_templates(actor, unit):
        raise PermissionDenied("只有本单位联络员或交办机构可以维护文书模板。")
    if file is None:
        raise DomainError("请选择模板文件（.docx）。", field="file")
    kind_checked = _checked_upload(file, field="file", allowed=("docx",), what="模板文件")
    content = file.read()
    sample = documents.LetterContext(title="关于某届某次会议第1号提案的答复", body="一、样例\n样例正文。", unit_name="样例单位",
                                     class_mark="A类", doc_number="样例〔2025〕1号", date="2025年1月1日",
                                     contact_person="样例", contact_phone="0000-0000000", cc=["样例机构"])
    try:
        documents.render_template(io.BytesIO(content), sample)
    except Exception as exc:  # a broken template must be refused now, not when a letter is due
        raise DomainError(f"模板无法使用：请上传 Word .docx 文件，并检查占位符（如 {{{{ title }}}}、{{{{p body }}}}）是否完整。（{exc.__class__.__name__}）",
                          field="file") from exc
    DocumentTemplate.objects.filter(unit=unit, kind=kind, is_active=True).update(is_active=False)
    template = DocumentTemplate(unit=unit, kind=kind, uploaded_by=actor)
    _store_upload(template.file, ContentFile(content), kind_checked)
    template.save()
    eventlog.write_event(verb="document_template_upload", actor=actor,
                         payload={"template": template.pk, "unit": getattr(unit, "pk", None), "kind": kind})
    return template


@transaction.atomic
def reply_send(*, reply: Reply, actor, now=None) -> Reply:
    """Send the signed-off reply: a copy to every proposer, the assigning office and the 抄送 bodies;
    the feedback deadline starts."""
    now = now or timezone.now()
    assignment = workflow.fresh_assignment(reply.assignment_id)
    reply_check(reply, "send")
    latest = current_reply(assignment)
    if latest is None or latest.pk != reply.pk:
        raise DomainError("该版本已不是最新版本，请发送最新签发的答复。")
    feedback_due = deadlines.due_date(assignment.proposal.session, assignment.proposal.kind, DeadlineStep.FEEDBACK,
                                      timezone.localdate(now))
    reply_move(reply, "send", sent_at=now, sent_by=actor)
    fresh = workflow.perform(assignment, "send_reply", actor, now=now,
                             changes={"replied_at": now, "feedback_due": feedback_due},
                             payload={"reply": reply.pk, "version": reply.version, "class": reply.reply_class,
                                      "feedback_due": feedback_due.isoformat()})
    office = assignment.proposal.session.assigning_office
    copies = [
        ReplyDelivery(reply=reply, kind=DeliveryKind.PROPOSER, proposer=link.proposer, name=link.proposer.name,
                      delivered_at=now)
        for link in ProposalProposer.objects.filter(proposal=assignment.proposal).select_related("proposer")
    ]
    copies.append(ReplyDelivery(reply=reply, kind=DeliveryKind.OFFICE, unit=office, name=office.name, delivered_at=now))
    for name in reply.cc or default_cc(assignment):
        if name != office.name:
            copies.append(ReplyDelivery(reply=reply, kind=DeliveryKind.CC, name=name, delivered_at=now))
    ReplyDelivery.objects.bulk_create(copies)
    eventlog.write_event(verb="reply_delivered", actor=actor, assignment=fresh, now=now,
                         payload={"reply": reply.pk, "copies": [[c.kind, c.name] for c in copies]})
    reply.refresh_from_db()
    reply_id = reply.pk
    transaction.on_commit(lambda: reply_freeze_document(reply_id=reply_id))
    transaction.on_commit(lambda: _publish(reply_id))
    return reply


def _publish(reply_id: int) -> None:
    """A disclosed reply goes to the public portal once sent (its own idempotent job)."""
    reply_publish(reply_id=reply_id)


@transaction.atomic
def reply_copy_open(*, delivery: ReplyDelivery, actor, now=None) -> ReplyDelivery:
    """A proposer opens his own copy: the first opening is recorded (已阅)."""
    now = now or timezone.now()
    if delivery.proposer_id and delivery.proposer.user_id == actor.pk and delivery.read_at is None:
        ReplyDelivery.objects.filter(pk=delivery.pk, read_at__isnull=True).update(read_at=now)
        delivery.read_at = now
    return delivery


# --- feedback -----------------------------------------------------------------------------------


ALREADY_RATED = "{name}已测评，不能重复测评。"


def _validate_rating(attitude: str, result: str, comment: str) -> None:
    if attitude not in Rating.values or result not in Rating.values:
        raise DomainError("请对办理态度和办理结果分别选择：满意、基本满意或不满意。")
    if Rating.UNSATISFIED in (attitude, result) and not (comment or "").strip():
        raise DomainError("选择“不满意”时，请填写具体意见，以便承办单位改进。", field="comment")


def _rated_reply(assignment) -> Reply:
    reply = Reply.objects.filter(assignment=assignment, round=assignment.round, state=ReplyState.SENT).order_by("-version").first()
    if reply is None:
        raise DomainError("该事项本轮尚无已发送的答复，暂不能测评。")
    return reply


def _store_feedback(*, assignment, reply, proposer, actor, actor_role, attitude, result, comment, contacted_before,
                    on_paper=False, scanned_form=None, now) -> Feedback:
    if Feedback.objects.filter(reply=reply, proposer=proposer).exists():
        raise ConflictError(ALREADY_RATED.format(name=proposer.name))
    scan_kind = (_checked_upload(scanned_form, field="scanned_form", allowed=SCAN_KINDS, what="测评表扫描件")
                 if scanned_form is not None else None)
    try:
        with transaction.atomic():
            feedback = Feedback(
                assignment=assignment, reply=reply, proposer=proposer, round=assignment.round,
                attitude=attitude, result=result, comment=(comment or "").strip(), submitted_by=actor,
                submitted_at=now, contacted_before=contacted_before, on_paper=on_paper,
            )
            if scanned_form is not None:
                _store_upload(feedback.scanned_form, scanned_form, scan_kind)
            feedback.save()
    except IntegrityError as exc:
        raise ConflictError(ALREADY_RATED.format(name=proposer.name)) from exc
    fresh = workflow.perform(assignment, "record_feedback", actor, now=now, actor_role=actor_role,
                             payload={"feedback": feedback.pk, "attitude": attitude, "result": result,
                                      "on_paper": on_paper, "contacted_before": contacted_before})
    proposers = ProposalProposer.objects.filter(proposal=assignment.proposal)
    expected = proposers.filter(proposer__user__isnull=False).count()
    rated = Feedback.objects.filter(reply=reply).count()
    if rated >= max(expected, 1) or rated >= proposers.count():
        workflow.perform(fresh, "complete_feedback", actor, now=now, actor_role=actor_role,
                         payload={"ratings": rated})
    return feedback


@transaction.atomic
def feedback_record(*, assignment, actor, attitude: str, result: str, comment: str = "",
                    contacted_before: bool | None = None, now=None) -> Feedback:
    """A proposer rates the reply himself (办理态度, 办理结果); nobody can rate on his behalf."""
    now = now or timezone.now()
    link = ProposalProposer.objects.filter(proposal=assignment.proposal, proposer__user=actor).select_related("proposer").first()
    # Asked before the state check: once every proposer has rated, the item's state alone would say less.
    if link is not None and Feedback.objects.filter(assignment=assignment, round=assignment.round,
                                                    proposer=link.proposer).exists():
        raise ConflictError(ALREADY_RATED.format(name=link.proposer.name))
    workflow.check(assignment, "record_feedback", actor)
    if link is None:
        raise PermissionDenied("只有该事项的提案人本人才能测评。")
    _validate_rating(attitude, result, comment)
    reply = _rated_reply(assignment)
    return _store_feedback(assignment=assignment, reply=reply, proposer=link.proposer, actor=actor,
                           actor_role=Role.PROPOSER, attitude=attitude, result=result, comment=comment,
                           contacted_before=contacted_before, now=now)


@transaction.atomic
def feedback_record_paper(*, assignment, actor, proposer, attitude: str, result: str, scanned_form,
                          comment: str = "", contacted_before: bool | None = None, now=None) -> Feedback:
    """The assigning office records a proposer's paper form (纸质征询意见表) with its scan, marked as such.

    The handling unit can never do this: its own rating of itself is the "被满意" the rules forbid.
    """
    now = now or timezone.now()
    role = access.office_acting_role(actor, assignment)
    if role is None:
        raise PermissionDenied("纸质测评表只能由交办机构代为录入，承办单位不能代提案人测评。")
    workflow.check(assignment, "record_feedback", actor, role=role)
    if not ProposalProposer.objects.filter(proposal=assignment.proposal, proposer=proposer).exists():
        raise DomainError(f"{proposer.name}不是该事项的提案人。", field="proposer")
    if scanned_form is None:
        raise DomainError("代录纸质测评表时必须上传测评表扫描件。", field="scanned_form")
    _validate_rating(attitude, result, comment)
    reply = _rated_reply(assignment)
    return _store_feedback(assignment=assignment, reply=reply, proposer=proposer, actor=actor, actor_role=role,
                           attitude=attitude, result=result, comment=comment, contacted_before=contacted_before,
                           on_paper=True, scanned_form=scanned_form, now=now)


@transaction.atomic
def feedback_callback_record(*, feedback: Feedback, actor, confirmed: bool, note: str, now=None) -> FeedbackCallback:
    """The assigning office's callback to the proposer (回访复核), kept beside the rating."""
    now = now or timezone.now()
    assignment = workflow.fresh_assignment(feedback.assignment_id)
    role = access.office_acting_role(actor, assignment)
    if role is None:
        raise PermissionDenied("回访复核由交办机构记录。")
    if not (note or "").strip():
        raise DomainError("请填写回访情况。", field="note")
    callback = FeedbackCallback.objects.create(feedback=feedback, confirmed=bool(confirmed), note=note.strip(),
                                               recorded_by=actor, created_at=now)
    eventlog.write_event(verb="feedback_callback", actor=actor, actor_role=role, assignment=assignment, now=now,
                         payload={"feedback": feedback.pk, "confirmed": bool(confirmed)})
    return callback


# --- commitments --------------------------------------------------------------------------------


COMMITMENT_HORIZON_YEARS = 10


def _check_commitment_horizon(target_date: dt.date, now=None) -> None:
    """A promise due in 9999 is a typing slip, not a plan: refuse dates past a sane horizon."""
    today = timezone.localdate(now) if now else timezone.localdate()
    latest = today.replace(year=today.year + COMMITMENT_HORIZON_YEARS, day=min(today.day, 28))
    if target_date > latest:
        raise DomainError(f"完成时限不能晚于{latest:%Y年%m月%d日}（{COMMITMENT_HORIZON_YEARS}年内），请检查年份是否输错。",
                          field="target_date")


@transaction.atomic
def commitment_record(*, assignment, actor, description: str, target_date: dt.date, reply: Reply | None = None,
                      section=None, now=None) -> Commitment:
    """Record what the reply promised, with a target date and the responsible section (落实事项)."""
    workflow.check(assignment, "record_commitment", actor)
    if not (description or "").strip():
        raise DomainError("请填写承诺落实的事项。", field="description")
    if target_date is None:
        raise DomainError("请填写完成时限。", field="target_date")
    _check_commitment_horizon(target_date, now)
    if section is not None and not section.is_within(assignment.unit):
        raise DomainError("责任科室必须是本单位的科室。", field="section")
    if reply is not None and reply.assignment_id != assignment.pk:
        raise DomainError("落实事项只能关联本事项的答复。", field="reply")
    # Like a contact, a commitment changes nothing on the assignment: no compare-and-set, so commitments
    # recorded at the same moment all count.
    fresh = workflow.fresh_assignment(assignment.pk)
    role = workflow.check(fresh, "record_commitment", actor)
    commitment = Commitment.objects.create(assignment=fresh, reply=reply, description=description.strip(),
                                           target_date=target_date, recorded_by=actor,
                                           section=section or fresh.lead_section)
    eventlog.write_event(verb="record_commitment", actor=actor, actor_role=role, assignment=fresh,
                         from_state=fresh.state, to_state=fresh.state, now=now,
                         payload={"commitment": commitment.pk, "target_date": target_date.isoformat()})
    return commitment


@transaction.atomic
def commitment_complete(*, commitment: Commitment, actor, note: str, now=None) -> Commitment:
    """Mark a commitment done, with what was done."""
    now = now or timezone.now()
    assignment = workflow.fresh_assignment(commitment.assignment_id)
    workflow.check(assignment, "complete_commitment", actor)
    if not (note or "").strip():
        raise DomainError("请填写落实情况。", field="note")
    won = Commitment.objects.filter(pk=commitment.pk, state=CommitmentState.OPEN).update(
        state=CommitmentState.DONE, done_at=now, done_note=note.strip()
    )
    if not won:
        raise ConflictError("该落实事项已经完成，请刷新后查看。")
    workflow.perform(assignment, "complete_commitment", actor, now=now,
                     payload={"commitment": commitment.pk})
    commitment.refresh_from_db()
    return commitment


@transaction.atomic
def commitment_progress_report(*, commitment: Commitment, actor, note: str, now=None) -> Commitment:
    """A handler reports progress on an open commitment; the proposer sees the latest progress."""
    now = now or timezone.now()
    assignment = workflow.fresh_assignment(commitment.assignment_id)
    workflow.check(assignment, "report_commitment_progress", actor)
    if not (note or "").strip():
        raise DomainError("请填写落实进展。", field="note")
    won = Commitment.objects.filter(pk=commitment.pk, state=CommitmentState.OPEN).update(
        progress_note=note.strip(), progress_at=now
    )
    if not won:
        raise DomainError("该落实事项已经完成，不需要再报告进展。")
    eventlog.write_event(verb="commitment_progress", actor=actor, assignment=assignment, now=now,
                         payload={"commitment": commitment.pk})
    commitment.refresh_from_db()
    return commitment
