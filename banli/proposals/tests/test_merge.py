"""并案: the session's assigning office groups same-session items handled together and answered separately."""
import pytest

from banli.core.access import visible_events
from banli.core.errors import ConflictError, DomainError, PermissionDenied
from banli.core.testing import assign, build_world, make_proposal, make_user, walk_to
from banli.handling.models import Event
from banli.handling.tests.test_concurrency import _race
from banli.organizations import services as orgs
from banli.organizations.choices import Role, UnitKind
from banli.proposals import services as proposals
from banli.proposals.choices import Body, Level
from banli.proposals.models import Proposal
from banli.proposals.selectors import merge_group
from banli.replies.models import Reply
from banli.workbench.selectors import label_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(world):
    """Three items of the world's session on one subject: a, b, c."""
    w = world
    w.a = make_proposal(w, number="0001", title="关于增加学位供给的提案")
    w.b = make_proposal(w, number="0002", title="关于扩大学位供给的提案")
    w.c = make_proposal(w, number="0003", title="关于新建学校增加学位的提案")
    return w


def fresh(p):
    return Proposal.objects.select_related("session__assigning_office").get(pk=p.pk)


def merge_events(p):
    return list(Event.objects.filter(proposal=p, verb__in=("merge", "unmerge")).order_by("id"))


def test_the_office_merges_an_item_into_another_and_both_timelines_record_it(items):
    w = items
    head = proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    assert head == w.b and fresh(w.a).merged_with_id == w.b.pk and fresh(w.b).merged_with_id is None
    [on_item] = merge_events(w.a)
    [on_head] = merge_events(w.b)
    assert on_item.actor == w.office and on_item.actor_role == "assigning_office"
    assert on_item.payload == {"role": "item", "head": w.b.pk, "head_number": "0002", "head_title": w.b.title}
    assert on_head.payload["role"] == "head" and on_head.payload["item"] == w.a.pk
    assert on_item.stream == f"proposal:{w.a.pk}" and on_head.stream == f"proposal:{w.b.pk}"
    labels = [e.verb_label for e in label_events([on_item, on_head])]
    assert labels == ["并案办理：本件并入第0002号", "并案办理：第0001号并入本件"]


@pytest.mark.parametrize("who", ["lead_office", "lead_handler", "lead_leader", "admin", "proposer"])
def test_only_the_sessions_assigning_office_may_merge(items, who):
    w = items
    assign(w, w.a, co=False)
    assign(w, w.b, co=False)
    with pytest.raises(PermissionDenied, match="交办机构"):
        proposals.proposal_merge(actor=getattr(w, who), proposal=fresh(w.a), into=fresh(w.b))
    assert fresh(w.a).merged_with_id is None and not merge_events(w.a) and not merge_events(w.b)


def test_an_office_of_another_session_may_not_merge_its_items(items):
    w = items
    city = orgs.unit_create(name="市政协提案委", kind=UnitKind.ASSIGNING_OFFICE)
    stranger = make_user("city_office", "市提案委 钱进", (Role.ASSIGNING_OFFICE, city))
    with pytest.raises(PermissionDenied):
        proposals.proposal_merge(actor=stranger, proposal=fresh(w.a), into=fresh(w.b))


def test_items_of_different_sessions_cannot_be_merged(items):
    w = items
    other = proposals.session_create(actor=w.office, name="区政协五届二次会议", body=Body.CPPCC, level=Level.DISTRICT,
                                     year=2026, assigning_office=w.office_unit)
    past = proposals.proposal_create(actor=w.office, session=other, number="0001", title=w.a.title, proposers=["李委员"])
    with pytest.raises(DomainError, match="同一届次"):
        proposals.proposal_merge(actor=w.office, proposal=fresh(w.a), into=fresh(past))
    assert fresh(w.a).merged_with_id is None


def test_an_item_cannot_be_merged_into_itself(items):
    with pytest.raises(DomainError, match="自身"):
        proposals.proposal_merge(actor=items.office, proposal=fresh(items.a), into=fresh(items.a))


def test_merging_into_a_merged_item_joins_its_head_so_there_are_no_chains(items):
    w = items
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    head = proposals.proposal_merge(actor=w.office, proposal=fresh(w.c), into=fresh(w.a))
    assert head.pk == w.b.pk
    assert fresh(w.c).merged_with_id == w.b.pk
    assert set(fresh(w.b).merged_items.values_list("number", flat=True)) == {"0001", "0003"}
    assert merge_events(w.c)[0].payload["head"] == w.b.pk and len(merge_events(w.a)) == 1


def test_a_head_with_merged_items_cannot_itself_be_merged_and_the_message_says_what_to_do(items):
    w = items
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    with pytest.raises(DomainError) as exc:
        proposals.proposal_merge(actor=w.office, proposal=fresh(w.b), into=fresh(w.c))
    assert "本件是并案主件" in exc.value.message and "取消并案" in exc.value.message
    assert "将第0003号并入本件" in exc.value.message
    assert fresh(w.b).merged_with_id is None and fresh(w.c).merged_with_id is None


def test_two_groups_are_not_joined_directly(items):
    w = items
    d = make_proposal(w, number="0004", title="关于学位的提案")
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    proposals.proposal_merge(actor=w.office, proposal=w.c, into=d)
    with pytest.raises(DomainError, match="两组不能直接合并"):
        proposals.proposal_merge(actor=w.office, proposal=fresh(w.b), into=fresh(d))


def test_a_merged_item_must_be_unmerged_before_it_joins_another_group(items):
    w = items
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    with pytest.raises(DomainError, match="先取消并案"):
        proposals.proposal_merge(actor=w.office, proposal=fresh(w.a), into=fresh(w.c))
    with pytest.raises(DomainError, match="已与第0002号并案"):
        proposals.proposal_merge(actor=w.office, proposal=fresh(w.a), into=fresh(w.b))
    with pytest.raises(DomainError, match="已并入本件"):
        proposals.proposal_merge(actor=w.office, proposal=fresh(w.b), into=fresh(w.a))
    assert fresh(w.a).merged_with_id == w.b.pk and len(merge_events(w.b)) == 1


def test_a_closed_item_is_not_merged(items):
    w = items
    lead, _ = assign(w, w.b, co=False)
    walk_to(w, lead, "closed")
    assert fresh(w.b).status == "closed"
    with pytest.raises(DomainError, match="第0002号已办结"):
        proposals.proposal_merge(actor=w.office, proposal=fresh(w.a), into=fresh(w.b))
    with pytest.raises(DomainError, match="本件已办结"):
        proposals.proposal_merge(actor=w.office, proposal=fresh(w.b), into=fresh(w.a))


def test_a_stale_copy_of_the_target_is_a_conflict_not_a_chain(items):
    """The office's page showed c on its own; meanwhile c was merged into b. Merging a into that stale c must
    not make a chain a → c → b."""
    w = items
    stale_c = fresh(w.c)
    proposals.proposal_merge(actor=w.office, proposal=w.c, into=w.b)
    with pytest.raises(ConflictError, match="刷新"):
        proposals.proposal_merge(actor=w.office, proposal=fresh(w.a), into=stale_c)
    assert fresh(w.a).merged_with_id is None


def test_unmerge_takes_the_item_out_and_both_timelines_record_it(items):
    w = items
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    head = proposals.proposal_unmerge(actor=w.office, proposal=fresh(w.a))
    assert head.pk == w.b.pk and fresh(w.a).merged_with_id is None
    assert [e.verb for e in merge_events(w.a)] == ["merge", "unmerge"]
    assert [e.verb for e in merge_events(w.b)] == ["merge", "unmerge"]
    labels = [e.verb_label for e in label_events(merge_events(w.a)[1:] + merge_events(w.b)[1:])]
    assert labels == ["取消并案：本件不再并入第0002号", "取消并案：第0001号不再并入本件"]
    # Unmerged, it may join another group.
    proposals.proposal_merge(actor=w.office, proposal=fresh(w.a), into=fresh(w.c))
    assert fresh(w.a).merged_with_id == w.c.pk


def test_unmerge_refuses_what_is_not_merged_and_who_is_not_the_office(items):
    w = items
    with pytest.raises(DomainError, match="没有并案"):
        proposals.proposal_unmerge(actor=w.office, proposal=fresh(w.a))
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    with pytest.raises(DomainError, match="逐件取消"):
        proposals.proposal_unmerge(actor=w.office, proposal=fresh(w.b))
    for who in (w.lead_office, w.admin):
        with pytest.raises(PermissionDenied):
            proposals.proposal_unmerge(actor=who, proposal=fresh(w.a))
    assert fresh(w.a).merged_with_id == w.b.pk and len(merge_events(w.a)) == 1


def test_merged_items_keep_their_own_assignments_and_replies(items):
    """合并办理、分别答复: each item is assigned, answered, rated and closed on its own."""
    w = items
    lead_a, co_a = assign(w, w.a)
    lead_b, _ = assign(w, w.b, co=False)
    proposals.proposal_merge(actor=w.office, proposal=fresh(w.a), into=fresh(w.b))
    walk_to(w, lead_a, "replied")
    assert fresh(w.a).status == "replied" and fresh(w.b).status == "assigned"  # the head has not moved
    walk_to(w, lead_b, "closed")
    assert fresh(w.b).status == "closed"
    assert Reply.objects.filter(assignment=lead_a, state="sent").count() == 1
    assert Reply.objects.filter(assignment=lead_b, state="sent").count() == 1
    assert fresh(w.a).merged_with_id == w.b.pk  # the group outlives the head's closing
    # The open item can still leave the group of a closed head.
    proposals.proposal_unmerge(actor=w.office, proposal=fresh(w.a))
    assert fresh(w.a).merged_with_id is None


def test_the_group_shows_each_user_only_the_items_he_may_open(items):
    w = items
    assign(w, w.a, co=False)  # a is handled by the lead unit; b and c by nobody yet
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    proposals.proposal_merge(actor=w.office, proposal=w.c, into=w.b)
    group = merge_group(user=w.office, proposal=fresh(w.a))
    assert not group.is_head and group.head_id == w.b.pk
    assert [p.number for p in group.others] == ["0002", "0003"] and group.hidden == 0
    head_group = merge_group(user=w.office, proposal=fresh(w.b))
    assert head_group.is_head and [p.number for p in head_group.others] == ["0001", "0003"]
    unit_view = merge_group(user=w.lead_handler, proposal=fresh(w.a))
    assert unit_view.others == [] and unit_view.hidden == 2 and unit_view.size == 3
    assert merge_group(user=w.office, proposal=make_proposal(w, number="0009")) is None


def test_the_proposer_sees_the_merge_on_his_items_timeline(items):
    w = items
    assignments = [assign(w, w.a, co=False)[0]]
    proposals.proposal_merge(actor=w.office, proposal=w.a, into=w.b)
    events = Event.objects.filter(proposal=w.a).order_by("id")
    seen = visible_events(w.proposer, fresh(w.a), assignments, events)
    assert "merge" in [e.verb for e in seen]


@pytest.mark.django_db(transaction=True)
def test_merging_a_into_b_while_b_goes_into_c_never_makes_a_chain():
    """Two office staff at once: one wins, the other gets a clear refusal; no item's head is itself merged."""
    w = build_world()
    a, b, c = (make_proposal(w, number=n) for n in ("0001", "0002", "0003"))
    # Each loaded what its page showed before either acted.
    a1, b1, b2, c2 = fresh(a), fresh(b), fresh(b), fresh(c)
    results = _race(
        lambda: proposals.proposal_merge(actor=w.office, proposal=a1, into=b1),
        lambda: proposals.proposal_merge(actor=w.office, proposal=b2, into=c2),
    )
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    assert isinstance(next(v for k, v in results if k == "error"), DomainError)
    assert not Proposal.objects.filter(merged_with__merged_with__isnull=False).exists()
    assert Event.objects.filter(verb="merge").count() == 2  # the winner's pair of rows only
