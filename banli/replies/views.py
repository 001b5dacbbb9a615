"""Reply pages: drafting with the co-opinions, review, documents, the proposer's copy and rating, commitments."""
from __future__ import annotations

import os
from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from banli.core import access, uploads
from banli.core.errors import NotFound, PermissionDenied
from banli.handling import workflow
from banli.organizations.choices import Role
from banli.replies import letters, selectors, services
from banli.replies.choices import CHECKLIST_ITEMS, DocumentKind, Rating, ReplyState, StepKind
from banli.replies.documents import default_template_bytes
from banli.replies.models import Commitment, CoOpinion, CoOpinionAttachment, Feedback

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def domain_view(view):
    """Signed-in users only; NotFound (404) and PermissionDenied (403) pages come from DomainErrorMiddleware."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def docx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=DOCX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@domain_view
def reply_docx(request, reply_id: int):
    """The reply letter as .docx (a signed-off version: the frozen document)."""
    reply = access.require_reply(request.user, reply_id)
    return docx_response(letters.reply_docx(reply), letters.reply_filename(reply))


@domain_view
def co_opinion_docx(request, opinion_id: int):
    opinion = access.require_co_opinion(request.user, opinion_id)
    return docx_response(letters.co_opinion_docx(opinion), letters.co_opinion_filename(opinion))


@domain_view
@require_http_methods(["GET", "POST"])
def templates(request):
    """The office's document templates: download the default, upload an edited one per unit and kind."""
    if not access.may_open_templates(request.user):
        raise PermissionDenied("只有单位联络员或交办机构可以维护文书模板。")
    error = ""
    units = selectors.template_units(request.user)
    if request.method == "POST":
        unit_id = request.POST.get("unit") or None
        unit = next((u for u in units if str(u.pk) == unit_id), None) if unit_id else None
        if unit_id and unit is None:
            raise NotFound("找不到该单位。")
        try:
            services.document_template_upload(unit=unit, kind=request.POST.get("kind", ""),
                                              file=request.FILES.get("file"), actor=request.user)
            messages.success(request, "模板已上传，今后生成的文书使用该模板。")
            return redirect("replies:templates")
        except PermissionDenied:
            raise
        except services.DomainError as exc:
            error = str(exc)
    return render(request, "replies/templates.html", {
        "units": units, "kinds": DocumentKind.choices, "error": error,
        "can_default": access.can_manage_templates(request.user, None),
        "uploaded": selectors.document_templates(request.user),
    })


@domain_view
def default_template(request, kind: str):
    if kind not in DocumentKind.values:
        raise Http404("没有该类型的模板。")
    return docx_response(default_template_bytes(kind), f"{DocumentKind(kind).label}模板.docx")


def _bool(value):
    return {"yes": True, "no": False}.get(value)


def _internal_assignment(user, assignment_id):
    """An assignment whose drafts the user may see (its own unit's staff); 404 for everyone else."""
    assignment = access.require_assignment(user, assignment_id)
    if not access.can_view_internal(user, assignment):
        raise NotFound("找不到该交办记录，或您没有查看权限。")
    return assignment


@domain_view
@require_http_methods(["GET", "POST"])
def draft(request, assignment_id: int):
    """The lead (or split) unit's drafting page: the draft, the co-opinions to take in, versions and reviews."""
    assignment = _internal_assignment(request.user, assignment_id)
    reply = services.current_reply(assignment)
    opinions = selectors.co_opinions_for_lead(request.user, assignment)
    error = ""
    if request.method == "POST":
        data = request.POST
        try:
            if data.get("action") == "submit" and reply is not None:
                services.reply_submit(reply=reply, actor=request.user)
                messages.success(request, "答复已提交审核。")
            else:
                chosen = [o for o in opinions if str(o.pk) in data.getlist("adopted")]
                reply = services.reply_save_draft(
                    assignment=assignment, actor=request.user, body=data.get("body", ""),
                    reply_class=data.get("reply_class", ""), disclosure=data.get("disclosure", ""),
                    disclosure_reason=data.get("disclosure_reason", ""), public_summary=data.get("public_summary", ""),
                    contact_person=data.get("contact_person", ""), contact_phone=data.get("contact_phone", ""),
                    adopted_opinions=chosen, is_upward=bool(data.get("is_upward")),
                    cc=[line for line in data.get("cc", "").splitlines()],
                )
                messages.success(request, "答复草稿已保存。")
            return redirect("replies:draft", assignment_id=assignment.pk)
        except PermissionDenied:
            raise
        except services.DomainError as exc:
            error = str(exc)
    _ = CoOpinion
    return render(request, "replies/draft.html", {
        "assignment": assignment, "proposal": assignment.proposal, "reply": reply, "opinions": opinions,
        "adopted": set(reply.adopted_opinions.values_list("pk", flat=True)) if reply else set(),
        "versions": selectors.replies_of(request.user, assignment), "error": error,
        "classes": services.reply_classes_for(assignment.proposal.session),
        "disclosures": services.Disclosure.choices, "steps": selectors.review_steps(assignment),
        "editable": workflow.TRANSITIONS["submit_reply"] in workflow.allowed_actions(assignment, request.user),
        "title": letters.letter_title(assignment.proposal),
    })


def _shows_checklist(step) -> bool:
    """The 核稿清单 belongs to the office's check (办公室核稿) and to steps whose unit asked for it."""
    return step.kind == "review" and (step.checklist_required or access.is_office_check_step(step))


@domain_view
@require_http_methods(["GET", "POST"])
def review(request, reply_id: int):
    """One reply version: read it, review it at the current step (with the check list), reopen or send it."""
    reply = access.require_reply(request.user, reply_id)
    assignment = reply.assignment
    steps = selectors.review_steps(assignment)
    step = next((s for s in steps if s.position == reply.review_position), None) if reply.state == ReplyState.IN_REVIEW else None
    error = ""
    if request.method == "POST":
        data = request.POST
        action = data.get("action")
        try:
            if action in ("approve", "return"):
                checklist = {key: data.get(f"check_{key}") == "ok" for key, _ in CHECKLIST_ITEMS if data.get(f"check_{key}")}
                if action == "approve" and step is not None and _shows_checklist(step):
                    missing = [label for key, label in CHECKLIST_ITEMS if data.get(f"check_{key}") not in ("ok", "fail")]
                    if missing:
                        raise services.DomainError(f"核稿清单须逐项选择“通过”或“不通过”，尚未选择：{'、'.join(missing)}。")
                services.reply_review(reply=reply, actor=request.user, approve=action == "approve",
                                      reason=data.get("reason", ""), checklist=checklist)
                messages.success(request, "已退回修改。" if action == "return" else f"「{step.name if step else '审核'}」已同意。")
            elif action == "revise":
                services.reply_revise(reply=reply, actor=request.user, reason=data.get("reason", ""))
                return redirect("replies:draft", assignment_id=assignment.pk)
            elif action == "send":
                services.reply_send(reply=reply, actor=request.user)
                messages.success(request, "答复已发送给提案人。")
            elif action == "comment":
                services.draft_comment_add(reply=reply, actor=request.user, body=data.get("body", ""))
                messages.success(request, "您的意见已提交。")
            return redirect("replies:review", reply_id=reply.pk)
        except PermissionDenied as exc:
            error = str(exc)
        except services.DomainError as exc:
            error = str(exc)
    internal = access.can_view_internal(request.user, assignment)
    records = list(reply.reviews.select_related("reviewer"))
    labels = dict(CHECKLIST_ITEMS)
    for record in records:
        # In the check list's own order (PostgreSQL's jsonb keeps no key order), the unit's own items after it.
        order = {key: i for i, (key, _) in enumerate(CHECKLIST_ITEMS)}
        items = sorted((record.checklist or {}).items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        record.checklist_labelled = [(labels.get(k, k), v) for k, v in items]
    chosen = request.POST if request.method == "POST" else {}
    return render(request, "replies/review.html", {
        "shows_checklist": step is not None and _shows_checklist(step),
        "checklist_rows": [(key, label, chosen.get(f"check_{key}", "")) for key, label in CHECKLIST_ITEMS],
        "reply": reply, "assignment": assignment, "proposal": assignment.proposal, "steps": steps, "step": step,
        "records": records, "error": error, "letter": letters.preview_lines(letters.reply_docx(reply)),
        "comments": reply.draft_comments.select_related("proposer") if (internal or step is not None) else [],
        "internal": internal, "adopted": reply.adopted_opinions.select_related("assignment__unit"),
        "deliveries": reply.deliveries.all() if access.can_view_reply_copies(request.user, assignment) else [],
        "title": letters.letter_title(assignment.proposal),
        "is_consult": step is not None and step.kind == "consult",
    })


@domain_view
@require_http_methods(["GET", "POST"])
def co_opinion(request, assignment_id: int):
    """The co unit writes and sends its opinion (text, attachments; the .docx is generated)."""
    assignment = _internal_assignment(request.user, assignment_id)
    error = ""
    if request.method == "POST":
        try:
            opinion = services.co_opinion_send(
                assignment=assignment, actor=request.user, body=request.POST.get("body", ""),
                contact_person=request.POST.get("contact_person", ""),
                contact_phone=request.POST.get("contact_phone", ""),
                attachments=request.FILES.getlist("attachments"))
            messages.success(request, "会办意见已送本单位领导审签，审签后送主办单位。" if opinion.state == "pending"
                             else "会办意见已发送给主办单位。")
            return redirect("replies:co_opinion", assignment_id=assignment.pk)
        except PermissionDenied as exc:
            error = str(exc)
        except services.DomainError as exc:
            error = str(exc)
    opinions = list(CoOpinion.objects.filter(assignment=assignment).select_related("signed_by")
                    .prefetch_related("attachments"))
    return render(request, "replies/co_opinion.html", {
        "assignment": assignment, "proposal": assignment.proposal, "error": error,
        "opinions": opinions,
        # A returned opinion is written again; one waiting for the leader or already sent is not.
        "may_write": not any(o.state in ("pending", "sent") for o in opinions),
        "needs_leader": services.co_opinion_needs_leader(assignment.unit),
        "may_sign_off": access.may_sign_off_co_opinion(request.user, assignment),
        "upload_limit_mb": settings.BANLI_UPLOAD_MAX_BYTES // (1024 * 1024),
        "title": letters.letter_title(assignment.proposal, co_opinion=True),
    })


@domain_view
def co_opinion_attachment(request, attachment_id: int):
    """A co-opinion's attached file, for those who may read the opinion; always a download, never shown inline."""
    attachment = CoOpinionAttachment.objects.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("找不到该附件。")
    access.require_co_opinion(request.user, attachment.opinion_id)
    return uploads.attachment_response(attachment.file, attachment.name)


@domain_view
def template_file(request, template_id: int):
    """An uploaded document template, for those who may maintain its unit's templates."""
    template = selectors.document_template_for(request.user, template_id)
    return uploads.attachment_response(template.file, f"{template}模板.docx")


@domain_view
def feedback_scan(request, feedback_id: int):
    """The scan of a paper rating form (纸质征询意见表), for the office, the rated unit and the proposer himself."""
    feedback = access.require_feedback(request.user, feedback_id)
    return uploads.attachment_response(feedback.scanned_form, f"测评表扫描件_{feedback.pk}{_ext(feedback.scanned_form.name)}")


def _ext(name: str) -> str:
    return os.path.splitext(name or "")[1]


@domain_view
def my_copies(request):
    """The proposer's replies: his own copy of every reply sent on his items."""
    return render(request, "replies/my_copies.html", {"copies": selectors.my_reply_copies(request.user)})


@domain_view
def copy(request, delivery_id: int):
    delivery = access.require_reply_copy(request.user, delivery_id)
    services.reply_copy_open(delivery=delivery, actor=request.user)
    reply = delivery.reply

    rated = Feedback.objects.filter(reply=reply, proposer=delivery.proposer).first() if delivery.proposer_id else None
    return render(request, "replies/copy.html", {
        "delivery": delivery, "reply": reply, "proposal": reply.assignment.proposal, "rated": rated,
        "title": letters.letter_title(reply.assignment.proposal),
        "letter": letters.preview_lines(letters.reply_docx(reply)),
        "commitments": reply.assignment.commitments.all(),
    })


@domain_view
@require_http_methods(["GET", "POST"])
def feedback(request, assignment_id: int):
    """征询意见表: the proposer rates 办理态度 and 办理结果 himself."""
    assignment = access.require_assignment(request.user, assignment_id)
    error = ""
    if request.method == "POST":
        try:
            services.feedback_record(assignment=assignment, actor=request.user,
                                     attitude=request.POST.get("attitude", ""), result=request.POST.get("result", ""),
                                     comment=request.POST.get("comment", ""),
                                     contacted_before=_bool(request.POST.get("contacted_before")))
            return render(request, "replies/feedback_done.html", {"proposal": assignment.proposal})
        except PermissionDenied as exc:
            return HttpResponseForbidden(str(exc))
        except services.DomainError as exc:
            error = str(exc)
    return render(request, "replies/feedback.html", {
        "assignment": assignment, "proposal": assignment.proposal, "ratings": Rating.choices, "error": error,
        "form": request.POST,
    })


@domain_view
@require_http_methods(["GET", "POST"])
def commitments(request):
    """The 落实 list: open, overdue and carried-over commitments; handlers report progress or completion."""
    error = ""
    if request.method == "POST":
        commitment = Commitment.objects.filter(pk=request.POST.get("commitment")).first()
        if commitment is None or not selectors.commitments(request.user).filter(pk=commitment.pk).exists():
            raise NotFound("找不到该落实事项。")
        try:
            if request.POST.get("action") == "complete":
                services.commitment_complete(commitment=commitment, actor=request.user, note=request.POST.get("note", ""))
                messages.success(request, "已标记为落实完成。")
            else:
                services.commitment_progress_report(commitment=commitment, actor=request.user,
                                                    note=request.POST.get("note", ""))
                messages.success(request, "落实进展已记录。")
            return redirect(request.get_full_path())
        except PermissionDenied as exc:
            error = str(exc)
        except services.DomainError as exc:
            error = str(exc)
    show = request.GET.get("show", "open")
    qs = selectors.commitments(request.user, state=None if show == "all" else "open", overdue=show == "overdue")

    return render(request, "replies/commitments.html", {
        "commitments": qs[:500], "show": show, "error": error, "today": timezone.localdate(),
        "staff": access.is_staff_user(request.user),
    })


@domain_view
@require_http_methods(["GET", "POST"])
def chain(request):
    """A unit office configures its unit's review chain (one line per step: 名称, 角色[, 征求意见稿][, 清单])."""
    units = access.unit_office_units(request.user)
    if not units:
        raise PermissionDenied("只有单位联络员可以配置本单位的审核流程。")
    unit = next((u for u in units if str(u.pk) == request.GET.get("unit", request.POST.get("unit", ""))), units[0])
    roles = {label: key for key, label in Role.choices}
    roles.update({key: key for key, _ in Role.choices})
    error = ""
    if request.method == "POST":
        steps = []
        try:
            for number, line in enumerate(request.POST.get("steps", "").splitlines(), start=1):
                parts = [p.strip() for p in line.replace("，", ",").split(",") if p.strip()]
                if not parts:
                    continue
                if len(parts) < 2 or parts[1] not in roles:
                    raise services.DomainError(f"第{number}行应写作“环节名称, 审核角色”，角色如：单位联络员、分管领导、交办机构。")
                named = [p.split(":", 1)[1] for p in (q.replace("：", ":") for q in parts[2:]) if p.startswith("审核人:")]
                reviewers = []
                for name in (n.strip() for chunk in named for n in chunk.split("/") if n.strip()):
                    person = selectors.unit_person(unit, name)
                    if person is None:
                        raise services.DomainError(f"第{number}行：本单位找不到审核人「{name}」（填用户名或姓名）。")
                    reviewers.append(person)
                steps.append({"name": parts[0], "role": roles[parts[1]],
                              "kind": StepKind.CONSULT if "征求意见稿" in parts[2:] else StepKind.REVIEW,
                              "checklist_required": "清单" in parts[2:], "reviewers": reviewers})
            services.review_chain_set(unit=unit, steps=steps, actor=request.user,
                                      allow_same_reviewer=request.POST.get("allow_same_reviewer") == "1")
            services.co_opinion_set_sign_off(unit=unit, actor=request.user,
                                             needs_leader=request.POST.get("co_opinion_needs_leader") == "1")
            messages.success(request, f"审核流程已保存，共{len(steps)}个环节。")
            return redirect(f"{request.path}?unit={unit.pk}")
        except services.DomainError as exc:
            error = str(exc)
    current = services.review_steps_for(unit)
    text = "\n".join(
        ", ".join([s.name, s.get_role_display()] + (["征求意见稿"] if s.kind == StepKind.CONSULT else [])
                  + (["清单"] if s.checklist_required else [])
                  + ([f"审核人:{'/'.join(u.username for u in s.reviewers.all())}"] if s.reviewers.exists() else []))
        for s in current
    )
    chain = current[0].chain if current else None
    return render(request, "replies/chain.html", {"unit": unit, "units": units, "steps": current, "chain": chain,
                                                  "text": request.POST.get("steps", text), "error": error})


@domain_view
def missing_feedback(request):
    """Ratings still missing after the feedback deadline (reported, never counted as 满意)."""
    if not access.is_staff_user(request.user):
        raise PermissionDenied("只有交办机构和承办单位可以查看未测评清单。")
    return render(request, "replies/missing_feedback.html", {"rows": selectors.missing_feedback(request.user)})
