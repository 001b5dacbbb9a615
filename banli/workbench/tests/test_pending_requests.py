"""The office decides a unit's request on the item's page with the request in front of it: who asked, when, why,
the unit it suggests (preselected) or the date it asks for. It used to find the reason only in the history."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.models import Assignment

pytestmark = pytest.mark.django_db


def _card(html, assignment):
    return html.split(f'id="assignment-{assignment.pk}"', 1)[1].split('id="assignment-', 1)[0]


def test_the_adjustment_decision_shows_the_request_and_preselects_the_suggested_unit(client, world):
    proposal = make_proposal(world)
    lead, _ = assign(world, proposal)
    handling.adjustment_request(assignment=lead, actor=world.lead_office, reason="属卫生健康职能，建议改交",
                                suggested_unit=world.other_unit)
    client.force_login(world.office)
    card = _card(client.get(reverse("workbench:proposal", args=[proposal.pk])).content.decode(), lead)
    form = card.split('data-action="decide_adjustment"', 1)[1].split("</form>", 1)[0]
    shown = form.split("data-pending-request>", 1)[1].split("</div></div>", 1)[0]
    assert "教育局联络员 李强 于" in shown and "建议改交：区卫生健康局" in shown and "理由：属卫生健康职能，建议改交" in shown
    assert "<summary>审批调整申请</summary>" in card
    chooser = form.split('name="a%d-decide_adjustment-new_unit"' % lead.pk, 1)[1].split("</select>", 1)[0]
    assert f'<option value="{world.other_unit.pk}" selected>区卫生健康局</option>' in chooser
    assert f'value="{world.lead_unit.pk}"' not in chooser  # not back to the unit that asked to give it up


def test_the_extension_decision_shows_the_date_asked_for_and_the_current_deadline(client, world):
    proposal = make_proposal(world)
    lead = walk_to(world, assign(world, proposal)[0], "in_progress")
    asked = lead.reply_due + dt.timedelta(days=20)
    handling.extension_request(assignment=lead, actor=world.lead_office, reason="涉及财政预算", requested_due=asked)
    client.force_login(world.office)
    card = _card(client.get(reverse("workbench:proposal", args=[proposal.pk])).content.decode(), lead)
    shown = card.split('data-action="decide_extension"', 1)[1].split("data-pending-request>", 1)[1].split("</div></div>", 1)[0]
    assert f"申请延至 {asked:%Y-%m-%d}（现答复期限 {lead.reply_due:%Y-%m-%d}）" in shown
    assert "理由：涉及财政预算" in shown


def test_the_deadline_owed_now_says_it_is_overdue_and_a_closed_window_is_not_offered(client, world):
    # 签收期限 2026-11-30 read the same on 7 December as on 20 November, and 申请调整 was offered past its deadline
    # only for the service to refuse it after the reason was typed.
    proposal = make_proposal(world)
    lead, _ = assign(world, proposal)
    today = timezone.localdate()
    Assignment.objects.filter(pk=lead.pk).update(next_due=today - dt.timedelta(days=3),
                                                 adjust_due=today - dt.timedelta(days=1))
    client.force_login(world.lead_office)
    card = _card(client.get(reverse("workbench:proposal", args=[proposal.pk])).content.decode(), lead)
    assert '<span class="badge text-bg-danger" data-due="overdue">已逾期 3 天</span>' in card
    assert 'data-action="request_adjustment"' not in card and 'data-action="sign"' in card
    Assignment.objects.filter(pk=lead.pk).update(next_due=today + dt.timedelta(days=1), adjust_due=today)
    card = _card(client.get(reverse("workbench:proposal", args=[proposal.pk])).content.decode(), lead)
    assert 'data-due="soon">临近期限</span>' in card and 'data-action="request_adjustment"' in card
