"""Domain errors are translated once for pages (DomainErrorMiddleware): 404, 403, 409, or the message."""
import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.test import RequestFactory

from banli.core.errors import ConflictError, DomainError, NotFound, PermissionDenied
from banli.core.middleware import DomainErrorMiddleware


def _request(method="get", path="/reports/", **extra):
    request = getattr(RequestFactory(), method)(path, **extra)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request.htmx = False

    request.user = AnonymousUser()
    return request


def _answer(exc, **kw):
    return DomainErrorMiddleware(lambda r: None).process_exception(_request(**kw), exc)


@pytest.mark.parametrize("exc, status", [
    (NotFound("找不到该事项，或您没有查看权限。"), 404),
    (PermissionDenied("您没有权限对该事项执行「签收」。"), 403),
    (ConflictError("该事项刚刚已被他人处理。"), 409),
    (DomainError("参数 session 应为整数。"), 400),
])
def test_a_page_that_raises_a_domain_error_answers_its_status_with_the_chinese_message(exc, status, db):
    response = _answer(exc)
    assert response.status_code == status
    assert exc.message in response.content.decode()


def test_a_refused_form_goes_back_to_its_page_with_the_message(db):
    request = _request("post", "/proposals/1/key/", HTTP_REFERER="http://testserver/proposals/1/")
    response = DomainErrorMiddleware(lambda r: None).process_exception(request, DomainError("请填写理由。"))
    assert response.status_code == 302 and response["Location"] == "http://testserver/proposals/1/"
    assert [m.message for m in get_messages(request)] == ["请填写理由。"]


def test_a_refused_form_from_elsewhere_goes_back_to_its_own_address(db):
    request = _request("post", "/proposals/1/key/", HTTP_REFERER="http://evil.example/")
    response = DomainErrorMiddleware(lambda r: None).process_exception(request, DomainError("请填写理由。"))
    assert response["Location"] == "/proposals/1/key/"


def test_the_api_keeps_its_own_json_errors():
    assert _answer(NotFound("x"), path="/api/v1/assignments/1") is None

