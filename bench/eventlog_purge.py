"""Benchmark of the event log purge: dropping a day's partition vs deleting its rows.

Not a test. On PostgreSQL the received-event log is partitioned by day (migration 0010), so
`purge_event_log` (catalog.services.eventlog) drops the partitions of the days past retention
instead of deleting their rows. This script fills one day with `--rows` events (1,000,000 by
default, by `INSERT ... SELECT generate_series`, with every index in place) plus a smaller
kept day, then times

1. **the purge**: `purge_event_log_report()` as cron runs it, with its clock set so the full day
   is past retention: it counts the partition's rows (for the report) and drops it; the count
   alone is timed first, so the drop's share shows;
2. **the naive baseline**: the same day filled again and removed by a DELETE of its rows (what
   `LoggedEvent.objects.filter(received_at__lt=cutoff).delete()` sends, i.e. an unpartitioned
   table's purge), then the VACUUM that gives the dead rows' space back, which a drop doesn't
   need.

It checks the kept day's events are all still there after each.

    uv run python bench/eventlog_purge.py                   # 1,000,000 events, PostgreSQL
    uv run python bench/eventlog_purge.py --rows 100000     # a quicker look

PostgreSQL only (SQLite has no partitions; its purge is the DELETE). The database, by default
`event_catalog_bench_ingest_purge` on 127.0.0.1, is created if missing and migrated; the
script only ever writes the event log of that database and refuses one whose log it did not
fill. Results go to stdout (progress to stderr); docs/PERFORMANCE.md is edited by hand.
"""

import argparse
import datetime as dt
import os
import platform
import shlex
import sys
import time
import uuid

from api import configure_django
from common import ensure_postgres_database, is_postgres, log, machine

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/event_catalog_bench_ingest_purge"
#: The day purged, far enough back to be past any retention; and the day kept.
PURGED_DAY = dt.date(2020, 1, 1)
KEPT_DAY = dt.date(2020, 1, 20)
KEPT_ROWS = 10_000
#: The bench's events all belong to this (made-up) integration: the log has no foreign key.
INTEGRATION = uuid.UUID("00000000-0000-4000-8000-00000000be7c")

FILL = """
INSERT INTO catalog_loggedevent (id, integration_id, received_at, sent_at, type, name, user_id,
    anonymous_id, message_id, properties, format)
SELECT gen_random_uuid(), %(integration)s, at, at - interval '2 seconds', 'track',
    'Event ' || (i %% 200), 'user-' || (i %% 50000), md5((i %% 80000)::text), md5(i::text),
    jsonb_build_object('n', i, 'path', '/products/' || (i %% 1000), 'total', (i %% 997) / 10.0,
        'currency', 'EUR', 'items', i %% 7),
    'segment'
FROM generate_series(0, %(rows)s - 1) AS i,
    LATERAL (SELECT %(day)s::timestamptz + make_interval(secs => i * 86399.0 / %(rows)s)) AS t(at)
"""


#: The purge's statements the report names; the rest are summed.
MAIN_STATEMENTS = ("SELECT count(*)", "DROP TABLE", "DELETE FROM")


def timed(what: str, function):
    log(what)
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    log(f"  {seconds:.3f} s")
    return seconds, result


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def count(cursor, day: dt.date | None = None) -> int:
    if day is None:
        cursor.execute("SELECT count(*) FROM catalog_loggedevent")
    else:
        cursor.execute(
            "SELECT count(*) FROM catalog_loggedevent WHERE received_at >= %s AND received_at < %s",
            [midnight(day), midnight(day + dt.timedelta(days=1))],
        )
    return cursor.fetchone()[0]


def check_ours() -> None:
    """Refuse a database whose event log holds anything but this script's events."""
    from catalog.models import LoggedEvent

    if LoggedEvent.objects.exclude(integration_id=INTEGRATION).exists():
        raise SystemExit(
            "This database's event log holds events the benchmark did not write: use its own "
            "database (--database-url)."
        )


def fill(day: dt.date, rows: int) -> None:
    from django.db import connection, transaction

    from catalog.services.eventlog import ensure_partitions, forget_partitions

    forget_partitions()
    with transaction.atomic(), connection.cursor() as cursor:
        ensure_partitions([day])
        cursor.execute(FILL, {"integration": INTEGRATION, "day": midnight(day), "rows": rows})
    with connection.cursor() as cursor:
        # Both contenders start from an analysed table with its visibility map set.
        cursor.execute("VACUUM ANALYZE catalog_loggedevent")


def partition_size(day: dt.date) -> str:
    from django.db import connection

    from catalog.services.eventlog import partition_name

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size(%s::regclass))", [partition_name(day)]
        )
        return cursor.fetchone()[0]


def run(rows: int) -> dict[str, str]:
    from django.conf import settings
    from django.db import connection, transaction

    from catalog.models import LoggedEvent
    from catalog.services.eventlog import partition_name, purge_event_log_report

    results: dict[str, str] = {}
    # The clock of the purge: the purged day is the last one past retention.
    now = midnight(PURGED_DAY) + dt.timedelta(days=settings.EVENT_LOG_RETENTION_DAYS + 1, hours=1)
    cutoff = midnight(PURGED_DAY + dt.timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE catalog_loggedevent")
    timed(f"filling {KEPT_DAY} with {KEPT_ROWS:,} kept events", lambda: fill(KEPT_DAY, KEPT_ROWS))

    fill_seconds, _ = timed(
        f"filling {PURGED_DAY} with {rows:,} events", lambda: fill(PURGED_DAY, rows)
    )
    results["Fill (INSERT ... SELECT, indexes in place, then VACUUM ANALYZE)"] = (
        f"{fill_seconds:.1f} s for {rows:,} events; the day's partition with indexes: "
        f"{partition_size(PURGED_DAY)}"
    )
    with connection.cursor() as cursor:
        count_seconds, counted = timed(
            "count(*) of the day's partition", lambda: count_partition(cursor, PURGED_DAY)
        )
    assert counted == rows, counted
    statements: dict[str, float] = {}

    def timing(execute, sql, params, many, context):
        # How long the purge's own statements take: the count for the report, the DROP.
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = sql.split(" ", 2)[0] + " " + sql.split(" ", 2)[1]
            statements[kind] = statements.get(kind, 0.0) + time.perf_counter() - start

    with connection.execute_wrapper(timing):
        purge_seconds, report = timed(
            "purge_event_log_report(): count and DROP the partition",
            lambda: purge_event_log_report(now=now),
        )
    assert report.cutoff == cutoff and report.events == rows, report
    assert report.days == (PURGED_DAY,), report
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [partition_name(PURGED_DAY)])
        assert cursor.fetchone()[0] is None
        assert count(cursor) == KEPT_ROWS
    in_statements = sum(statements.values())
    results["Purge: drop the day's partition (`purge_event_log`, with its count)"] = (
        f"**{purge_seconds:.3f} s**: the count(*) for the report "
        f"{statements.get('SELECT count(*)', 0):.3f} s (run alone just before: "
        f"{count_seconds:.3f} s), the DROP TABLE {statements.get('DROP TABLE', 0):.3f} s, "
        "the DELETEs (older rows outside day partitions, old message ids) "
        f"{statements.get('DELETE FROM', 0):.3f} s, other "
        f"statements {in_statements - sum(statements.get(k, 0) for k in MAIN_STATEMENTS):.3f} "
        f"s, and {purge_seconds - in_statements:.3f} s outside them, mostly the COMMIT, "
        "when PostgreSQL unlinks the dropped partition's files"
    )

    timed(f"filling {PURGED_DAY} again with {rows:,} events", lambda: fill(PURGED_DAY, rows))

    def delete() -> int:
        with transaction.atomic():
            deleted, _ = LoggedEvent.objects.filter(received_at__lt=cutoff).delete()
        return deleted

    delete_seconds, deleted = timed("DELETE of the day's rows (one statement)", delete)
    assert deleted == rows, deleted

    def vacuum() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {partition_name(PURGED_DAY)}")

    vacuum_seconds, _ = timed("VACUUM of the emptied partition", vacuum)
    with connection.cursor() as cursor:
        assert count(cursor) == KEPT_ROWS
        cursor.execute(f"DROP TABLE {partition_name(PURGED_DAY)}")
    results["Naive: DELETE the day's rows"] = f"**{delete_seconds:.3f} s**"
    results["... then VACUUM to reuse their space"] = f"{vacuum_seconds:.3f} s"
    results["Naive / purge"] = (
        f"DELETE {delete_seconds / purge_seconds:,.1f} times slower; "
        f"DELETE + VACUUM {(delete_seconds + vacuum_seconds) / purge_seconds:,.0f} times"
    )
    return results


def count_partition(cursor, day: dt.date) -> int:
    from catalog.services.eventlog import partition_name

    cursor.execute(f"SELECT count(*) FROM {partition_name(day)}")
    return cursor.fetchone()[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--rows", type=int, default=1_000_000, help="events in the purged day")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be positive")
    if not is_postgres(args.database_url):
        parser.error("PostgreSQL only: SQLite has no partitions, its purge is the DELETE")

    ensure_postgres_database(args.database_url)
    configure_django(args.database_url)
    import django
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    check_ours()
    load_before = os.getloadavg()[0]
    results = run(args.rows)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        database = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute("SHOW shared_buffers")
        database += f" (shared_buffers {cursor.fetchone()[0]})"
    env = {
        "Command": "`"
        + shlex.join(["uv", "run", "python", "bench/eventlog_purge.py", *sys.argv[1:]])
        + "`",
        "Date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "Machine": machine(),
        "Software": f"Python {platform.python_version()}, Django {django.get_version()}",
        "Database": database,
        "Load average": f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (1 minute)",
    }
    lines = [f"Purging one day of {args.rows:,} logged events.", ""]
    lines += [f"- {name}: {value}" for name, value in env.items()]
    lines += ["", "| what | time |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in results.items()]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
