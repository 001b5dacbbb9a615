"""The registry is the one list of actions: every entry is complete, and pages and API are generated from it."""
import pytest
from django import forms
from django.urls import NoReverseMatch, reverse
from rest_framework import serializers

from banli.actions.registry import ACTIONS, offered_actions
from banli.api import views as api_views
from banli.core.testing import assign, make_proposal
from banli.handling import services as handling
from banli.handling.workflow import TRANSITIONS


@pytest.mark.parametrize("key", sorted(ACTIONS))
def test_every_action_has_a_page_form_an_api_endpoint_a_permission_row_and_a_label(key):
    action = ACTIONS[key]
    assert issubclass(action.form, forms.Form), f"{key}: no page form"
    assert issubclass(action.serializer, serializers.Serializer), f"{key}: no API serializer"
    assert action.transitions and all(t in TRANSITIONS for t in action.transitions), f"{key}: no workflow row"
    for t in action.transitions:
        assert TRANSITIONS[t].actor_roles, f"{key}: transition {t} names no role that may take it"
    assert action.label.strip() and not action.label.isascii(), f"{key}: no Chinese label"
    assert action.summary.strip(), f"{key}: no API summary"
    try:
        page = reverse("workbench:action", args=[1, key])
        api = reverse(f"api:assignment-action-{key}", args=[1])
    except NoReverseMatch as exc:  # pragma: no cover - the message is the point
        pytest.fail(f"{key}: {exc}")
    assert page != api
    assert key in api_views.action_views()


def test_every_workflow_transition_is_reachable_through_some_action():
    covered = {t for action in ACTIONS.values() for t in action.transitions}
    # complete_feedback is taken by the rating service itself when the last proposer has rated; progress on a
    # commitment is reported on the commitments page (one commitment, not one assignment, is its object);
    # submit_co_opinion is what send_co_opinion takes when the co unit's leader must sign off first.
    assert set(TRANSITIONS) - covered == {"complete_feedback", "report_commitment_progress", "submit_co_opinion"}


@pytest.mark.django_db
def test_the_page_offers_a_reassignment_under_its_own_label(world):
    lead, _ = assign(world, make_proposal(world), co=False)
    lead = handling.assignment_sign(assignment=lead, actor=world.lead_office)
    offers = {o.key: o for o in offered_actions(lead, world.lead_office, {"reply": None})}
    assert offers["assign_handler"].label == "分配承办科室"
    lead = handling.assignment_assign_section(assignment=lead, actor=world.lead_office, section=world.lead_section)
    offers = {o.key: o for o in offered_actions(lead, world.lead_office, {"reply": None})}
    assert offers["assign_handler"].label == "调整承办科室"


def test_a_decision_between_outcomes_is_named_for_the_decision_not_its_first_outcome():
    # The review form offers 同意 and 退回修改: its heading read 审核通过, so a reviewer looking to return a draft
    # did not open it (and 审批调整申请 read 同意调整 above a form that can refuse).
    for action in ACTIONS.values():
        keys = set(action.transitions)
        if any(k.startswith("approve_") for k in keys) and any(k.startswith(("return_", "reject_")) for k in keys):
            assert action.decision, f"{action.key}: a decision between outcomes needs its own name"
            assert action.label == action.label_for(keys) == action.decision, action.key
    assert ACTIONS["review_reply"].label_for({"approve_reply", "return_reply"}) == "审核答复"
    assert ACTIONS["decide_adjustment"].label == "审批调整申请"
