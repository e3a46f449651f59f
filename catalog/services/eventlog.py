"""Writing the received-event log: day partitions on PostgreSQL, COPY for speed.

On PostgreSQL `catalog_loggedevent` is partitioned by day of `received_at` (migration 0010).
A row can only be stored once its day's partition exists, so the writer makes it first; each
process remembers which days it has made, so that costs one statement per process per day.
"""

import datetime as dt
import json
from collections.abc import Iterable

from django.db import IntegrityError, ProgrammingError, connection, transaction

from catalog.models import LoggedEvent

TABLE = LoggedEvent._meta.db_table
_COLUMNS = (
    "id",
    "integration_id",
    "received_at",
    "sent_at",
    "type",
    "name",
    "user_id",
    "anonymous_id",
    "message_id",
    "properties",
    "format",
)
#: Days whose partition this process has made (or found); reset when the table is purged.
_known_partitions: set[dt.date] = set()


def partition_name(day: dt.date) -> str:
    return f"{TABLE}_p{day:%Y%m%d}"


def ensure_partitions(days: Iterable[dt.date]) -> None:
    """Make the day partitions rows of `days` need (PostgreSQL; a no-op elsewhere)."""
    if connection.vendor != "postgresql":
        return
    missing = sorted(set(days) - _known_partitions)
    if not missing:
        return
    with connection.cursor() as cursor:
        for day in missing:
            start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            end = start + dt.timedelta(days=1)
            try:
                with transaction.atomic():
                    cursor.execute(
                        f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF "
                        f"{TABLE} FOR VALUES FROM (%s) TO (%s)",
                        [start, end],
                    )
            except (IntegrityError, ProgrammingError):
                # Another process made it at the same moment (IF NOT EXISTS doesn't cover a
                # race of two creators): it exists now, which is all we need.
                pass
    # Remembered once committed: a rolled-back transaction takes its partitions with it.
    transaction.on_commit(lambda: _known_partitions.update(missing))


def forget_partitions() -> None:
    """Forget what this process knows of the partitions (after a purge dropped some)."""
    _known_partitions.clear()


def log_events(rows: list[LoggedEvent]) -> None:
    """Store `rows` in the event log: one COPY on PostgreSQL, one bulk insert elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        _insert_many(rows)
        return
    ensure_partitions({row.received_at.astimezone(dt.UTC).date() for row in rows})
    statement = f"COPY {TABLE} ({', '.join(_COLUMNS)}) FROM STDIN"
    # The raw psycopg cursor: Django's wrapper has no COPY.
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                (
                    row.id,
                    row.integration_id,
                    row.received_at,
                    row.sent_at,
                    row.type,
                    row.name,
                    row.user_id,
                    row.anonymous_id,
                    row.message_id,
                    json.dumps(row.properties, ensure_ascii=False),
                    row.format,
                )
            )


def _insert_many(rows: list[LoggedEvent]) -> None:
    """One statement run for every row (bulk_create would split a batch into many)."""
    ops = connection.ops
    placeholders = ", ".join(["%s"] * len(_COLUMNS))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {TABLE} ({', '.join(_COLUMNS)}) VALUES ({placeholders})",
            [
                (
                    row.id.hex,
                    row.integration_id.hex,
                    ops.adapt_datetimefield_value(row.received_at),
                    ops.adapt_datetimefield_value(row.sent_at),
                    row.type,
                    row.name,
                    row.user_id,
                    row.anonymous_id,
                    row.message_id,
                    json.dumps(row.properties, ensure_ascii=False),
                    row.format,
                )
                for row in rows
            ],
        )
