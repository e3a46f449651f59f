"""Who waits for whom when ingestion and a steward write one integration's catalog at once.

Ingestion writes rows that point at catalog resources (daily volumes, first and last seen,
violations, discovered properties under known events); a delete removes resources and what
points at them. Were both to run at once, a batch could write a volume for an event deleted a
moment before (a foreign-key violation) or the two could lock each other's rows in opposite
orders (a deadlock), and either the tracker or the steward would get an error.

So on PostgreSQL every ingestion transaction holds its integration's lock in shared mode (batches
never wait for each other) and a delete holds it exclusively, taken before anything else: a
delete waits for the batches in flight, and batches wait for the delete, then find its
resources gone and treat their names as unknown. The locks are PostgreSQL advisory locks,
released when the transaction ends; they touch no row, so hot events cost nothing extra.
SQLite runs one writer at a time and needs none of this.

Discovery also takes a per-integration lock of its own, exclusively, so the daily limits are
counted by one batch at a time.
"""

import uuid
from collections.abc import Iterable

from django.db import connection

#: The first key of our advisory locks ("EC" and a number): apart from any other user's.
_WRITERS = 0x45430001
_DISCOVERY = 0x45430002
_TAGS = 0x45430003


def _key(integration_id) -> int:
    """The integration's second key: 31 bits of its id (two sharing one only wait longer)."""
    return uuid.UUID(str(integration_id)).int & 0x7FFFFFFF


def _lock(function: str, space: int, integration_ids: Iterable) -> None:
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("Advisory transaction locks need a transaction.")
    with connection.cursor() as cursor:
        # Sorted, so that two deletes over the same integrations take them in one order.
        for key in sorted({_key(pk) for pk in integration_ids}):
            cursor.execute(f"SELECT {function}(%s, %s)", [space, key])


def share_integration(integration_id) -> None:
    """Ingestion writes to the integration's resources until the transaction ends."""
    _lock("pg_advisory_xact_lock_shared", _WRITERS, [integration_id])


def own_integrations(integration_ids: Iterable) -> None:
    """No batch writes to these integrations' resources until the transaction ends (for
    deletes); waits for the batches in flight."""
    _lock("pg_advisory_xact_lock", _WRITERS, integration_ids)


def discovery_turn(integration_id) -> None:
    """This transaction is the integration's only discovery until it ends."""
    _lock("pg_advisory_xact_lock", _DISCOVERY, [integration_id])


def tags_turn() -> None:
    """This transaction is the only one making tags by name until it ends (plan imports into
    different integrations may name the same new tag)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, 0)", [_TAGS])
