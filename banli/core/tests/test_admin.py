"""The Django admin: every registered model's list opens for the administrator; case records are read-only."""
from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from banli.core.admin import CaseRecordAdmin
from banli.core.testing import PASSWORD, assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.models import Event, Assignment
from banli.organizations import services as orgs
from banli.organizations.models import RoleGrant, Unit
from banli.replies import services as replies
from banli.handling.admin import AssignmentAdmin, StateFilter

CASE_RECORDS = [
    "proposals.proposal", "handling.assignment", "handling.adjustmentrequest", "handling.extensionrequest",
    "handling.contactrecord", "replies.coopinion", "replies.reply", "replies.reviewrecord", "replies.feedback",
    "replies.commitment", "handling.event",
]


@pytest.fixture
def superuser(db):
    return orgs.user_create(username="root", password=PASSWORD, display_name="超级管理员", is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def busy_world(world):
    """A world with records of every kind, so that list and detail pages render real rows."""
    proposal = make_proposal(world)
    lead, co = assign(world, proposal)
    walk_to(world, lead, "closed")
    co = handling.assignment_sign(assignment=co, actor=world.co_office)
    co = handling.assignment_assign_section(assignment=co, actor=world.co_office, section=world.co_section,
                                            handler=world.co_handler)
    handling.contact_log(assignment=co, actor=world.co_handler, phase="during", method="phone",
                         contacted_on=timezone.localdate(co.assigned_at), people="李委员", summary="电话沟通办理思路。")
    co.refresh_from_db()
    replies.co_opinion_send(assignment=co, actor=world.co_handler, body="建议结合片区规划统筹学位建设。")
    other = make_proposal(world)
    lead2, _ = assign(world, other, co=False)
    handling.adjustment_request(assignment=lead2, actor=world.lead_office, reason="不属于本单位职责。")
    third = make_proposal(world)
    lead3, _ = assign(world, third, co=False)
    lead3 = walk_to(world, lead3, "in_progress")
    handling.extension_request(assignment=lead3, actor=world.lead_office, reason="需要实地调研。",
                               requested_due=lead3.reply_due_max)
    lead3.refresh_from_db()
    replies.commitment_record(assignment=lead3, actor=world.lead_handler, description="年内完成选址论证",
                              target_date=lead3.reply_due)
    return world


def _registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def test_every_registered_model_list_opens_for_the_administrator(admin_client, busy_world):
    for model, model_admin in _registered():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = admin_client.get(url)
        assert response.status_code == 200, f"{url} → {response.status_code}"


def test_every_registered_model_detail_opens_for_the_administrator(admin_client, busy_world):
    for model, model_admin in _registered():
        obj = model.objects.order_by("pk").first()
        if obj is None:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        response = admin_client.get(url)
        assert response.status_code == 200, f"{url} → {response.status_code}"


def test_every_foundation_model_is_registered():
    for label in ["organizations", "proposals", "handling", "replies", "supervision"]:
        for model in apps.get_app_config(label).get_models():
            assert model in admin.site._registry, f"{model._meta.label} 未在管理后台注册"
    # The other apps' models present when the admin was written (new ones are registered by their owners).
    for label in ["reports.RuleSet", "reports.Rule", "reports.ScoreEntry", "reports.Evaluation", "reports.SummaryDraft",
                  "assist.SuggestionDecision", "workbench.NotificationCursor", "exchange.ColumnMapping",
                  "exchange.ImportBatch"]:
        assert apps.get_model(label) in admin.site._registry, f"{label} 未在管理后台注册"


def test_case_records_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, busy_world):
    for label in CASE_RECORDS:
        _assert_read_only(admin_client, label)


def _assert_read_only(admin_client, label):
    model = apps.get_model(label)
    assert isinstance(admin.site._registry[model], CaseRecordAdmin)
    opts = model._meta
    assert admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403
    obj = model.objects.order_by("pk").first()
    assert obj is not None, f"busy_world has no {label}"
    change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(change_url, {}).status_code == 403
    delete_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_role_grant_added_in_the_admin_writes_a_security_event(admin_client, world):
    url = reverse("admin:organizations_rolegrant_add")
    response = admin_client.post(url, {"user": world.other_handler.pk, "role": "leader", "unit": world.other_unit.pk})
    assert response.status_code == 302
    assert RoleGrant.objects.filter(user=world.other_handler, role="leader", unit=world.other_unit).exists()
    assert Event.objects.filter(verb="security.role_grant", payload__role="leader").exists()


def test_unit_added_in_the_admin_gets_its_path(admin_client, world):
    response = admin_client.post(reverse("admin:organizations_unit_add"), {
        "name": "安全监管科", "short_name": "", "kind": "section", "parent": world.other_unit.pk, "code": "",
        "aliases": "[]", "is_active": "on", "sort_order": "0",
        "children-TOTAL_FORMS": "0", "children-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    unit = Unit.objects.get(name="安全监管科")
    assert unit.is_within(world.other_unit)


def test_the_admin_names_third_party_apps_in_chinese(client, world):
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client.force_login(world.admin)
    html = client.get("/admin/").content.decode()
    for english in ("Axes", "Access attempts", "Otp_Totp", "TOTP devices", "Model name", "Add link"):
        assert english not in html
    assert "登录失败锁定" in html and "动态验证码设备" in html


def test_assignment_list_shows_the_ledgers_rows_in_the_ledgers_order(admin_client, busy_world):
    # 除已撤回外: the rows the ledger lists when no state is chosen; key items first, then the current deadline.

    Assignment.objects.filter(pk=Assignment.objects.order_by("id").values("pk")[:1]).update(state="withdrawn")
    Assignment.objects.filter(pk=Assignment.objects.order_by("-id").values("pk")[:1]).update(key_item=True)
    columns = list(AssignmentAdmin.list_display)
    response = admin_client.get(reverse("admin:handling_assignment_changelist"), {
        "state": StateFilter.LIVE, "o": f"-{columns.index('key_item')}.{columns.index('next_due')}"})
    assert response.status_code == 200
    listed = [row.pk for row in response.context["cl"].result_list]
    live = Assignment.objects.exclude(state="withdrawn")
    far = dt.date.max
    expected = sorted(live, key=lambda a: (not a.key_item, a.next_due or far, -a.pk))
    assert listed == [a.pk for a in expected] and len(listed) == Assignment.objects.count() - 1
