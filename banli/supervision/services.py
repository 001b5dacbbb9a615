"""督办催办 services: the deadline scan, notifications and deliveries, digests, key items and manual 催办.

Every write goes through these functions. The scan and the delivery pass are idempotent: a reminder is
unique per (item, kind, due date, threshold) in the database, a notification per (user, reminder), a
delivery per dedupe key; deliveries are claimed by compare-and-set, so several workers can run at once.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets as secrets_module
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Min
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from banli.core import access
from banli.core.errors import DomainError, NotFound, PermissionDenied
from banli.core.eventlog import write_event
from banli.handling import services as handling_services
from banli.handling.deadlines import WorkCalendar
from banli.handling.models import Event
from banli.handling.workflow import STATES
from banli.organizations.choices import Role
from banli.proposals.models import Proposal
from banli.supervision import channels, fanout, messages, selectors, tasks
from banli.supervision import scan as scanning
from banli.supervision.choices import (
    Channel,
    DeliveryState,
    DigestPeriod,
    NoteKind,
    ReminderKind,
    ReminderLevel,
)
from banli.supervision.integration import event_document, subscribable_verbs
from banli.supervision.models import (
    ChannelPreference,
    Delivery,
    DeliveryAttempt,
    DeliveryQueue,
    Digest,
    EventSubscription,
    Notification,
    Reminder,
    Supervision,
    SupervisionNote,
)

# --- the deadline scan ----------------------------------------------------------------------------


def scan_deadlines(*, today: dt.date | None = None, now=None) -> dict:
    """Create today's reminders (once per item) and leave them in the outbox for the send step; return the counts.

    Set-based and grouped: per kind of deadline ONE INSERT … SELECT … GROUP BY … ON CONFLICT DO NOTHING
    (scan.grouped_inserts) writes one reminder row per unit, handler, session, key flag, kind and threshold,
    listing its items, leaving out items an earlier row already holds for that kind and threshold; in one
    transaction that also puts the scan's token in the outbox (DeliveryQueue). The send step (`fan_out_pending`,
    called right after by the scheduler, the worker and `manage.py scan_deadlines`, and by `deliver_due`) then
    writes every channel's share of those reminders: the notification centre's entries and the e-mail, SMS
    and robot deliveries, each by one INSERT … SELECT, and sends them. The scan itself stays one short
    transaction over the deadline columns, its writes a few rows per unit, and a crash between the two steps
    loses nothing. `created` counts the items reminded, `reminders` the rows written.
    Runs only on working days: on a holiday nothing is due to anyone, and the windows catch up on the
    next working day.
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    calendar = WorkCalendar.load()
    if not calendar.is_workday(today):
        return {"date": today.isoformat(), "skipped": "holiday", "created": 0}
    token = uuid.uuid4().hex
    by_kind: dict[str, int] = {}
    rows = 0
    with transaction.atomic():
        plan = scanning.ScanPlan(today, calendar)
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                # The planner guesses a row or two from the small VALUES tables and would probe the earlier
                # reminders once per found item; hash joins read each side once (and without nested loops the
                # inflated costs must not call in the JIT compiler). Undone right after.
                cur.execute("SET LOCAL enable_nestloop = off; SET LOCAL jit = off")
                # Nothing is sent before the send step commits, and that commit flushes the log up to it: a
                # crash before then loses only rows the next scan writes again (the scan is idempotent).
                cur.execute("SET LOCAL synchronous_commit = off")
            for _spec, sql, params in scanning.grouped_inserts(plan, today, token, now):
                cur.execute(sql, params)
                rows += max(cur.rowcount, 0)
            if connection.vendor == "postgresql":
                cur.execute("SET LOCAL enable_nestloop TO DEFAULT; SET LOCAL jit TO DEFAULT")
            if rows:
                cur.execute(f"SELECT kind, SUM(item_count) FROM {Reminder._meta.db_table} WHERE scan_token = %s "
                            f"GROUP BY kind", [token])
                by_kind = {kind: int(n) for kind, n in cur.fetchall()}
        # Only the rows this scan inserted carry its token: a racing scan's rows are its own to fan out.
        if rows:
            DeliveryQueue.objects.create(token=token, created_at=now)
    return {"date": today.isoformat(), "created": sum(by_kind.values()), "reminders": rows, "by_kind": by_kind}


# --- deliveries ----------------------------------------------------------------------------------

LEASE = dt.timedelta(minutes=10)


def retry_delay(attempt: int) -> dt.timedelta:
    """Backoff after the `attempt`-th failure: base, 4×base, 16×base …"""
    return dt.timedelta(seconds=settings.BANLI_DELIVERY_RETRY_SECONDS * (4 ** (attempt - 1)))


def fan_out_pending(*, now=None) -> dict:
    """Write the notifications and queue the deliveries of every scan still in the outbox; return the counts.

    Each scan's are two INSERT … SELECT (fanout.fan_out: the notifications, then the deliveries), with its
    outbox row claimed in the same transaction (skipping rows another worker holds), so several workers fan
    each scan out once."""
    now = now or timezone.now()
    done = {"notifications": 0, "deliveries": 0}
    while True:
        with transaction.atomic():
            entry = (DeliveryQueue.objects.select_for_update(skip_locked=True)
                     .filter(queued_at__isnull=True).order_by("created_at", "id").first())
            if entry is None:
                return done
            counts = fanout.fan_out(entry.token, now)
            DeliveryQueue.objects.filter(pk=entry.pk).update(queued_at=now, **counts)
            for key, count in counts.items():
                done[key] += count


# A reminder message carries at most this many items: the rest go in the next one (also within one
# reminder about a group of items).
BATCH_MAX = 30
_OPEN = (DeliveryState.PENDING, DeliveryState.RETRYING, DeliveryState.SENDING)


def _claim(delivery_id: int, attempts: int, now) -> bool:
    """Compare-and-set: take one delivery for this worker (the lease runs out if the worker dies)."""
    return bool(Delivery.objects.filter(pk=delivery_id, attempts=attempts, state__in=_OPEN).update(
        state=DeliveryState.SENDING, attempts=attempts + 1, next_attempt_at=now + LEASE))


def _groups(due: list[tuple]) -> list[list[tuple[int, int]]]:
    """The due deliveries as messages: reminders for one address on one channel together (up to BATCH_MAX a
    message), anything else (a digest) alone; (id, attempts) pairs, in the order they came."""
    groups: dict[tuple, list] = {}
    for delivery_id, attempts, channel, address, webhook_id, reminder_id in due:
        key = (channel, address, webhook_id) if reminder_id else ("single", delivery_id)
        chunks = groups.setdefault(key, [[]])
        if len(chunks[-1]) >= BATCH_MAX:
            chunks.append([])
        chunks[-1].append((delivery_id, attempts))
    return [chunk for chunks in groups.values() for chunk in chunks]


def deliver_due(*, now=None, limit: int = 500) -> dict:
    """Send every delivery whose time has come; claim each by compare-and-set so workers never double-send.

    Reminders due for one address on one channel go out as one message (a unit office with twelve items overdue
    gets one e-mail, one text, one robot post listing them, not twelve; up to BATCH_MAX items); each keeps its
    own delivery row, attempt record and outcome. Grouping is within the rows one call takes (`limit`), which
    are taken address by address. A finished scan's notifications and deliveries are written first
    (`fan_out_pending`), so nothing waits for another pass."""
    now = now or timezone.now()
    fan_out_pending(now=now)
    subscriptions_fan_out(now=now)
    due = list(
        Delivery.objects.filter(state__in=_OPEN, next_attempt_at__lte=now)
        .order_by("channel", "address", "id")
        .values_list("id", "attempts", "channel", "address", "webhook_id", "reminder_id")[:limit]
    )
    counts = {"sent": 0, "failed": 0, "retrying": 0}
    for chunk in _groups(due):
        taken = [delivery_id for delivery_id, attempts in chunk if _claim(delivery_id, attempts, now)]
        if not taken:
            continue  # another worker took them
        rows = Delivery.objects.select_related("webhook", "user", "subscription", *messages.RELATED).in_bulk(taken)
        group = [rows[pk] for pk in taken]
        words = {}
        for d in group:
            if not d.subject and d.reminder_id:
                # rendered at the first try and kept, so retries and the failed list show the same words
                d.subject, d.body = messages.render_message(d.reminder, user=d.user)
                words[d.pk] = {"subject": d.subject, "body": d.body}
        several = len(group) > 1 or (group[0].reminder_id and group[0].reminder.item_count > 1)
        outgoing = messages.combined(group, BATCH_MAX) if several else [group[0]]
        started = timezone.now()
        try:
            answers = [channels.send(message) for message in outgoing]
            detail = "\n".join(filter(None, answers))
            # the HTTP status the other side answered (an integrator's event push is always one message)
            ok, code = True, getattr(answers[-1], "status", None) if answers else None
        except channels.DeliveryError as exc:
            detail, ok, code = str(exc), False, exc.status
        if len(group) > 1:
            detail = f"与另外 {len(group) - 1} 条提醒合并为一条发送。{detail}"
        with transaction.atomic():
            for d in group:  # each row read after its claim: `attempts` already counts this try
                tries = d.attempts
                DeliveryAttempt.objects.create(delivery=d, number=tries, started_at=started, ok=ok,
                                               detail=(detail or "")[:2000], response_code=code)
                if ok:
                    state, changes = DeliveryState.SENT, {"sent_at": now, "last_error": ""}
                elif tries >= d.max_attempts:
                    state, changes = DeliveryState.FAILED, {"last_error": detail}
                else:
                    state = DeliveryState.RETRYING
                    changes = {"last_error": detail, "next_attempt_at": now + retry_delay(tries)}
                Delivery.objects.filter(pk=d.pk, attempts=tries).update(state=state, response_code=code,
                                                                        **words.get(d.pk, {}), **changes)
                counts[state] += 1
    return counts


@transaction.atomic
def delivery_retry(*, delivery: Delivery, actor, now=None) -> Delivery:
    """The office sends a failed delivery again (a fresh round of tries)."""
    now = now or timezone.now()
    if not access.office_deliveries(actor).filter(pk=delivery.pk).exists():
        raise PermissionDenied("只有负责该事项的交办机构可以重新发送。")
    if delivery.state != DeliveryState.FAILED:
        raise DomainError("只有发送失败的消息可以重新发送。")
    Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.FAILED).update(
        state=DeliveryState.RETRYING, next_attempt_at=now, max_attempts=F("attempts") + F("max_attempts"),
    )
    transaction.on_commit(_enqueue_delivery)
    delivery.refresh_from_db()
    return delivery


def _enqueue_delivery() -> None:
    tasks.deliver_due_task.delay()


# --- notification centre -------------------------------------------------------------------------


def notification_mark_read(*, user, notification_ids=None, now=None) -> int:
    """Mark the user's notifications read (all of them when no ids are given)."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=now or timezone.now())


def channel_preference_set(*, user, email: bool, sms: bool, digest: str) -> ChannelPreference:
    """Save which channels (and which digest) a user wants."""
    if digest not in DigestPeriod.values:
        raise DomainError("请选择工作简报周期：每周、每日或不接收。", field="digest")
    if sms and not user.phone:
        raise DomainError("您的账号没有登记手机号码，不能选择短信通知；请先请管理员登记手机号码。", field="sms")
    if email and not user.email:
        raise DomainError("您的账号没有登记电子邮箱，不能选择邮件通知。", field="email")
    pref, _ = ChannelPreference.objects.update_or_create(user=user, defaults={"email": email, "sms": sms, "digest": digest})
    return pref


# --- manual 催办 ----------------------------------------------------------------------------------


@transaction.atomic
def urge_send(*, actor, assignments, message: str, now=None) -> list[Reminder]:
    """The assigning office urges one unit about one or several items (人工催办), with a message."""
    now = now or timezone.now()
    message = (message or "").strip()
    assignments = list(assignments)
    if not assignments:
        raise DomainError("请至少选择一个需要催办的事项。", field="assignments")
    if not message:
        raise DomainError("请填写催办内容。", field="message")
    if len(message) > 500:
        raise DomainError("催办内容不能超过500字。", field="message")
    units = {a.unit_id for a in assignments}
    if len(units) > 1:
        raise DomainError("一次催办只能发给一个单位，请分别催办。", field="assignments")
    batch = uuid.uuid4().hex
    reminders = []
    for a in assignments:
        if not access.is_office_for(actor, a.proposal):
            raise PermissionDenied(f"您不是第{a.proposal.number}号的交办机构，不能催办。")
        if STATES.get(a.state) and STATES[a.state].final:
            raise DomainError(f"第{a.proposal.number}号在「{a.unit}」已{STATES[a.state].label}，无需催办。",
                              field="assignments")
        reminders.append(Reminder.objects.create(
            kind=ReminderKind.MANUAL, level=ReminderLevel.MANUAL, item_key=f"a{a.pk}", assignment=a, unit_id=a.unit_id,
            items=f",{a.pk},", item_count=1,
            due_date=a.reply_due if a.answers else a.opinion_due, threshold=0, scan_date=timezone.localdate(now),
            scan_token=batch, batch=batch, message=message, created_by=actor, created_at=now,
        ))
        write_event(verb="urge", actor=actor, actor_role=Role.ASSIGNING_OFFICE, assignment=a,
                    reason=message, payload={"batch": batch, "unit": a.unit_id}, now=now)
    fanout.fan_out(batch, now)
    transaction.on_commit(_enqueue_delivery)
    return reminders


# --- key items (重点提案督办) ----------------------------------------------------------------------


@transaction.atomic
def supervision_create(*, actor, proposal, leader_name: str, leader=None, warning_days=None, note: str = "",
                       now=None) -> Supervision:
    """Make an item a key item supervised by a named leader (重点督办)."""
    if not access.is_office_for(actor, proposal):
        raise PermissionDenied("只有交办机构可以确定重点督办事项。")
    leader_name = (leader_name or "").strip()
    if not leader_name:
        raise DomainError("请填写督办领导。", field="leader_name")
    days = []
    for d in warning_days or []:
        try:
            value = int(d)
        except (TypeError, ValueError):
            raise DomainError(f"预警工作日「{d}」不是整数。", field="warning_days") from None
        if not 1 <= value <= 60:
            raise DomainError("预警工作日应在1到60之间。", field="warning_days")
        days.append(value)
    if Supervision.objects.filter(proposal=proposal).exists():
        raise DomainError(f"第{proposal.number}号已是重点督办事项。", field="proposal")
    supervision = Supervision.objects.create(
        proposal=proposal, leader_name=leader_name, leader=leader, warning_days=sorted(set(days), reverse=True),
        note=note, created_by=actor,
    )
    Proposal.objects.filter(pk=proposal.pk).update(is_key=True)
    handling_services.assignments_key_set(proposal_ids=[proposal.pk], key=True)
    write_event(verb="supervise", actor=actor, actor_role=Role.ASSIGNING_OFFICE, proposal=proposal,
                payload={"leader": leader_name, "warning_days": supervision.warning_days}, now=now)
    return supervision


@transaction.atomic
def supervision_note_add(*, actor, supervision: Supervision, kind: str, happened_on: dt.date, text: str,
                         now=None) -> SupervisionNote:
    """Record a meeting, site visit or progress note on a key item."""
    if not access.can_note_supervision(actor, supervision):
        raise PermissionDenied("只有交办机构、督办领导和承办单位可以登记督办记录。")
    if kind not in NoteKind.values:
        raise DomainError("请选择记录类型：会议、现场调研或进展。", field="kind")
    if happened_on is None:
        raise DomainError("请填写日期。", field="happened_on")
    if happened_on > timezone.localdate(now or timezone.now()):
        raise DomainError("日期不能晚于今天。", field="happened_on")
    text = (text or "").strip()
    if not text:
        raise DomainError("请填写记录内容。", field="text")
    note = SupervisionNote.objects.create(supervision=supervision, kind=kind, happened_on=happened_on, text=text,
                                          written_by=actor)
    write_event(verb="supervision_note", actor=actor, proposal=supervision.proposal,
                payload={"note": note.pk, "kind": kind, "date": happened_on.isoformat()}, now=now)
    return note


# --- digests -------------------------------------------------------------------------------------


def digest_period_start(period: str, today: dt.date) -> dt.date:
    return today - dt.timedelta(days=today.weekday()) if period == DigestPeriod.WEEKLY else today


def digest_recipients(period: str):
    """Leaders of units and assigning-office staff who take this digest (weekly unless they chose otherwise;
    the daily digest only for those who asked for it)."""
    qs = access.digest_recipients()
    if period == DigestPeriod.WEEKLY:
        return qs.exclude(channel_preference__digest__in=[DigestPeriod.DAILY, DigestPeriod.NONE])
    return qs.filter(channel_preference__digest=DigestPeriod.DAILY)


def digests_send(*, period: str = DigestPeriod.WEEKLY, today: dt.date | None = None, now=None) -> dict:
    """Build and queue each recipient's digest for this period, once."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    start = digest_period_start(period, today)
    created = 0
    for user in digest_recipients(period):
        with transaction.atomic():
            digest, is_new = Digest.objects.get_or_create(
                user=user, period=period, period_start=start,
                defaults={"data": selectors.digest_data(user, today=today), "created_at": now},
            )
            if not is_new:
                continue
            created += 1
            subject = render_to_string("supervision/messages/digest_subject.txt",
                                       {"digest": digest, "user": user}).strip()
            body = render_to_string("supervision/messages/digest.txt", {
                "digest": digest, "data": digest.data, "user": user,
                "link": settings.BANLI_BASE_URL.rstrip("/") + reverse("supervision:digest", args=[digest.pk]),
            }).strip()
            Notification.objects.create(user=user, digest=digest, title=subject, body=body,
                                        link=reverse("supervision:digest", args=[digest.pk]), created_at=now)
            pref = ChannelPreference.objects.filter(user=user).first()
            if user.email and (pref is None or pref.email):
                Delivery.objects.get_or_create(dedupe_key=f"d{digest.pk}:email", defaults=dict(
                    channel=Channel.EMAIL, address=user.email, user=user, subject=subject, body=body, digest=digest,
                    created_at=now, next_attempt_at=now, max_attempts=settings.BANLI_DELIVERY_MAX_ATTEMPTS,
                ))
    return {"period": period, "start": start.isoformat(), "digests": created}


def require_digest(user, digest_id) -> Digest:
    digest = Digest.objects.filter(pk=digest_id, user=user).first()
    if digest is None:
        raise NotFound("找不到该简报。")
    return digest


# --- integrators' event subscriptions (出站推送) ----------------------------------------------------

# An event younger than this may still have a lower-numbered neighbour in a transaction not yet committed: the
# cursor stops before it, the next pass looks again (the dedupe key keeps each event's delivery single).
EVENT_SETTLE = dt.timedelta(seconds=60)
EVENT_MAX_ATTEMPTS = 6
SECRET_MIN_CHARS = 16


def _clean_subscription(*, url: str, verbs, name: str) -> list[str]:
    known = subscribable_verbs()
    if not (name or "").strip():
        raise DomainError("请填写订阅名称。", field="name")
    if not str(url).lower().startswith(("http://", "https://")):
        raise DomainError("推送地址必须以 http:// 或 https:// 开头。", field="url")
    verbs = list(dict.fromkeys(verbs or []))
    if not verbs:
        raise DomainError("请至少选择一种事件。", field="verbs")
    unknown = [v for v in verbs if v not in known]
    if unknown:
        raise DomainError(f"不能订阅这些事件：{'、'.join(unknown)}（单位内部的草稿、审核和沟通不对外推送）。", field="verbs")
    return verbs


@transaction.atomic
def subscription_create(*, actor, office, name: str, url: str, verbs, secret: str = "", now=None):
    """An office (for its own sessions) or the administrator (office None: every item) subscribes a URL to event
    verbs; returns (subscription, secret). Only events from now on are pushed, not the history."""

    if not access.may_subscribe_for(actor, office):
        raise PermissionDenied("只有交办机构（为本机构的届次）或系统管理员可以设置事件推送。")
    verbs = _clean_subscription(url=url, verbs=verbs, name=name)
    secret = secret or secrets_module.token_urlsafe(32)
    if len(secret) < SECRET_MIN_CHARS:
        raise DomainError(f"签名密钥至少 {SECRET_MIN_CHARS} 个字符（留空由系统生成）。", field="secret")
    now = now or timezone.now()
    cursor = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    subscription = EventSubscription.objects.create(
        office=office, name=name.strip(), url=url, verbs=verbs, secret=secret, cursor=cursor, created_by=actor,
        created_at=now,
    )
    write_event(verb="subscription_create", actor=actor, now=now,
                payload={"subscription": subscription.pk, "url": url, "verbs": verbs, "office": office and office.pk})
    return subscription, secret


@transaction.atomic
def subscription_update(*, subscription, actor, name: str | None = None, url: str | None = None, verbs=None,
                        is_active: bool | None = None, new_secret: bool = False, now=None):
    """Change a subscription's name, address, verbs or state, or give it a new secret; returns (subscription,
    the new secret or "")."""

    if not access.may_manage_subscription(actor, subscription):
        raise NotFound("找不到该推送订阅。")
    current = EventSubscription.objects.select_for_update().get(pk=subscription.pk)
    changes = {
        "name": current.name if name is None else name,
        "url": current.url if url is None else url,
        "verbs": current.verbs if verbs is None else verbs,
    }
    changes["verbs"] = _clean_subscription(**changes)
    changes["name"] = changes["name"].strip()
    if is_active is not None:
        changes["is_active"] = bool(is_active)
    secret = secrets_module.token_urlsafe(32) if new_secret else ""
    if secret:
        changes["secret"] = secret
    for key, value in changes.items():
        setattr(current, key, value)
    current.save(update_fields=list(changes))
    write_event(verb="subscription_update", actor=actor, now=now,
                payload={"subscription": current.pk, "url": current.url, "verbs": current.verbs,
                         "is_active": current.is_active, "new_secret": bool(secret)})
    return current, secret


def subscriptions_fan_out(*, now=None, limit: int = 500) -> int:
    """Queue one delivery per (subscription, event) for the committed events each active subscription may receive
    (its verbs, its office's items, never a unit's internal steps); return how many events were looked at.

    Reads only committed rows, so nothing is pushed that a rollback takes back; idempotent by the dedupe key
    (two workers, or a pass run twice, queue each event once); deliver_due then sends them with its retries."""

    now = now or timezone.now()
    seen = 0
    for sub in EventSubscription.objects.filter(is_active=True).select_related("office"):
        events = list(
            access.subscription_events(sub).filter(pk__gt=sub.cursor, verb__in=sub.verbs)
            .select_related("proposal", "assignment", "assignment__unit").order_by("pk")[:limit]
        )
        Delivery.objects.bulk_create([
            Delivery(channel=Channel.EVENT, dedupe_key=f"evt-{sub.pk}-{event.pk}", subscription=sub, event=event,
                     address=sub.url[:500], subject=event.verb,
                     body=json.dumps(event_document(event), ensure_ascii=False, sort_keys=True),
                     office=sub.office, max_attempts=EVENT_MAX_ATTEMPTS, next_attempt_at=now, created_at=now)
            for event in events
        ], ignore_conflicts=True)
        seen += len(events)
        top = events[-1].pk if len(events) == limit else (Event.objects.aggregate(m=Max("pk"))["m"] or 0)
        young = (Event.objects.filter(pk__gt=sub.cursor, pk__lte=top, created_at__gt=now - EVENT_SETTLE)
                 .aggregate(m=Min("pk"))["m"])
        cursor = min(top, young - 1) if young else top
        if cursor > sub.cursor:
            EventSubscription.objects.filter(pk=sub.pk, cursor=sub.cursor).update(cursor=cursor)
    return seen
