import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import DatabaseError, connections
from rest_framework.test import APIClient

from catalog.models import Role
from catalog.services.ingest import forget_plans
from catalog.services.keys import api_key_create
from tests.factories import SYSTEM, UserFactory


@pytest.fixture(autouse=True)
def _fresh_tracking_plans():
    """Each test reads the tracking plan afresh: factories write without the services, which
    would otherwise tell ingestion that the plan changed."""
    forget_plans()


def _client_for(user) -> APIClient:
    """An API client with a new key of `user`'s."""
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
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN)


@pytest.fixture
def editor(db):
    return UserFactory(username="editor", role=Role.EDITOR)


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer", role=Role.VIEWER, is_staff=True)


@pytest.fixture(scope="session", autouse=True)
def _server_threads_keep_the_shared_database():
    """The live server's request threads don't close an in-memory SQLite database.

    It is the test thread's connection, shared with the server; a thread serving a kept-alive
    socket may end only when the server stops, after the sharing has ended (as late as the
    interpreter's exit), and closing it then fails with "Exception in thread". Django names
    the method as the one to replace in tests. Never undone: those threads may outlive
    every fixture.
    """

    def close_connections(server):
        for conn in connections.all(initialized_only=True):
            if conn.vendor == "sqlite" and conn.is_in_memory_db():
                continue
            try:
                conn.close()
            except DatabaseError:
                # Still the test thread's (the test database may be gone by now, so it no
                # longer looks in-memory): that thread closes it.
                if conn.vendor != "sqlite":
                    raise

    ThreadedWSGIServer._close_connections = close_connections
