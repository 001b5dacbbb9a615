"""Reads for replies, co-opinions, ratings and commitments: every selector takes the user."""
from __future__ import annotations

from django.db.models import Case, CharField, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from banli.core import access
from banli.core.errors import NotFound
from banli.handling.choices import AssignmentState
from banli.handling.models import Assignment, Event
from banli.organizations.models import User
from banli.proposals.models import ProposalProposer
from banli.replies.choices import Rating
from banli.replies.choices import UnsatisfiedOutcome as O
from banli.replies.models import Commitment, CoOpinion, DocumentTemplate, Feedback, Reply, ReplyDelivery
from banli.replies.services import review_steps_for


def template_units(user) -> list:
    """Units whose document templates the user maintains (see access.template_units)."""
    return access.template_units(user)


def document_templates(user):
    qs = DocumentTemplate.objects.filter(is_active=True).select_related("unit", "uploaded_by")
    return list(access.restrict(qs, user))


def document_template_for(user, template_id):
    """An uploaded template the user maintains (its unit's office, the office assigning to the unit, the
    administrator); NotFound otherwise."""
    template = access.restrict(DocumentTemplate.objects.select_related("unit"), user).filter(pk=template_id).first()
    if template is not None:
        return template
    access.note_refusal(user, "template not visible", template=template_id)
    raise NotFound("找不到该模板，或您没有查看权限。")


def replies_of(user, assignment) -> list:
    """Every version of the assignment's replies the user may read, newest first (all rounds kept)."""
    versions = Reply.objects.filter(assignment=assignment).select_related("assignment__unit").order_by("-round", "-version")
    return [r for r in versions if access.can_view_reply(user, r)]


def co_opinions_for_lead(user, assignment) -> list:
    """The co-opinions sent on the item, as shown on the lead unit's drafting page."""
    opinions = (
        CoOpinion.objects.filter(assignment__proposal_id=assignment.proposal_id, state="sent")
        .select_related("assignment__unit", "assignment__proposal__session__assigning_office")
        .prefetch_related("attachments", "adopted_in")
        .order_by("sent_at", "id")
    )
    return [o for o in opinions if access.can_view_co_opinion(user, o)]


def review_steps(assignment):
    return review_steps_for(assignment.unit)


def my_reply_copies(user):
    """The proposer's own copies of sent replies (each co-signer has his own)."""
    return (
        ReplyDelivery.objects.filter(kind="proposer", proposer__user=user)
        .select_related("reply__assignment__proposal__session", "reply__assignment__unit")
        .order_by("-delivered_at")
    )


def missing_feedback(user, *, today=None):
    """Ratings still missing after the feedback deadline: (assignment, proposer) pairs, never counted as 满意."""

    today = today or timezone.localdate()
    assignments = (
        _scoped(user).filter(state=AssignmentState.REPLIED, feedback_due__lt=today)
        .select_related("proposal", "unit").order_by("feedback_due", "id")
    )
    rows = []
    rated = set(
        Feedback.objects.filter(assignment__in=assignments).values_list("assignment_id", "round", "proposer_id")
    )
    links = ProposalProposer.objects.filter(proposal__in=assignments.values("proposal")).select_related("proposer")
    by_proposal: dict = {}
    for link in links:
        by_proposal.setdefault(link.proposal_id, []).append(link.proposer)
    for assignment in assignments:
        for proposer in by_proposal.get(assignment.proposal_id, []):
            if (assignment.pk, assignment.round, proposer.pk) not in rated:
                rows.append((assignment, proposer))
    return rows


def _scoped(user):
    """Assignments the user works on: the office's sessions and the unit's own items."""
    return access.restrict(Assignment.objects.all(), user, "work")


def commitments(user, *, state: str | None = None, overdue: bool = False, carried_over_from: int | None = None,
                today=None):
    """The 落实 list: commitments of the user's items (units, office), or of his own items (proposer)."""

    today = today or timezone.localdate()
    qs = Commitment.objects.select_related("assignment__proposal__session", "assignment__unit", "section")
    staff = access.is_staff_user(user)
    if staff:
        qs = qs.filter(assignment__in=_scoped(user).values("pk"))
    else:
        qs = qs.filter(assignment__proposal__proposer_links__proposer__user=user,
                       assignment__replies__state="sent").distinct()
    if state:
        qs = qs.filter(state=state)
    if overdue:
        qs = qs.filter(state="open", target_date__lt=today)
    if carried_over_from is not None:
        # Still open from an earlier year: carried over into this year's tracking.
        qs = qs.filter(Q(state="open") & Q(assignment__proposal__session__year__lte=carried_over_from))
    return qs.order_by("target_date", "id")


def unit_person(unit, name: str):
    """A person of `unit` (or its sections) by user name or display name, for naming a review step's reviewers."""

    people = User.objects.filter(is_active=True, grants__unit__path__startswith=unit.path).distinct()
    return (people.filter(username=name).first()
            or people.filter(Q(display_name=name) | Q(display_name__endswith=f" {name}")).first())


# --- 不满意 in the first round, and what became of it ---------------------------------------------------


def first_round_unsatisfied_q() -> "Q":
    """Assignments a proposer rated 不满意 (办理结果) in the first round."""

    return Q(Exists(Feedback.objects.filter(assignment=OuterRef("pk"), round=1, result=Rating.UNSATISFIED)))


def unsatisfied_outcome_expression():
    """For an assignment rated 不满意 in the first round: what became of it (UnsatisfiedOutcome), from its rounds.

    Not re-handled: closed as it stands by the office, or still waiting; re-handled: the last round's ratings
    count (the worst of them), or 重新办理中 while the new round is not rated yet. Other assignments: ""."""

    # The worst rating of the assignment's current round (不满意, then 基本满意, then 满意; its values are the
    # outcome's), as one correlated probe per row that reaches it: PostgreSQL hashed three EXISTS over every
    # rating of one result instead (a 50 ms scan of the ratings on each ledger or API page at a million).
    severity = Case(When(result=Rating.UNSATISFIED, then=Value(0)), When(result=Rating.BASIC, then=Value(1)),
                    default=Value(2), output_field=IntegerField())
    worst = Subquery(Feedback.objects.filter(assignment=OuterRef("pk"), round=OuterRef("round"))
                     .order_by(severity).values("result")[:1], output_field=CharField())
    first = first_round_unsatisfied_q()
    return Case(
        When(~first, then=Value("")),
        When(round=1, state=AssignmentState.CLOSED, then=Value(O.CLOSED_AS_IS)),
        When(round=1, then=Value(O.PENDING)),
        default=Coalesce(worst, Value(O.REHANDLING)),
        output_field=CharField(),
    )


def unsatisfied_outcome(*, round: int, state: str, results_by_round: dict) -> str:
    """The same as unsatisfied_outcome_expression for one assignment whose ratings are loaded
    (`results_by_round`: round -> the results given in it)."""
    if Rating.UNSATISFIED not in results_by_round.get(1, ()):
        return ""
    if round == 1:
        return O.CLOSED_AS_IS if state == AssignmentState.CLOSED else O.PENDING
    last = results_by_round.get(round, ())
    for result, outcome in ((Rating.UNSATISFIED, O.UNSATISFIED), (Rating.BASIC, O.BASIC),
                            (Rating.SATISFIED, O.SATISFIED)):
        if result in last:
            return outcome
    return O.REHANDLING


def rating_rounds(user, assignment, feedbacks: list, events: list | None = None) -> list[dict]:
    """The rating history of one assignment by round: each round's ratings the user may read (a proposer: his
    own) and what ended the round (重新办理 with its reason and deadline, or the office's 按现状办结 with its reason).

    `feedbacks`: the assignment's ratings (loaded by the caller); `events`: its rehandle/close events, if loaded."""
    if not feedbacks:
        return []
    sees_all = access.is_office_for(user, assignment.proposal) or access.is_unit_staff_for(user, assignment)
    shown = [fb for fb in feedbacks if sees_all or fb.proposer.user_id == user.pk]
    if not (sees_all or shown):
        return []  # another unit's staff, or a co-signer who did not rate
    if events is None:
        events = list(Event.objects.filter(assignment=assignment, verb__in=("rehandle", "close")).order_by("id"))
    ends: dict[int, dict] = {}
    for event in events:
        payload = event.payload or {}
        if event.verb == "rehandle":
            # The event names the new round; it ends the round before it.
            ends[int(payload.get("round", 2)) - 1] = {"kind": "rehandle", "label": "重新办理", "reason": event.reason,
                                                       "at": event.created_at, "due": payload.get("reply_due")}
        elif event.verb == "close" and payload.get("closed_as_is"):
            ends[assignment.round] = {"kind": "closed_as_is", "label": "交办机构决定按现状办结", "reason": event.reason,
                                      "at": event.created_at}
    rounds = []
    for number in sorted({fb.round for fb in feedbacks} | set(ends)):
        rounds.append({"round": number, "ratings": [fb for fb in shown if fb.round == number], "end": ends.get(number),
                       "current": number == assignment.round})
    return rounds


def usual_contact(user) -> dict[str, str]:
    """The 联系人 and 联系电话 a new reply or 会办意见 of this user starts with: those of the last one he wrote with
    a contact given (a clerk's own name and desk phone rarely change), else his name and phone on his account."""
    latest = []
    for model, writer in ((Reply, "drafted_by"), (CoOpinion, "written_by")):
        # The newest by id (the order they were written in): the primary key read backwards stops at the first of
        # his, where ordering by created_at sorted every letter he ever wrote (18 ms for 6,425 at 300,000 items).
        row = (model.objects.filter(**{writer: user}).exclude(contact_person="")
               .order_by("-id").values("created_at", "contact_person", "contact_phone").first())
        if row:
            latest.append(row)
    if latest:
        row = max(latest, key=lambda r: r["created_at"])
        return {"contact_person": row["contact_person"], "contact_phone": row["contact_phone"]}
    return {"contact_person": (user.display_name or "")[:50], "contact_phone": (user.phone or "")[:30]}
