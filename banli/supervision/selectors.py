"""督办催办: reads for the pages and digests; each takes the user and returns only what he may see."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q, QuerySet

from banli.core import access
from banli.handling.choices import AssignmentState, DueKind
from banli.handling.deadlines import WorkCalendar
from banli.handling.workflow import OPEN_STATES, STATES
from banli.organizations.models import Unit
from banli.replies.models import Commitment, Feedback
from banli.supervision import messages
from banli.supervision.choices import DeliveryState, ReminderKind
from banli.supervision.models import Delivery, Notification, Reminder, Supervision


def notifications_for(user) -> QuerySet:
    """The user's notification centre: unread first, key items first among them, newest first."""
    return Notification.objects.filter(user=user).select_related(*messages.RELATED).order_by(
        F("read_at").asc(nulls_first=True), "-is_key", "-created_at", "-id"
    )


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def failed_deliveries(user) -> QuerySet:
    """Messages that could not be delivered after the last try, for the office that watches them."""
    return (
        access.office_deliveries(user)
        .filter(state=DeliveryState.FAILED)
        .select_related("user", "webhook", "webhook__unit", "reminder", "reminder__assignment__proposal",
                        "reminder__unit")
        .order_by("-created_at", "-id")
    )


def reminders_for_assignment(user, assignment) -> QuerySet:
    """Reminders sent about one item, alone or in its unit's group (the caller has checked the user may see the
    item). A group lists its items (",12,57,"); a commitment's group lists commitment ids."""
    about = Q(items__contains=f",{assignment.pk},") & ~Q(kind=ReminderKind.COMMITMENT)
    for commitment_id in Commitment.objects.filter(assignment=assignment).values_list("pk", flat=True):
        about |= Q(kind=ReminderKind.COMMITMENT, items__contains=f",{commitment_id},")
    return (Reminder.objects.filter(Q(assignment=assignment) | (Q(unit_id=assignment.unit_id) & about))
            .select_related("created_by").order_by("-created_at", "-id"))


def key_items(user) -> QuerySet:
    """Key items the user may see, with their supervising leader."""
    return (
        access.naming_visible_proposals(Supervision.objects.all(), user)
        .select_related("proposal", "proposal__session")
        .annotate(note_count=Count("notes"))
        .order_by("proposal__number")
    )


def urgeable_assignments(user, unit_id=None) -> QuerySet:
    """Open items the office may urge, key items first, the most overdue first."""

    qs = access.office_assignments(user).filter(state__in=OPEN_STATES)
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    # The current step's deadline (next_due: to sign, to send the 会办意见, to answer), the earliest first.
    return qs.select_related("proposal", "unit").order_by("-proposal__is_key", F("next_due").asc(nulls_last=True), "id")


def urge_overview(user, *, today: dt.date, warn_until: dt.date) -> list[dict]:
    """Per unit with open items of this office: how many are overdue, due by `warn_until`, open in all, the
    most overdue first: whom to urge, before choosing the unit."""
    rows = (access.office_assignments(user).filter(state__in=OPEN_STATES).order_by().values("unit_id", "unit__name")
            .annotate(open=Count("id"), overdue=Count("id", filter=Q(next_due__lt=today)),
                      soon=Count("id", filter=Q(next_due__gte=today, next_due__lte=warn_until))))
    return sorted(rows, key=lambda r: (-r["overdue"], -r["soon"], r["unit__name"]))


def urge_units(user):
    """Units that have open items from this office."""
    ids = access.office_assignments(user).filter(state__in=OPEN_STATES).values("unit_id")
    return Unit.objects.filter(pk__in=ids).order_by("sort_order", "id")


def urge_counts_by_unit(*, since: dt.date | None = None) -> dict[int, int]:
    """How many manual 催办 each unit received (for the unit's figures)."""
    qs = Reminder.objects.filter(kind="manual")
    if since:
        qs = qs.filter(created_at__date__gte=since)
    return dict(qs.values_list("unit_id").annotate(n=Count("id")).values_list("unit_id", "n"))


def _digest_scope(user):
    """A leader's units' assignments and an office's sessions' assignments."""
    qs, names = access.digest_scope(user)
    return qs.exclude(state=AssignmentState.WITHDRAWN), "、".join(dict.fromkeys(names)) or "本单位"


def digest_data(user, *, today: dt.date) -> dict:
    """Counts by state, items due next week, overdue items with days late, replies awaiting sign-off,
    unsatisfied ratings — what a leader or office reads on Monday morning."""
    qs, scope = _digest_scope(user)
    calendar = WorkCalendar.load()
    by_state = [
        {"state": row["state"], "label": STATES[row["state"]].label if row["state"] in STATES else row["state"],
         "count": row["n"]}
        for row in qs.values("state").annotate(n=Count("id")).order_by("state")
    ]
    week_end = today + dt.timedelta(days=7)
    due_next_week, overdue = [], []
    # The units' own deadlines (a proposer's feedback is not theirs to chase), as stored in next_due.
    for kind in (DueKind.SIGN, DueKind.OPINION, DueKind.REPLY):
        base, step = qs.filter(next_due_kind=kind), kind.label
        fields = ("proposal__number", "proposal__title", "unit__name", "next_due", "proposal__is_key")
        for number, title, unit, due, is_key in base.filter(next_due__gte=today, next_due__lt=week_end).values_list(*fields)[:200]:
            due_next_week.append({"number": number, "title": title[:40], "unit": unit, "step": step,
                                  "due": due.isoformat(), "key": is_key})
        for number, title, unit, due, is_key in base.filter(next_due__lt=today).values_list(*fields)[:200]:
            overdue.append({"number": number, "title": title[:40], "unit": unit, "step": step, "due": due.isoformat(),
                            "days_late": -calendar.working_days_between(today, due), "key": is_key})
    due_next_week.sort(key=lambda r: (not r["key"], r["due"]))
    overdue.sort(key=lambda r: (not r["key"], -r["days_late"]))
    unsatisfied = list(
        Feedback.objects.filter(assignment__in=qs.values("pk"))
        .filter(Q(result="unsatisfied") | Q(attitude="unsatisfied"))
        .values_list("assignment__proposal__number", "assignment__proposal__title", "assignment__unit__name")[:100]
    )
    return {
        "scope": scope,
        "today": today.isoformat(),
        "total": qs.count(),
        "by_state": by_state,
        "due_next_week": due_next_week,
        "next_week_count": len(due_next_week),
        "overdue": overdue,
        "overdue_count": len(overdue),
        "awaiting_signoff": qs.filter(state=AssignmentState.REPLY_REVIEW).count(),
        "unsatisfied": [{"number": n, "title": t[:40], "unit": u} for n, t, u in unsatisfied],
        "unsatisfied_count": len(unsatisfied),
    }


def is_key_item(proposal) -> bool:
    """A key item (重点提案): marked key, or under supervision (督办)."""
    return bool(proposal.is_key) or Supervision.objects.filter(proposal=proposal).exists()


def subscriptions(user) -> QuerySet:
    """The event subscriptions the user keeps (his offices', all for the administrator)."""
    return access.visible_subscriptions(user).select_related("office", "created_by").order_by("-created_at", "-id")


def subscription_deliveries(subscription) -> QuerySet:
    """One subscription's delivery log, newest first (the caller has checked the user may read it)."""
    return Delivery.objects.filter(subscription=subscription).order_by("-created_at", "-id")
