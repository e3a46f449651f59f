"""The production web server, gunicorn as gunicorn.conf.py configures it, run for real; and
what the logs hold.

One gunicorn (one worker, a migrated SQLite file, the test settings) serves this module's
requests; its access log goes to a file the tests read.
"""

import base64
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).resolve().parent.parent
WRITE_KEY = "wk_3f9c1a7e20b4_q2VxN8secretpartofthewritekey"
API_KEY = "ec_0028454f8733_secretpartoftheapikey"
UNSUBSCRIBE_TOKEN = "eyJ1IjoiMSJ9:1tQx3a:signaturepartoftheunsubscribetoken"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    def __init__(self, directory: Path):
        self.port = _free_port()
        self.access_log = directory / "access.log"
        self.error_log = directory / "error.log"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GUNICORN_", "DATABASE_", "DJANGO_")) and k != "WEB_CONCURRENCY"
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings_test",
            DATABASE_URL=f"sqlite:///{directory / 'catalog.sqlite3'}",
            DATA_DIR=str(directory),
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            GUNICORN_ACCESS_LOG=str(self.access_log),
            WEB_CONCURRENCY="1",
        )
        self.api_key = self._prepare_database(env)
        self.stderr = self.error_log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )
        self._wait_until_serving()

    @staticmethod
    def _prepare_database(env: dict) -> str:
        """Migrate the server's database; the API key of an editor in it."""
        for command in (
            ["migrate", "-v", "0"],
            ["create_api_key", "--user", "ci", "--create-user", "--role", "editor"],
        ):
            result = subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited: {self.error_log.read_text()}")
            try:
                if self.request("GET", "/healthcheck")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"gunicorn did not start: {self.error_log.read_text()}")

    def request(self, method: str, path: str, headers=None, body=None):
        """(status, headers, body) of one request."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def access_lines(self, count: int) -> list[str]:
        """The access log's lines, once it has `count` (gunicorn writes a line after its
        answer is sent)."""
        return self.access_lines_with(lambda lines: len(lines) >= count)

    def access_lines_with(self, done) -> list[str]:
        """The access log's lines, once `done(lines)` (or after 30 s): a line may come late,
        after the lines of a later request of another test."""
        deadline = time.monotonic() + 30
        while True:
            lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
            if done(lines) or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stderr.close()


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    server = Gunicorn(tmp_path_factory.mktemp("gunicorn"))
    yield server
    server.stop()


def test_the_access_log_holds_no_credentials(gunicorn):
    before = len(gunicorn.access_lines(0))
    basic = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    status, _, _ = gunicorn.request(
        "GET",
        "/healthcheck?probe=1",
        headers={
            "Authorization": f"Basic {basic}",
            "X-Auth-Token": WRITE_KEY,
            "X-Client-Access-Token": WRITE_KEY,
            "Cookie": "sessionid=secretsessionid; csrftoken=secretcsrftoken",
            "Referer": f"http://127.0.0.1/unsubscribe/{UNSUBSCRIBE_TOKEN}",
            "User-Agent": "analytics-python/2.3",
        },
    )
    assert status == 200
    gunicorn.request("GET", f"/unsubscribe/{UNSUBSCRIBE_TOKEN}")
    gunicorn.request("GET", "/api/v1/event/events", headers={"Authorization": f"Bearer {API_KEY}"})
    status, _, _ = gunicorn.request(
        "POST",
        "/v1/batch",
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/json"},
        body=b'{"batch": []}',
    )
    assert status == 401
    markers = (
        "/healthcheck?probe=1",
        "GET /unsubscribe/",
        "GET /api/v1/event/events",
        "POST /v1/batch",
    )
    logged = gunicorn.access_lines_with(
        lambda lines: all(any(m in line for line in lines[before:]) for m in markers)
    )
    lines = [next(line for line in logged[before:] if m in line) for m in markers]
    log = gunicorn.access_log.read_text()
    for secret in (WRITE_KEY, API_KEY, UNSUBSCRIBE_TOKEN, "secretsessionid", "secretcsrftoken"):
        assert secret not in log
    # The combined log format, with "-" for the user and the unsubscribe token.
    assert re.fullmatch(
        r'127\.0\.0\.1 - - \[[^]]+\] "GET /healthcheck\?probe=1 HTTP/1\.1" 200 \d+ '
        r'"http://127\.0\.0\.1/unsubscribe/-" "analytics-python/2\.3"',
        lines[0],
    ), lines[0]
    assert '"GET /unsubscribe/- HTTP/1.1"' in lines[1]
    assert '"GET /api/v1/event/events HTTP/1.1" 401' in lines[2]
    assert '"POST /v1/batch HTTP/1.1" 401' in lines[3]


def _catalog_query_path(ids) -> str:
    filter_ = {"operator": "in", "field": "id", "value": [str(pk) for pk in ids]}
    return "/api/v1/resource/catalog?" + urlencode({"filter": json.dumps(filter_)})


def test_a_get_query_of_150_ids_fits_the_request_line(gunicorn):
    path = _catalog_query_path(uuid.uuid4() for _ in range(150))
    assert 4094 < len(f"GET {path} HTTP/1.1") <= 8190  # past gunicorn's default limit
    status, _, body = gunicorn.request(
        "GET", path, headers={"Authorization": f"Bearer {gunicorn.api_key}"}
    )
    assert status == 200, body
    assert json.loads(body)["count"] == 0


def test_a_longer_line_is_a_json_414_pointing_to_the_post_form(gunicorn):
    path = _catalog_query_path(uuid.uuid4() for _ in range(1000))
    status, headers, body = gunicorn.request(
        "GET", path, headers={"Authorization": f"Bearer {gunicorn.api_key}"}
    )
    assert status == 414
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "detail": "The request line is too long: at most 8,190 bytes. Send a long resource "
        "query as POST /api/v1/resource/catalog/query, with `filter` and `sort` in a JSON body."
    }
    assert "Invalid request from ip=127.0.0.1: Request Line is too large" in (
        gunicorn.error_log.read_text()
    )


def test_a_header_too_large_is_a_json_431(gunicorn):
    status, headers, body = gunicorn.request(
        "GET", "/api/v1/event/events", headers={"X-Padding": "x" * 10_000}
    )
    assert status == 431
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "detail": "The request headers are too large: at most 100 headers of at most 8,190 "
        "bytes each."
    }


def test_the_post_form_takes_a_thousand_ids(gunicorn):
    filter_ = {"operator": "in", "field": "id", "value": [str(uuid.uuid4()) for _ in range(1000)]}
    status, _, body = gunicorn.request(
        "POST",
        "/api/v1/resource/catalog/query",
        headers={
            "Authorization": f"Bearer {gunicorn.api_key}",
            "Content-Type": "application/json",
        },
        body=json.dumps({"filter": filter_}).encode(),
    )
    assert status == 200, body
    assert json.loads(body)["count"] == 0


@pytest.mark.django_db
def test_djangos_own_log_lines_name_no_key(client, caplog):
    """A refused key is logged by its request's path only, never the header."""
    basic = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    response = client.post(
        "/v1/batch",
        b'{"batch": []}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 401
    response = client.get("/api/v1/event/events", HTTP_AUTHORIZATION=f"Bearer {API_KEY}")
    assert response.status_code == 401
    assert [record.getMessage() for record in caplog.records] == [
        "Unauthorized: /v1/batch",
        "Unauthorized: /api/v1/event/events",
    ]
    assert WRITE_KEY not in caplog.text and API_KEY not in caplog.text
