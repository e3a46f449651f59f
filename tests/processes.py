"""Running the catalog's commands as real processes, as an operator does: ports, environments,
a fresh PostgreSQL database of their own, and reading what they print."""

import os
import queue
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import environ
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent

#: What the real server's environment leaves out, to run as a trial: what the test run set.
TRIAL_UNSET = {
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "DATABASE_URL",
    "DJANGO_DEBUG",
    "ALLOWED_HOSTS",
    "ADMIN_PASSWORD",
    "TASKS_BACKEND",
    "EMAIL_URL",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> int:
    """The status of `url` once something answers there (a deadline, not a measurement)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def trial_env(data_dir: Path, **env: str) -> dict[str, str]:
    """This environment without what the test run set, plus `env`: a trial in `data_dir`."""
    clean = {k: v for k, v in os.environ.items() if k not in TRIAL_UNSET}
    return {**clean, "DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", **env}


def start(argv: list[str], *, env: dict[str, str]) -> subprocess.Popen:
    """Run `argv` in the project directory, its output (both streams) piped."""
    return subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def manage(*args: str, env: dict[str, str]) -> subprocess.Popen:
    """`python manage.py ARGS`, as `start` runs it."""
    return start([sys.executable, "manage.py", *args], env=env)


class Output:
    """What a process prints, line by line, read on a thread so the test can wait for a line
    without blocking on a process that prints nothing more."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.lines: list[str] = []
        self._new: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._new.put(line.rstrip("\n"))
        self._new.put(None)

    def wait_for_line(self, text: str, seconds: float = 120) -> str:
        """The first line (from now on) that contains `text`; AssertionError with everything
        printed if the process ends or the deadline passes first."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                line = self._new.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"{text!r} never printed. Output:\n" + self.text)
            self.lines.append(line)
            if text in line:
                return line

    def finish(self, seconds: float = 120) -> str:
        """Everything it printed, once it has exited."""
        self.process.wait(timeout=seconds)
        self._reader.join(timeout=seconds)
        while not self._new.empty():
            if (line := self._new.get_nowait()) is not None:
                self.lines.append(line)
        return self.text

    def stop(self) -> str:
        """End it as CONTROL-C would, then return everything it printed."""
        if self.process.poll() is None:
            self.process.terminate()
        return self.finish()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def database_settings() -> dict:
    """The server, user and name the suite was given (DATABASE_URL), not the test database."""
    return environ.Env.db_url_config(os.environ["DATABASE_URL"])


def connect_postgresql(name: str) -> psycopg.Connection:
    """An autocommit connection to database `name` on the suite's PostgreSQL server."""
    given = database_settings()
    return psycopg.connect(
        host=given.get("HOST") or None,
        port=given.get("PORT") or None,
        user=given.get("USER") or None,
        password=given.get("PASSWORD") or None,
        dbname=name,
        autocommit=True,
    )


@contextmanager
def fresh_postgresql_database(purpose: str) -> Iterator[tuple[str, str]]:
    """A new, empty database on the suite's PostgreSQL server, named after the suite's own
    (so parallel runs on one server don't collide), dropped afterwards. Yields (name, URL)."""
    name = f"{database_settings()['NAME']}_{purpose}_{uuid.uuid4().hex[:8]}"
    with connect_postgresql("postgres") as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()
    try:
        yield name, url
    finally:
        with connect_postgresql("postgres") as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def trial_database(data_dir: Path, purpose: str) -> Iterator[tuple[dict, Callable]]:
    """A fresh database of the suite's kind for a process: a SQLite file in `data_dir`, or a
    new PostgreSQL database. Yields the environment that points a process at it, and
    `query(statement, params)` for the test's own reads (placeholders written `%s`)."""
    if os.environ.get("DATABASE_URL", "sqlite").startswith("sqlite"):

        def query_sqlite(statement: str, params=()) -> list[tuple]:
            with closing(sqlite3.connect(data_dir / "event-catalog.sqlite3")) as db:
                return db.execute(statement.replace("%s", "?"), params).fetchall()

        yield {}, query_sqlite
        return
    with fresh_postgresql_database(purpose) as (name, url):

        def query_postgresql(statement: str, params=()) -> list[tuple]:
            with connect_postgresql(name) as db:
                return db.execute(statement, params).fetchall()

        yield {"DATABASE_URL": url}, query_postgresql


def command_name(command) -> str:
    """The name of a command `call_command` was given, by name or as a command object."""
    if isinstance(command, str):
        return command
    return type(command).__module__.rpartition(".")[2]
