"""Test and demo helpers for reports: the seed-001 case built through the services, as real users would."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from banli.core.testing import make_proposal, review_through
from banli.handling import services as handling
from banli.handling.choices import AssignmentRole
from banli.replies import services as replies

CST = dt.timezone(dt.timedelta(hours=8))
ASSIGNED = dt.datetime(2025, 3, 3, 9, 0, tzinfo=CST)


def answer(world, a, *, signed, replied, contact_on=None, reply_class="A", rate=("satisfied", "satisfied"),
           close=True, unit_office=None, handler=None, leader=None, section=None):
    """Sign, give to a section, (contact,) draft, review, send, rate and close a lead/split assignment."""
    unit_office = unit_office or world.lead_office
    handler = handler or world.lead_handler
    leader = leader or world.lead_leader
    section = section or world.lead_section
    a = handling.assignment_sign(assignment=a, actor=unit_office, now=signed)
    a = handling.assignment_assign_section(assignment=a, actor=unit_office, section=section, handler=handler,
                                           now=signed)
    if contact_on is not None:
        handling.contact_log(assignment=a, actor=handler, phase="before", method="phone", contacted_on=contact_on,
                             people="提案人", summary="办前沟通，了解诉求。", now=dt.datetime.combine(contact_on, dt.time(10), CST))
    return reply_and_rate(world, a, replied=replied, reply_class=reply_class, rate=rate, close=close,
                          unit_office=unit_office, handler=handler, leader=leader)


def reply_and_rate(world, a, *, replied, reply_class="A", rate=("satisfied", "satisfied"), close=True,
                   unit_office=None, handler=None, leader=None):
    """Draft, review, send the reply of the current round; the proposers rate it; the office closes it."""
    unit_office = unit_office or world.lead_office
    handler = handler or world.lead_handler
    leader = leader or world.lead_leader
    reply = replies.reply_save_draft(assignment=a, actor=handler, body="经研究，答复如下：一、已推进。二、已列入计划。",
                                     reply_class=reply_class, contact_person="张敏", contact_phone="0755-12345678")
    reply = replies.reply_submit(reply=reply, actor=handler, now=replied)
    reply = review_through(reply, now=replied)
    replies.reply_send(reply=reply, actor=unit_office, now=replied)
    for user, result in zip([world.proposer, world.co_proposer], rate or ()):
        if result is None:
            continue
        a.refresh_from_db()
        replies.feedback_record(assignment=a, actor=user, attitude="satisfied", result=result,
                                comment="" if result != "unsatisfied" else "措施不够具体。", now=replied)
    a.refresh_from_db()
    if close:
        a = handling.assignment_close(assignment=a, actor=world.office, now=replied + dt.timedelta(days=20))
        a.refresh_from_db()
    return a


def build_seed_001(world, *, assigned=ASSIGNED) -> SimpleNamespace:
    """33 items for one unit — 4 lead (one key item), 1 split, 28 co — all answered on time and rated 满意.

    Mirrors seed 001_f681901ccda5e05c (a district government's handling of a city session's proposals).
    """
    signed = assigned + dt.timedelta(days=1)
    replied = assigned + dt.timedelta(days=40)
    case = SimpleNamespace(lead=[], split=[], co=[], key=None, unit=world.lead_unit, session=world.session)
    for i in range(5):
        role = AssignmentRole.LEAD if i < 4 else AssignmentRole.SPLIT
        proposal = make_proposal(world, number=f"202401{i + 4:02d}", title=f"关于推动科教城建设的提案（{i + 1}）",
                                 category="科教" if i % 2 == 0 else "城建", is_key=(i == 0))
        a = handling.assignment_create(proposal=proposal, unit=world.lead_unit, role=role, actor=world.office,
                                       now=assigned)
        a = answer(world, a, signed=signed, replied=replied, contact_on=(assigned + dt.timedelta(days=5)).date())
        (case.lead if role == AssignmentRole.LEAD else case.split).append(a)
        if i == 0:
            case.key = proposal
    for i in range(28):
        proposal = make_proposal(world, number=f"202402{i:02d}", title=f"关于完善公共服务的提案（{i + 1}）",
                                 category="民生")
        a = handling.assignment_create(proposal=proposal, unit=world.lead_unit, role=AssignmentRole.CO, actor=world.office,
                                       now=assigned)
        a = handling.assignment_sign(assignment=a, actor=world.lead_office, now=signed)
        a = handling.assignment_assign_section(assignment=a, actor=world.lead_office, section=world.lead_section,
                                               handler=world.lead_handler, now=signed)
        replies.co_opinion_send(assignment=a, actor=world.lead_handler, body="会办意见：同意主办单位意见。",
                                now=assigned + dt.timedelta(days=20))
        a.refresh_from_db()
        case.co.append(a)
    return case
