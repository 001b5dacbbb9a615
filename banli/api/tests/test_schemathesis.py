"""Property-based run over the OpenAPI document (schemathesis, through Django's WSGI app): no request,
valid or not, by the office, a unit or anonymous, makes the server fail. Bounded in time."""
import time

import pytest

pytestmark = pytest.mark.django_db(transaction=False)

BUDGET_SECONDS = 35
EXAMPLES_PER_OPERATION = 8


@pytest.fixture
def wsgi_app():
    """Django's WSGI app without the per-request connection closing, so requests share the test transaction;
    REMOTE_ADDR set as every real WSGI server sets it; the rate-limit counters cleared afterwards."""
    from django.core import signals
    from django.core.cache import cache
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    django_app = get_wsgi_application()

    def app(environ, start_response):
        environ.setdefault("REMOTE_ADDR", "127.0.0.1")
        return django_app(environ, start_response)

    try:
        yield app
    finally:
        cache.clear()
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_no_generated_request_makes_a_server_error(world, wsgi_app):
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings, strategies as st
    from banli.api.services import api_token_create
    from schemathesis import GenerationMode

    from banli.core.testing import assign, make_proposal, walk_to

    proposal = make_proposal(world)
    lead, co = assign(world, proposal)
    walk_to(world, lead, "replied")
    tokens = {name: api_token_create(user=getattr(world, name))[1] for name in ("office", "lead_office", "proposer")}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app,
                                            headers={"Authorization": f"Bearer {tokens['office']}"})
    started = time.monotonic()
    failures, tried = [], 0
    # Reads first, then the token endpoint and the writes: every kind is reached within the budget.
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: (op.method.upper() != "GET", "{" in op.path, op.path))
    assert len(operations) >= 30
    for operation in operations:
        if time.monotonic() - started > BUDGET_SECONDS:
            break
        strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
        try:
            strategies.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        except Exception:  # an operation without anything to make invalid
            pass

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(*strategies), who=st.sampled_from([*tokens, None]))
        def check(case, who):
            headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} {case.body!r:.200} → {response.status_code}")

        check()
        tried += 1
    assert not failures, "\n".join(failures[:10])
    assert tried >= 10, f"only {tried} of {len(operations)} operations fit in the time budget"
