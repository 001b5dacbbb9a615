"""The words of a reminder: subject and body from the template of its kind, rendered when they are needed
(a delivery being sent, a notification being shown), not for every row the scan inserts."""
from __future__ import annotations

import copy

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from banli.core import access
from banli.handling.choices import state_label
from banli.handling.deadlines import WorkCalendar
from banli.handling.models import Assignment
from banli.replies.models import Commitment
from banli.supervision.choices import Channel

# What rendering a reminder reads; select_related these to render a page of them in one query.
RELATED = ("reminder__assignment__proposal", "reminder__assignment__unit", "reminder__commitment")


def item_link(assignment_id: int) -> str:
    """The item's reminder page (relative)."""
    return reverse("supervision:item", args=[assignment_id])


def render_message(reminder, assignment=None, user=None) -> tuple[str, str]:
    """Subject (first line) and body of a reminder: from the template of its kind for one item; for a group
    of items, a subject counting them and each item's own words, numbered, in the body. For `user`, only the
    items he may see (a proposer reads his own proposals of a unit's rating reminder)."""
    parts = render_parts(reminder, assignment, user)
    if len(parts) == 1:
        return parts[0]
    return combined_words(parts)


def combined_words(parts: list[tuple[str, str]]) -> tuple[str, str]:
    return (f"【办理提醒】您有 {len(parts)} 件事项需要处理",
            "\n\n".join(f"{i}. {subject}\n{body}" for i, (subject, body) in enumerate(parts, 1)))


def render_parts(reminder, assignment=None, user=None) -> list[tuple[str, str]]:
    """Each item's (subject, body) of a reminder, in the order of its item list (one for a single item);
    for `user`, the items he may see."""

    ids = reminder.item_ids
    if len(ids) > 1 and user is not None and not reminder.commitment_id:
        visible = set(access.visible_assignments(user).filter(pk__in=ids).values_list("pk", flat=True))
        ids = [pk for pk in ids if pk in visible]
        if not ids:
            return [("【办理提醒】相关事项已不在您的查看范围内", "")]
    if len(reminder.item_ids) == 1:
        return [_render_one(reminder, assignment or reminder.assignment)]
    parts = []
    calendar = None
    if reminder.threshold < 0:  # an overdue group: each item is as many working days late as its own deadline says

        calendar = WorkCalendar.load()

    def late(item):
        if calendar is not None and item.due_date and item.due_date < reminder.scan_date:
            item.threshold = min(-1, calendar.working_days_between(reminder.scan_date, item.due_date))
        return item

    if reminder.commitment_id:
        rows = Commitment.objects.select_related("assignment__proposal", "assignment__unit").in_bulk(ids)
        for pk in ids:
            if pk in rows:
                item = copy.copy(reminder)
                item.commitment, item.due_date = rows[pk], rows[pk].target_date
                parts.append(_render_one(late(item), rows[pk].assignment))
    else:
        rows = Assignment.objects.select_related("proposal", "unit").in_bulk(ids)
        for pk in ids:
            if pk in rows:
                item = copy.copy(reminder)
                if rows[pk].next_due_kind == reminder.kind and rows[pk].next_due:
                    item.due_date = rows[pk].next_due  # each item's own deadline (the row keeps the earliest)
                parts.append(_render_one(late(item), rows[pk]))
    return parts or [_render_one(reminder, reminder.assignment)]


def _render_one(reminder, assignment) -> tuple[str, str]:
    text = render_to_string(
        f"supervision/messages/{reminder.kind}.txt",
        {
            "reminder": reminder,
            "assignment": assignment,
            "proposal": assignment.proposal,
            "unit": assignment.unit,
            "state_label": state_label(assignment.state),
            "link": settings.BANLI_BASE_URL.rstrip("/") + item_link(assignment.pk),
        },
    ).strip()
    subject, _, body = text.partition("\n")
    return subject.strip()[:200], body.strip()


# A text message lists this many items by name; the rest are counted.
SMS_ITEMS = 3


def combined(deliveries, limit: int | None = None) -> list:
    """The messages for several reminders to the same address (or one reminder about a group of items): copies
    of the first delivery, each carrying at most `limit` items, whose subject counts the items (a reminder
    about a group counts each) and whose body lists each item's own subject and body (a text message: the
    first few, counted). One item alone keeps its own words."""

    parts = []
    for d in deliveries:
        if d.reminder_id and d.reminder.item_count > 1:
            parts.extend(render_parts(d.reminder, user=d.user))
        else:
            parts.append((d.subject, d.body))
    limit = limit or len(parts)
    out = []
    for start in range(0, len(parts), limit):
        chunk = parts[start:start + limit]
        message = copy.copy(deliveries[0])
        message.subject, message.body = chunk[0] if len(chunk) == 1 else combined_words(chunk)
        if message.channel == Channel.SMS and len(chunk) > 1:
            n = len(chunk)
            names = "；".join(subject for subject, _ in chunk[:SMS_ITEMS])
            more = f"等 {n} 件" if n > SMS_ITEMS else f"共 {n} 件"
            message.body = (f"{names}{more}。请登录系统查看："
                            f"{settings.BANLI_BASE_URL.rstrip('/')}{reverse('supervision:notifications')}")
        out.append(message)
    return out
