"""The demo data set (`load_demo`): every state, the seed-001 case, accounts per role, idempotent."""
from __future__ import annotations

import io
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from banli.core import eventlog
from banli.demo.builder import CITY_SESSION, DEMO_PASSWORD, demo_accounts, load_demo
from banli.demo.management.commands.demo_accounts import HIGHLIGHTS
from banli.handling.models import Assignment, Event
from banli.handling.workflow import STATES, derive_proposal_status
from banli.organizations.choices import Role
from banli.organizations.models import Unit, User
from banli.portal import services as portal
from banli.proposals.models import Proposal
from banli.replies.models import Feedback
from banli.supervision.models import Supervision
from banli.workbench import selectors
from banli.workbench.selectors import label_events


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo data loaded once for this module, rolled back at its end."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            assert load_demo() is True
            yield
            transaction.set_rollback(True)


def _counts():
    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label in
            {"organizations", "proposals", "handling", "replies", "supervision"}}


def test_demo_has_assignments_in_every_workflow_state(demo, db):
    states = set(Assignment.objects.values_list("state", flat=True))
    assert states == set(STATES), f"缺少状态：{set(STATES) - states}"


def test_seed_001_unit_has_33_city_items_4_lead_1_split_28_co_all_answered_on_time_and_satisfied(demo, db):
    city_items = Assignment.objects.filter(unit__name="深圳市滨海区人民政府", proposal__session__name=CITY_SESSION)
    assert city_items.count() == 33
    assert dict(city_items.values_list("role").annotate(n=Count("id"))) == {"lead": 4, "split": 1, "co": 28}
    answering = city_items.filter(role__in=["lead", "split"])
    assert set(answering.values_list("state", flat=True)) == {"closed"}
    assert all(a.replied_at.date() <= a.reply_due for a in answering)
    assert set(city_items.filter(role="co").values_list("state", flat=True)) == {"opinion_sent"}
    results = set(Feedback.objects.filter(assignment__in=answering).values_list("result", "attitude"))
    assert results == {("satisfied", "satisfied")}
    assert city_items.filter(proposal__is_key=True).count() == 1


def test_key_items_are_supervised_by_a_named_leader_with_a_visit_on_record(demo, db):
    supervised = Supervision.objects.all()
    assert supervised.count() >= 2
    assert all(s.proposal.is_key and s.leader_name and s.notes.exists() for s in supervised)


def test_a_later_proposal_on_the_same_subject_is_merged_and_handled_beside_its_head(demo, db):
    (item,) = Proposal.objects.filter(merged_with__isnull=False)
    head = item.merged_with
    assert "AED" in item.title and "除颤器" in head.title and item.session_id == head.session_id
    units = {p: set(Assignment.objects.filter(proposal=p, role="lead").values_list("unit__name", flat=True))
             for p in (item, head)}
    assert units[item] == units[head] == {"区卫生健康局"}
    assert Event.objects.filter(proposal=item, verb="merge").exists()
    assert Assignment.objects.get(proposal=item, role="lead").state == "in_progress"


def test_district_government_hands_city_items_on_to_its_departments(demo, db):
    handed_on = Assignment.objects.filter(parent__unit__name="深圳市滨海区人民政府",
                                          proposal__session__name=CITY_SESSION)
    assert handed_on.count() >= 33
    assert all(a.unit.parent.name == "深圳市滨海区人民政府" for a in handed_on.select_related("unit__parent"))


def test_demo_has_about_twenty_departments_with_two_to_four_sections(demo, db):
    gov = Unit.objects.get(name="深圳市滨海区人民政府")
    departments = Unit.objects.filter(parent=gov, kind="handling_unit").annotate(n=Count("children"))
    assert departments.count() >= 20
    assert all(2 <= d.n <= 4 for d in departments)
    assert Unit.objects.get(name="滨海区人民政府督查室").kind == "assigning_office"


def test_every_role_has_a_demo_account(demo, db):
    roles = {role for account in demo_accounts() for role in account["role_keys"]}
    assert roles == set(Role.values)


def test_proposal_status_is_derived_from_its_assignments(demo, db):
    for proposal in Proposal.objects.prefetch_related("assignments"):
        pairs = [(a.role, a.state) for a in proposal.assignments.all()]
        assert proposal.status == derive_proposal_status(pairs), proposal.number


def test_demo_history_lies_in_the_past_and_its_event_chains_verify(demo, db):
    assert not Event.objects.filter(created_at__gt=timezone.now()).exists()
    assert Event.objects.filter(verb="sign").count() > 100
    checked, broken = eventlog.verify()
    assert broken is None and checked == Event.objects.count()


def test_second_run_of_load_demo_changes_nothing(demo, db, settings):
    settings.DEMO_MODE = True
    before = _counts()
    last_event = Event.objects.order_by("-id").values_list("id", flat=True).first()
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "已存在" in out.getvalue()
    assert _counts() == before
    assert Event.objects.order_by("-id").values_list("id", flat=True).first() == last_event


def test_demo_accounts_prints_one_account_per_role_in_a_table(demo, db, settings):
    settings.DEMO_MODE = True
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    text = out.getvalue()
    for word in ["用户名", "admin", "city_office", "edu_office", "edu_handler", "edu_leader", "wy_li", DEMO_PASSWORD]:
        assert word in text


def test_demo_passwords_work_only_in_demo_mode(demo, db, client, settings):
    settings.DEMO_MODE = False
    assert not client.login(username="edu_office", password=DEMO_PASSWORD)
    settings.DEMO_MODE = True
    assert client.login(username="edu_office", password=DEMO_PASSWORD)


def test_every_event_on_a_proposal_timeline_has_a_chinese_label(demo, db):
    """The timeline never shows a machine verb such as `reply_delivered` to a user."""

    portal.publish_pending()  # the periodic job's events appear on timelines too
    verbs = Event.objects.filter(proposal__isnull=False).values_list("verb", flat=True).distinct()
    events = [Event.objects.filter(verb=verb).first() for verb in verbs]
    unlabelled = [e.verb for e in label_events(events) if not re.search(r"[\u4e00-\u9fff]", e.verb_label)]
    assert not unlabelled, f"这些办理过程记录没有中文名称：{unlabelled}"


def test_the_demo_offices_notification_badge_counts_items_not_every_event(demo, db, capsys):
    everything = Event.objects.filter(assignment__isnull=False).count()
    for office in User.objects.filter(grants__role=Role.ASSIGNING_OFFICE).distinct().order_by("pk"):
        events = len(selectors.newest_notification_ids(office, everything + 1))
        badge = selectors.unread_count(office)
        with capsys.disabled():
            print(f"\nNOTE demo office {office.username}: {everything} events on items, {events} notify him, badge {badge}")
        assert badge < 30  # it once read 100: one per event on every item
        assert events < everything / 4


def test_each_unit_account_the_demo_lists_first_has_work_waiting_on_its_workbench(demo, db):
    # A visitor tries the accounts the table lists first; one that opens on an empty workbench shows nothing of
    # the work (the education bureau's three accounts did: both its lead items were closed).
    clock = selectors.Clock.now()
    empty = []
    for username in HIGHLIGHTS:
        user = User.objects.get(username=username)
        for role in {Role.UNIT_OFFICE, Role.HANDLER} & set(user.grants.values_list("role", flat=True)):
            units = [g.unit for g in user.grants.filter(role=role).select_related("unit__parent")]
            units += [u.parent for u in units if u.parent_id]
            if not Assignment.objects.filter(unit__in=units).exclude(proposal__session__name=CITY_SESSION).exists():
                continue  # a unit of the city session only: seed 001's year, all of it answered and closed
            lists = [s for s in selectors.workbench_for(user, role, clock) if s.kind != "figures"]
            if not any(s.count for s in lists):
                empty.append(f"{username} ({role})")
    assert not empty, f"这些演示账号的工作台没有待办事项：{empty}"
