"""EMAIL_URL, EMAIL_TIMEOUT and SITE_URL as an operator writes them, read in a fresh process."""

import json
import os
import subprocess
import sys

import pytest

from tests.test_settings import ROOT

NAMES = [
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_TIMEOUT",
    "SITE_URL",
]
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Import config/settings.py with `env` (and no other email setting) in a new process."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "SITE_URL"))}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    code = (
        "import json, config.settings as s; "
        f"print(json.dumps({{name: getattr(s, name) for name in {NAMES}}}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_DEBUG": "1", "DATABASE_URL": "sqlite:////tmp/never-used.db", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_with(**env: str) -> dict:
    result = load_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://mailer:secret@mail.example.com:2525",
            {
                "EMAIL_HOST": "mail.example.com",
                "EMAIL_PORT": 2525,
                "EMAIL_HOST_USER": "mailer",
                "EMAIL_HOST_PASSWORD": "secret",
                "EMAIL_USE_TLS": False,
                "EMAIL_USE_SSL": False,
            },
        ),
        (
            "smtp+tls://me%40example.com:p%40ss%3Aword@smtp.example.com",
            {
                "EMAIL_HOST": "smtp.example.com",
                "EMAIL_PORT": 587,
                "EMAIL_HOST_USER": "me@example.com",
                "EMAIL_HOST_PASSWORD": "p@ss:word",
                "EMAIL_USE_TLS": True,
                "EMAIL_USE_SSL": False,
            },
        ),
        (
            "smtp+ssl://mailer:secret@smtp.example.com",
            {"EMAIL_PORT": 465, "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": True},
        ),
        (
            "smtps://mailer:secret@smtp.example.com:465",
            {"EMAIL_PORT": 465, "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": True},
        ),
        ("smtp://localhost", {"EMAIL_HOST": "localhost", "EMAIL_PORT": 25, "EMAIL_HOST_USER": ""}),
    ],
)
def test_email_url_schemes(url, expected):
    settings = settings_with(EMAIL_URL=url)

    assert settings["EMAIL_BACKEND"] == SMTP
    assert {name: settings[name] for name in expected} == expected


def test_defaults_file_mail_time_out_and_link_to_localhost():
    settings = settings_with()

    # Kept as files in DATA_DIR/emails, one line logged each (tests/test_first_run.py).
    assert settings["EMAIL_BACKEND"] == "catalog.notifications.mailbox.EmailBackend"
    assert settings_with(EMAIL_URL="consolemail://")["EMAIL_BACKEND"] == (
        "django.core.mail.backends.console.EmailBackend"
    )
    assert settings["EMAIL_TIMEOUT"] == 10
    assert settings["SITE_URL"] == "http://127.0.0.1:8000"


def test_timeout_and_site_url_from_the_environment():
    settings = settings_with(EMAIL_TIMEOUT="3.5", SITE_URL="https://catalog.example.com/")

    assert settings["EMAIL_TIMEOUT"] == 3.5
    assert settings["SITE_URL"] == "https://catalog.example.com"


def test_a_site_url_without_scheme_is_refused():
    result = load_settings(SITE_URL="catalog.example.com")

    assert result.returncode != 0
    assert "SITE_URL must start with http:// or https://" in result.stderr
