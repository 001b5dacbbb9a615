"""Permission rules whose copies disagreed before they moved into banli/core/access.py (issue 15, part 4).

Each test names the rule as settled:
- the administrator reads everything and takes no action on cases: he decides no category and no units, and
  does not configure a session's scoring; he may still correct registration data (title, key flag);
- an assigning office maintains the letter templates of the units it assigns to (and of its own subtree) and
  the default for every unit, not those of units it has nothing to do with;
- a unit's annual summary is edited by that unit's staff only, whatever other roles they hold elsewhere.
"""
from __future__ import annotations

import io

import pytest

from banli.assist import services as assist
from banli.core import access
from banli.core.errors import PermissionDenied
from banli.core.testing import assign, make_proposal, make_user
from banli.organizations import services as orgs
from banli.organizations.choices import Role, UnitKind
from banli.proposals import services as proposals
from banli.replies import selectors as reply_selectors
from banli.replies import services as replies
from banli.replies.choices import DocumentKind
from banli.replies.documents import default_template_bytes
from banli.reports import scoring
from banli.reports import services as reports

pytestmark = pytest.mark.django_db


def _docx():
    return io.BytesIO(default_template_bytes(DocumentKind.PROPOSAL_REPLY))


@pytest.fixture
def second_office(world):
    """The office of another level (e.g. the city's), which hands nothing to this district's units."""
    unit = orgs.unit_create(name="市政府督查室", kind=UnitKind.ASSIGNING_OFFICE)
    return make_user("city_office", "市督查室 钱进", (Role.ASSIGNING_OFFICE, unit))


# --- the administrator acts on no case ---------------------------------------------------------------


def test_administrator_cannot_decide_a_proposals_category(world):
    proposal = make_proposal(world)
    with pytest.raises(PermissionDenied):
        assist.category_decide(proposal=proposal, label="教育事业", suggested=[], actor=world.admin)
    proposal.refresh_from_db()
    assert proposal.category != "教育事业"
    assert not assist.may_decide(world.admin, proposal)
    assist.category_decide(proposal=proposal, label="教育事业", suggested=[], actor=world.office)
    proposal.refresh_from_db()
    assert proposal.category == "教育事业"


def test_administrator_cannot_decide_the_units_of_a_proposal(world):
    proposal = make_proposal(world)
    decided = {"lead": world.lead_unit.name, "co": []}
    with pytest.raises(PermissionDenied):
        assist.suggestion_decision_record(proposal=proposal, task="routing", suggested=[], decided=decided,
                                          actor=world.admin)
    assert assist.suggestion_decision_record(proposal=proposal, task="routing", suggested=[], decided=decided,
                                             actor=world.office)


def test_administrator_corrects_registration_data_but_not_the_category(world):
    proposal = make_proposal(world)
    proposals.proposal_update(actor=world.admin, proposal=proposal, title="关于加强校园安全的建议（更正）")
    with pytest.raises(PermissionDenied, match="类别"):
        proposals.proposal_update(actor=world.admin, proposal=proposal, category="教育事业")
    proposals.proposal_update(actor=world.office, proposal=proposal, category="教育事业")
    proposal.refresh_from_db()
    assert (proposal.title, proposal.category) == ("关于加强校园安全的建议（更正）", "教育事业")


def test_administrator_does_not_configure_a_sessions_scoring(world):
    template = scoring.rule_set_for(world.session)
    with pytest.raises(PermissionDenied):
        reports.rule_set_copy(actor=world.admin, source=template, session=world.session)
    assert reports.rule_set_copy(actor=world.office, source=template, session=world.session).session == world.session


# --- letter templates: the units an office assigns to ------------------------------------------------


def test_office_maintains_templates_of_the_units_it_assigns_to(world, second_office):
    assign(world, make_proposal(world))  # lead: 区教育局, co: 区住房和建设局
    template = replies.document_template_upload(unit=world.lead_unit, kind=DocumentKind.PROPOSAL_REPLY,
                                                file=_docx(), actor=world.office)
    assert template.unit == world.lead_unit
    assert world.lead_unit in reply_selectors.template_units(world.office)
    assert world.other_unit not in reply_selectors.template_units(world.office)  # nothing assigned to it yet
    with pytest.raises(PermissionDenied):
        replies.document_template_upload(unit=world.other_unit, kind=DocumentKind.PROPOSAL_REPLY, file=_docx(),
                                          actor=world.office)


def test_office_of_another_level_cannot_touch_a_units_template(world, second_office, client):
    assign(world, make_proposal(world))
    template = replies.document_template_upload(unit=world.lead_unit, kind=DocumentKind.PROPOSAL_REPLY,
                                                file=_docx(), actor=world.lead_office)
    with pytest.raises(PermissionDenied):
        replies.document_template_upload(unit=world.lead_unit, kind=DocumentKind.PROPOSAL_REPLY, file=_docx(),
                                          actor=second_office)
    assert template not in reply_selectors.document_templates(second_office)
    client.force_login(second_office)
    assert client.get(f"/replies/templates/{template.pk}/file/").status_code == 404
    client.force_login(world.office)
    assert client.get(f"/replies/templates/{template.pk}/file/").status_code == 200


def test_the_default_template_is_kept_by_offices_not_by_a_unit_office(world):
    assert access.can_manage_templates(world.office, None)
    assert not access.can_manage_templates(world.lead_office, None)
    assert access.can_manage_templates(world.lead_office, world.lead_unit)
    assert not access.can_manage_templates(world.lead_handler, world.lead_unit)
    with pytest.raises(PermissionDenied):
        replies.document_template_upload(unit=None, kind=DocumentKind.PROPOSAL_REPLY, file=_docx(),
                                          actor=world.lead_office)
    default = replies.document_template_upload(unit=None, kind=DocumentKind.PROPOSAL_REPLY, file=_docx(),
                                               actor=world.office)
    assert default in reply_selectors.document_templates(world.lead_office)  # every unit reads the default


def test_the_templates_page_offers_the_office_its_units_and_the_default(world, client):
    assign(world, make_proposal(world))
    client.force_login(world.office)
    page = client.get("/replies/templates/").content.decode()
    assert "通用（所有单位）" in page and world.lead_unit.name in page
    assert world.other_unit.name not in page
    client.force_login(world.lead_office)
    page = client.get("/replies/templates/").content.decode()
    assert "通用（所有单位）" not in page and world.lead_unit.name in page


# --- a unit's summary: its own staff ------------------------------------------------------------------


def test_a_handler_elsewhere_who_is_also_an_office_cannot_edit_a_units_summary(world):
    both = make_user("both", "督查室兼卫健局承办人", (Role.ASSIGNING_OFFICE, world.office_unit),
                     (Role.HANDLER, world.other_unit))
    with pytest.raises(PermissionDenied):
        reports.summary_save(actor=both, session=world.session, unit=world.lead_unit, practices="代写")
    assert reports.summary_save(actor=world.lead_handler, session=world.session, unit=world.lead_unit,
                                practices="本单位的做法").practices == "本单位的做法"
