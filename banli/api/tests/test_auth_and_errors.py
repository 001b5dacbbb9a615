"""Token authentication and the JSON error shape."""
import re

import pytest
from drf_spectacular.validation import validate_schema

from banli.core.testing import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_user_exchanges_username_and_password_for_a_token_and_uses_it_as_bearer(world, api):
    response = api().post("/api/v1/auth/token", {"username": "office", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/sessions").status_code == 200
    # Only a hash is kept, so each request issues a new token (each listed and revocable on the user's page).
    again = api().post("/api/v1/auth/token", {"username": "office", "password": PASSWORD}, format="json")
    assert again.json()["token"] != token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {again.json()['token']}")
    assert client.get("/api/v1/sessions").status_code == 200


def test_a_wrong_password_gets_a_chinese_message_and_no_token(world, api):
    response = api().post("/api/v1/auth/token", {"username": "office", "password": "wrong"}, format="json")
    assert response.status_code == 401
    assert response.json() == {"code": "invalid_credentials", "message": "用户名或密码不正确。"}


def test_a_missing_field_names_the_field(world, api):
    response = api().post("/api/v1/auth/token", {"username": "office"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "password" in body["message"]


def test_without_a_token_every_collection_answers_401_in_json(world, api):
    for name in ("sessions", "units", "proposals", "assignments", "replies", "events", "figures"):
        response = api().get(f"/api/v1/{name}")
        assert response.status_code == 401, name
        assert response.json()["code"] == "not_authenticated"
        assert "令牌" in response.json()["message"]


def test_an_invalid_token_is_refused(world, api):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    response = client.get("/api/v1/proposals")
    assert response.status_code == 401
    assert response.json()["message"] == "令牌无效，请重新获取。"


def test_the_openapi_document_validates_and_names_every_endpoint(world, api):
    response = api(world.office).get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    paths = set(schema["paths"])
    for path in ("/api/v1/auth/token", "/api/v1/sessions", "/api/v1/units", "/api/v1/proposals", "/api/v1/assignments",
                 "/api/v1/replies", "/api/v1/events", "/api/v1/figures", "/api/v1/replies/{id}/document",
                 "/api/v1/assignments/{id}/actions/sign", "/api/v1/assignments/{id}/actions/rate"):
        assert path in paths


def test_the_interactive_docs_are_served_locally_without_a_cdn(world, api, client):
    client.force_login(world.lead_handler)
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    # No script, style or font from another host (the page's random tokens may spell anything, so look at URLs).
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.I)
    assert not re.findall(r"(?:cdn\.|unpkg\.com|jsdelivr|cdnjs|googleapis)", html, re.I)


def _string_patterns(node, found):
    """Every `pattern` of the document's string schemas."""
    if isinstance(node, dict):
        if node.get("type") == "string" and isinstance(node.get("pattern"), str):
            found.add(node["pattern"])
        for value in node.values():
            _string_patterns(value, found)
    elif isinstance(node, list):
        for value in node:
            _string_patterns(value, found)
    return found


def test_no_text_pattern_of_the_document_lets_a_nul_through_and_a_blank_text_fails_where_a_value_is_needed(world, api):
    """A text the document calls valid is one DRF takes: never a NUL (the database cannot keep it; a pattern with
    "\\S" for its one required character let a single NUL be that character), and where a field may not be blank,
    not only spaces (the ideographic space included: DRF trims it)."""
    document = api(world.office).get("/api/v1/openapi.json").json()
    patterns = {p for p in _string_patterns(document, set()) if "\\x00" in p}
    assert len(patterns) == 2, patterns  # "no NUL" and "no NUL, not blank"
    for pattern in patterns:
        assert re.search(pattern, "办理\x00") is None and re.search(pattern, "\x00") is None, pattern
        assert re.search(pattern, " 办理 "), pattern
    not_blank = [p for p in patterns if re.search(p, "") is None]
    assert len(not_blank) == 1 and re.search(not_blank[0], "\u3000 \t") is None
