import pytest
from rest_framework.test import APIClient

from banli.api.services import api_token_create


@pytest.fixture
def api():
    """`api(user)` → an APIClient sending that user's bearer token (None: anonymous)."""
    raw_tokens = {}

    def make(user=None, scope="write"):
        client = APIClient()
        if user is not None:
            if (user.pk, scope) not in raw_tokens:
                raw_tokens[user.pk, scope] = api_token_create(user=user, scope=scope)[1]
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_tokens[user.pk, scope]}")
        return client

    return make
