import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api():
    """`api(user)` → an APIClient sending that user's bearer token (None: anonymous)."""
    from rest_framework.authtoken.models import Token

    def make(user=None):
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
        return client

    return make
