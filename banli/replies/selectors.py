"""Reads for replies, co-opinions, ratings and commitments: every selector takes the user."""
from __future__ import annotations

from banli.core import access
from banli.handling.choices import AssignmentState
from banli.organizations.choices import Role


def template_units(user) -> list:
    """Units whose document templates the user maintains (unit office: its own units)."""
    return [g.unit for g in access.grants(user) if g.role == Role.UNIT_OFFICE and g.unit_id]


def document_templates(user):
    from banli.replies.models import DocumentTemplate

    qs = DocumentTemplate.objects.filter(is_active=True).select_related("unit", "uploaded_by")
    if access.has_role(user, Role.ASSIGNING_OFFICE) or access.has_role(user, Role.ADMIN):
        return list(qs)
    units = template_units(user)
    return [t for t in qs if t.unit is None or any(t.unit.is_within(u) for u in units)]


def document_template_for(user, template_id):
    """An uploaded template the user maintains (office, administrator, the unit's own office); NotFound otherwise."""
    from banli.core.errors import NotFound
    from banli.replies.models import DocumentTemplate

    template = DocumentTemplate.objects.select_related("unit").filter(pk=template_id).first()
    if template is None:
        raise NotFound("找不到该模板，或您没有查看权限。")
    if access.has_role(user, Role.ASSIGNING_OFFICE) or access.has_role(user, Role.ADMIN):
        return template
    units = template_units(user)
    if units and (template.unit is None or any(template.unit.is_within(u) for u in units)):
        return template
    access.note_refusal(user, "template not visible", template=template_id)
    raise NotFound("找不到该模板，或您没有查看权限。")


def replies_of(user, assignment) -> list:
    """Every version of the assignment's replies the user may read, newest first (all rounds kept)."""
    from banli.replies.models import Reply

    versions = Reply.objects.filter(assignment=assignment).select_related("assignment__unit").order_by("-round", "-version")
    return [r for r in versions if access.can_view_reply(user, r)]


def co_opinions_for_lead(user, assignment) -> list:
    """The co-opinions sent on the item, as shown on the lead unit's drafting page."""
    from banli.replies.models import CoOpinion

    opinions = (
        CoOpinion.objects.filter(assignment__proposal_id=assignment.proposal_id, state="sent")
        .select_related("assignment__unit", "assignment__proposal__session__assigning_office")
        .prefetch_related("attachments", "adopted_in")
        .order_by("sent_at", "id")
    )
    return [o for o in opinions if access.can_view_co_opinion(user, o)]


def review_steps(assignment):
    from banli.replies.services import review_steps_for

    return review_steps_for(assignment.unit)


def my_reply_copies(user):
    """The proposer's own copies of sent replies (each co-signer has his own)."""
    from banli.replies.models import ReplyDelivery

    return (
        ReplyDelivery.objects.filter(kind="proposer", proposer__user=user)
        .select_related("reply__assignment__proposal__session", "reply__assignment__unit")
        .order_by("-delivered_at")
    )


def missing_feedback(user, *, today=None):
    """Ratings still missing after the feedback deadline: (assignment, proposer) pairs, never counted as 满意."""
    from django.utils import timezone

    from banli.proposals.models import ProposalProposer
    from banli.replies.models import Feedback

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
    from django.db.models import Q

    from banli.handling.models import Assignment

    if access.has_role(user, Role.ADMIN):
        return Assignment.objects.all()
    return Assignment.objects.filter(
        Q(pk__in=access.office_assignments(user).order_by().values("pk"))
        | Q(pk__in=access.handled_assignments(user).order_by().values("pk"))
    )


def commitments(user, *, state: str | None = None, overdue: bool = False, carried_over_from: int | None = None,
                today=None):
    """The 落实 list: commitments of the user's items (units, office), or of his own items (proposer)."""
    from django.db.models import Q
    from django.utils import timezone

    from banli.replies.models import Commitment

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
    from django.db.models import Q

    from banli.organizations.models import User

    people = User.objects.filter(is_active=True, grants__unit__path__startswith=unit.path).distinct()
    return (people.filter(username=name).first()
            or people.filter(Q(display_name=name) | Q(display_name__endswith=f" {name}")).first())
