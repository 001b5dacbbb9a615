"""`load_demo --scale N`: N generated proposals with assignments and histories, for load tests and benchmarks.

Speed matters more than going through the services here (100,000 proposals in minutes on SQLite, a
million assignments on PostgreSQL), so rows are written with bulk_create in batches, one transaction per
batch. The rows stay consistent with what the services would have written:
- every assignment's state is reached by a simulated timeline of workflow actions, each with its event
  row (from state, to state, actor, time), in one hash chain per proposal, ordered by time;
- deadline columns come from the session's deadline policy and the working-day calendar;
- replies, ratings, co-opinions and contacts exist for the states that imply them;
- `version` counts the actions taken and the proposal's status is derived from its assignments.
Units, accounts, proposers and the session itself are created through the services.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import multiprocessing
import queue as queues
import random
from dataclasses import dataclass

from django.db import connection, connections, transaction
from django.utils import timezone

from banli.core import eventlog
from banli.demo import texts as T
from banli.demo.builder import DemoLoader
from banli.handling import deadlines
from banli.handling.choices import AssignmentRole, AssignmentState, DeadlineStep
from banli.handling.models import Assignment, ContactRecord, Event
from banli.handling.workflow import derive_proposal_status
from banli.organizations import services as orgs
from banli.organizations.choices import Role, UnitKind
from banli.organizations.models import Unit, User
from banli.proposals import services as proposals
from banli.proposals.choices import Body, Level, ProposalKind
from banli.proposals.models import Proposal, ProposalProposer, Session
from banli.proposals.search import search_text_for
from banli.replies.models import CoOpinion, Feedback, Reply

PLACES = ["", "", "", "粤海街道", "滨河街道", "新港街道", "沙河街道", "东湖街道", "西岸街道", "北山片区", "中心城区"]
CLASSES = ["A"] * 55 + ["B"] * 30 + ["C"] * 10 + ["D"] * 5
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


@dataclass
class ScaleResult:
    session: str
    proposals: int = 0
    assignments: int = 0
    events: int = 0


class Context:
    """What every batch needs: the session, units, people and cached deadlines."""

    def __init__(self, session, office_user, departments, proposers, now):
        self.session = session
        self.office_user = office_user
        self.departments = departments  # [(unit, first section, handler user, unit office user)]
        self.proposers = proposers  # [(Proposer, User)]
        self.now = now
        self.calendar = deadlines.WorkCalendar.load()
        # The session's rules, read once (rule_for asks the database on every call).
        self.rules = {step: deadlines.rule_for(session, ProposalKind.PROPOSAL, step) for step in DeadlineStep.values}
        self._due: dict = {}
        self._feedback: dict = {}
        self._rehandle: dict = {}

    def due(self, day: dt.date) -> dict:
        if day not in self._due:
            rule = lambda step: deadlines.apply_rule(self.rules[step], day, self.calendar)  # noqa: E731
            reply_due = rule(DeadlineStep.REPLY)
            # The same columns as deadlines.assignment_deadlines, from the rules read once.
            self._due[day] = {
                "sign_due": rule(DeadlineStep.SIGN), "adjust_due": rule(DeadlineStep.ADJUST),
                "opinion_due": rule(DeadlineStep.CO_OPINION), "reply_due": reply_due,
                "reply_due_original": reply_due, "reply_due_max": rule(DeadlineStep.REPLY_MAX),
            }
        return self._due[day]

    def feedback_due(self, day: dt.date) -> dt.date:
        if day not in self._feedback:
            self._feedback[day] = deadlines.apply_rule(self.rules[DeadlineStep.FEEDBACK], day, self.calendar)
        return self._feedback[day]

    def rehandle_due(self, day: dt.date) -> dt.date:
        if day not in self._rehandle:
            self._rehandle[day] = deadlines.apply_rule(self.rules[DeadlineStep.REHANDLE], day, self.calendar)
        return self._rehandle[day]


def _prepare(n: int, seed: int, now, session_id: int | None = None, label: str = "件") -> Context:
    """Units, accounts, proposers and a new session (or the one given), through the services (reused when present)."""
    office_unit = Unit.objects.filter(name=T.DISTRICT_OFFICE[0]).first()
    if office_unit is None:
        DemoLoader().build_units(now - 400 * DAY)
        office_unit = Unit.objects.get(name=T.DISTRICT_OFFICE[0])
    gov = office_unit.parent
    office_user = User.objects.filter(username="scale_office").first()
    if office_user is None:
        office_user = orgs.user_create(username="scale_office", password=None, display_name="压测督查室")
        orgs.role_grant(user=office_user, role=Role.ASSIGNING_OFFICE, unit=office_unit)
    departments = []
    for code, name, _alias, _sections in T.DEPARTMENTS:
        unit = Unit.objects.get(parent=gov, name=name)
        section = unit.children.filter(kind=UnitKind.SECTION).order_by("sort_order", "id").first()
        handler = _account(f"{code}_handler", f"{_alias}承办人（压测）", Role.HANDLER, section)
        office = _account(f"{code}_office", f"{_alias}联络员（压测）", Role.UNIT_OFFICE, unit)
        departments.append((unit, section, handler, office))
    pool = []
    for i in range(60):
        username = f"scale_p{i:02d}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = orgs.user_create(username=username, password=None, display_name=f"压测委员{i:02d}")
            orgs.role_grant(user=user, role=Role.PROPOSER)
        proposer = proposals.proposer_get_or_create(name=f"压测委员{i:02d}", user=user)
        pool.append((proposer, user))
    if session_id is not None:
        return Context(Session.objects.get(pk=session_id), office_user, departments, pool, now)
    name = f"压测届次（{n}{label}，种子{seed}）"
    suffix = 1
    while Session.objects.filter(name=name).exists():
        suffix += 1
        name = f"压测届次（{n}{label}，种子{seed}）#{suffix}"
    session = proposals.session_create(actor=None, name=name, body=Body.CPPCC, level=Level.DISTRICT,
                                       year=timezone.localdate(now).year, assigning_office=office_unit)
    return Context(session, office_user, departments, pool, now)


def _account(username: str, display_name: str, role: str, unit):
    """The demo account of that name if the demo is loaded, else a sign-in-less account for the generator."""
    user = User.objects.filter(username=username).first() or User.objects.filter(username=f"scale_{username}").first()
    if user is None:
        user = orgs.user_create(username=f"scale_{username}", password=None, display_name=display_name)
        orgs.role_grant(user=user, role=role, unit=unit)
    return user


ASSIGNMENTS_PER_PROPOSAL = 2.34  # what the simulation yields on average (lead or two splits, 0-2 co units)


def generate(n: int = 0, *, assignments: int = 0, batch_size: int = 2000, seed: int = 2026, log=None, now=None,
             workers: int = 1) -> ScaleResult:
    """Generate `n` proposals, or proposals until `assignments` assignments exist, in a new session.

    With `workers` > 1 the batches run in that many processes at once (each its own connection and its own
    range of numbers); the counts written are returned. Ends with ANALYZE so that plans fit the new rows."""
    now = now or timezone.now()
    log = log or (lambda message: None)
    with transaction.atomic():
        ctx = _prepare(assignments or n, seed, now, label="条交办" if assignments else "件")
    result = ScaleResult(session=ctx.session.name)
    if workers <= 1:
        _run(ctx, seed, first=0, proposals=n, assignments=assignments, batch_size=batch_size, log=log, result=result)
    else:
        result = _run_parallel(ctx, seed, n=n, assignments=assignments, batch_size=batch_size, log=log, now=now,
                               workers=workers, result=result)
    analyze()
    return result


def analyze() -> None:
    """Refresh the planner's statistics after a bulk load (else plans stay wrong until autovacuum comes by).

    On PostgreSQL outside a transaction also VACUUM, which marks the freshly written pages all-visible: until
    then a count cannot be answered from an index alone (every entry sends the scan to its table row), so the
    ledger's capped counts and their SQL floor would both be measured on a table autovacuum has not reached."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute("VACUUM (ANALYZE)")
        else:
            cursor.execute("ANALYZE")


def _run(ctx, seed, *, first: int, proposals: int, assignments: int, batch_size: int, log, result) -> ScaleResult:
    """Write batches numbered from `first` until `proposals` proposals or `assignments` assignments are written."""
    topics = T.DISTRICT_ITEMS + T.CITY_ITEMS + T.NPC_ITEMS
    target, unit = (assignments, "条交办") if assignments else (proposals, "件")
    step = max(target // 10, 1)
    next_report = step
    start = first
    while True:
        if assignments:
            left = assignments - result.assignments
            if left <= 0:
                break
            per = result.assignments / result.proposals if result.proposals else ASSIGNMENTS_PER_PROPOSAL
            count = min(batch_size, max(1, math.ceil(left / per)))
        else:
            count = min(batch_size, proposals - result.proposals)
            if count <= 0:
                break
        with transaction.atomic():
            batch = Batch(ctx, random.Random(seed * 1_000_003 + start), topics)
            batch.build(start, count)
            written, events = batch.write()
        start += count
        result.proposals += count
        result.assignments += written
        result.events += events
        done = result.assignments if assignments else result.proposals
        if done >= next_report or done >= target:
            log(f"已生成 {done}/{target} {unit}")
            next_report += step
    return result


def _worker(session_id: int, seed: int, first: int, proposals: int, assignments: int, batch_size: int, now, queue):
    connections.close_all()  # never share the parent's connection
    ctx = _prepare(0, seed, now, session_id=session_id)
    result = _run(ctx, seed, first=first, proposals=proposals, assignments=assignments, batch_size=batch_size,
                  log=lambda message: None, result=ScaleResult(session=ctx.session.name))
    connections.close_all()
    queue.put((result.proposals, result.assignments, result.events))


def _run_parallel(ctx, seed, *, n, assignments, batch_size, log, now, workers, result) -> ScaleResult:

    connections.close_all()
    mp = multiprocessing.get_context("fork")
    queue = mp.Queue()
    # Each worker numbers its proposals in its own range, so the (session, kind, number) key never collides.
    span = max(n, assignments) + 1
    shares = [((n // workers) + (1 if i < n % workers else 0) if n else 0,
               (assignments // workers) + (1 if i < assignments % workers else 0) if assignments else 0)
              for i in range(workers)]
    procs = [mp.Process(target=_worker, args=(ctx.session.pk, seed, i * span, p, a, batch_size, now, queue))
             for i, (p, a) in enumerate(shares)]
    for proc in procs:
        proc.start()

    received = 0
    while received < len(procs):
        try:
            p, a, e = queue.get(timeout=5)
        except queues.Empty:
            failed = [proc.exitcode for proc in procs if proc.exitcode]
            if failed:
                raise RuntimeError(f"生成进程异常退出（退出码 {failed[0]}）") from None
            continue
        received += 1
        result.proposals += p
        result.assignments += a
        result.events += e
        log(f"一个进程完成：{p} 件提案、{a} 条交办")
    for proc in procs:
        proc.join()
        if proc.exitcode:
            raise RuntimeError(f"生成进程异常退出（退出码 {proc.exitcode}）")
    return result


class Batch:
    """One batch of proposals with everything that hangs off them, written in a few bulk inserts."""

    def __init__(self, ctx: Context, rng: random.Random, topics):
        self.ctx = ctx
        self.rng = rng
        self.topics = topics
        self.proposals = []  # Proposal
        self.links = []  # (proposal index, proposer, user, position)
        self.assignments = []  # dicts: proposal index, unit, role, fields, steps
        self.dept_by_code = {
            code: dept for (code, *_), dept in zip(T.DEPARTMENTS, ctx.departments)
        }

    # --- simulation ------------------------------------------------------------------------------

    def _workday_time(self, moment: dt.datetime) -> dt.datetime:
        local = timezone.localtime(moment)
        day = local.date()
        while not self.ctx.calendar.is_workday(day):
            day -= DAY
        hour = 9 + self.rng.random() * 8
        naive = dt.datetime.combine(day, dt.time(int(hour), int(hour % 1 * 60)))
        return timezone.make_aware(naive)

    def _steps_answering(self, t0):
        rng, now = self.rng, self.ctx.now
        age = (now - t0) / DAY
        if age < 10 and rng.random() < 0.08:
            t = t0 + rng.uniform(4, 60) * HOUR
            return [(t, "request_adjustment", AssignmentState.ADJUSTMENT_REQUESTED)] if t < now else []
        t_sign = t0 + rng.uniform(0.1, 4) * DAY
        t_section = t_sign + rng.uniform(0.05, 3) * DAY
        t_submit = t_section + rng.uniform(15, 75) * DAY
        t_send = t_submit + rng.uniform(1, 10) * DAY
        rated = rng.random() < 0.88
        t_rated = t_send + rng.uniform(2, 20) * DAY
        t_close = (t_rated if rated else t_send + 24 * DAY) + rng.uniform(1, 15) * DAY
        plan = [(t_sign, "sign", AssignmentState.SIGNED), (t_section, "assign_section", AssignmentState.IN_PROGRESS),
                (t_submit, "submit_reply", AssignmentState.REPLY_REVIEW), (t_send, "send_reply", AssignmentState.REPLIED)]
        if rated:
            plan.append((t_rated, "complete_feedback", AssignmentState.RATED))
            if rng.random() < 0.03:
                plan.append((t_rated + rng.uniform(2, 6) * DAY, "rehandle", AssignmentState.REHANDLING))
            else:
                plan.append((t_close, "close", AssignmentState.CLOSED))
        else:
            plan.append((t_close, "close", AssignmentState.CLOSED))
        return [step for step in plan if step[0] < now]

    def _steps_co(self, t0):
        rng, now = self.rng, self.ctx.now
        if rng.random() < 0.01:
            t = t0 + rng.uniform(0.5, 3) * DAY
            return [(t, "withdraw", AssignmentState.WITHDRAWN)] if t < now else []
        t_sign = t0 + rng.uniform(0.1, 4) * DAY
        t_section = t_sign + rng.uniform(0.05, 3) * DAY
        t_opinion = t_section + rng.uniform(5, 35) * DAY
        plan = [(t_sign, "sign", AssignmentState.SIGNED), (t_section, "assign_section", AssignmentState.IN_PROGRESS),
                (t_opinion, "send_co_opinion", AssignmentState.OPINION_SENT)]
        return [step for step in plan if step[0] < now]

    def build(self, start: int, count: int) -> None:
        ctx, rng = self.ctx, self.rng
        for k in range(count):
            index = len(self.proposals)
            title, category, lead_code, co_codes, background, suggestions = rng.choice(self.topics)
            place = rng.choice(PLACES)
            if place:
                title = title.replace("关于", f"关于{place}", 1)
            if k % 97 == 0:
                # Items keep arriving: about one in a hundred was assigned within the last day, so the office always
                # has some not yet signed for, whatever the weekday or hour the data is generated at.
                t0 = ctx.now - rng.uniform(0.05, 0.9) * DAY
            else:
                t0 = self._workday_time(ctx.now - rng.uniform(0.2, 330) * DAY)
            registered = t0 - rng.uniform(3, 20) * DAY
            self.proposals.append(Proposal(
                session=ctx.session, kind=ProposalKind.PROPOSAL, number=f"{start + k + 1:07d}", title=title,
                body="\n".join([background, "", "具体建议："] + [f"{'一二三'[i]}、{s}。" for i, s in enumerate(suggestions)]),
                category=category, is_key=rng.random() < 0.02, submitted_on=timezone.localdate(registered),
            ))
            people = rng.sample(ctx.proposers, rng.choice([1, 1, 1, 2, 2, 3]))
            for position, (proposer, user) in enumerate(people):
                self.links.append((index, proposer, user, position))
            lead = self.dept_by_code.get(lead_code) or rng.choice(ctx.departments)
            units = [lead]
            if rng.random() < 0.04:
                roles = [AssignmentRole.SPLIT, AssignmentRole.SPLIT]
                units.append(rng.choice([d for d in ctx.departments if d is not lead]))
            else:
                roles = [AssignmentRole.LEAD]
            co_pool = [self.dept_by_code[c] for c in co_codes if c in self.dept_by_code]
            for dept in (co_pool or rng.sample(ctx.departments, rng.choice([0, 1, 1, 2])))[:2]:
                if dept not in units:
                    units.append(dept)
                    roles.append(AssignmentRole.CO)
            for dept, role in zip(units, roles):
                steps = self._steps_co(t0) if role == AssignmentRole.CO else self._steps_answering(t0)
                self.assignments.append({"proposal": index, "dept": dept, "role": role, "t0": t0,
                                         "registered": registered, "steps": steps, "people": people})

    # --- decisions that need no database ids --------------------------------------------------

    def _decide(self, a) -> None:
        """Fix the state, the contact, the reply class and the ratings of one assignment, and its version."""
        rng, now = self.rng, self.ctx.now
        steps = a["steps"]
        a["state"] = steps[-1][2] if steps else AssignmentState.PENDING_SIGN
        a["times"] = times = {verb: t for t, verb, _ in steps}
        a["contact_at"] = None
        if "assign_section" in times and a["role"] != AssignmentRole.CO and rng.random() < 0.6:
            after = [t for t, verb, _ in steps if t > times["assign_section"]]
            t = times["assign_section"] + rng.uniform(0.5, 5) * DAY
            if t < now and (not after or t < after[0]):
                a["contact_at"] = t
        a["reply_class"] = rng.choice(CLASSES)
        a["ratings"] = []
        if "send_reply" in times:
            people = a["people"]
            raters = people if "complete_feedback" in times else people[: rng.randrange(len(people))]
            rehandled = "rehandle" in times
            end = times.get("complete_feedback", times["send_reply"] + 3 * DAY)
            for n, (proposer, user) in enumerate(raters):
                if rehandled and n == 0:
                    attitude, result, comment = "basic", "unsatisfied", "答复未明确时间表，希望进一步研究。"
                else:
                    attitude, result, comment = "satisfied", rng.choices(["satisfied", "basic"], [92, 8])[0], ""
                at = end - (len(raters) - n - 1) * HOUR
                if at < now:
                    a["ratings"].append((proposer, user, attitude, result, comment, at))
            if "complete_feedback" in times and len(a["ratings"]) != len(raters):
                raise AssertionError("ratings before completion must all be in the past")
        a["version"] = 1 + len(steps) + (1 if a["contact_at"] else 0) + len(a["ratings"])

    # --- rows -----------------------------------------------------------------------------------

    def write(self) -> tuple[int, int]:
        ctx = self.ctx
        statuses = {}
        for a in self.assignments:
            self._decide(a)
            statuses.setdefault(a["proposal"], []).append((a["role"], a["state"]))
        for index, proposal in enumerate(self.proposals):
            proposal.status = derive_proposal_status(statuses.get(index, []))
        names: dict[int, list[str]] = {}
        for index, proposer, _user, _pos in self.links:
            names.setdefault(index, []).append(proposer.name)
        for index, proposal in enumerate(self.proposals):
            proposal.search_text = search_text_for(number=proposal.number, title=proposal.title, body=proposal.body,
                                                   names=names.get(index, []))
        Proposal.objects.bulk_create(self.proposals)
        ProposalProposer.objects.bulk_create([
            ProposalProposer(proposal=self.proposals[i], proposer=p, is_lead=pos == 0, position=pos)
            for i, p, _u, pos in self.links
        ])

        rows = []
        for a in self.assignments:
            unit, section, handler, _office = a["dept"]
            times = a["times"]
            fields = dict(
                proposal=self.proposals[a["proposal"]], unit=unit, role=a["role"], state=a["state"],
                assigned_at=a["t0"], assigned_by=ctx.office_user, round=1, version=a["version"],
                **ctx.due(timezone.localdate(a["t0"])),
                signed_at=times.get("sign"), opinion_sent_at=times.get("send_co_opinion"),
                replied_at=times.get("send_reply"), closed_at=times.get("close"),
            )
            if "assign_section" in times:
                fields.update(lead_section=section, handler=handler)
            if "send_reply" in times:
                fields["feedback_due"] = ctx.feedback_due(timezone.localdate(times["send_reply"]))
            if "rehandle" in times:
                fields.update(round=2, replied_at=None, feedback_due=None,
                              reply_due=ctx.rehandle_due(timezone.localdate(times["rehandle"])))
            a["row"] = Assignment(**fields)
            rows.append(a["row"])
        Assignment.objects.bulk_create(rows)

        replies, opinions, contacts = [], [], []
        for a in self.assignments:
            times = a["times"]
            _unit, _section, handler, office = a["dept"]
            if "submit_reply" in times:
                sent = "send_reply" in times
                a["reply"] = Reply(
                    assignment=a["row"], round=1, version=1, state="sent" if sent else "in_review",
                    reply_class=a["reply_class"], body=f"关于《{a['row'].proposal.title}》的答复（压测数据）。",
                    contact_person=handler.display_name, review_position=3 if sent else 1, drafted_by=handler,
                    submitted_at=times["submit_reply"], approved_at=(times["send_reply"] - HOUR) if sent else None,
                    sent_at=times.get("send_reply"), sent_by=office if sent else None,
                )
                replies.append(a["reply"])
            if "send_co_opinion" in times:
                a["opinion"] = CoOpinion(
                    assignment=a["row"], round=1, body="会办意见（压测数据）。", state="sent", written_by=handler,
                    sent_by=handler, sent_at=times["send_co_opinion"],
                )
                opinions.append(a["opinion"])
            if a["contact_at"]:
                a["contact"] = ContactRecord(
                    assignment=a["row"], phase="before", method=self.rng.choice(["phone", "meeting", "visit"]),
                    contacted_on=timezone.localdate(a["contact_at"]), people="提案人", summary="办前沟通（压测数据）。",
                    recorded_by=handler,
                )
                contacts.append(a["contact"])
        Reply.objects.bulk_create(replies)
        CoOpinion.objects.bulk_create(opinions)
        ContactRecord.objects.bulk_create(contacts)

        feedbacks = []
        for a in self.assignments:
            a["feedbacks"] = []
            for proposer, user, attitude, result, comment, at in a["ratings"]:
                feedback = Feedback(assignment=a["row"], reply=a["reply"], proposer=proposer, round=1,
                                    attitude=attitude, result=result, comment=comment, submitted_by=user,
                                    submitted_at=at)
                feedbacks.append(feedback)
                a["feedbacks"].append((at, feedback, user))
        Feedback.objects.bulk_create(feedbacks)
        return len(rows), self._write_events()

    def _write_events(self) -> int:
        """One event per action, in one hash chain per proposal, ordered by time."""
        ctx = self.ctx
        per_proposal: dict[int, list] = {index: [] for index in range(len(self.proposals))}
        for a in self.assignments:
            events = per_proposal[a["proposal"]]
            row = a["row"]
            unit, _section, handler, office = a["dept"]
            if not events:
                register = EventRow(row.proposal_id, None, None, ctx.office_user.pk, Role.ASSIGNING_OFFICE, "register", "", "",
                                    "", {"number": row.proposal.number, "title": row.proposal.title},
                                    a["registered"])
                events.append((a["registered"], 0, register))
            due = ctx.due(timezone.localdate(a["t0"]))
            events.append((a["t0"], 1, self._event(
                row, "assign", ctx.office_user, Role.ASSIGNING_OFFICE, "", "pending_sign", a["t0"],
                {"unit": unit.pk, "unit_name": unit.name, "role": row.role,
                 "reply_due": due["reply_due"].isoformat(), "parent": None})))
            state = AssignmentState.PENDING_SIGN
            pending = list(a["feedbacks"])
            for t, verb, target in a["steps"]:
                # Ratings are recorded before the step that follows them (completion, close or rehandle).
                while pending and pending[0][0] <= t:
                    at, feedback, user = pending.pop(0)
                    events.append((at, 2, self._feedback_event(row, feedback, user, state, at)))
                actor, role = self._actor(verb, a, handler, office)
                payload = {}
                if verb in ("submit_reply", "send_reply"):
                    payload = {"reply": a["reply"].pk, "version": 1, "class": a["reply"].reply_class}
                elif verb == "send_co_opinion":
                    payload = {"co_opinion": a["opinion"].pk}
                elif verb == "assign_section":
                    payload = {"section": _section.name, "handler": handler.label, "co_sections": []}
                reason = {"request_adjustment": "该事项不属于本单位职责，申请调整。",
                          "withdraw": "交办有误，予以撤回。",
                          "rehandle": "提案人对办理结果不满意，重新办理。"}.get(verb, "")
                events.append((t, 3, self._event(row, verb, actor, role, state, target, t, payload, reason)))
                state = target
                if verb == "assign_section" and a["contact_at"]:
                    at = a["contact_at"]
                    events.append((at, 3, self._event(row, "log_contact", handler, Role.HANDLER, state, state, at,
                                                      {"contact": a["contact"].pk, "phase": "before"})))
            for at, feedback, user in pending:  # replied: some ratings in, others still to come
                events.append((at, 2, self._feedback_event(row, feedback, user, state, at)))
        ordered = []
        for index in range(len(self.proposals)):
            ordered.extend(event for _t, _o, event in sorted(per_proposal[index], key=lambda e: (e[0], e[1])))
        eventlog.chain_new_rows(ordered)
        _insert_events(ordered)
        return len(ordered)

    def _feedback_event(self, row, feedback, user, state, at):
        return self._event(row, "record_feedback", user, Role.PROPOSER, state, state, at,
                           {"feedback": feedback.pk, "attitude": feedback.attitude, "result": feedback.result})

    def _actor(self, verb, a, handler, office):
        if verb in ("close", "rehandle", "withdraw"):
            return self.ctx.office_user, Role.ASSIGNING_OFFICE
        if verb == "complete_feedback":
            return a["feedbacks"][-1][2], Role.PROPOSER
        if verb in ("submit_reply", "send_co_opinion"):
            return handler, Role.HANDLER
        return office, Role.UNIT_OFFICE

    @staticmethod
    def _event(row, verb, actor, role, from_state, to_state, at, payload, reason=""):
        return EventRow(row.proposal_id, row.pk, row.unit_id, actor.pk, role, verb, from_state, to_state, reason, payload,
                        at)


class EventRow:
    """An event row to insert: the attributes eventlog.digest reads, without a model instance's weight
    (events are most of the rows the generator writes)."""

    __slots__ = ("proposal_id", "assignment_id", "unit_id", "actor_id", "actor_role", "verb", "from_state", "to_state",
                 "reason", "payload", "created_at", "client_ip", "stream", "prev_hash", "hash", "scheme")

    def __init__(self, proposal_id, assignment_id, unit_id, actor_id, actor_role, verb, from_state, to_state, reason,
                 payload, created_at):
        self.proposal_id = proposal_id
        self.assignment_id = assignment_id
        self.unit_id = unit_id
        self.actor_id = actor_id
        self.actor_role = actor_role
        self.verb = verb
        self.from_state = from_state
        self.to_state = to_state
        self.reason = reason
        self.payload = payload
        self.created_at = created_at
        self.client_ip = ""


EVENT_COLUMNS = ["proposal_id", "assignment_id", "unit_id", "actor_id", "actor_role", "verb", "from_state", "to_state",
                 "reason", "payload", "created_at", "client_ip", "stream", "prev_hash", "hash", "scheme"]


def _insert_events(rows, chunk: int = 5000) -> None:
    """Insert event rows with executemany, in order (ids follow the chain order)."""
    adapt_time = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(Event._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in EVENT_COLUMNS)
    # Table and column names come from the model, quoted by the backend; the values are parameters.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(EVENT_COLUMNS))})"  # nosec B608
    with connection.cursor() as cursor:
        for begin in range(0, len(rows), chunk):
            params = []
            for r in rows[begin:begin + chunk]:
                params.append((
                    r.proposal_id, r.assignment_id, r.unit_id, r.actor_id, r.actor_role, r.verb, r.from_state, r.to_state,
                    # JSON as text: SQLite stores it so, PostgreSQL casts the untyped literal to jsonb.
                    r.reason, json.dumps(r.payload, ensure_ascii=False), adapt_time(r.created_at), r.client_ip,
                    r.stream, r.prev_hash, r.hash, r.scheme,
                ))
            cursor.executemany(sql, params)
