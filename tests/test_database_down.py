"""With the database down, every route says so in its own shape: 503 with Retry-After.

On PostgreSQL the connection really fails (the test points it at a closed port); on SQLite
the test database lives in memory and can't be closed, so opening the connection fails the way
SQLite fails on a file it can't open.
"""

import base64
import json
import socket
import sqlite3

import pytest
from django.db import DatabaseError, connection
from django.test import Client
from rest_framework.test import APIClient

from catalog.database_errors import database_trouble
from catalog.models import Role, User
from catalog.services.keys import api_key_create
from catalog.services.writekeys import write_key_create
from tests.factories import SYSTEM, IntegrationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=connection.vendor == "postgresql")

UNAVAILABLE = "The database is unavailable; try again shortly."


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_down(monkeypatch):
    """From now on, the default connection can't reach its database."""
    if connection.vendor == "postgresql":
        connection.close()
        monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(connection.settings_dict, "PORT", str(_closed_port()))
        yield
        monkeypatch.undo()
        connection.close()  # the failed state; the next query connects again
        return

    def unreachable():
        with connection.wrap_database_errors:
            sqlite3.connect("file:/nonexistent/event-catalog.sqlite3?mode=ro", uri=True)

    monkeypatch.setattr(connection, "ensure_connection", unreachable)
    yield


@pytest.fixture
def people():
    editor = UserFactory(username="editor", role=Role.EDITOR, is_staff=True)
    _, api_key = api_key_create(ctx=SYSTEM, user=editor)
    integration = IntegrationFactory(name="Web app")
    _, write_key = write_key_create(ctx=SYSTEM, integration=integration)
    return {"editor": editor, "api_key": api_key, "write_key": write_key}


def _assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"


def test_the_api_answers_json_503_with_retry_after(people, database_down, caplog):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {people['api_key']}")
    response = client.get("/api/v1/event/events")
    _assert_unavailable(response)
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": UNAVAILABLE}
    assert "GET /api/v1/event/events: the database is unavailable" in caplog.text


def test_ingestion_answers_in_its_own_shape(people, database_down):
    user = base64.b64encode(f"{people['write_key']}:".encode()).decode()
    body = {"batch": [{"type": "track", "event": "Signed Up", "userId": "u1"}]}
    response = Client().post(
        "/v1/batch",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {user}",
    )
    _assert_unavailable(response)
    assert response.json() == {"success": False, "error": UNAVAILABLE}
    response = Client().post(
        f"/api/v1/workspaces/{people['editor'].pk}/events",
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {people['write_key']}",
    )
    _assert_unavailable(response)
    assert response.json() == {"success": False, "error": UNAVAILABLE}


@pytest.mark.parametrize("path", ["/events/", "/admin/", "/login/"])
def test_pages_answer_a_plain_503_page(people, path, request):
    browser = Client()
    browser.force_login(people["editor"])
    request.getfixturevalue("database_down")
    response = browser.get(path)
    _assert_unavailable(response)
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "The catalog can't answer right now" in page
    assert UNAVAILABLE in page


def test_the_healthcheck_says_the_database_is_unreachable(database_down):
    response = Client().get("/healthcheck")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}


class ReadsTheDatabaseFirst:
    """A middleware that reads the database before any view, as login throttling does."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        User.objects.exists()
        return self.get_response(request)


def test_an_outage_met_outside_a_view_is_a_503_too(settings, database_down):
    settings.MIDDLEWARE = [f"{__name__}.ReadsTheDatabaseFirst", *settings.MIDDLEWARE]
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/event/events")
    _assert_unavailable(response)
    assert response.json() == {"detail": UNAVAILABLE}
    response = client.get("/events/")
    _assert_unavailable(response)
    assert UNAVAILABLE in response.content.decode()


def test_other_database_errors_remain_errors():
    """A wrong query is a bug (a 500 in the logs), not an outage to wait out."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")
    except DatabaseError as error:
        assert database_trouble(error) is None
    else:
        pytest.fail("the query should have failed")
