"""Who sees what: unit scoping, proposers see only their items, drafts and contacts stay inside the unit."""
import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from banli.core import access
from banli.core.errors import NotFound
from banli.core.testing import assign, make_proposal, make_user, walk_to
from banli.handling import services as handling
from banli.handling.models import Event
from banli.organizations import services as orgs
from banli.organizations.choices import Role, UnitKind
from banli.organizations.models import User
from banli.proposals import services as proposals
from banli.proposals.choices import Body, Level
from banli.proposals.models import Proposal
from banli.replies import services as replies
from banli.replies.models import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(world):
    """One item of the education bureau (lead) with the construction bureau (co), one of the health bureau,
    and one that only the other proposer signed."""
    mine = make_proposal(world, title="关于增加学位的提案")
    lead, co = assign(world, mine)
    health = make_proposal(world, title="关于社区医院的提案", proposers=[world.other_proposer_record])
    health_a = handling.assignment_create(proposal=health, unit=world.other_unit, role="lead", actor=world.office)
    return mine, lead, co, health, health_a


def _titles(user):
    return sorted(p.title for p in access.visible_proposals(user))


def test_the_assigning_office_and_the_admin_see_every_item(world, items):
    assert _titles(world.office) == ["关于增加学位的提案", "关于社区医院的提案"]
    assert _titles(world.admin) == ["关于增加学位的提案", "关于社区医院的提案"]


def test_a_unit_sees_only_the_items_assigned_to_it(world, items):
    for user in (world.lead_office, world.lead_handler, world.lead_leader, world.co_office, world.co_handler):
        assert _titles(user) == ["关于增加学位的提案"], user
    assert _titles(world.other_handler) == ["关于社区医院的提案"]


def test_a_proposer_sees_only_the_items_he_signed(world, items):
    assert _titles(world.proposer) == ["关于增加学位的提案"]
    assert _titles(world.co_proposer) == ["关于增加学位的提案"]
    assert _titles(world.other_proposer) == ["关于社区医院的提案"]


def test_an_anonymous_visitor_sees_nothing(world, items):
    assert _titles(AnonymousUser()) == []


def test_guessing_the_id_of_another_units_item_finds_nothing(world, items):
    mine, lead, co, health, health_a = items
    with pytest.raises(NotFound, match="找不到该事项"):
        access.require_proposal(world.lead_handler, health.pk)
    with pytest.raises(NotFound):
        access.require_assignment(world.lead_handler, health_a.pk)
    with pytest.raises(NotFound):
        access.require_proposal(world.other_proposer, mine.pk)
    assert access.require_proposal(world.co_handler, mine.pk) == mine


def test_a_withdrawn_assignment_no_longer_shows_the_item_to_the_unit(world, items):
    mine, lead, co, *_ = items
    handling.assignment_withdraw(assignment=co, actor=world.office, reason="交办有误")
    assert _titles(world.co_handler) == []


def test_drafts_and_contacts_stay_inside_the_unit(world, items):
    mine, lead, co, *_ = items
    lead = walk_to(world, lead, "in_progress")
    draft = replies.reply_save_draft(assignment=lead, actor=world.lead_handler, body="草稿", reply_class="B")
    for insider in (world.lead_office, world.lead_handler, world.lead_leader):
        assert access.can_view_reply(insider, draft) and access.can_view_internal(insider, lead)
    for outsider in (world.co_office, world.co_handler, world.office, world.proposer, world.other_handler):
        assert not access.can_view_reply(outsider, draft), outsider
        assert not access.can_view_internal(outsider, lead), outsider


def test_a_sent_reply_is_seen_by_the_proposers_and_the_co_unit(world, items):
    mine, lead, co, *_ = items
    walk_to(world, lead, "replied")
    sent = Reply.objects.get(assignment=lead, state="sent")
    for user in (world.proposer, world.co_proposer, world.co_handler, world.office):
        assert access.can_view_reply(user, sent), user
    assert not access.can_view_reply(world.other_proposer, sent)
    assert not access.can_view_reply(world.other_handler, sent)


def test_the_assigning_office_sees_a_draft_only_at_its_own_check_step(world, items):
    mine, lead, co, *_ = items
    replies.review_chain_set(unit=world.lead_unit, steps=[("办公室核稿", Role.UNIT_OFFICE),
                                                          ("督查室二次把关", Role.ASSIGNING_OFFICE)])
    lead = walk_to(world, lead, "reply_review")
    reply = Reply.objects.get(assignment=lead)
    assert not access.can_view_reply(world.office, reply)
    reply = replies.reply_review(reply=reply, actor=world.lead_office, approve=True)
    assert access.can_view_reply(world.office, reply)
    reply = replies.reply_review(reply=reply, actor=world.office, approve=True, checklist={"point_by_point": True})
    assert reply.state == "approved"


def test_a_co_opinion_reaches_the_lead_unit_only_once_sent(world, items):
    mine, lead, co, *_ = items
    co = handling.assignment_sign(assignment=co, actor=world.co_office)
    co = handling.assignment_assign_section(assignment=co, actor=world.co_office, section=world.co_section)
    opinion = replies.co_opinion_send(assignment=co, actor=world.co_handler, body="配合意见", now=timezone.now())
    assert access.can_view_co_opinion(world.lead_handler, opinion)
    assert access.can_view_co_opinion(world.office, opinion)
    assert not access.can_view_co_opinion(world.proposer, opinion)
    assert not access.can_view_co_opinion(world.other_handler, opinion)


def test_a_section_handler_acts_for_his_unit_but_not_for_another(world, items):
    mine, lead, co, *_ = items
    lead = walk_to(world, lead, "in_progress")
    assert access.acting_role(world.lead_handler, lead, {"handler"}) == "handler"
    assert access.acting_role(world.co_handler, lead, {"handler"}) is None
    assert access.acting_role(world.lead_handler, lead, {"unit_office"}) is None



def test_rows_naming_a_visible_proposal_follow_the_rule_for_every_user(world, items):
    """visible_proposals and the rows naming a proposal (events, key items, proposers' links: resolved to id lists)
    hold exactly what the rule says, computed here item by item: the administrator all; an office the items of the
    sessions it assigns; unit staff the items their units have a live assignment in; a proposer the items he
    signed. With another office's session present, so an office does not assign every session."""
    town = orgs.unit_create(name="街道办督查组", kind=UnitKind.ASSIGNING_OFFICE)
    town_office = make_user("town_office", "街道督查组 钱明", (Role.ASSIGNING_OFFICE, town))
    session = proposals.session_create(actor=world.admin, name="街道议事会", body=Body.CPPCC, level=Level.DISTRICT,
                                       year=2025, assigning_office=town)
    far = proposals.proposal_create(actor=town_office, session=session, number="1", title="关于街道绿化的建议",
                                    body="增加绿地。", proposers=[world.other_proposer_record])
    handling.assignment_create(proposal=far, unit=world.other_unit, role="lead", actor=town_office)

    def rule(user) -> set[int]:
        everything = set(Proposal.objects.values_list("pk", flat=True))
        if not user.is_authenticated:
            return set()
        if user == world.admin:
            return everything
        out = set()
        for proposal in Proposal.objects.select_related("session__assigning_office"):
            office_path = proposal.session.assigning_office.path
            units = {a.unit.path for a in proposal.assignments.exclude(state="withdrawn").select_related("unit")}
            if any(office_path.startswith(u.path) for u in access.office_scopes(user)):
                out.add(proposal.pk)
            if any(path.startswith(u.path) for path in units for u in access.unit_scopes(user)):
                out.add(proposal.pk)
            if proposal.proposer_links.filter(proposer__user=user).exists():
                out.add(proposal.pk)
        return out

    users = [v for v in vars(world).values() if isinstance(v, User)] + [town_office, AnonymousUser()]
    rows = Event.objects.filter(proposal__isnull=False)
    assert rows.filter(proposal=far).exists() and rows.exclude(proposal=far).exists()
    seen = {}
    for user in users:
        want = rule(user)
        seen[str(user)] = len(want)
        assert set(access.visible_proposals(user).values_list("pk", flat=True)) == want, user
        got = set(access.naming_visible_proposals(rows, user).values_list("proposal_id", flat=True))
        assert got == want & set(rows.values_list("proposal_id", flat=True)), user
    # The cases differ: all three items, the district office's two, the town office's one, none.
    assert {seen[str(world.admin)], seen[str(world.office)], seen[str(town_office)], seen["AnonymousUser"]} == {3, 2, 1, 0}
