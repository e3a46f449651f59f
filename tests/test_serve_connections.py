"""`manage.py serve` on PostgreSQL holds database connections only while it answers.

Django's development server serves each client connection on a new thread, and each thread
opens its own database connection; with CONN_MAX_AGE (60 s on PostgreSQL by default) nothing
closed it when the thread ended, so a few busy clients ran the server out of connections.
"""

import http.client
import threading

import pytest
from django.db import connection

from tests.processes import (
    Output,
    connect_postgresql,
    free_port,
    fresh_postgresql_database,
    manage,
    trial_env,
    wait_for,
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="kept connections are PostgreSQL's (CONN_MAX_AGE); SQLite opens a file per request",
)

#: Clients sending requests at the same time, each on a new TCP connection per request.
CLIENTS = 3
REQUESTS_PER_CLIENT = 40
#: Clients that keep their HTTP connection open (keep-alive) after one request, as browsers do.
IDLE_CLIENTS = 20


def get(port: int, path: str, conn: http.client.HTTPConnection | None = None) -> int:
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status


def database_connections(name: str) -> list[tuple[str, str]]:
    """(state, query) of every connection to database `name` but this one."""
    with connect_postgresql(name) as conn:
        return conn.execute(
            "SELECT state, query FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()


def test_serve_keeps_no_database_connection_after_a_request(tmp_path):
    with fresh_postgresql_database("serve") as (name, url):
        port = free_port()
        env = trial_env(
            tmp_path,
            DATABASE_URL=url,
            DJANGO_DEBUG="0",
            SECRET_KEY="a-test-only-secret-key-for-a-server-on-localhost-0123456789",
            SECURE_SSL_REDIRECT="0",
        )
        server = Output(manage("serve", "--no-demo", "--addr", f"127.0.0.1:{port}", env=env))
        idle: list[http.client.HTTPConnection] = []
        try:
            assert wait_for(f"http://127.0.0.1:{port}/healthcheck") == 200
            statuses: list[int] = []

            def client():
                for _ in range(REQUESTS_PER_CLIENT // 2):
                    statuses.append(get(port, "/healthcheck"))
                    statuses.append(get(port, "/login/"))

            threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for _ in range(IDLE_CLIENTS):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                statuses.append(get(port, "/healthcheck", conn))
                idle.append(conn)

            held = database_connections(name)
        finally:
            for conn in idle:
                conn.close()
            output = server.stop()

    assert statuses == [200] * (CLIENTS * REQUESTS_PER_CLIENT + IDLE_CLIENTS), output
    # At most the last requests' threads, still closing theirs; never one per request or per
    # open client connection.
    assert len(held) <= 5, held
