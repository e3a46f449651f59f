"""Configuration from the environment: safe trial defaults, strict production."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DJANGO_DEBUG", "DATABASE_PREPARED_STATEMENTS"}
    }
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DJANGO_DEBUG="0", DATABASE_URL="sqlite:////tmp/never-used.db")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_pass_the_deployment_checks():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-0123456789",
        ALLOWED_HOSTS="catalog.example.com",
        DATABASE_URL="sqlite:////tmp/never-used.db",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _database_options(**env: str) -> str:
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS'))",
        DJANGO_DEBUG="1",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_prepared_statements_are_off_unless_asked_for_and_postgresql_only():
    postgres = "postgres://postgres@127.0.0.1:5432/never_connected"
    assert "server_side_binding" not in _database_options(DATABASE_URL=postgres)
    assert _database_options(DATABASE_URL=postgres, DATABASE_PREPARED_STATEMENTS="1") == (
        "{'server_side_binding': True, 'prepare_threshold': 5}"
    )
    sqlite = _database_options(
        DATABASE_URL="sqlite:////tmp/never-used.db", DATABASE_PREPARED_STATEMENTS="1"
    )
    assert "server_side_binding" not in sqlite


@pytest.mark.django_db
def test_healthcheck_answers_once_the_database_is_reachable():
    response = Client().get("/healthcheck")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_healthcheck_reports_an_unreachable_database(monkeypatch):
    from django.db import DatabaseError, connection

    def broken_cursor(*args, **kwargs):
        raise DatabaseError("down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = Client().get("/healthcheck/")
    assert response.status_code == 503


def test_healthcheck_only_answers_get(db):
    assert Client().post("/healthcheck").status_code == 405


def _task_backend(**env: str) -> subprocess.CompletedProcess:
    """`manage.py shell` printing the task backend (its last line)."""
    return _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.TASKS['default']['BACKEND'])",
        DJANGO_DEBUG="1",
        DATABASE_URL="sqlite:////tmp/never-used.db",
        **env,
    )


def test_tasks_run_in_the_background_unless_configured_otherwise(monkeypatch):
    monkeypatch.delenv("TASKS_BACKEND", raising=False)

    def backend(**env):
        return _task_backend(**env).stdout.strip().splitlines()[-1]

    assert backend() == "catalog.background.BackgroundBackend"
    assert backend(TASKS_BACKEND="database") == "django_tasks_db.DatabaseBackend"


def test_the_backend_that_made_requests_wait_for_email_is_refused_with_a_reason():
    result = _task_backend(TASKS_BACKEND="immediate")
    assert result.returncode != 0
    assert "TASKS_BACKEND=immediate is no longer offered" in result.stderr
    assert "Use background (the default" in result.stderr
