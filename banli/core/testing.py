"""Test helpers: a small named world (units and one user per role) and a proposal walked through states.

Tests read like the rule they check: `world.office`, `world.lead_office`, `world.lead_handler`,
`world.lead_leader`, `world.lead_section_head`, `world.lead_head`, `world.co_office`, `world.other_handler`, `world.proposer`, `world.co_proposer`,
`world.other_proposer`, `world.admin`.
"""
from __future__ import annotations

import datetime as dt
import importlib
from types import SimpleNamespace

from django.apps import apps
from django.utils import timezone

from banli.core.access import review_refusal
from banli.handling import services as handling
from banli.handling.choices import AssignmentRole
from banli.organizations import services as orgs
from banli.organizations.choices import Role, UnitKind
from banli.organizations.models import User
from banli.proposals import services as proposals
from banli.proposals.choices import Body, Level
from banli.proposals.models import Proposer
from banli.replies import services as replies
from banli.replies.choices import ReplyState
from banli.replies.models import ReviewChainStep

PASSWORD = "Banli-test-2026!"


def make_user(username: str, display_name: str, *grants) -> object:
    user = orgs.user_create(username=username, password=PASSWORD, display_name=display_name)
    for role, unit in grants:
        orgs.role_grant(user=user, role=role, unit=unit)
    return user


def _seed_data() -> None:
    """The rows data migrations seed (the shipped 考核细则 template): a browser test's flush of the database removes
    them, and a world built after it in the same test process must find them as a real instance does."""

    importlib.import_module("banli.reports.migrations.1001_squashed").forwards(apps, None)


def build_world(*, year: int = 2025) -> SimpleNamespace:
    """Units of a district with two handling units (each with sections), one user per role, one session."""
    _seed_data()
    w = SimpleNamespace()
    w.office_unit = orgs.unit_create(name="区政府督查室", kind=UnitKind.ASSIGNING_OFFICE)
    w.lead_unit = orgs.unit_create(name="区教育局", aliases=["教育局"])
    w.lead_section = orgs.unit_create(name="基础教育科", kind=UnitKind.SECTION, parent=w.lead_unit)
    w.lead_section2 = orgs.unit_create(name="规划建设科", kind=UnitKind.SECTION, parent=w.lead_unit)
    w.co_unit = orgs.unit_create(name="区住房和建设局")
    w.co_section = orgs.unit_create(name="建设管理科", kind=UnitKind.SECTION, parent=w.co_unit)
    w.other_unit = orgs.unit_create(name="区卫生健康局")
    w.office = make_user("office", "督查室 王芳", (Role.ASSIGNING_OFFICE, w.office_unit))
    w.lead_office = make_user("edu_office", "教育局联络员 李强", (Role.UNIT_OFFICE, w.lead_unit))
    w.lead_handler = make_user("edu_handler", "教育局承办人 张敏", (Role.HANDLER, w.lead_section))
    w.lead_leader = make_user("edu_leader", "教育局分管领导 陈刚", (Role.LEADER, w.lead_unit))
    # The other two people of the default review chain: the section's head (科室审核) and the unit's head (签发).
    w.lead_section_head = make_user("edu_section_head", "基础教育科科长 吴军", (Role.HANDLER, w.lead_section))
    w.lead_head = make_user("edu_head", "教育局局长 郑华", (Role.LEADER, w.lead_unit))
    w.co_office = make_user("build_office", "住建局联络员 刘洋", (Role.UNIT_OFFICE, w.co_unit))
    w.co_handler = make_user("build_handler", "住建局承办人 赵磊", (Role.HANDLER, w.co_section))
    w.other_office = make_user("health_office", "卫健局联络员 孙丽", (Role.UNIT_OFFICE, w.other_unit))
    w.other_handler = make_user("health_handler", "卫健局承办人 周涛", (Role.HANDLER, w.other_unit))
    w.admin = make_user("sysadmin", "系统管理员", (Role.ADMIN, None))
    w.proposer = make_user("member_li", "李委员", (Role.PROPOSER, None))
    w.co_proposer = make_user("member_wu", "吴委员", (Role.PROPOSER, None))
    w.other_proposer = make_user("member_he", "何委员", (Role.PROPOSER, None))
    w.proposer_record = Proposer.objects.create(name="李委员", user=w.proposer)
    w.co_proposer_record = Proposer.objects.create(name="吴委员", user=w.co_proposer)
    w.other_proposer_record = Proposer.objects.create(name="何委员", user=w.other_proposer)
    w.session = proposals.session_create(
        actor=w.office, name=f"区政协{year - 2020}届{year - 2024 + 1}次会议", body=Body.CPPCC, level=Level.DISTRICT,
        year=year, assigning_office=w.office_unit,
    )
    return w


_counter = {"n": 0}


def make_proposal(w, *, number: str | None = None, proposers=None, title: str = "关于增加学位供给的提案", **kw):
    _counter["n"] += 1
    return proposals.proposal_create(
        actor=w.office, session=w.session, number=number or f"2025{_counter['n']:04d}", title=title,
        body="一、扩建学校。二、新建幼儿园。", proposers=proposers or [w.proposer_record, w.co_proposer_record], **kw,
    )


def assign(w, proposal, *, lead=True, co=True, now=None):
    """Assign to the lead unit (and the co unit); returns (lead, co)."""
    lead_a = handling.assignment_create(proposal=proposal, unit=w.lead_unit, role=AssignmentRole.LEAD, actor=w.office, now=now) if lead else None
    co_a = handling.assignment_create(proposal=proposal, unit=w.co_unit, role=AssignmentRole.CO, actor=w.office, now=now) if co else None
    return lead_a, co_a


def walk_to(w, assignment, state: str, *, now=None):
    """Drive a lead assignment through the workflow up to `state` using the services, as real users do."""
    now = now or timezone.now()
    order = ["signed", "in_progress", "reply_review", "replied", "rated", "closed"]
    target = order.index(state)
    a = handling.assignment_sign(assignment=assignment, actor=w.lead_office, now=now)
    if target >= 1:
        a = handling.assignment_assign_section(assignment=a, actor=w.lead_office, section=w.lead_section,
                                               handler=w.lead_handler, now=now)
    if target >= 2:
        reply = replies.reply_save_draft(assignment=a, actor=w.lead_handler, body="经研究，答复如下：一、已扩建学校。二、新建幼儿园已开工。",
                                         reply_class="A", contact_person="张敏", contact_phone="0755-12345678")
        reply = replies.reply_submit(reply=reply, actor=w.lead_handler, now=now)
    if target >= 3:
        for reviewer in (w.lead_section_head, w.lead_office, w.lead_leader, w.lead_head):
            reply = replies.reply_review(reply=reply, actor=reviewer, approve=True, now=now)
        replies.reply_send(reply=reply, actor=w.lead_office, now=now)
    if target >= 4:
        a.refresh_from_db()
        replies.feedback_record(assignment=a, actor=w.proposer, attitude="satisfied", result="satisfied", now=now)
        a.refresh_from_db()
        replies.feedback_record(assignment=a, actor=w.co_proposer, attitude="satisfied", result="satisfied", now=now)
    if target >= 5:
        a.refresh_from_db()
        handling.assignment_close(assignment=a, actor=w.office, now=now)
    a.refresh_from_db()
    return a


def date(y, m, d) -> dt.date:
    return dt.date(y, m, d)


def review_through(reply, *, now=None, steps: int | None = None, first=None):
    """Approve `reply` through its unit's review chain as real units do: each step by a different person who
    holds the step's role (the world's people first; a colleague is added to the unit when none is left).

    `steps` stops after that many approvals; `first` is who takes the first step (e.g. the unit office)."""
    assignment = reply.assignment
    done = 0
    while reply.state == ReplyState.IN_REVIEW and (steps is None or done < steps):
        step = ReviewChainStep.objects.select_related("chain").get(chain__unit=assignment.unit,
                                                                   position=reply.review_position)
        people = [first] if first is not None and done == 0 else []
        people += list(User.objects.filter(grants__role=step.role).distinct().order_by("id"))
        actor = next((u for u in people if review_refusal(u, assignment, reply, step) is None), None)
        if actor is None:
            section = assignment.lead_section if step.role == Role.HANDLER and assignment.lead_section_id else assignment.unit
            n = User.objects.count() + 1
            actor = make_user(f"reviewer{n}", f"{section.name}审核人{n}", (step.role, section))
        reply = replies.reply_review(reply=reply, actor=actor, approve=True, now=now)
        done += 1
    return reply
