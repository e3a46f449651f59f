"""One schema change or first start at a time per database.

Two `migrate` (or `serve`) runs on a fresh database would both create the same tables: the
second fails with "relation already exists" or a duplicate key, or both load the demo catalog.
`setup_lock` makes the second wait for the first, saying so, and then find nothing left to do.

- PostgreSQL: a session-level advisory lock, taken on a connection of its own so that nothing
  the command does to its connection can release it early. Advisory locks belong to one
  database, so other databases on the server are not held up. (Behind PgBouncer in transaction
  pooling mode a session lock does not hold: migrate over a direct connection.)
- SQLite: an exclusive `flock` on a file next to the database file (`<database>.setup-lock`),
  which every process on the machine sees. An in-memory database has no other process.
- Other databases: no lock.

The lock is released when the block ends, or when the process dies (the session or the file
closes), so a killed run never leaves others waiting.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, connections

try:
    import fcntl
except ImportError:  # Windows: no flock; runs there are not serialised.
    fcntl = None

#: The advisory lock's key on PostgreSQL ("EvCtSetu"): a constant that no other code takes.
ADVISORY_LOCK_KEY = 0x4576_4374_5365_7475

#: How many `setup_lock` blocks this process is inside, per database alias: `serve` holds the
#: lock around `migrate`, which takes it again.
_held: Counter[str] = Counter()


def sqlite_lock_path(database: str | Path) -> Path:
    """The lock file of a SQLite database file."""
    return Path(f"{database}.setup-lock")


@contextmanager
def setup_lock(alias: str = DEFAULT_DB_ALIAS, *, on_wait: Callable[[], None]) -> Iterator[None]:
    """Hold the database's set-up lock for the block; call `on_wait` first if another process
    holds it (then wait for it)."""
    if _held[alias]:
        lock = _nothing()
    else:
        connection = connections[alias]
        if connection.vendor == "postgresql":
            lock = _advisory_lock(connection, on_wait)
        elif connection.vendor == "sqlite" and not connection.is_in_memory_db():
            lock = _file_lock(sqlite_lock_path(connection.settings_dict["NAME"]), on_wait)
        else:
            lock = _nothing()
    with lock:
        _held[alias] += 1
        try:
            yield
        finally:
            _held[alias] -= 1


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@contextmanager
def _advisory_lock(connection, on_wait: Callable[[], None]) -> Iterator[None]:
    session = connection.copy()
    try:
        with session.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
            if not cursor.fetchone()[0]:
                on_wait()
                cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        yield
    finally:
        session.close()  # Ends the session, which releases its advisory locks.


@contextmanager
def _file_lock(path: Path, on_wait: Callable[[], None]) -> Iterator[None]:
    with ExitStack() as stack:
        try:
            # Created on first use, never truncated, and kept afterwards: removing it would let
            # a waiting process lock a file that a newcomer no longer sees.
            handle = stack.enter_context(open(path, "a"))
        except OSError:
            # No such directory, or not writable: the database can't be created there either,
            # and SQLite's own error says so better than this one would.
            handle = None
        if handle is not None and fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                on_wait()
                fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # Closing the file releases the lock.
