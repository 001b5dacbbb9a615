"""The words of a reminder: subject and body from the template of its kind, rendered when they are needed
(a delivery being sent, a notification being shown), not for every row the scan inserts."""
from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from banli.handling.workflow import STATES

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
            "state_label": STATES[assignment.state].label if assignment.state in STATES else assignment.state,
            "link": settings.BANLI_BASE_URL.rstrip("/") + item_link(assignment.pk),
        },
    ).strip()
    subject, _, body = text.partition("\n")
    return subject.strip()[:200], body.strip()
