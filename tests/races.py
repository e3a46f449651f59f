"""Two transactions at once on PostgreSQL, deterministically: one is held open in the test's
thread while the other runs in a thread of its own, and the test lets go only once that
thread waits for a lock (or has finished without waiting, which is what a missing lock
would do)."""

import threading

from django.db import connection, connections


def wait_until_blocked_or_done(thread: threading.Thread) -> None:
    """Return once `thread` waits for a lock, or has finished."""
    while thread.is_alive():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
        thread.join(0.01)


def in_thread(work, *, expected: type[Exception] = Exception) -> tuple[threading.Thread, list]:
    """A thread (not started) that runs `work` on its own connection, and the list that will
    hold what it returned or the `expected` error it raised."""
    outcome: list = []

    def run():
        try:
            outcome.append(work())
        except expected as error:
            outcome.append(error)
        finally:
            connections.close_all()

    return threading.Thread(target=run), outcome
