"""Co-opinions reach the lead's drafting page; the lead's reply records which ones it took in."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from banli.core.errors import DomainError
from banli.core.testing import assign, make_proposal
from banli.handling import services as handling
from banli.replies import selectors, services
from banli.replies.tests.helpers import lead_and_co_in_progress


def _xlsx() -> bytes:
    buf = io.BytesIO()
    Workbook().save(buf)
    return buf.getvalue()


@pytest.fixture
def item(world):
    return lead_and_co_in_progress(world)


def test_co_opinion_with_attachments_appears_on_the_leads_drafting_page(world, item, django_capture_on_commit_callbacks):
    lead, co = item
    with django_capture_on_commit_callbacks(execute=True):
        opinion = services.co_opinion_send(assignment=co, actor=world.co_handler, body="建议统筹用地。",
                                           attachments=[SimpleUploadedFile("用地表.xlsx", _xlsx())])
    opinion.refresh_from_db()
    assert opinion.document.name.endswith(".docx")
    assert [a.name for a in opinion.attachments.all()] == ["用地表.xlsx"]
    assert selectors.co_opinions_for_lead(world.lead_handler, lead) == [opinion]
    assert selectors.co_opinions_for_lead(world.other_handler, lead) == []


def test_lead_reply_records_the_co_opinions_it_took_in(world, item):
    lead, co = item
    opinion = services.co_opinion_send(assignment=co, actor=world.co_handler, body="建议统筹用地。")
    reply = services.reply_save_draft(assignment=lead, actor=world.lead_handler, body="一、答复。", reply_class="A",
                                      adopted_opinions=[opinion])
    assert list(reply.adopted_opinions.all()) == [opinion]
    reply = services.reply_submit(reply=reply, actor=world.lead_handler)
    reply = services.reply_review(reply=reply, actor=world.lead_section_head, approve=True)
    services.reply_review(reply=reply, actor=world.lead_office, approve=False, reason="补充")
    lead.refresh_from_db()
    redraft = services.reply_save_draft(assignment=lead, actor=world.lead_handler, body="一、答复（改）。", reply_class="A")
    assert list(redraft.adopted_opinions.all()) == [opinion]  # carried over to the new version


def test_an_opinion_from_another_item_cannot_be_taken_in(world, item):
    lead, _ = item
    other = make_proposal(world)
    _, other_co = assign(world, other)
    other_co = handling.assignment_sign(assignment=other_co, actor=world.co_office)
    other_co = handling.assignment_assign_section(assignment=other_co, actor=world.co_office, section=world.co_section,
                                                  handler=world.co_handler)
    foreign = services.co_opinion_send(assignment=other_co, actor=world.co_handler, body="别的事项")
    with pytest.raises(DomainError, match="本事项"):
        services.reply_save_draft(assignment=lead, actor=world.lead_handler, body="一、答复。", adopted_opinions=[foreign])
