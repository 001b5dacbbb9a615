"""Every role's workbench, the ledger and the proposal page render, in Chinese, with only local assets."""
import re

import pytest
from django.urls import reverse

from banli.core.testing import assign, make_proposal, walk_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(world):
    proposal = make_proposal(world)
    lead, co = assign(world, proposal)
    return proposal, lead, co


ROLES = ["office", "lead_office", "lead_handler", "lead_leader", "co_office", "co_handler", "proposer", "admin"]


@pytest.mark.parametrize("name", ROLES)
def test_each_role_sees_its_workbench(client, world, item, name):
    client.force_login(getattr(world, name))
    response = client.get(reverse("workbench:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "工作台" in html or "我的提案建议" in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "pages load nothing from the internet"


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("workbench:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_login_page_is_chinese_and_sets_security_headers(client):
    response = client.get(reverse("login"))
    assert "登录" in response.content.decode()
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_static_assets_are_served_by_the_app(client):
    for path in ("/static/vendor/bootstrap/css/bootstrap.min.css", "/static/banli/app.js", "/static/django_htmx/htmx-2.min.js"):
        response = client.get(path)
        assert response.status_code == 200, path


@pytest.mark.parametrize("name", ["office", "lead_office", "lead_handler", "co_office", "proposer", "admin"])
def test_proposal_page_renders_for_everyone_who_may_see_it(client, world, item, name):
    proposal, lead, co = item
    client.force_login(getattr(world, name))
    response = client.get(reverse("workbench:proposal", args=[proposal.pk]))
    assert response.status_code == 200
    assert proposal.title in response.content.decode()


def test_ledger_lists_the_units_items(client, world, item):
    client.force_login(world.lead_office)
    response = client.get(reverse("workbench:ledger"), {"q": "学位"})
    assert response.status_code == 200
    assert "关于增加学位供给的提案" in response.content.decode()


def test_walked_item_renders_with_reply_and_timeline(client, world, item):
    proposal, lead, co = item
    walk_to(world, lead, "rated")
    for user in (world.office, world.lead_office, world.proposer):
        client.force_login(user)
        response = client.get(reverse("workbench:proposal", args=[proposal.pk]))
        assert response.status_code == 200
        assert "已测评" in response.content.decode()
