"""The registry: every action on an assignment, once.

An entry names the workflow transition(s) it takes (their rows in `handling.workflow.TRANSITIONS` say who may
take them, from which states, with or without a reason), the page form and the API serializer that read its
input, and `run`, the one call into the services. The proposal page's action views and the API's
`/assignments/{id}/actions/<key>` endpoints are both generated from this table; the keys are the API's
published names and also the pages' URL segments, so an action has one name everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from banli.actions import forms, serializers as s
from banli.core import access
from banli.core.errors import ConflictError, DomainError, NotFound
from banli.handling import services as handling
from banli.handling.models import AdjustmentRequest, ExtensionRequest
from banli.handling.selectors import pending_request
from banli.handling import workflow
from banli.handling.workflow import TRANSITIONS, allowed_actions
from banli.replies import services as replies
from banli.replies.choices import CoOpinionState, CommitmentState, Rating, ReplyState
from banli.replies.models import Commitment, Feedback


@dataclass(frozen=True)
class Outcome:
    """What an action did: the page's success message and the record it created, if any."""

    message: str
    created: Any = None


@dataclass(frozen=True)
class Action:
    key: str  # stable: the API's action name and the page's URL segment
    transitions: tuple[str, ...]  # the workflow rows that permit it (any one of them)
    form: type
    serializer: type
    run: Callable[..., Outcome]  # (assignment, user, data) -> Outcome
    summary: str  # the API's one-line description
    button: str = "提交"
    style: str = "primary"
    offered: Callable | None = None  # beyond the workflow: (assignment, user, ctx) -> bool, e.g. a pending request
    # A decision whose form offers each outcome (审核答复: 同意 or 退回修改) is named for the decision, not for its
    # first outcome; without it the label is the first allowed transition's (分配 or 调整承办科室).
    decision: str = ""

    @property
    def label(self) -> str:
        return self.decision or TRANSITIONS[self.transitions[0]].label

    def label_for(self, allowed: set[str]) -> str:
        """The label of the first of this action's transitions that is allowed now (分配 or 调整承办科室)."""
        if self.decision:
            return self.decision
        for key in self.transitions:
            if key in allowed:
                return TRANSITIONS[key].label
        return self.label


# --- helpers ----------------------------------------------------------------------------------------


def _need_pending(model, assignment, what):
    request = pending_request(model, assignment)
    if request is None:
        latest = model.objects.filter(assignment=assignment).order_by("-requested_at", "-id").first()
        if latest is not None:
            # Decided a moment ago by a colleague, or by this office in another tab: a lost race, not bad input.
            raise ConflictError(f"该{what}刚刚已被审批（{latest.get_status_display()}），本次未重复审批，请刷新后查看。")
        raise DomainError(f"该事项没有待审批的{what}。")
    return request


def _current_in(assignment, states, message):
    reply = replies.current_reply(assignment)
    if reply is None or reply.state not in states:
        raise DomainError(message)
    return reply


# --- the calls --------------------------------------------------------------------------------------


def _sign(a, user, d):
    handling.assignment_sign(assignment=a, actor=user)
    return Outcome("已签收。")


def _request_adjustment(a, user, d):
    request = handling.adjustment_request(assignment=a, actor=user, reason=d["reason"],
                                          suggested_unit=d.get("suggested_unit"))
    return Outcome("调整申请已提交，等待交办机构审批。", request)


def _decide_adjustment(a, user, d):
    request = _need_pending(AdjustmentRequest, a, "调整申请")
    if d["approve"]:
        new = handling.adjustment_approve(request=request, actor=user, new_unit=d.get("new_unit"), note=d.get("reason", ""))
        return Outcome(f"已同意调整，改交「{new.unit.name}」办理。", new)
    handling.adjustment_reject(request=request, actor=user, reason=d.get("reason", ""))
    return Outcome("已不同意调整，退回原单位签收办理。")


def _assign_handler(a, user, d):
    co = [(section, None) for section in d.get("co_sections") or []]
    handling.assignment_assign_section(assignment=a, actor=user, section=d["section"], handler=d.get("handler"),
                                       co_sections=co)
    return Outcome(f"已分配给「{d['section'].name}」办理。")


def _log_contact(a, user, d):
    contact = handling.contact_log(assignment=a, actor=user, phase=d["phase"], method=d["method"],
                                   contacted_on=d["contacted_on"], people=d["people"], summary=d["summary"])
    return Outcome("沟通记录已登记。", contact)


def _send_co_opinion(a, user, d):
    opinion = replies.co_opinion_send(assignment=a, actor=user, body=d["body"],
                                      contact_person=d.get("contact_person", ""),
                                      contact_phone=d.get("contact_phone", ""))
    if opinion.state == CoOpinionState.PENDING:
        return Outcome("会办意见已送本单位领导审签，审签后送主办单位。", opinion)
    return Outcome("会办意见已送主办单位。", opinion)


def _sign_off_co_opinion(a, user, d):
    opinion = replies.pending_co_opinion(a)
    if opinion is None:
        raise DomainError("该事项没有待审签的会办意见。")
    opinion = replies.co_opinion_sign_off(opinion=opinion, actor=user, approve=d["approve"], reason=d.get("reason", ""))
    if d["approve"]:
        return Outcome("会办意见已审签，已送主办单位。", opinion)
    return Outcome("会办意见已退回修改。", opinion)


_DRAFT_FIELDS = ("reply_class", "disclosure", "disclosure_reason", "public_summary", "contact_person", "contact_phone")


def _submit_reply(a, user, d):
    """Save the draft when a body comes with the call (fields left out carry over), then submit if asked."""
    if d.get("submit"):
        # A reply someone just submitted is a conflict (409), not a draft that may no longer be saved (400).
        workflow.check(a, "submit_reply", user)
    reply = replies.current_reply(a)
    if d.get("body"):
        fields = {key: getattr(reply, key) for key in _DRAFT_FIELDS} if reply is not None else {}
        fields.update({key: d[key] for key in _DRAFT_FIELDS if key in d})
        reply = replies.reply_save_draft(assignment=a, actor=user, body=d["body"], **fields)
    if not d.get("submit"):
        return Outcome("答复草稿已保存。", reply)
    if reply is None:
        raise DomainError("尚无答复草稿，请先填写答复正文（body）。", field="body")
    reply = replies.reply_submit(reply=reply, actor=user)
    return Outcome("答复已提交审核。", reply)


def _review_reply(a, user, d):
    reply = _current_in(a, (ReplyState.IN_REVIEW,), "该事项没有审核中的答复。")
    reply = replies.reply_review(reply=reply, actor=user, approve=d["approve"], reason=d.get("reason", ""),
                                 checklist=d.get("checklist"))
    if not d["approve"]:
        return Outcome("答复已退回修改。", reply)
    return Outcome("答复已签发，可以发送。" if reply.state == ReplyState.APPROVED else "审核通过，已转下一审核环节。", reply)


def _send_reply(a, user, d):
    reply = replies.current_reply(a)  # read once: a second read could see a colleague's send just committed
    if reply is not None and reply.state == ReplyState.SENT:
        raise ConflictError("该答复已经发送，不需要再次发送。")  # a second tab, or a colleague was quicker
    if reply is None or reply.state != ReplyState.APPROVED:
        raise DomainError("该事项的答复尚未完成审核签发，不能发送。")
    reply = replies.reply_send(reply=reply, actor=user)
    return Outcome("答复已发送给提案人。", reply)


def _rate(a, user, d):
    feedback = replies.feedback_record(assignment=a, actor=user, attitude=d["attitude"], result=d["result"],
                                       comment=d.get("comment", ""))
    return Outcome("感谢您的测评，意见已送达。", feedback)


def _request_extension(a, user, d):
    request = handling.extension_request(assignment=a, actor=user, reason=d["reason"], requested_due=d["requested_due"])
    return Outcome("延期申请已提交，等待交办机构审批。", request)


def _decide_extension(a, user, d):
    request = _need_pending(ExtensionRequest, a, "延期申请")
    handling.extension_decide(request=request, actor=user, approve=d["approve"], approved_due=d.get("approved_due"),
                              note=d.get("note", ""))
    return Outcome("已同意延期，答复期限已调整。" if d["approve"] else "已不同意延期。")


def _add_commitment(a, user, d):
    commitment = replies.commitment_record(assignment=a, actor=user, description=d["description"],
                                           target_date=d["target_date"], reply=replies.current_reply(a))
    return Outcome("落实事项已登记。", commitment)


def _complete_commitment(a, user, d):
    commitment = Commitment.objects.filter(assignment=a, pk=d["commitment"]).first()
    if commitment is None:
        raise NotFound("找不到该落实事项。")
    replies.commitment_complete(commitment=commitment, actor=user, note=d["note"])
    return Outcome("落实事项已完成。")


def _rehandle(a, user, d):
    fresh = handling.assignment_rehandle(assignment=a, actor=user, reason=d["reason"])
    return Outcome(f"已转入重新办理（第{fresh.round}轮），答复期限 {fresh.reply_due:%Y-%m-%d}。")


def _close(a, user, d):
    handling.assignment_close(assignment=a, actor=user, reason=d.get("reason", ""))
    return Outcome("已办结。")


def _withdraw(a, user, d):
    handling.assignment_withdraw(assignment=a, actor=user, reason=d["reason"])
    return Outcome("已撤回该交办。")


# --- when an allowed action is also meaningful now --------------------------------------------------


def _has_pending(model):
    return lambda a, user, ctx: pending_request(model, a) is not None


def _no_pending_co_opinion(a, user, ctx):
    return replies.pending_co_opinion(a) is None


def _has_pending_co_opinion(a, user, ctx):
    return replies.pending_co_opinion(a) is not None


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


def _rated_unsatisfied(a, user, ctx):
    """重新办理 is offered only when a proposer rated the current round 不满意 (the service refuses otherwise)."""
    return Feedback.objects.filter(assignment=a, round=a.round, result=Rating.UNSATISFIED).exists()


def _may_close(a, user, ctx):
    """Beside 重新办理, 办结 is offered only to the office (its decision to close as it stands)."""
    unsatisfied = Feedback.objects.filter(assignment=a, round=a.round, result=Rating.UNSATISFIED).exists()
    return not unsatisfied or access.may_close_unsatisfied(user, a)


def _adjustment_window_open(a, user, ctx):
    # Past 申请调整期限 the service refuses it: the form is not offered to be filled in and refused.
    return handling.adjustment_window_open(a)


def _no_pending_extension(a, user, ctx):
    return pending_request(ExtensionRequest, a) is None


def _has_open_commitment(a, user, ctx):
    return Commitment.objects.filter(assignment=a, state=CommitmentState.OPEN).exists()


A = Action
ACTIONS: dict[str, Action] = {
    action.key: action
    for action in [
        A("sign", ("sign",), forms.EmptyForm, s.EmptySerializer, _sign, "签收", button="签收"),
        A("request_adjustment", ("request_adjustment",), forms.AdjustmentRequestForm, s.RequestAdjustmentSerializer,
          _request_adjustment, "申请调整", button="提交调整申请", style="outline-danger", offered=_adjustment_window_open),
        A("decide_adjustment", ("approve_adjustment", "reject_adjustment"), forms.AdjustmentDecideForm,
          s.DecideAdjustmentSerializer, _decide_adjustment, "审批调整申请（同意须指定新单位）", button="提交审批",
          offered=_has_pending(AdjustmentRequest), decision="审批调整申请"),
        A("assign_handler", ("assign_section", "reassign_section"), forms.AssignSectionForm, s.AssignHandlerSerializer,
          _assign_handler, "分配（或调整）承办科室与承办人", button="分配"),
        A("log_contact", ("log_contact",), forms.ContactForm, s.LogContactSerializer, _log_contact, "登记沟通记录",
          button="登记"),
        A("send_co_opinion", ("send_co_opinion",), forms.CoOpinionForm, s.CoOpinionSerializer, _send_co_opinion,
          "发送会办意见（本单位设置须领导审签的，先送领导审签）", button="发送会办意见",
          offered=_no_pending_co_opinion),
        A("sign_off_co_opinion", ("approve_co_opinion", "return_co_opinion"), forms.CoOpinionSignOffForm,
          s.SignOffCoOpinionSerializer, _sign_off_co_opinion, "领导审签会办意见：同意送主办单位或退回（须写理由）",
          button="提交审签意见", offered=_has_pending_co_opinion, decision="审签会办意见"),
        A("submit_reply", ("save_reply_draft", "submit_reply"), forms.ReplyForm, s.SubmitReplySerializer, _submit_reply,
          "提交答复审核（可同时保存草稿）", button="保存草稿", offered=_may_draft),
        A("review_reply", ("approve_reply", "return_reply"), forms.ReviewForm, s.ReviewReplySerializer, _review_reply,
          "审核答复：通过或退回", button="提交审核意见", offered=_may_review, decision="审核答复"),
        A("send_reply", ("send_reply",), forms.EmptyForm, s.EmptySerializer, _send_reply, "发送已签发的答复",
          button="发送答复", offered=_may_send),
        A("rate", ("record_feedback",), forms.FeedbackForm, s.RateSerializer, _rate, "提案人测评（只能本人）",
          button="提交测评", offered=_not_rated),
        A("request_extension", ("request_extension",), forms.ExtensionRequestForm, s.RequestExtensionSerializer,
          _request_extension, "申请延期", button="提交延期申请", style="outline-secondary", offered=_no_pending_extension),
        A("decide_extension", ("decide_extension",), forms.ExtensionDecideForm, s.DecideExtensionSerializer,
          _decide_extension, "审批延期申请", button="提交审批", offered=_has_pending(ExtensionRequest)),
        A("add_commitment", ("record_commitment",), forms.CommitmentForm, s.AddCommitmentSerializer, _add_commitment,
          "登记落实事项", button="登记", style="outline-secondary"),
        A("complete_commitment", ("complete_commitment",), forms.CommitmentCompleteForm, s.CompleteCommitmentSerializer,
          _complete_commitment, "完成落实事项", button="完成", style="outline-secondary", offered=_has_open_commitment),
        A("rehandle", ("rehandle",), forms.ReasonForm, s.ReasonSerializer, _rehandle, "重新办理（测评不满意后）",
          button="重新办理", style="outline-danger", offered=_rated_unsatisfied),
        A("close", ("close",), forms.OptionalReasonForm, s.ReasonSerializer, _close, "办结", button="办结",
          style="success", offered=_may_close),
        A("withdraw", ("withdraw",), forms.ReasonForm, s.ReasonSerializer, _withdraw, "撤回交办", button="撤回",
          style="outline-danger"),
    ]
}


@dataclass(frozen=True)
class Offer:
    """An action offered on the page now, with the label that fits the state."""

    action: Action
    label: str

    @property
    def key(self) -> str:
        return self.action.key

    def __getattr__(self, name):
        return getattr(self.action, name)


def offered_actions(assignment, user, ctx) -> list[Offer]:
    """The actions to show `user` on `assignment` now: allowed by the workflow, and meaningful now."""
    allowed = {t.action for t in allowed_actions(assignment, user)}
    result = []
    for action in ACTIONS.values():
        if not allowed.intersection(action.transitions):
            continue
        if action.offered is not None and not action.offered(assignment, user, ctx):
            continue
        result.append(Offer(action, action.label_for(allowed)))
    return result
