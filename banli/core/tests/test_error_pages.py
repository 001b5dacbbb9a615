"""Error pages speak Chinese, say why and what to do; Django's English defaults never reach a user."""
import pytest
from django.test import Client, RequestFactory

from banli.core import views
from banli.core.testing import PASSWORD, assign, make_proposal

pytestmark = pytest.mark.django_db


def _signed_in(username, **kw):
    client = Client(**kw)
    assert client.post("/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_a_refused_page_names_the_reason_and_the_way_out(world):
    proposal = make_proposal(world)
    assign(world, proposal)
    page = _signed_in("edu_office").get(f"/proposals/{proposal.pk}/assign/")
    text = page.content.decode()
    assert page.status_code == 403
    assert "无权进行此操作" in text and "只有该届次的交办机构才能交办。" in text and "切换身份" in text
    assert "Forbidden" not in text and 'id="mainnav"' in text  # the user keeps the menu to go on working


def test_a_missing_page_is_explained_in_chinese_and_django_internals_are_not_shown(world):
    client = _signed_in("office")
    for url in ("/no-such-page/", "/proposals/999999/"):
        page = client.get(url)
        text = page.content.decode()
        assert page.status_code == 404, url
        assert "找不到" in text and "回到工作台" in text, url
        assert "Not Found" not in text and "Resolver404" not in text and "matches the given query" not in text, url


def test_a_form_from_a_stale_page_says_nothing_was_saved_and_offers_a_fresh_form(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.office)
    page = client.post("/password/", {"old_password": PASSWORD}, HTTP_REFERER="http://testserver/password/")
    text = page.content.decode()
    assert page.status_code == 403
    assert "页面已过期，本次提交没有保存" in text and 'href="http://testserver/password/"' in text
    assert "CSRF verification" not in text and "Forbidden" not in text
    # A referrer from elsewhere is not offered as a link.
    other = client.post("/password/", {}, HTTP_REFERER="https://evil.example/x").content.decode()
    assert "evil.example" not in other


def test_a_server_error_page_needs_no_database_and_says_the_action_did_not_happen():
    response = views.server_error(RequestFactory().get("/"))
    text = response.content.decode()
    assert response.status_code == 500 and "本次操作没有完成" in text and "系统管理员" in text
    assert "<script" not in text and "http" not in text.split("<body>")[1]  # nothing loaded from anywhere
