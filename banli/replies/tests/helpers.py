"""Shared steps for reply tests: a lead assignment with a reply at a given point of its life."""
from __future__ import annotations

import io

from docx import Document

from banli.core.testing import assign, make_proposal, walk_to
from banli.replies import services


def lead_in_progress(world, **proposal_kw):
    proposal = make_proposal(world, **proposal_kw)
    lead, co = assign(world, proposal)
    return walk_to(world, lead, "in_progress"), co


def lead_and_co_in_progress(world, **proposal_kw):
    """A lead assignment in progress and its co-handler signed, with a section and handler assigned."""
    from banli.handling import services as handling

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
    from docx.oxml.ns import qn

    fonts = run._element.rPr.find(qn("w:rFonts"))
    return fonts.get(qn("w:eastAsia"))
