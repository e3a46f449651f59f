import base64
import gzip
import json

import pytest
from django.core.cache import cache

from catalog.services.context import ChangeContext
from catalog.services.writekeys import write_key_create
from tests.factories import IntegrationFactory


@pytest.fixture(autouse=True)
def _fresh_buckets():
    """Each test starts with full rate-limit buckets."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def integration(db):
    return IntegrationFactory(name="Web app")


@pytest.fixture
def write_key(integration):
    _, secret = write_key_create(ctx=ChangeContext.for_system(), integration=integration)
    return secret


class Sender:
    """Posts JSON to the ingestion endpoints the way each tracker does."""

    def __init__(self, client, secret, integration):
        self.client, self.secret, self.integration = client, secret, integration

    def post(self, path, body, *, raw=None, gzipped=False, **headers):
        data = raw if raw is not None else json.dumps(body).encode()
        if gzipped:
            data = gzip.compress(data)
            headers["HTTP_CONTENT_ENCODING"] = "gzip"
        return self.client.post(path, data=data, content_type="application/json", **headers)

    def segment(self, body, path="/v1/batch", *, secret=None, **kwargs):
        user = base64.b64encode(f"{secret or self.secret}:".encode()).decode()
        return self.post(path, body, HTTP_AUTHORIZATION=f"Basic {user}", **kwargs)

    def canvas(self, body, *, secret=None, **kwargs):
        return self.post("/v1/event", body, HTTP_X_AUTH_TOKEN=secret or self.secret, **kwargs)

    def prime(self, body, *, secret=None, client_id=None, **kwargs):
        return self.post(
            "/v1/events",
            body,
            HTTP_X_CLIENT_ID=client_id or str(self.integration.pk),
            HTTP_X_CLIENT_ACCESS_TOKEN=secret or self.secret,
            **kwargs,
        )

    def flameup(self, body, *, secret=None, workspace=None, **kwargs):
        workspace = workspace or self.integration.pk
        return self.post(
            f"/api/v1/workspaces/{workspace}/events",
            body,
            HTTP_AUTHORIZATION=f"Bearer {secret or self.secret}",
            **kwargs,
        )


@pytest.fixture
def send(client, write_key, integration):
    return Sender(client, write_key, integration)


def track(event, properties=None, **fields):
    """A Segment track call."""
    return {
        "type": "track",
        "event": event,
        "userId": "u1",
        "properties": properties or {},
        **fields,
    }
