"""提案建议: selectors."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from banli.core import access
from banli.proposals.models import Proposal


@dataclass
class MergeGroup:
    """The 并案 group of one proposal as a user sees it: its head (主件), its merged items (并入件) and whether
    the proposal itself is the head. `others` are the members the user may open; `hidden` counts the rest
    (a unit sees only the items assigned to it, so it learns that more items share the handling, not which)."""

    proposal: object
    head_id: int
    others: list = field(default_factory=list)
    hidden: int = 0

    @property
    def is_head(self) -> bool:
        return self.proposal.pk == self.head_id

    @property
    def size(self) -> int:
        return 1 + len(self.others) + self.hidden


def merge_group(*, user, proposal) -> MergeGroup | None:
    """The proposal's 并案 group (None when it is handled on its own); two queries whatever the group's size."""
    head_id = proposal.merged_with_id or proposal.pk
    columns = ("pk", "number", "title", "status", "merged_with_id", "session_id")
    rows = list(Proposal.objects.filter(Q(pk=head_id) | Q(merged_with_id=head_id)).only(*columns))
    others = [p for p in rows if p.pk != proposal.pk]
    if not others:
        return None
    visible = set(access.visible_proposals(user).filter(pk__in=[p.pk for p in others]).values_list("pk", flat=True))
    shown = sorted((p for p in others if p.pk in visible), key=lambda p: (p.pk != head_id, p.number))
    return MergeGroup(proposal=proposal, head_id=head_id, others=shown, hidden=len(others) - len(shown))


def next_number(*, session_id: int, kind: str) -> str:
    """The number after the last one registered in this session and kind (20260027 → 20260028, 0099 → 0100), the
    first of the next twenty that is still free; "" when the last number is not a plain number or none is free.
    Items are registered in runs, in number order, from the paper list of the session."""
    last = (Proposal.objects.filter(session_id=session_id, kind=kind).order_by("-created_at", "-id")
            .values_list("number", flat=True).first())
    if not last or not last.isdigit():
        return ""
    start = int(last)
    candidates = [str(start + step).zfill(len(last)) for step in range(1, 21)]
    taken = set(Proposal.objects.filter(session_id=session_id, kind=kind, number__in=candidates)
                .values_list("number", flat=True))
    return next((n for n in candidates if n not in taken), "")
