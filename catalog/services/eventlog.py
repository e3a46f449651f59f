"""Writing the received-event log: day partitions on PostgreSQL, COPY for speed.

On PostgreSQL `catalog_loggedevent` is partitioned by day of `received_at` (migration 0010).
A row can only be stored once its day's partition exists, so the writer makes it first; each
process remembers which days it has made, so that costs one statement per process per day.
"""

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from catalog.models import IngestedMessage, LoggedEvent

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
#: SQLSTATEs of a partition that another process made meanwhile: duplicate_table, and
#: unique_violation (of the catalog's type names, when both created it at once).
_MADE_MEANWHILE = {"42P07", "23505"}
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
            # The bounds are literals, not parameters: DDL takes none when the database
            # connection binds parameters on the server (prepared statements).
            start, end = day.isoformat(), (day + dt.timedelta(days=1)).isoformat()
            try:
                with transaction.atomic():
                    cursor.execute(
                        f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF "
                        f"{TABLE} FOR VALUES FROM ('{start} 00:00:00+00') "
                        f"TO ('{end} 00:00:00+00')"
                    )
            except (IntegrityError, ProgrammingError) as error:
                # Another process made it at the same moment (IF NOT EXISTS doesn't cover a
                # race of two creators): it exists now, which is all we need. Any other
                # error is one: swallowed, it would come back as "no partition" later.
                if getattr(error.__cause__, "sqlstate", None) not in _MADE_MEANWHILE:
                    raise
    # Remembered once committed: a rolled-back transaction takes its partitions with it.
    transaction.on_commit(lambda: _known_partitions.update(missing))


def forget_partitions() -> None:
    """Forget what this process knows of the partitions (after a purge dropped some)."""
    _known_partitions.clear()


def log_events(rows: list[LoggedEvent]) -> None:
    """Store `rows` in the event log: one COPY on PostgreSQL, one statement elsewhere."""
    log_rows([_values(row) for row in rows])


def log_rows(rows: list[tuple]) -> None:
    """`log_events` for plain tuples from `event_row` (ingestion builds no model objects:
    a hundred of them cost more than the COPY)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        _insert_many(rows)
        return
    ensure_partitions({row[2].astimezone(dt.UTC).date() for row in rows})
    statement = f"COPY {TABLE} ({', '.join(_COLUMNS)}) FROM STDIN"
    # The raw psycopg cursor: Django's wrapper has no COPY.
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def event_row(**values) -> tuple:
    """One event as `log_rows` takes it: its `_COLUMNS` values (as keywords, all of them) in
    order, the properties as JSON text."""
    if values.keys() != set(_COLUMNS):
        raise TypeError(f"event_row takes exactly {', '.join(_COLUMNS)}")
    values["properties"] = json.dumps(values["properties"], ensure_ascii=False)
    return tuple(values[column] for column in _COLUMNS)


def _values(row: LoggedEvent) -> tuple:
    return event_row(**{column: getattr(row, column) for column in _COLUMNS})


def _insert_many(rows: list[tuple]) -> None:
    """One statement run for every row (bulk_create would split a batch into many)."""
    adapt = connection.ops.adapt_datetimefield_value
    placeholders = ", ".join(["%s"] * len(_COLUMNS))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {TABLE} ({', '.join(_COLUMNS)}) VALUES ({placeholders})",
            # SQLite keeps UUIDs as 32 hex digits.
            [(r[0].hex, r[1].hex, adapt(r[2]), adapt(r[3]), *r[4:]) for r in rows],
        )


# --- retention ------------------------------------------------------------------------------

#: How long a message id is kept to drop a retried batch's duplicates.
MESSAGE_ID_WINDOW = dt.timedelta(hours=24)
#: How long a purge waits for a lock before giving up (it runs again the next day): dropping a
#: partition locks the whole log, and waiting behind a long read would stall ingestion too.
PURGE_LOCK_TIMEOUT = "10s"
_PARTITION_NAME = re.compile(re.escape(TABLE) + r"_p([0-9]{8})")


@dataclass(frozen=True)
class PurgeReport:
    """What `purge_event_log_report` removed."""

    #: Events received before this moment (midnight UTC) are gone.
    cutoff: dt.datetime
    events: int
    #: The day partitions dropped (PostgreSQL); none elsewhere.
    days: tuple[dt.date, ...]
    messages: int

    def as_dict(self) -> dict:
        return {
            "cutoff": self.cutoff.isoformat(),
            "events": self.events,
            "days": [day.isoformat() for day in self.days],
            "messages": self.messages,
        }

    def __str__(self) -> str:
        dropped = f"; dropped {len(self.days)} day partition(s)" if self.days else ""
        return (
            f"Removed {self.events} logged event(s) received before {self.cutoff:%Y-%m-%d %H:%M} "
            f"UTC{dropped}, and {self.messages} message id(s) older than 24 hours."
        )


def event_log_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Midnight UTC `EVENT_LOG_RETENTION_DAYS` days before `now`: older events are purged.

    A whole day, so a purge drops whole day partitions and never a row newer than this.
    """
    now = now or timezone.now()
    day = (now.astimezone(dt.UTC) - dt.timedelta(days=settings.EVENT_LOG_RETENTION_DAYS)).date()
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _day_partitions(cursor) -> dict[dt.date, str]:
    """The log's partitions named by the scheme of `partition_name`, by day."""
    cursor.execute(
        "SELECT child.relname FROM pg_inherits "
        "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
        "WHERE pg_inherits.inhparent = %s::regclass",
        [TABLE],
    )
    days = {}
    for (name,) in cursor.fetchall():
        match = _PARTITION_NAME.fullmatch(name)
        if match:
            try:
                day = dt.datetime.strptime(match[1], "%Y%m%d").date()
            except ValueError:
                continue  # not one of ours
            if partition_name(day) == name:
                days[day] = name
    return days


def purge_event_log_report(*, now: dt.datetime | None = None) -> PurgeReport:
    """Remove the events received before `event_log_cutoff(now)` and message ids older than
    24 hours; say what went.

    On PostgreSQL the old days' partitions are dropped whole (a DELETE of a million rows
    takes minutes and leaves the table to vacuum; a drop takes milliseconds), after counting
    their rows for the report. Rows older than the cutoff in any other partition are deleted.
    Elsewhere (SQLite) it is one DELETE.
    """
    now = now or timezone.now()
    cutoff = event_log_cutoff(now)
    dropped: list[dt.date] = []
    with transaction.atomic():
        events = 0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{PURGE_LOCK_TIMEOUT}'")
                for day, name in sorted(_day_partitions(cursor).items()):
                    # A day partition holds [day, day + 1): all older than a midnight cutoff.
                    if day >= cutoff.date():
                        continue
                    cursor.execute(f"SELECT count(*) FROM {name}")
                    events += cursor.fetchone()[0]
                    cursor.execute(f"DROP TABLE {name}")
                    dropped.append(day)
        # What no dropped partition held (everything, on SQLite); on PostgreSQL the planner
        # skips the day partitions at or after the cutoff, so this reads nothing as a rule.
        deleted, _ = LoggedEvent.objects.filter(received_at__lt=cutoff).delete()
        events += deleted
        messages, _ = IngestedMessage.objects.filter(
            received_at__lt=now - MESSAGE_ID_WINDOW
        ).delete()
    if dropped:
        forget_partitions()
    # Make the next days' partitions now, so the first batch after midnight doesn't have to
    # (creating one briefly locks the whole log).
    today = now.astimezone(dt.UTC).date()
    ensure_partitions(today + dt.timedelta(days=n) for n in range(3))
    return PurgeReport(cutoff=cutoff, events=events, days=tuple(dropped), messages=messages)


def purge_event_log(*, now: dt.datetime | None = None) -> int:
    """Purge the event log as `purge_event_log_report` does; the number of events removed."""
    return purge_event_log_report(now=now).events
