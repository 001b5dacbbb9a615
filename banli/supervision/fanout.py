"""Fan-out, set-based: notifications and queued deliveries for the reminders one scan (or one manual 催办)
inserted, each ONE `INSERT … SELECT … ON CONFLICT DO NOTHING` over the rows carrying that scan's token.
The scan writes only the reminders; the send step writes both, per scan in the outbox (services.fan_out_pending),
and a manual 催办 writes both at once.

A reminder of the scan is about a group of a unit's items with the same handler (see scan.GROUP_COLUMNS);
its first item (`assignment_id`) stands for the group in what follows. Who hears about a reminder: the handler and the unit office first (the unit office only, for a signature;
the proposers and the unit office, for a rating deadline); once escalated, the unit's leaders and the
assigning office too. Everyone gets a notification in the notification centre; deliveries follow each
user's channel preference (e-mail on, SMS off by default), plus the channels an office forces for overdue
items, plus the unit's active group robots. Subject and body are not stored here: they are rendered from
the reminder's template when a delivery is sent and when a notification is shown (see messages.py).
"""
from __future__ import annotations

from django.db import connection
from django.urls import reverse

from banli.core import access
from banli.handling.models import Assignment
from banli.organizations.models import RoleGrant, User
from banli.proposals.models import Proposal, ProposalProposer, Proposer, Session
from banli.supervision import scan as scanning
from banli.supervision.choices import Channel, DeliveryState, ReminderKind, ReminderLevel
from banli.supervision.models import ChannelPreference, Delivery, Notification, Reminder, Supervision, UnitWebhook


def _tables() -> dict[str, str]:
    models = {"assignment": Assignment, "grant": RoleGrant, "user": User, "proposal": Proposal,
              "link": ProposalProposer, "proposer": Proposer, "session": Session, "pref": ChannelPreference,
              "delivery": Delivery, "notification": Notification, "reminder": Reminder,
              "supervision": Supervision, "webhook": UnitWebhook}
    return {name: model._meta.db_table for name, model in models.items()}


def _link_prefix() -> str:
    """The item page's URL before the id ("/supervision/items/"); the id and "/" follow."""
    link = reverse("supervision:item", args=[0])
    assert link.endswith("/0/"), link
    return link[:-2]


def _this_scan(t: dict, *, with_key: bool = False) -> str:
    """The reminders this scan inserted, with the assignment, its proposal and the assigning office (and
    whether the item is a key item: marked key or under supervision)."""
    key = (f", (p.is_key OR EXISTS (SELECT 1 FROM {t['supervision']} sv WHERE sv.proposal_id = a.proposal_id)) "
           f"AS is_key" if with_key else "")
    return (f"r AS (SELECT rm.id, rm.kind, rm.level, rm.unit_id, rm.assignment_id, rm.item_count, rm.items, a.handler_id, "
            f"a.proposal_id, "
            f"s.assigning_office_id AS office_id{key} "
            f"FROM {t['reminder']} rm JOIN {t['assignment']} a ON a.id = rm.assignment_id "
            f"JOIN {t['proposal']} p ON p.id = a.proposal_id JOIN {t['session']} s ON s.id = p.session_id "
            f"WHERE rm.scan_token = %s)")


def notify(token: str, now) -> int:
    """One notification per (recipient, reminder) for the reminders carrying `token`; returns how many."""
    t = _tables()
    q = scanning.sql_str
    escalated = q(ReminderLevel.ESCALATED)
    recipients = " UNION ".join([
        # the handler, except for signatures (nobody handles it yet) and ratings (the proposers' turn)
        f"SELECT r.id AS reminder_id, r.handler_id AS user_id FROM r "
        f"WHERE r.handler_id IS NOT NULL AND r.kind NOT IN ({q(ReminderKind.SIGN)}, {q(ReminderKind.FEEDBACK)})",
        f"SELECT r.id, g.user_id FROM r JOIN {t['grant']} g ON g.unit_id = r.unit_id AND g.role = {q(access.REMINDER_UNIT_ROLE)}",
        # the proposers of each item of a rating reminder (a unit's group lists several proposals)
        f"SELECT r.id, pr.user_id FROM r {scanning.unnest_items('r', 'ri').format(reminder=t['reminder'])} "
        f"JOIN {t['assignment']} a2 ON a2.id = ri.item "
        f"JOIN {t['link']} l ON l.proposal_id = a2.proposal_id "
        f"JOIN {t['proposer']} pr ON pr.id = l.proposer_id "
        f"WHERE r.kind = {q(ReminderKind.FEEDBACK)} AND pr.user_id IS NOT NULL",
        f"SELECT r.id, g.user_id FROM r JOIN {t['grant']} g ON g.unit_id = r.unit_id AND g.role = {q(access.REMINDER_ESCALATED_UNIT_ROLE)} "
        f"WHERE r.level = {escalated}",
        f"SELECT r.id, g.user_id FROM r JOIN {t['grant']} g ON g.unit_id = r.office_id "
        f"AND g.role = {q(access.REMINDER_ESCALATED_OFFICE_ROLE)} WHERE r.level = {escalated}",
    ])
    sql = (
        f"INSERT INTO {t['notification']} (user_id, reminder_id, digest_id, level, title, body, link, is_key, "
        f"created_at, read_at) "
        f"WITH {_this_scan(t, with_key=True)}, rec AS ({recipients}) "
        f"SELECT rec.user_id, r.id, NULL, r.level, '', '', CASE WHEN r.item_count > 1 THEN %s "
        f"ELSE %s || CAST(r.assignment_id AS TEXT) || '/' END, r.is_key, %s, "
        f"NULL FROM rec JOIN r ON r.id = rec.reminder_id JOIN {t['user']} u ON u.id = rec.user_id "
        f"WHERE u.is_active ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [token, reverse("supervision:notifications"), _link_prefix(),
                          connection.ops.adapt_datetimefield_value(now)])
        return cur.rowcount


def queue_deliveries(token: str, now) -> int:
    """E-mail, SMS and group-robot deliveries for the reminders carrying `token` (after `notify`)."""
    t = _tables()
    q = scanning.sql_str
    default, by_office = scanning.load_policies()

    def forced(channel: str) -> str:
        """Whether the reminder's office forces this channel (only for overdue, escalated and manual ones)."""
        per_office = {o: int(channel in p.force_overdue_channels) for o, p in by_office.items()}
        office = scanning.sql_per_office("r.office_id", per_office, int(channel in default.force_overdue_channels))
        return f"(r.level <> {q(ReminderLevel.WARNING)} AND ({office}) = 1)"

    max_attempts = scanning.sql_per_office("r.office_id", {o: p.max_attempts for o, p in by_office.items()},
                                           default.max_attempts)
    pending = q(DeliveryState.PENDING)
    # (channel, address column, wanted by default)
    people = []
    for channel, address, wanted in ((Channel.EMAIL, "email", "TRUE"), (Channel.SMS, "phone", "FALSE")):
        wants = f"COALESCE(cp.{channel}, {wanted})"
        people.append(
            f"SELECT {q(channel)} AS channel, "
            f"'r' || CAST(r.id AS TEXT) || ':u' || CAST(u.id AS TEXT) || ':{channel}' AS dedupe_key, "
            f"u.id AS user_id, CAST(NULL AS INTEGER) AS webhook_id, u.{address} AS address, r.id AS reminder_id, "
            f"r.office_id AS office_id, NOT {wants} AS forced, {max_attempts} AS max_attempts "
            f"FROM r JOIN {t['notification']} n ON n.reminder_id = r.id JOIN {t['user']} u ON u.id = n.user_id "
            f"LEFT JOIN {t['pref']} cp ON cp.user_id = u.id "
            f"WHERE u.{address} <> '' AND ({wants} OR {forced(channel)})"
        )
    robots = (
        f"SELECT {q(Channel.WEBHOOK)}, 'r' || CAST(r.id AS TEXT) || ':w' || CAST(h.id AS TEXT), "
        f"CAST(NULL AS INTEGER), h.id, h.url, r.id, r.office_id, FALSE, {max_attempts} "
        f"FROM r JOIN {t['webhook']} h ON h.unit_id = r.unit_id AND h.is_active "
        f"WHERE r.kind <> {q(ReminderKind.FEEDBACK)}"
    )
    sql = (
        f"INSERT INTO {t['delivery']} (channel, dedupe_key, user_id, webhook_id, address, subject, body, reminder_id, "
        f"digest_id, office_id, forced, state, attempts, max_attempts, next_attempt_at, last_error, sent_at, "
        f"created_at) "
        f"WITH {_this_scan(t)} "
        f"SELECT d.channel, d.dedupe_key, d.user_id, d.webhook_id, d.address, '', '', d.reminder_id, NULL, "
        f"d.office_id, d.forced, {pending}, 0, d.max_attempts, %s, '', NULL, %s "
        f"FROM ({' UNION ALL '.join([*people, robots])}) AS d WHERE TRUE ON CONFLICT DO NOTHING"
    )
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cur:
        cur.execute(sql, [token, at, at])
        return cur.rowcount


def fan_out(token: str, now) -> dict:
    return {"notifications": notify(token, now), "deliveries": queue_deliveries(token, now)}
