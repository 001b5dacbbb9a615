"""Shared steps for reply tests: a lead assignment with a reply at a given point of its life."""
from __future__ import annotations

import io

from docx import Document
from docx.oxml.ns import qn

from banli.core.testing import assign, make_proposal, review_through, walk_to
from banli.handling import services as handling
from banli.replies import services
from banli.replies.choices import Rating


def lead_in_progress(world, **proposal_kw):
    proposal = make_proposal(world, **proposal_kw)
    lead, co = assign(world, proposal)
    return walk_to(world, lead, "in_progress"), co


def lead_and_co_in_progress(world, **proposal_kw):
    """A lead assignment in progress and its co-handler signed, with a section and handler assigned."""
    lead, co = lead_in_progress(world, **proposal_kw)
    co = handling.assignment_sign(assignment=co, actor=world.co_office)
    co = handling.assignment_assign_section(assignment=co, actor=world.co_office, section=world.co_section,
                                            handler=world.co_handler)
    return lead, co


def signed_off_reply(world, **proposal_kw):
    """A reply that went through the default chain (科室审核 → 办公室核稿 → 分管领导 → 主要领导签发)."""
    proposal = make_proposal(world, **proposal_kw)
    lead, _ = assign(world, proposal)
    lead = walk_to(world, lead, "reply_review")
    reply = services.current_reply(lead)
    for actor in (world.lead_section_head, world.lead_office, world.lead_leader):
        reply = services.reply_review(reply=reply, actor=actor, approve=True)
    return services.reply_review(reply=reply, actor=world.lead_head, approve=True)


def open_docx(content: bytes):
    return Document(io.BytesIO(content))


def east_asia_font(run) -> str:
    fonts = run._element.rPr.find(qn("w:rFonts"))
    return fonts.get(qn("w:eastAsia"))


def rated(world, lead, result: str, *, comment: str = "", co_result: str | None = None):
    """Both proposers rate the lead's current round (办理结果 `result`; the co-signer `co_result`, default the same)."""
    for actor, res in ((world.proposer, result), (world.co_proposer, co_result or result)):
        lead.refresh_from_db()
        services.feedback_record(assignment=lead, actor=actor, attitude="satisfied", result=res,
                                 comment=comment if res == Rating.UNSATISFIED else "")
    lead.refresh_from_db()
    return lead


def rehandled_and_replied(world, lead, *, reason: str = "重新研究办理"):
    """Re-handle an item rated 不满意 and send the new round's reply through the unit's chain."""
    lead = handling.assignment_rehandle(assignment=lead, actor=world.lead_office, reason=reason)
    reply = services.reply_save_draft(assignment=lead, actor=world.lead_handler, reply_class="A",
                                      body="经重新研究，学位问题答复如下：新建学校已开工。")
    reply = services.reply_submit(reply=reply, actor=world.lead_handler)
    reply = review_through(reply)
    services.reply_send(reply=reply, actor=world.lead_office)
    lead.refresh_from_db()
    return lead


def first_round_outcomes(world):
    """Five lead items: re-handled then 满意; closed as it stands by the office; waiting; re-handled and not
    yet rated; rated 满意 at once (not counted)."""
    items = {}
    for key in ("satisfied", "closed_as_is", "pending", "rehandling", "fine"):
        proposal = make_proposal(world, title=f"关于学位的提案（{key}）")
        lead, _ = assign(world, proposal, co=False)
        lead = walk_to(world, lead, "replied")
        if key == "fine":
            items[key] = rated(world, lead, "satisfied")
            continue
        lead = rated(world, lead, "unsatisfied", comment="学位问题没有解决。", co_result="basic")
        if key == "closed_as_is":
            lead = handling.assignment_close(assignment=lead, actor=world.office, reason="受规划条件限制，已当面说明。")
        elif key in ("satisfied", "rehandling"):
            lead = rehandled_and_replied(world, lead)
            if key == "satisfied":
                lead = rated(world, lead, "satisfied")
        items[key] = lead
    return items
