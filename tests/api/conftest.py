import pytest
from django.db import connection
from rest_framework.test import APIClient

from catalog.services.keys import api_key_create
from tests.factories import SYSTEM

#: What the relation ids and the tracking of a page of resources cost: on PostgreSQL they
#: come with its rows (`selectors.with_details`), elsewhere in a query each.
DETAIL_QUERIES = 0 if connection.vendor == "postgresql" else 2


def _client_for(user) -> APIClient:
    _, secret = api_key_create(ctx=SYSTEM, user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def as_admin(admin_user):
    return _client_for(admin_user)


@pytest.fixture
def as_editor(editor):
    return _client_for(editor)


@pytest.fixture
def as_viewer(viewer):
    return _client_for(viewer)


@pytest.fixture
def anonymous():
    return APIClient()
