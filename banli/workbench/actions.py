"""The actions of the proposal page: which form each uses, when it is offered, which service it calls.

Whether an action is offered comes from banli.handling.workflow.allowed_actions() (and, for reviews, from
access.may_review_reply); the services check again when the form is posted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from banli.core import access
from banli.core.errors import DomainError
from banli.handling import services as handling
from banli.handling.models import AdjustmentRequest, ExtensionRequest
from banli.replies import services as replies
from banli.replies.choices import ReplyState
from banli.replies.models import Commitment, Feedback
from banli.workbench import forms


@dataclass(frozen=True)
class Action:
    key: str
    label: str
    transition: str
    form: type
    run: Callable  # (assignment, user, cleaned_data, ctx) -> success message
    button: str = "提交"
    style: str = "primary"
    offered: Callable | None = None  # extra condition beyond the workflow's (assignment, user, ctx) -> bool


def _pending(model, assignment):
    return model.objects.filter(assignment=assignment, status="pending").order_by("-requested_at").first()


def _need(obj, message):
    if obj is None:
        raise DomainError(message)
    return obj


def _sign(a, user, data, ctx):
    handling.assignment_sign(assignment=a, actor=user)
    return "已签收。"


def _request_adjustment(a, user, data, ctx):
    handling.adjustment_request(assignment=a, actor=user, reason=data["reason"], suggested_unit=data.get("suggested_unit"))
    return "调整申请已提交，等待交办机构审批。"


def _decide_adjustment(a, user, data, ctx):
    request = _need(_pending(AdjustmentRequest, a), "该事项没有待审批的调整申请。")
    if data["decision"] == "approve":
        new = handling.adjustment_approve(request=request, actor=user, new_unit=data.get("new_unit"), note=data.get("note", ""))
        return f"已同意调整，改交「{new.unit.name}」办理。"
    handling.adjustment_reject(request=request, actor=user, reason=data.get("note", ""))
    return "已不同意调整，退回原单位签收办理。"


def _assign_section(a, user, data, ctx):
    co = [(s, None) for s in data.get("co_sections") or []]
    handling.assignment_assign_section(assignment=a, actor=user, section=data["section"], handler=data.get("handler"), co_sections=co)
    return f"已分配给「{data['section'].name}」办理。"


def _log_contact(a, user, data, ctx):
    handling.contact_log(assignment=a, actor=user, phase=data["phase"], method=data["method"],
                         contacted_on=data["contacted_on"], people=data["people"], summary=data["summary"])
    return "沟通记录已登记。"


def _co_opinion(a, user, data, ctx):
    replies.co_opinion_send(assignment=a, actor=user, body=data["body"], contact_person=data.get("contact_person", ""),
                            contact_phone=data.get("contact_phone", ""))
    return "会办意见已送主办单位。"


def _reply(a, user, data, ctx):
    reply = replies.reply_save_draft(
        assignment=a, actor=user, body=data["body"], reply_class=data.get("reply_class", ""),
        disclosure=data["disclosure"], disclosure_reason=data.get("disclosure_reason", ""),
        public_summary=data.get("public_summary", ""), contact_person=data.get("contact_person", ""),
        contact_phone=data.get("contact_phone", ""),
    )
    if ctx.get("submit"):
        replies.reply_submit(reply=reply, actor=user)
        return "答复已提交审核。"
    return "答复草稿已保存。"


def _current_reply(a):
    return replies.current_reply(a)


def _review(a, user, data, ctx):
    reply = _need(_current_reply(a), "该事项没有待审核的答复。")
    approve = data["decision"] == "approve"
    reply = replies.reply_review(reply=reply, actor=user, approve=approve, reason=data.get("reason", ""))
    if not approve:
        return "答复已退回修改。"
    return "答复已签发，可以发送。" if reply.state == ReplyState.APPROVED else "审核通过，已转下一审核环节。"


def _send(a, user, data, ctx):
    reply = _need(_current_reply(a), "该事项没有可发送的答复。")
    replies.reply_send(reply=reply, actor=user)
    return "答复已发送给提案人。"


def _rate(a, user, data, ctx):
    replies.feedback_record(assignment=a, actor=user, attitude=data["attitude"], result=data["result"], comment=data.get("comment", ""))
    return "感谢您的测评，意见已送达。"


def _request_extension(a, user, data, ctx):
    handling.extension_request(assignment=a, actor=user, reason=data["reason"], requested_due=data["requested_due"])
    return "延期申请已提交，等待交办机构审批。"


def _decide_extension(a, user, data, ctx):
    request = _need(_pending(ExtensionRequest, a), "该事项没有待审批的延期申请。")
    approve = data["decision"] == "approve"
    handling.extension_decide(request=request, actor=user, approve=approve, approved_due=data.get("approved_due"), note=data.get("note", ""))
    return "已同意延期，答复期限已调整。" if approve else "已不同意延期。"


def _commitment(a, user, data, ctx):
    replies.commitment_record(assignment=a, actor=user, description=data["description"], target_date=data["target_date"],
                              reply=_current_reply(a))
    return "落实事项已登记。"


def _complete_commitment(a, user, data, ctx):
    commitment = _need(Commitment.objects.filter(assignment=a, pk=data["commitment"]).first(), "请选择落实事项。")
    replies.commitment_complete(commitment=commitment, actor=user, note=data["note"])
    return "落实事项已完成。"


def _rehandle(a, user, data, ctx):
    fresh = handling.assignment_rehandle(assignment=a, actor=user, reason=data["reason"])
    return f"已转入重新办理（第{fresh.round}轮），答复期限 {fresh.reply_due:%Y-%m-%d}。"


def _close(a, user, data, ctx):
    handling.assignment_close(assignment=a, actor=user, reason=data.get("reason", ""))
    return "已办结。"


def _withdraw(a, user, data, ctx):
    handling.assignment_withdraw(assignment=a, actor=user, reason=data["reason"])
    return "已撤回该交办。"


def _has_pending(model):
    return lambda a, user, ctx: _pending(model, a) is not None


def _may_review(a, user, ctx):
    return access.may_review_reply(user, a, ctx["reply"])


def _may_send(a, user, ctx):
    reply = ctx["reply"]
    return reply is not None and reply.state == ReplyState.APPROVED


def _may_draft(a, user, ctx):
    reply = ctx["reply"]
    return reply is None or reply.state in (ReplyState.DRAFT, ReplyState.RETURNED, ReplyState.SENT) or reply.round != a.round


def _not_rated(a, user, ctx):
    return not Feedback.objects.filter(assignment=a, round=a.round, proposer__user=user).exists()


def _no_pending_extension(a, user, ctx):
    return _pending(ExtensionRequest, a) is None


def _has_open_commitment(a, user, ctx):
    return Commitment.objects.filter(assignment=a, state="open").exists()


ACTIONS: dict[str, Action] = {
    a.key: a
    for a in [
        Action("sign", "签收", "sign", forms.EmptyForm, _sign, button="签收"),
        Action("request_adjustment", "申请调整", "request_adjustment", forms.AdjustmentRequestForm, _request_adjustment,
               button="提交调整申请", style="outline-danger"),
        Action("decide_adjustment", "审批调整申请", "approve_adjustment", forms.AdjustmentDecideForm, _decide_adjustment,
               button="提交审批", offered=_has_pending(AdjustmentRequest)),
        Action("assign_section", "分配承办科室", "assign_section", forms.AssignSectionForm, _assign_section, button="分配"),
        Action("reassign_section", "调整承办科室", "reassign_section", forms.AssignSectionForm, _assign_section,
               button="调整", style="outline-secondary"),
        Action("log_contact", "登记沟通", "log_contact", forms.ContactForm, _log_contact, button="登记"),
        Action("co_opinion", "撰写并发送会办意见", "send_co_opinion", forms.CoOpinionForm, _co_opinion, button="发送会办意见"),
        Action("reply", "起草答复", "submit_reply", forms.ReplyForm, _reply, button="保存草稿", offered=_may_draft),
        Action("review", "审核答复", "approve_reply", forms.ReviewForm, _review, button="提交审核意见", offered=_may_review),
        Action("send", "发送答复", "send_reply", forms.EmptyForm, _send, button="发送答复", offered=_may_send),
        Action("rate", "测评", "record_feedback", forms.FeedbackForm, _rate, button="提交测评", offered=_not_rated),
        Action("request_extension", "申请延期", "request_extension", forms.ExtensionRequestForm, _request_extension,
               button="提交延期申请", style="outline-secondary", offered=_no_pending_extension),
        Action("decide_extension", "审批延期申请", "decide_extension", forms.ExtensionDecideForm, _decide_extension,
               button="提交审批", offered=_has_pending(ExtensionRequest)),
        Action("commitment", "登记落实事项", "record_commitment", forms.CommitmentForm, _commitment, button="登记",
               style="outline-secondary"),
        Action("complete_commitment", "完成落实事项", "complete_commitment", forms.CommitmentCompleteForm,
               _complete_commitment, button="完成", style="outline-secondary", offered=_has_open_commitment),
        Action("rehandle", "重新办理", "rehandle", forms.ReasonForm, _rehandle, button="重新办理", style="outline-danger"),
        Action("close", "办结", "close", forms.OptionalReasonForm, _close, button="办结", style="success"),
        Action("withdraw", "撤回交办", "withdraw", forms.ReasonForm, _withdraw, button="撤回", style="outline-danger"),
    ]
}


def offered_actions(assignment, user, ctx) -> list[Action]:
    """The actions to show `user` on `assignment` now: allowed by the workflow, and meaningful now."""
    from banli.handling.workflow import allowed_actions

    allowed = {t.action for t in allowed_actions(assignment, user)}
    result = []
    for action in ACTIONS.values():
        if action.transition not in allowed:
            continue
        if action.offered is not None and not action.offered(assignment, user, ctx):
            continue
        result.append(action)
    return result
