"""The web processes' statement timeout (`DATABASE_STATEMENT_TIMEOUT`, PostgreSQL).

A statement of a web request that runs past the limit is cancelled by PostgreSQL, and the
client hears why (503), instead of a worker and a database CPU being held for minutes. Only
the web processes (which load config.wsgi) get the limit; commands and workers don't.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from catalog.models import Role
from catalog.policy import resources_visible_to
from catalog.services.keys import api_key_create
from config.database import limit_statement_time, with_statement_timeout
from tests.factories import SYSTEM, EventFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's"
)
#: Sleeps for far longer than the test's limit, on every row it filters.
SLEEPS = "pg_sleep(10) IS NOT NULL"


def test_the_option_replaces_any_statement_timeout_and_keeps_the_rest():
    assert with_statement_timeout("", 20000) == "-c statement_timeout=20000"
    assert (
        with_statement_timeout("-c search_path=catalog -c statement_timeout=5", 500)
        == "-c search_path=catalog -c statement_timeout=500"
    )


def _show_statement_timeout(code: str, **env: str) -> str:
    """What `SHOW statement_timeout` answers in a new process running `code` first."""
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    script = (
        f"{code}\nfrom django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SHOW statement_timeout')\n"
        "    print(cursor.fetchone()[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DATABASE_STATEMENT_TIMEOUT"},
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": url,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@on_postgresql
@pytest.mark.django_db
def test_web_processes_get_the_limit_and_commands_do_not():
    web = "import config.wsgi"  # gunicorn
    command = "import django; django.setup()"
    serve = (  # runserver, under `manage.py serve`: after the migrations
        f"{command}\nfrom django.core.servers.basehttp import get_internal_wsgi_application\n"
        "from django.db import connection\nconnection.ensure_connection()\n"
        "get_internal_wsgi_application()"
    )
    assert _show_statement_timeout(web) == "20s"
    assert _show_statement_timeout(serve) == "20s"
    assert _show_statement_timeout(web, DATABASE_STATEMENT_TIMEOUT="1.5") == "1500ms"
    assert _show_statement_timeout(web, DATABASE_STATEMENT_TIMEOUT="0") == "0"
    assert _show_statement_timeout(command) == "0"


def test_a_negative_limit_is_refused():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_DEBUG": "1", "DATABASE_STATEMENT_TIMEOUT": "-5"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DATABASE_STATEMENT_TIMEOUT is in seconds: 0 (no limit) or more" in result.stderr


@pytest.fixture
def half_a_second_limit(settings, monkeypatch):
    """This test's connections cancel statements after half a second, as the web's do after
    DATABASE_STATEMENT_TIMEOUT."""
    settings.DATABASE_STATEMENT_TIMEOUT = 0.5
    monkeypatch.setitem(
        connection.settings_dict, "OPTIONS", dict(connection.settings_dict.get("OPTIONS", {}))
    )
    limit_statement_time()
    yield
    monkeypatch.undo()
    connection.close()  # the next test connects without the limit


TOO_LONG = (
    "The request took too long: a database query ran past the limit of 0.5 seconds and was "
    "stopped. Narrow the request (a smaller filter or page) and try again."
)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_an_api_query_past_the_limit_is_a_503_saying_so(half_a_second_limit, monkeypatch, caplog):
    editor = UserFactory(role=Role.EDITOR)
    EventFactory(title="Order Completed")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(ctx=SYSTEM, user=editor)[1]}")
    with monkeypatch.context() as slow:
        slow.setattr(
            "catalog.api.views.with_details", lambda queryset: queryset.extra(where=[SLEEPS])
        )
        response = client.get("/api/v1/resource/catalog")
    assert response.status_code == 503
    assert response.json() == {"detail": TOO_LONG}
    assert "Retry-After" not in response
    assert (
        "GET /api/v1/resource/catalog: a statement ran past the statement timeout and was "
        "cancelled (canceling statement due to statement timeout)" in caplog.text
    )
    # The connection is still good for the next request.
    assert client.get("/api/v1/resource/catalog").status_code == 200


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_page_past_the_limit_is_a_503_page_saying_so(half_a_second_limit, monkeypatch, client):
    editor = UserFactory(role=Role.EDITOR)
    EventFactory(title="Order Completed")
    client.force_login(editor)
    monkeypatch.setattr(
        "catalog.web.views.resources_visible_to",
        lambda user, entity_type=None: resources_visible_to(user, entity_type).extra(
            where=[SLEEPS]
        ),
    )
    response = client.get("/events/")
    assert response.status_code == 503
    assert TOO_LONG in response.content.decode()
