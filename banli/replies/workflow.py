"""The reply's own states and the moves between them, as a table like the assignment's (handling.workflow).

Each move names the states it may start from, the state it leads to, and the message a person reads when the
reply is not in such a state; `reply_move` performs it by compare-and-set, so a lost race is a conflict.
Who may take a move is the assignment transition that goes with it (the services check that first).
"""
from __future__ import annotations

from dataclasses import dataclass

from banli.core.errors import ConflictError, DomainError
from banli.replies.choices import ReplyState
from banli.replies.models import Reply


@dataclass(frozen=True)
class ReplyMove:
    key: str
    sources: tuple[str, ...]
    target: str | None  # None: the state stays (e.g. one review step of several approves)
    wrong_state: str  # shown when the reply is in no source state; {state} is its current label
    conflict: str  # shown when someone else moved it first


REPLY_MOVES: dict[str, ReplyMove] = {
    m.key: m
    for m in [
        ReplyMove("submit", (ReplyState.DRAFT,), ReplyState.IN_REVIEW,
                  "该答复当前为「{state}」，只有草稿可以提交审核。", "该答复刚刚已被提交审核，请刷新后查看。"),
        ReplyMove("approve_step", (ReplyState.IN_REVIEW,), None,
                  "该答复当前为「{state}」，不在审核中。", "该环节刚刚已由他人审核，请刷新后查看。"),
        ReplyMove("sign_off", (ReplyState.IN_REVIEW,), ReplyState.APPROVED,
                  "该答复当前为「{state}」，不在审核中。", "该环节刚刚已由他人审核，请刷新后查看。"),
        ReplyMove("return", (ReplyState.IN_REVIEW,), ReplyState.RETURNED,
                  "该答复当前为「{state}」，不在审核中。", "该环节刚刚已由他人审核，请刷新后查看。"),
        ReplyMove("reopen", (ReplyState.APPROVED,), None,
                  "只有已签发、尚未发送的答复可以重新修改；草稿请直接修改。", "该答复刚刚已被他人处理，请刷新后查看。"),
        ReplyMove("send", (ReplyState.APPROVED,), ReplyState.SENT,
                  "答复尚未完成审核签发，不能发送。", "该答复刚刚已被发送，请刷新后查看。"),
    ]
}


def reply_check(reply: Reply, move: str) -> ReplyMove:
    """Raise a DomainError when `reply` is in no state `move` starts from; a sent reply says so plainly."""
    spec = REPLY_MOVES[move]
    if reply.state not in spec.sources:
        if move == "send" and reply.state == ReplyState.SENT:
            raise ConflictError("该答复已经发送，不需要再次发送。")
        raise DomainError(spec.wrong_state.format(state=ReplyState(reply.state).label))
    return spec


def reply_move(reply: Reply, move: str, *, conflict: str | None = None, match: dict | None = None, **changes) -> None:
    """Move `reply` by compare-and-set on its state (and `match`); a lost race raises ConflictError."""
    spec = reply_check(reply, move)
    if spec.target is not None:
        changes["state"] = spec.target
    won = Reply.objects.filter(pk=reply.pk, state=reply.state, **(match or {})).update(**changes)
    if not won:
        raise ConflictError(conflict or spec.conflict)
