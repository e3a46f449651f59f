"""Two `serve` or `migrate` runs at once on a fresh database: the second waits for the first.

Each test holds the database's set-up lock itself while it starts two real processes, so both
are sure to meet it; once both say they wait, it lets go, and they race for it.
"""

import fcntl
import sqlite3
from contextlib import closing, contextmanager

import pytest
from django.db import connection

from catalog.management.commands.migrate import WAITING as MIGRATE_WAITING
from catalog.management.commands.serve import WAITING as SERVE_WAITING
from catalog.management.setup_lock import ADVISORY_LOCK_KEY, sqlite_lock_path
from tests.processes import (
    Output,
    connect_postgresql,
    free_port,
    fresh_postgresql_database,
    manage,
    trial_env,
    wait_for,
)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="runs against the suite's PostgreSQL server (a fresh database of its own)",
)

#: The demo catalog's size, as `serve` prints it.
DEMO = {"integrations": 3, "events": 122, "users": 10}


@contextmanager
def postgresql_lock_held(name: str):
    with connect_postgresql(name) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        yield


@contextmanager
def sqlite_lock_held(database):
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(sqlite_lock_path(database), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def counts_postgresql(name: str) -> dict[str, int]:
    with connect_postgresql(name) as conn:
        return catalog_counts(lambda query: conn.execute(query).fetchone()[0])


def counts_sqlite(database) -> dict[str, int]:
    with closing(sqlite3.connect(database)) as conn:
        return catalog_counts(lambda query: conn.execute(query).fetchone()[0])


def catalog_counts(scalar) -> dict[str, int]:
    return {
        "integrations": scalar("SELECT count(*) FROM catalog_integration"),
        "events": scalar("SELECT count(*) FROM catalog_resource WHERE entity_type = 'event'"),
        "users": scalar("SELECT count(*) FROM catalog_user"),
        "migrations applied twice": scalar(
            "SELECT count(*) - count(DISTINCT app || '.' || name) FROM django_migrations"
        ),
    }


def two_at_once(args_of, env, lock_held, waiting: str) -> list[Output]:
    """Start two runs (`args_of(i)`) while the test holds the lock; let go once both wait."""
    with lock_held():
        runs = [Output(manage(*args_of(i), env=env)) for i in range(2)]
        for run in runs:
            run.wait_for_line(waiting)
    return runs


def serve_twice(env, lock_held) -> list[str]:
    ports = [free_port(), free_port()]
    runs = two_at_once(
        lambda i: ["serve", "--addr", f"127.0.0.1:{ports[i]}"], env, lock_held, SERVE_WAITING
    )
    try:
        for run, port in zip(runs, ports, strict=True):
            run.wait_for_line("Event Catalog is starting on")
            assert wait_for(f"http://127.0.0.1:{port}/healthcheck") == 200
    finally:
        outputs = [run.stop() for run in runs]
    return outputs


def assert_one_demo_was_loaded(outputs: list[str], counts: dict[str, int]) -> None:
    loaded = [out for out in outputs if "Loaded the demo catalog" in out]
    assert len(loaded) == 1, outputs
    [other] = [out for out in outputs if out is not loaded[0]]
    assert "The catalog has resources already; not loading the demo." in other
    assert counts == {**DEMO, "migrations applied twice": 0}
    for out in outputs:
        assert "Traceback" not in out and "Error" not in out, out


@on_postgresql
def test_two_serve_at_once_on_a_fresh_postgresql_database_load_one_demo(tmp_path):
    with fresh_postgresql_database("setup") as (name, url):
        env = trial_env(tmp_path, DATABASE_URL=url, DJANGO_DEBUG="1")
        outputs = serve_twice(env, lambda: postgresql_lock_held(name))
        counts = counts_postgresql(name)

    assert_one_demo_was_loaded(outputs, counts)


def test_two_serve_at_once_on_a_fresh_sqlite_database_load_one_demo(tmp_path):
    env = trial_env(tmp_path)
    database = tmp_path / "event-catalog.sqlite3"

    outputs = serve_twice(env, lambda: sqlite_lock_held(database))

    assert_one_demo_was_loaded(outputs, counts_sqlite(database))
    # Both print the demo accounts the one that loaded the demo wrote down.
    tables = [out[out.index("  username  role") :].splitlines()[:4] for out in outputs]
    assert tables[0] == tables[1]


def migrate_twice(env, lock_held) -> list[str]:
    runs = two_at_once(lambda i: ["migrate"], env, lock_held, MIGRATE_WAITING)
    outputs = [run.finish() for run in runs]
    assert [run.process.returncode for run in runs] == [0, 0], outputs
    applied = [out for out in outputs if "Applying catalog.0001_initial... OK" in out]
    assert len(applied) == 1, outputs
    [other] = [out for out in outputs if out is not applied[0]]
    assert "No migrations to apply." in other
    return outputs


@on_postgresql
def test_two_migrate_at_once_on_a_fresh_postgresql_database(tmp_path):
    with fresh_postgresql_database("migrate") as (name, url):
        env = trial_env(tmp_path, DATABASE_URL=url, DJANGO_DEBUG="1")
        migrate_twice(env, lambda: postgresql_lock_held(name))
        counts = counts_postgresql(name)

    assert counts == {"integrations": 0, "events": 0, "users": 0, "migrations applied twice": 0}


def test_two_migrate_at_once_on_a_fresh_sqlite_database(tmp_path):
    env = trial_env(tmp_path)
    database = tmp_path / "event-catalog.sqlite3"

    migrate_twice(env, lambda: sqlite_lock_held(database))

    assert counts_sqlite(database)["migrations applied twice"] == 0


@on_postgresql
def test_another_database_on_the_server_does_not_wait(tmp_path):
    """The lock is the database's: migrating one catalog never holds up another."""
    with (
        fresh_postgresql_database("busy") as (busy, _),
        fresh_postgresql_database("free") as (_, url),
    ):
        env = trial_env(tmp_path, DATABASE_URL=url, DJANGO_DEBUG="1")
        with postgresql_lock_held(busy):
            run = Output(manage("migrate", env=env))
            output = run.finish()

    assert run.process.returncode == 0, output
    assert MIGRATE_WAITING not in output
    assert "Applying catalog.0001_initial... OK" in output
