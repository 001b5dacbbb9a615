"""The words of a reminder: subject and body from the template of its kind, rendered when they are needed
(a delivery being sent, a notification being shown), not for every row the scan inserts."""
from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from banli.handling.choices import state_label

# What rendering a reminder reads; select_related these to render a page of them in one query.
RELATED = ("reminder__assignment__proposal", "reminder__assignment__unit", "reminder__commitment")


def item_link(assignment_id: int) -> str:
    """The item's reminder page (relative)."""
    return reverse("supervision:item", args=[assignment_id])


def render_message(reminder, assignment=None) -> tuple[str, str]:
    """Subject (first line) and body of a reminder, from the template of its kind."""
    assignment = assignment or reminder.assignment
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


def combined(deliveries):
    """One message for several reminders to the same address: a copy of the first delivery whose subject counts
    the items and whose body lists each reminder's own subject and body (a text message: the first few, counted)."""
    import copy

    from banli.supervision.choices import Channel

    first = copy.copy(deliveries[0])
    n = len(deliveries)
    first.subject = f"【办理提醒】您有 {n} 件事项需要处理"
    if first.channel == Channel.SMS:
        names = "；".join(d.subject for d in deliveries[:SMS_ITEMS])
        more = f"等 {n} 件" if n > SMS_ITEMS else f"共 {n} 件"
        first.body = f"{names}{more}。请登录系统查看：{settings.BANLI_BASE_URL.rstrip('/')}{reverse('supervision:notifications')}"
    else:
        first.body = "\n\n".join(f"{i}. {d.subject}\n{d.body}" for i, d in enumerate(deliveries, 1))
    return first
