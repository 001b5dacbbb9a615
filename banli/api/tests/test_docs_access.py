"""Issue 17.15: the OpenAPI document and its pages need a signed-in user (unless BANLI_API_DOCS_PUBLIC opens them),
and the Swagger page carries a CSP that allows only the app's own files."""
import re

import pytest

pytestmark = pytest.mark.django_db

PAGES = ("/api/v1/docs", "/api/v1/redoc")


def test_anonymous_visitors_get_no_api_description(client, world, api):
    assert api().get("/api/v1/openapi.json").status_code == 401
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302 and response.url.startswith("/login/"), page


def test_signed_in_users_and_token_holders_read_it(client, world, api):
    assert api(world.proposer).get("/api/v1/openapi.json").status_code == 200
    client.force_login(world.lead_handler)
    for page in PAGES:
        assert client.get(page).status_code == 200, page
    assert client.get("/api/v1/openapi.json").status_code == 200  # what the Swagger page fetches, with the session


def test_an_instance_may_open_the_description_on_purpose(client, world, api, settings):
    settings.BANLI_API_DOCS_PUBLIC = True
    assert api().get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


def test_the_swagger_page_allows_only_its_own_files(client, world):
    client.force_login(world.lead_handler)
    response = client.get("/api/v1/docs")
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
    assert directives["connect-src"] == "'self'" and directives["object-src"] == "'none'"
    assert not re.search(r"https?:|\*", policy)
    html = response.content.decode()
    # Every script is a file of the app: no inline script the policy would have to allow.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    script = client.get(re.search(r'<script src="([^"]*\?script[^"]*)"', html).group(1).replace("&amp;", "&"))
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


def test_the_document_is_generated_once_per_process_and_is_the_same_for_every_reader(world, api, monkeypatch):
    from drf_spectacular.generators import SchemaGenerator  # noqa: PLC0415 - only this test counts generations

    from banli.api import openapi  # noqa: PLC0415 - its cache is emptied for this test

    monkeypatch.setattr(openapi, "_DOCUMENTS", {})
    calls = []
    original = SchemaGenerator.get_schema
    monkeypatch.setattr(SchemaGenerator, "get_schema", lambda self, *a, **kw: calls.append(1) or original(self, *a, **kw))
    first = api(world.office).get("/api/v1/openapi.json")
    second = api(world.proposer).get("/api/v1/openapi.json")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and "/api/v1/assignments" in first.json()["paths"]
    assert len(calls) == 1
    assert second["Content-Disposition"] == first["Content-Disposition"]
