"""Deployment: the README's production settings pass `check --deploy`, and gunicorn.conf.py
reads its environment as documented."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "gunicorn.conf.py"

#: The README's "Production" section, with example values.
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "SECRET_KEY": "kq3-a-long-random-production-secret-key-0123456789-zx8$w!rt_vb6",
    "DATABASE_URL": "postgres://catalog:secret@db.example.com:5432/catalog",
    "ALLOWED_HOSTS": "catalog.example.com",
    "REDIS_URL": "redis://cache.example.com:6379/0",
    "EMAIL_URL": "smtp+tls://catalog:secret@mail.example.com:587",
    "TASKS_BACKEND": "database",
    "SITE_URL": "https://catalog.example.com",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
    "CSRF_TRUSTED_ORIGINS": "https://catalog.example.com",
}


def _without_project_env() -> dict[str, str]:
    """This environment minus what the settings read, so only the test's values count."""
    from_settings = set(PRODUCTION_ENV) | {
        "DJANGO_SETTINGS_MODULE",
        "CACHE_URL",
        "DATABASE_CONN_MAX_AGE",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
    }
    return {k: v for k, v in os.environ.items() if k not in from_settings}


def test_the_readme_production_settings_pass_check_deploy_without_any_issue():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env={**_without_project_env(), **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def _gunicorn_conf(monkeypatch, **env: str) -> dict:
    for name in (
        "WEB_CONCURRENCY",
        "GUNICORN_BIND",
        "GUNICORN_ACCESS_LOG",
        "GUNICORN_MAX_REQUESTS",
        "GUNICORN_MAX_REQUESTS_JITTER",
        "GUNICORN_PRELOAD",
        "GUNICORN_GC_FREEZE",
        "GUNICORN_CONTROL_SOCKET",
        "GUNICORN_TIMEOUT",
        "GUNICORN_LIMIT_REQUEST_LINE",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_defaults(monkeypatch):
    conf = _gunicorn_conf(monkeypatch)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert conf["workers"] == cores
    assert conf["worker_class"] == "config.webserver.JsonErrorsSyncWorker"
    assert conf["limit_request_line"] == 8190
    assert conf["bind"] == ["127.0.0.1:8000"]
    assert conf["accesslog"] is None
    assert conf["max_requests"] > 0 and 0 < conf["max_requests_jitter"] < conf["max_requests"]
    assert conf["preload_app"] is True and conf["_gc_freeze"] is True
    assert conf["control_socket_disable"] is True
    assert conf["wsgi_app"] == "config.wsgi:application"


def test_gunicorn_settings_from_the_environment(monkeypatch):
    conf = _gunicorn_conf(
        monkeypatch,
        WEB_CONCURRENCY="3",
        GUNICORN_BIND="0.0.0.0:9000",
        GUNICORN_ACCESS_LOG="-",
        GUNICORN_MAX_REQUESTS="0",
        GUNICORN_PRELOAD="0",
        GUNICORN_CONTROL_SOCKET="/tmp/event-catalog-gunicorn.ctl",
    )
    assert conf["workers"] == 3
    assert conf["bind"] == ["0.0.0.0:9000"]
    assert conf["accesslog"] == "-"
    assert conf["max_requests"] == 0 and conf["max_requests_jitter"] == 0
    # Without preload there is nothing shared to freeze.
    assert conf["preload_app"] is False and conf["_gc_freeze"] is False
    assert conf["control_socket"] == "/tmp/event-catalog-gunicorn.ctl"
    assert conf["control_socket_disable"] is False


@pytest.mark.parametrize("value", ["", "1", "on"])
def test_gc_freeze_follows_preload(monkeypatch, value):
    conf = _gunicorn_conf(monkeypatch, GUNICORN_GC_FREEZE=value)
    assert conf["_gc_freeze"] is True
    conf = _gunicorn_conf(monkeypatch, GUNICORN_GC_FREEZE="0")
    assert conf["_gc_freeze"] is False


def test_gunicorn_accepts_the_configuration():
    """gunicorn itself reads the file (unknown or mistyped settings fail here)."""
    code = (
        "import sys; from gunicorn.app.wsgiapp import WSGIApplication;"
        "sys.argv = ['gunicorn', '-c', sys.argv[1], 'config.wsgi'];"
        "app = WSGIApplication(); print(app.cfg.workers, app.cfg.preload_app, "
        "app.cfg.max_requests, app.cfg.worker_class_str, app.cfg.control_socket_disable)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(GUNICORN_CONF)],
        cwd=ROOT,
        env={**os.environ, "WEB_CONCURRENCY": "2"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "2",
        "True",
        "10000",
        "config.webserver.JsonErrorsSyncWorker",
        "True",
    ]
