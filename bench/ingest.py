"""Benchmark of event ingestion: Segment batches of track calls under gunicorn and PostgreSQL.

Not a test: it makes a catalog of `--events` events with `--properties` typed properties each
(some required, allowed values on a few) in its own database, starts the project under gunicorn
on 127.0.0.1 and sends `POST /v1/batch` requests of `--batch-size` (100) track calls from
`--concurrency` client processes for `--seconds`, with the integration validating in `--mode`
(`flag` by default). It reports events/s, the p50 and p99 latency of a batch and the SQL
statements of a batch, side by side, in the same run and on the same database, with

* the pipeline in-process: the same batches through Django's test client (the view, no
  server), and through `ingest()` alone (no HTTP, no parsing);
* a naive path: the same events saved with the ORM one at a time (per event: look up the event
  by name, `LoggedEvent.save()`, `get_or_create` and an `F()` update of its `DailyVolume` and
  `ResourceSeen` rows), one transaction per batch;
* the floor: PostgreSQL `COPY` of the same rows into the event log, one transaction per batch,
  which any implementation pays to store them.

    uv run python bench/ingest.py                        # 2 workers, 8 clients, 15 s
    uv run python bench/ingest.py --workers 2,3,4        # one HTTP row per worker count
    uv run python bench/ingest.py --mode block --unknown-share 0.1
    uv run python bench/ingest.py --profile              # cProfile of the view, 200 batches
    uv run python bench/ingest.py --write-docs           # also refresh docs/PERFORMANCE.md
    uv run python bench/ingest.py --project /work/old    # this script on other product code
    uv run python bench/ingest.py --flood --seconds 60   # new names flooding discover mode
    uv run python bench/ingest.py --names 250,500,1000   # one event with that many new names

`--project` measures the product code of another checkout (a git worktree of an older commit,
say) with this version of the script, its traffic and its options, so a before/after
comparison runs the same benchmark on both: Django is imported from there and gunicorn is
started there (this checkout's virtual environment serves both; give each tree its own
`--database-url`, as their migrations differ).

`--flood` measures discover mode against a sender of new names instead: the biggest batch the
API takes (1 MB, 500 track calls under 32 KB each) packed with new property names, then
batches of further new names, for `--seconds` per row, from one client, each row from an empty
catalog: with the integration's default discovery limits, with the highest an admin can set
(as before the limits), the same batches in flag mode, and a normal batch of known events. It
reports the catalog, history and violation rows added, the database's growth and the time of
each batch.

PostgreSQL only (the event log is partitioned there and written with COPY). Every run starts
from an empty catalog and empty tracking tables in the dedicated database (default
`event_catalog_bench_ingest`); the script refuses to wipe a database holding an integration it
did not create.
"""

import argparse
import base64
import contextlib
import cProfile
import datetime as dt
import http.client
import io
import json
import math
import multiprocessing
import os
import platform
import pstats
import random
import shlex
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from common import DOCS_PATH, ensure_postgres_database, is_postgres, log, machine, write_section

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/event_catalog_bench_ingest"
DOC_START = "<!-- bench:ingest:start -->"
DOC_END = "<!-- bench:ingest:end -->"
DOC_HEADING = "## Ingestion: Segment batches under gunicorn\n\n"
INTEGRATION = "bench-ingest"
SEED = 20260301
PATH = "/v1/batch"

#: The goals, checked and printed as PASS/FAIL.
GOAL_EVENTS_PER_S = 10_000
GOAL_FLOOR_RATIO = 3.0
GOAL_NAIVE_RATIO = 20.0

#: What the events look like: a property's type -> (a right value, a wrong one).
CATEGORIES = "Checkout Catalog Account Search Content Video Onboarding Billing Social Support"
NOUNS = "Product Cart Order Payment Coupon Page Video Article Signup Invite Report File Review"
VERBS = "Viewed Clicked Added Removed Started Completed Failed Updated Shared Opened"
PROPERTY_NAMES = (
    "product_id", "product_name", "price", "quantity", "currency", "category", "url",
    "referrer", "is_member", "created_at", "tags", "options", "position", "source", "coupon",
    "revenue", "plan", "session_id",
)  # fmt: skip
TYPES = ["string"] * 5 + ["number", "integer", "integer", "boolean", "datetime", "array", "object"]
PLATFORMS = ["web", "ios", "android"]
UNKNOWN_NAMES = 20  # distinct unknown event names in the traffic
MESSAGE_ID_MARK = "@@MID@@"
REQUEST_TIMEOUT = 30.0
SERVER_SIDE = ("gunicorn", "PostgreSQL")


# --- set-up ---------------------------------------------------------------------------------


def configure(database_url: str, mode: str, project: Path | None = None) -> None:
    """Django as production runs it (DEBUG off), the rate limit out of the way, then
    `api.configure_django` (test client host, no SSL redirect). With `project`, the product
    code (Django's import path and gunicorn's directory) is that checkout's."""
    os.environ["INGEST_RATE_PER_SECOND"] = "1000000"
    os.environ["INGEST_BURST"] = "1000000"
    import api

    if project is not None:
        api.BASE_DIR = project
    api.configure_django(database_url)


def product_version() -> str:
    """The commit of the product code measured (`--project`, or this checkout)."""
    import api

    try:
        return subprocess.run(
            ["git", "-C", str(api.BASE_DIR), "log", "-1", "--format=%h %s"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()[:90]  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


@dataclass(frozen=True)
class PropSpec:
    name: str
    data_type: str
    required: bool
    allowed: tuple[str, ...] | None


@dataclass(frozen=True)
class EventSpec:
    name: str
    props: tuple[PropSpec, ...]


def catalog_plan(events: int, properties: int, rng: random.Random) -> list[EventSpec]:
    """The events of the catalog, each with `properties` typed properties: the first two are
    required, and one event in four has a `platform` property with allowed values."""
    nouns, verbs = NOUNS.split(), VERBS.split()
    plan = []
    for i in range(events):
        name = f"{nouns[i % len(nouns)]} {verbs[(i // len(nouns)) % len(verbs)]}"
        if i >= len(nouns) * len(verbs):
            name += f" {i}"
        names = rng.sample(PROPERTY_NAMES, min(properties, len(PROPERTY_NAMES)))
        names += [f"extra_{n}" for n in range(properties - len(names))]
        props = []
        for j, prop in enumerate(names):
            if i % 4 == 0 and j == len(names) - 1:
                props.append(PropSpec("platform", "string", False, tuple(PLATFORMS)))
                continue
            props.append(PropSpec(prop, rng.choice(TYPES), j < 2, None))
        plan.append(EventSpec(name, tuple(props)))
    return plan


def reset_database(mode: str, plan: list[EventSpec]):
    """Empty the catalog and the tracking tables, then make the integration, its catalog and a
    write key; returns (integration, secret)."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from catalog.models import EntityType, Integration, Resource
    from catalog.services.context import ChangeContext
    from catalog.services.eventlog import forget_partitions
    from catalog.services.writekeys import write_key_create

    call_command("migrate", verbosity=0, interactive=False)
    foreign = Integration.objects.exclude(name=INTEGRATION).values_list("name", flat=True)[:3]
    if foreign:
        raise SystemExit(
            f"The database holds integrations this script did not create ({', '.join(foreign)}); "
            "use a dedicated database (--database-url)."
        )
    tables = [
        "catalog_loggedevent",
        "catalog_ingestedmessage",
        "catalog_dailyvolume",
        "catalog_resourceseen",
        "catalog_violation",
        "catalog_writekey",
        "catalog_resource",
        "catalog_integration",
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    forget_partitions()
    with transaction.atomic():
        integration = Integration.objects.create(
            name=INTEGRATION, type="segment", validation_mode=mode
        )
        categories = [
            Resource(entity_type=EntityType.EVENT_CATEGORY, title=title, integration=integration)
            for title in CATEGORIES.split()
        ]
        Resource.objects.bulk_create(categories)
        events, props = [], []
        for i, spec in enumerate(plan):
            event = Resource(
                entity_type=EntityType.EVENT,
                title=spec.name,
                integration=integration,
                parent=categories[i % len(categories)],
            )
            events.append(event)
            props += [
                Resource(
                    entity_type=EntityType.EVENT_PROPERTY,
                    title=p.name,
                    integration=integration,
                    parent=event,
                    data_type=p.data_type,
                    required=p.required,
                    allowed_values=list(p.allowed) if p.allowed else None,
                )
                for p in spec.props
            ]
        Resource.objects.bulk_create(events)
        Resource.objects.bulk_create(props)
        _, secret = write_key_create(ctx=ChangeContext.for_system(), integration=integration)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
    log(
        f"catalog: {len(categories)} categories, {len(events)} events, {len(props)} properties; "
        f"validation mode {mode}"
    )
    return integration, secret


# --- the traffic ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Traffic:
    """How the generated calls break the plan."""

    unknown_share: float  # calls whose event isn't in the catalog
    wrong_share: float  # property values of the wrong type (or not allowed)
    missing_share: float  # optional properties left out
    extra_share: float  # calls with a property the plan doesn't know


def right_value(prop: PropSpec, rng: random.Random):
    if prop.allowed:
        return rng.choice(prop.allowed)
    return {
        "string": lambda: f"{prop.name}-{rng.randrange(10_000)}",
        "number": lambda: round(rng.uniform(0, 500), 2),
        "integer": lambda: rng.randrange(1_000),
        "boolean": lambda: rng.random() < 0.5,
        "datetime": lambda: f"2026-03-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:15:00Z",
        "array": lambda: [f"tag-{rng.randrange(20)}" for _ in range(rng.randrange(1, 4))],
        "object": lambda: {"id": rng.randrange(1_000), "label": "x"},
    }[prop.data_type]()


def wrong_value(prop: PropSpec, rng: random.Random):
    if prop.allowed:
        return "playstation"
    return {
        "string": 42,
        "number": "12.50",
        "integer": 3.5,
        "boolean": "yes",
        "datetime": "last tuesday",
        "array": "a,b",
        "object": "{}",
    }[prop.data_type]


def track_call(
    plan: list[EventSpec], weights: list[float], traffic: Traffic, rng: random.Random
) -> dict:
    """One Segment track call, with a messageId placeholder (see `Template`)."""
    if rng.random() < traffic.unknown_share:
        name = f"Unplanned Event {rng.randrange(UNKNOWN_NAMES)}"
        properties = {"source": "web", "value": rng.randrange(100)}
    else:
        spec = rng.choices(plan, weights)[0]
        name, properties = spec.name, {}
        for prop in spec.props:
            if not prop.required and rng.random() < traffic.missing_share:
                continue
            wrong = rng.random() < traffic.wrong_share
            properties[prop.name] = wrong_value(prop, rng) if wrong else right_value(prop, rng)
        if rng.random() < traffic.extra_share:
            properties["debug_flag"] = True
    user = rng.randrange(50_000)
    return {
        "type": "track",
        "event": name,
        "userId": f"user-{user}",
        "anonymousId": f"anon-{user:08x}",
        "messageId": MESSAGE_ID_MARK,
        "timestamp": f"2026-03-01T12:{rng.randrange(60):02d}:{rng.randrange(60):02d}.123Z",
        "properties": properties,
        "context": {
            "library": {"name": "analytics.js", "version": "4.1.0"},
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/124.0",
        },
    }


@dataclass(frozen=True)
class Template:
    """A batch as JSON bytes, cut where its messageIds go. `render` splices fixed-width unique
    ids into it (a bytes join, ~20 us per batch), so no two requests repeat an id and the
    dedupe step does real work, while the JSON is built before anything is timed."""

    parts: tuple[bytes, ...]

    @property
    def size(self) -> int:
        return len(self.parts) - 1

    def render(self, tag: bytes) -> bytes:
        out = [self.parts[0]]
        for i, part in enumerate(self.parts[1:]):
            out.append(tag + b"%03d" % i)
            out.append(part)
        return b"".join(out)


def make_templates(
    plan: list[EventSpec], traffic: Traffic, batch_size: int, count: int, seed: int
) -> list[Template]:
    rng = random.Random(seed)
    # Zipf-like popularity: a few events make most of the traffic, as in real products.
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(plan))]
    templates = []
    for _ in range(count):
        calls = [track_call(plan, weights, traffic, rng) for _ in range(batch_size)]
        body = json.dumps({"batch": calls}, separators=(",", ":")).encode()
        templates.append(Template(tuple(body.split(MESSAGE_ID_MARK.encode()))))
    return templates


class Bodies:
    """Request bodies with ids unique to this run: `tag` names who sends (`run-who-seq-`)."""

    def __init__(self, templates: list[Template], run: str, who: str):
        self.templates, self.prefix, self.seq = templates, f"{run}-{who}-", 0

    def next(self) -> bytes:
        template = self.templates[self.seq % len(self.templates)]
        body = template.render(f"{self.prefix}{self.seq:08d}-".encode())
        self.seq += 1
        return body

    def take(self, n: int) -> list[bytes]:
        return [self.next() for _ in range(n)]


# --- in-process measurements -------------------------------------------------------------------


def nearest_rank(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000


@dataclass
class Row:
    name: str
    how: str
    events: int  # events stored (or sent, for HTTP rows)
    elapsed: float  # seconds the events took (wall time of the window, for HTTP rows)
    times: list[float]  # seconds per batch
    queries: int | None
    load: tuple[float, float]  # 1-minute load average before and after
    errors: Counter = field(default_factory=Counter)
    cpu: dict[str, float] | None = None
    workers: int | None = None
    sent: int = 0  # HTTP rows: events sent, warm-up and answers after the window included
    stored: int = 0  # HTTP rows: event log rows the server wrote meanwhile

    @property
    def rate(self) -> float:
        return self.events / self.elapsed if self.elapsed else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.times) * 1000 if self.times else float("nan")

    @property
    def p99(self) -> float:
        return nearest_rank(self.times, 0.99) if self.times else float("nan")


def loadavg() -> float:
    return os.getloadavg()[0]


@contextlib.contextmanager
def counting_copies() -> Iterator[list[str]]:
    """COPY goes through psycopg's own cursor, which Django's query log doesn't see: count it
    here (only while the statements of a batch are being counted)."""
    import psycopg

    copies: list[str] = []
    original = psycopg.Cursor.copy

    def copy(self, statement, *args, **kwargs):
        copies.append(str(statement))
        return original(self, statement, *args, **kwargs)

    psycopg.Cursor.copy = copy
    try:
        yield copies
    finally:
        psycopg.Cursor.copy = original


def count_statements(call: Callable[[], object]) -> list[str]:
    """The statements `call` sends, without the BEGIN and COMMIT Django logs around them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with counting_copies() as copies, CaptureQueriesContext(connection) as captured:
        call()
    logged = [q["sql"] for q in captured.captured_queries]
    return [sql for sql in logged if sql not in ("BEGIN", "COMMIT")] + copies


def show(statements: list[str], what: str) -> None:
    log(f"  {what}: {len(statements)} statements: {shapes(statements)}")


@dataclass
class Timed:
    """One in-process row to measure: a call per batch, each returning the events it stored."""

    name: str
    how: str
    calls: list[Callable[[], int]]
    queries: int


def interleaved(specs: list[Timed]) -> list[Row]:
    """Run the rows' batches in rounds, one of each row per round (a row with fewer batches
    spread evenly over the rounds), so a change in the machine's load hits every row alike
    and the ratios between them hold even when the absolute numbers move."""
    import gc

    rounds = max(len(spec.calls) for spec in specs)
    due: dict[int, list[tuple[int, Callable]]] = {r: [] for r in range(rounds)}
    for index, spec in enumerate(specs):
        for j, call in enumerate(spec.calls):
            due[j * rounds // len(spec.calls)].append((index, call))
    times: list[list[float]] = [[] for _ in specs]
    events = [0] * len(specs)
    gc.collect()
    before = loadavg()
    for r in range(rounds):
        for index, call in due[r]:
            t0 = time.perf_counter()
            events[index] += call()
            times[index].append(time.perf_counter() - t0)
    load = (before, loadavg())
    rows = []
    for spec, ts, n in zip(specs, times, events, strict=True):
        row = Row(spec.name, spec.how, n, sum(ts), ts, spec.queries, load)
        log(f"  {row.name}: {row.rate:,.0f} events/s, p50 {row.p50:.1f} ms, p99 {row.p99:.1f} ms")
        rows.append(row)
    return rows


class InProcess:
    """The pipeline, the naive path and the floor, run in this process on its connection."""

    def __init__(self, integration, secret: str, templates: list[Template], run: str):
        from django.test import Client

        self.integration = integration
        self.client = Client()
        self.auth = "Basic " + base64.b64encode(f"{secret}:".encode()).decode()
        self.templates, self.run = templates, run

    def bodies(self, who: str, n: int) -> list[bytes]:
        return Bodies(self.templates, self.run, who).take(n)

    def parsed(self, who: str, n: int) -> list[list]:
        from catalog.tracking_api.formats import segment

        out = []
        for body in self.bodies(who, n):
            parsed = segment(json.loads(body), body, None)
            if parsed.problems:
                raise SystemExit(f"the generator made bad calls: {parsed.problems[:3]}")
            out.append(parsed.events)
        return out

    # The pipeline through the view (Django's test client), and ingest() alone.

    def post(self, body: bytes) -> int:
        response = self.client.post(
            PATH, data=body, content_type="application/json", HTTP_AUTHORIZATION=self.auth
        )
        if response.status_code != 200:
            raise SystemExit(f"POST {PATH} -> {response.status_code}: {response.content[:300]}")
        return len(json.loads(body)["batch"]) - len(response.json().get("rejected", []))

    def ingest(self, events: list) -> int:
        from catalog.services.context import ChangeContext
        from catalog.services.ingest import ingest

        result = ingest(ctx=ChangeContext.for_write_key(self.integration), events=events)
        return result.accepted

    # The naive path: the ORM, one event at a time.

    def naive(self, events: list) -> int:
        from django.db import transaction
        from django.db.models import F
        from django.utils import timezone

        from catalog.models import DailyVolume, EntityType, LoggedEvent, Resource, ResourceSeen

        integration = self.integration
        now = timezone.now()
        day = now.astimezone(dt.UTC).date()
        with transaction.atomic():
            for event in events:
                resource = Resource.objects.filter(
                    integration=integration, entity_type=EntityType.EVENT, title=event.name
                ).first()
                LoggedEvent(
                    integration=integration,
                    received_at=now,
                    sent_at=event.sent_at,
                    type=event.type,
                    name=event.name,
                    user_id=event.user_id,
                    anonymous_id=event.anonymous_id,
                    message_id=event.message_id,
                    properties=event.properties,
                    format=event.format,
                ).save()
                if resource is None:
                    continue
                volume, _ = DailyVolume.objects.get_or_create(resource=resource, day=day)
                DailyVolume.objects.filter(pk=volume.pk).update(count=F("count") + 1)
                ResourceSeen.objects.get_or_create(
                    resource=resource, defaults={"first_seen_at": now, "last_seen_at": now}
                )
                ResourceSeen.objects.filter(pk=resource.pk).update(last_seen_at=now)
        return len(events)

    # The floor: COPY of the same rows, prepared before the clock starts.

    def floor_rows(self, events: list) -> list[tuple]:
        from django.utils import timezone

        now = timezone.now()
        return [
            (
                uuid.uuid4(),
                self.integration.pk,
                now,
                e.sent_at,
                e.type,
                e.name,
                e.user_id,
                e.anonymous_id,
                e.message_id,
                json.dumps(e.properties, ensure_ascii=False),
                e.format,
            )
            for e in events
        ]

    def copy(self, rows: list[tuple]) -> int:
        from django.db import connection, transaction

        from catalog.services import eventlog

        statement = f"COPY {eventlog.TABLE} ({', '.join(eventlog._COLUMNS)}) FROM STDIN"
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy(statement) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return len(rows)


def measure_in_process(args, integration, secret, templates, run):
    """The in-process rows, the statements of one batch of each, and where ingest()'s time
    goes."""
    from django.db import connection
    from django.utils import timezone

    from catalog.services.eventlog import ensure_partitions

    ip = InProcess(integration, secret, templates, run)
    ensure_partitions([timezone.now().astimezone(dt.UTC).date()])
    log("warming up (20 batches through the view)")
    for body in ip.bodies("warm", 20):
        ip.post(body)

    log("counting the statements of one batch")
    statements = {}
    # The fewer of two: a key's first use in a minute adds an UPDATE of last_used_at.
    view_counts = [count_statements(lambda b=b: ip.post(b)) for b in ip.bodies("count-view", 2)]
    statements["view"] = min(view_counts, key=len)
    statements["ingest"] = count_statements(lambda: ip.ingest(ip.parsed("count-ingest", 1)[0]))
    statements["naive"] = count_statements(lambda: ip.naive(ip.parsed("count-naive", 1)[0]))
    rows = ip.floor_rows(ip.parsed("count-floor", 1)[0])
    statements["floor"] = count_statements(lambda: ip.copy(rows))
    for what, sql in statements.items():
        show(sql, what)

    n, naive_n = args.batches, args.naive_batches
    log(
        f"in-process: {n} batches each through the view, ingest() alone and COPY, and "
        f"{naive_n} the naive way, interleaved"
    )
    bodies = ip.bodies("view", n)
    batches = ip.parsed("ingest", n)
    naive = ip.parsed("naive", naive_n)
    prepared = [ip.floor_rows(e) for e in ip.parsed("floor", n)]
    vacuum_counters()
    out = interleaved(
        [
            Timed(
                "view in-process",
                "Django test client → view → ingest(), one batch at a time",
                [lambda b=b: ip.post(b) for b in bodies],
                len(statements["view"]),
            ),
            Timed(
                "ingest() alone",
                "the pipeline without HTTP or parsing, one batch at a time",
                [lambda e=e: ip.ingest(e) for e in batches],
                len(statements["ingest"]),
            ),
            Timed(
                "naive ORM",
                "per event: lookup, .save(), get_or_create + F() x2; a transaction per batch",
                [lambda e=e: ip.naive(e) for e in naive],
                len(statements["naive"]),
            ),
            Timed(
                "COPY floor",
                "the rows prepared, one COPY + COMMIT per batch",
                [lambda r=r: ip.copy(r) for r in prepared],
                len(statements["floor"]),
            ),
        ]
    )
    log(f"in-process: where ingest()'s time goes, {n} more batches")
    batches = ip.parsed("split", n)
    vacuum_counters()
    split = time_split(ip, batches)
    connection.close()
    return out, statements, split


def time_split(ip: "InProcess", batches: list[list]) -> list[tuple[str, float]]:
    """ingest()'s time per batch by statement (measured around Django's `cursor.execute`, so
    with psycopg's own work of putting the parameters into the statement), the COPY (writing
    the rows included), the COMMIT, and the rest: Python."""
    import psycopg
    from django.db import connection

    totals: Counter = Counter()

    def timed_execute(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            totals[short(sql)] += time.perf_counter() - t0

    original_copy, original_commit = psycopg.Cursor.copy, connection._commit

    @contextlib.contextmanager
    def timed_copy(self, statement, *args, **kwargs):
        t0 = time.perf_counter()
        with original_copy(self, statement, *args, **kwargs) as copy:
            yield copy
        totals["COPY catalog_loggedevent (rows written)"] += time.perf_counter() - t0

    def timed_commit():
        t0 = time.perf_counter()
        try:
            return original_commit()
        finally:
            totals["COMMIT"] += time.perf_counter() - t0

    psycopg.Cursor.copy, connection._commit = timed_copy, timed_commit
    try:
        with connection.execute_wrapper(timed_execute):
            started = time.perf_counter()
            for events in batches:
                ip.ingest(events)
            elapsed = time.perf_counter() - started
    finally:
        psycopg.Cursor.copy = original_copy
        del connection._commit
    per_batch = [(what, seconds * 1000 / len(batches)) for what, seconds in totals.items()]
    per_batch.sort(key=lambda item: -item[1])
    rest = elapsed * 1000 / len(batches) - sum(ms for _, ms in per_batch)
    return [("all of ingest()", elapsed * 1000 / len(batches)), *per_batch, ("Python", rest)]


def split_table(split: list[tuple[str, float]]) -> str:
    lines = ["| part | ms per batch | share |", "| --- | ---: | ---: |"]
    total = split[0][1]
    for what, ms in split:
        lines.append(
            f"| {what if what.startswith(('all', 'Python')) else f'`{what}`'} "
            f"| {ms:.1f} | {ms / total:.0%} |"
        )
    return "\n".join(lines)


def profile(args, integration, secret, templates, run) -> str:
    """cProfile of `--batches` batches through the view in-process (ingest() included)."""
    ip = InProcess(integration, secret, templates, run)
    bodies = ip.bodies("profile", args.batches)
    for body in ip.bodies("profile-warm", 10):
        ip.post(body)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for body in bodies:
        ip.post(body)
    profiler.disable()
    elapsed = time.perf_counter() - started
    out = io.StringIO()
    out.write(
        f"cProfile of {args.batches} batches through the view in-process: {elapsed:.2f} s "
        f"({elapsed * 1000 / args.batches:.1f} ms per batch with the profiler on)\n"
    )
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(45)
    return out.getvalue()


# --- the load under gunicorn ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClientSpec:
    index: int
    port: int
    auth: str
    templates: list[Template]
    run: str
    warmup: float
    seconds: float
    batch_size: int


def client_main(spec: ClientSpec, barrier, results) -> None:
    """One client process: one http.client connection (reopened when gunicorn's sync worker
    closes it after each answer), a batch after the other, as fast as the server answers."""
    bodies = Bodies(spec.templates, spec.run, f"c{spec.index:02d}")
    headers = {"Content-Type": "application/json", "Authorization": spec.auth}
    conn = http.client.HTTPConnection("127.0.0.1", spec.port, timeout=REQUEST_TIMEOUT)
    barrier.wait()
    start = time.monotonic()
    measure_at, end_at = start + spec.warmup, start + spec.warmup + spec.seconds
    records, errors = [], Counter()
    cpu_start = cpu_end = None
    while (now := time.monotonic()) < end_at:
        if cpu_start is None and now >= measure_at:
            cpu_start = time.process_time()
        body = bodies.next()
        t0 = time.monotonic()
        try:
            conn.request("POST", PATH, body=body, headers=headers)
            response = conn.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as error:
            conn.close()
            errors[type(error).__name__] += 1
            time.sleep(0.05)
            continue
        t1 = time.monotonic()
        if 200 <= response.status < 300:
            if measure_at <= t1 <= end_at:
                # Block mode rejects some events of a batch; the answer lists them.
                rejected = len(json.loads(answer)["rejected"]) if b'"rejected"' in answer else 0
                records.append((t1 - t0, spec.batch_size - rejected))
        else:
            errors[f"HTTP {response.status}"] += 1
    cpu_end = time.process_time()
    conn.close()
    results.put((spec.index, records, errors, (cpu_end - (cpu_start or cpu_end)), bodies.seq))


def run_load(
    port: int, server_pid: int, workers: int, secret: str, templates, run: str, args
) -> Row:
    from api import CpuSnapshot

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(args.concurrency + 1)
    results = ctx.Queue()
    auth = "Basic " + base64.b64encode(f"{secret}:".encode()).decode()
    procs = [
        ctx.Process(
            target=client_main,
            args=(
                ClientSpec(
                    i, port, auth, templates, run, args.warmup, args.seconds, args.batch_size
                ),
                barrier,
                results,
            ),
            daemon=True,
        )
        for i in range(args.concurrency)
    ]
    for proc in procs:
        proc.start()
    barrier.wait(timeout=60)
    start = time.monotonic()
    load_before = loadavg()
    time.sleep(args.warmup)
    cpu_before = CpuSnapshot.take(server_pid)
    time.sleep(args.seconds)
    cpu_after = CpuSnapshot.take(server_pid)
    load_after = loadavg()
    window = time.monotonic() - start - args.warmup
    collected = [results.get(timeout=REQUEST_TIMEOUT + 30) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    times = [t for _, records, _, _, _ in collected for t, _ in records]
    accepted = sum(n for _, records, _, _, _ in collected for _, n in records)
    errors = sum((e for _, _, e, _, _ in collected), Counter())
    sent = sum(seq for *_, seq in collected)
    cpu = None
    if cpu_before and cpu_after:
        elapsed = args.seconds
        cores = {
            kind: sum(c - cpu_before.processes[kind].get(pid, 0.0) for pid, c in pids.items())
            / elapsed
            for kind, pids in cpu_after.processes.items()
        }
        cores["clients"] = sum(c for _, _, _, c, _ in collected) / elapsed
        total = (cpu_after.machine - cpu_before.machine) / elapsed
        cores["other"] = max(0.0, total - sum(cores.values()))
        cpu = cores
    template_size = templates[0].size
    row = Row(
        f"HTTP, {workers} workers",
        f"gunicorn sync workers, {args.concurrency} client processes",
        accepted,
        min(window, args.seconds) if window > 0 else args.seconds,
        times,
        None,
        (load_before, load_after),
        errors,
        cpu,
        workers,
        sent=sent * template_size,
    )
    log(
        f"  {row.rate:,.0f} events/s, p50 {row.p50:.1f} ms, p99 {row.p99:.1f} ms, "
        f"errors {dict(errors) or 0}, load {load_before:.1f} -> {load_after:.1f}"
        + (f", cores {', '.join(f'{k} {v:.2f}' for k, v in cpu.items())}" if cpu else "")
    )
    return row


COUNTER_TABLES = (
    "catalog_dailyvolume",
    "catalog_resourceseen",
    "catalog_violation",
    "catalog_ingestedmessage",
)


def vacuum_counters() -> None:
    """VACUUM the tables every batch updates, before each measurement. Every batch rewrites
    the same few thousand counter rows; where autovacuum is off (as on the machine these
    numbers come from) their dead versions would pile up over the run and slow every later
    row, which a production database with autovacuum on wouldn't see to that extent."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {', '.join(COUNTER_TABLES)}")


def logged_events(integration) -> int:
    from catalog.models import LoggedEvent

    return LoggedEvent.objects.filter(integration_id=integration.pk).count()


def measure_http(args, integration, secret, templates, run, queries: int) -> list[Row]:
    from api import gunicorn_server
    from django.db import connection

    rows = []
    for workers in args.worker_counts:
        before = logged_events(integration)
        vacuum_counters()
        with gunicorn_server(args.database_url, workers) as (port, pid):
            log(
                f"load: {args.concurrency} clients, {workers} workers, {args.warmup:g} s warm-up "
                f"+ {args.seconds:g} s"
            )
            row = run_load(port, pid, workers, secret, templates, f"{run}w{workers}", args)
        row.queries = queries
        stored = logged_events(integration) - before
        if stored > row.sent:
            raise SystemExit(f"{stored:,} events logged but only {row.sent:,} sent")
        log(f"  {stored:,} events logged for {row.sent:,} sent")
        row.stored = stored
        rows.append(row)
        connection.close()
    return rows


# --- the flood (--flood) -----------------------------------------------------------------------

FLOOD_DOC_START = "<!-- bench:ingest-flood:start -->"
FLOOD_DOC_END = "<!-- bench:ingest-flood:end -->"
FLOOD_DOC_HEADING = "## Ingestion: a flood of new names in discover mode\n\n"
#: Property names, shortest first: the more of them fit in a body, the worse the flood.
NAME_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: The limits of `Integration` an admin can set at most (its validators): the old
#: behaviour, as no flood of a few minutes gets near them.
NO_LIMITS = {
    "max_new_events_per_day": 1_000_000,
    "max_new_properties_per_day": 10_000_000,
    "max_properties_per_event": 100_000,
}
FLOOD_TIMEOUT = 300.0  # seconds a client waits for a flood batch (gunicorn's timeout: 120)
#: What a flood grows, one table or group of tables each.
FLOOD_TABLES = {
    "catalog": "catalog_resource",
    "history": "catalog_objectchange",
    "violations": "catalog_violation",
}


def short_name(n: int) -> str:
    """The n-th name of NAME_ALPHABET's strings, shortest first ("0", ..., "Z", "00", ...)."""
    base, width = len(NAME_ALPHABET), 1
    while n >= base**width:
        n -= base**width
        width += 1
    chars = []
    for _ in range(width):
        n, digit = divmod(n, base)
        chars.append(NAME_ALPHABET[digit])
    return "".join(reversed(chars))


def flood_body(
    tag: str, events: int, first_name: int, max_bytes: int | None = None
) -> tuple[bytes, int]:
    """A batch as big as the API takes (or `max_bytes`): `events` track calls (at most
    MAX_BATCH) of the events `Flood 0` ... (new the first time, known after), each with as
    many new properties as fit in its share of the body and under MAX_EVENT_BYTES: the names
    `short_name(first_name)`, `short_name(first_name + 1)`, ..., every value 0. The
    messageIds start with `tag`. Returns the body and the number of properties an event has."""
    from catalog.tracking_api.formats import MAX_BATCH, MAX_EVENT_BYTES
    from catalog.tracking_api.limits import MAX_BODY_BYTES

    events = min(events, MAX_BATCH)
    max_bytes = min(max_bytes or MAX_BODY_BYTES, MAX_BODY_BYTES)
    share = (max_bytes - len(b'{"batch":[]}') - (events - 1)) // events
    calls = [
        {
            "type": "track",
            "event": f"Flood {i}",
            "userId": "flooder",
            "messageId": f"{tag}-{i}",
            "properties": {},
        }
        for i in range(events)
    ]
    # The longest call sets the size of all; an event's own limit is checked as json.dumps
    # writes it, with ", " and ": " between items (2 bytes more a property).
    size = max(len(json.dumps(call, separators=(",", ":"))) for call in calls)
    spaced = max(len(json.dumps(call)) for call in calls)
    names = []
    while True:
        name = short_name(first_name + len(names))
        cost = len(name) + 4 + (1 if names else 0)  # "name":0 and a comma
        if size + cost > share or spaced + cost + 2 > MAX_EVENT_BYTES:
            break
        names.append(name)
        size += cost
        spaced += cost + 2
    properties = dict.fromkeys(names, 0)
    body = json.dumps(
        {"batch": [{**call, "properties": properties} for call in calls]}, separators=(",", ":")
    ).encode()
    if len(body) > max_bytes:
        raise SystemExit(f"a flood batch of {len(body):,} bytes: over {max_bytes:,}")
    return body, len(names)


@dataclass
class FloodRow:
    name: str
    how: str
    times: list[float] = field(default_factory=list)  # seconds per batch, the first included
    statuses: Counter = field(default_factory=Counter)
    properties_sent: int = 0  # (event, property) pairs in the batches, repeats included
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    limits: str = ""  # the discovery_limit violation's count and message, if any

    def grown(self, what: str) -> int:
        return self.after[what] - self.before[what]

    @property
    def rest(self) -> list[float]:
        return self.times[1:] or self.times


def flood_measures(integration) -> dict[str, int]:
    """Rows of the integration in each FLOOD_TABLES table, those tables' bytes, the event
    log's bytes and the database's size."""
    from django.db import connection

    from catalog.models import ObjectChange, Resource, Violation
    from catalog.services import eventlog

    out = {
        "catalog": Resource.objects.filter(integration=integration).count(),
        "history": ObjectChange.objects.filter(change_set__integration=integration).count(),
        "violations": Violation.objects.filter(integration=integration).count(),
    }
    with connection.cursor() as cursor:
        for what, table in FLOOD_TABLES.items():
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            out[f"{what} bytes"] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree(%s)",
            [eventlog.TABLE],
        )
        out["event log bytes"] = int(cursor.fetchone()[0])
        cursor.execute("SELECT pg_database_size(current_database())")
        out["database bytes"] = cursor.fetchone()[0]
    return out


def post_batch(conn_holder: list, port: int, auth: str, body: bytes) -> tuple[float, str]:
    """One request on the kept connection (reopened as needed): seconds and status."""
    headers = {"Content-Type": "application/json", "Authorization": auth}
    t0 = time.monotonic()
    try:
        conn = conn_holder[0]
        conn.request("POST", PATH, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        status = f"HTTP {response.status}"
    except (OSError, http.client.HTTPException) as error:
        status = type(error).__name__
        conn_holder[0].close()
        conn_holder[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=FLOOD_TIMEOUT)
    return time.monotonic() - t0, status


def flood_scenario(
    args, plan, run: str, name: str, how: str, mode: str, limits, bodies, flood_events: bool
):
    """Empty the catalog, make the integration in `mode` (with `limits`, if any; with the
    events `Flood 0`... if `flood_events`), start gunicorn and send `bodies(seq)` one after
    the other for `--seconds` (the first whatever the clock says); what it added to the
    database, and the time of each batch."""
    from api import gunicorn_server
    from django.db import connection
    from django.utils import timezone

    from catalog.models import EntityType, Integration, Resource, Violation, ViolationKind
    from catalog.services.eventlog import ensure_partitions

    integration, secret = reset_database(mode, plan)
    if limits:
        Integration.objects.filter(pk=integration.pk).update(**limits)
    if flood_events:
        category = Resource.objects.filter(
            integration=integration, entity_type=EntityType.EVENT_CATEGORY
        ).first()
        Resource.objects.bulk_create(
            Resource(
                entity_type=EntityType.EVENT,
                title=f"Flood {i}",
                integration=integration,
                parent=category,
            )
            for i in range(args.flood_events)
        )
    ensure_partitions([timezone.now().astimezone(dt.UTC).date()])
    vacuum_counters()
    row = FloodRow(name, how)
    row.before = flood_measures(integration)
    connection.close()
    auth = "Basic " + base64.b64encode(f"{secret}:".encode()).decode()
    with gunicorn_server(args.database_url, args.worker_counts[0]) as (port, _pid):
        log(f"{name}: one batch after the other for {args.seconds:g} s")
        conn = [http.client.HTTPConnection("127.0.0.1", port, timeout=FLOOD_TIMEOUT)]
        end_at = time.monotonic() + args.seconds
        seq = 0
        while seq == 0 or time.monotonic() < end_at:
            body, properties = bodies(seq)  # built before the clock starts
            seconds, status = post_batch(conn, port, auth, body)
            row.times.append(seconds)
            row.statuses[status] += 1
            row.properties_sent += properties
            if seq == 0 or status != "HTTP 200":
                log(f"  batch {seq}: {status} in {seconds * 1000:,.0f} ms")
            seq += 1
        conn[0].close()
    row.after = flood_measures(integration)
    stop = Violation.objects.filter(integration=integration, kind=ViolationKind.DISCOVERY_LIMIT)
    if (limit := stop.first()) is not None:
        row.limits = f"{limit.count:,} names: {limit.message}"
    connection.close()
    log(
        f"  {len(row.times)} batches ({dict(row.statuses)}), first {row.times[0] * 1000:,.0f} ms, "
        f"then p50 {statistics.median(row.rest) * 1000:,.0f} ms; "
        + ", ".join(f"{k} +{row.grown(k):,}" for k in ("catalog", "history", "violations"))
        + f", database +{row.grown('database bytes') / 1e6:,.1f} MB"
    )
    return row


def measure_flood(args, plan) -> tuple[list[FloodRow], dict]:
    """The scenarios of `--flood`, in one run on one database, each from an empty catalog:
    a normal batch, then for each of `--flood-kb`'s sizes the flood with the default limits,
    without limits and in flag mode. Also returns, per size, the first flood batch's shape."""
    from catalog.models.integrations import DISCOVERY_LIMITS

    run = uuid.uuid4().hex[:8]
    shapes: dict[int, dict] = {}

    def flood(tag: str, kb: int) -> Callable[[int], tuple[bytes, int]]:
        """The batches of one flood: each names the same events with the next properties."""
        next_name = 0

        def bodies(seq: int) -> tuple[bytes, int]:
            nonlocal next_name
            body, per_event = flood_body(
                f"{run}{tag}-{seq}", args.flood_events, next_name, kb * 1024
            )
            next_name += per_event
            shape = shapes.setdefault(kb, {"bytes": len(body), "per event": per_event})
            shape["longest name"] = len(short_name(next_name - 1))
            return body, per_event * min(args.flood_events, 500)

        return bodies

    traffic = Traffic(0.0, args.wrong_share, args.missing_share, 0.0)
    templates = make_templates(plan, traffic, args.batch_size, args.templates, SEED + 1)
    known = Bodies(templates, run, "known")

    def normal(seq: int) -> tuple[bytes, int]:
        return known.next(), 0

    scenarios = [
        ("known events", f"{args.batch_size} track calls of catalog events (discover mode)",
         "discover", None, normal, False),
    ]  # fmt: skip
    for i, kb in enumerate(args.flood_sizes):
        scenarios += [
            (f"flood {kb} KB, default limits",
             "discover mode, the limits as a new integration has them",
             "discover", DISCOVERY_LIMITS, flood(f"a{i}", kb), False),
            (f"flood {kb} KB, no limits", "discover mode, the highest limits an admin can set",
             "discover", NO_LIMITS, flood(f"b{i}", kb), False),
            (f"flood {kb} KB, flag mode", "the same batches in flag mode, their events in the "
             "catalog: each new property name is a violation",
             "flag", None, flood(f"c{i}", kb), True),
        ]  # fmt: skip
    rows = [flood_scenario(args, plan, run, *scenario) for scenario in scenarios]
    return rows, shapes


def flood_table(rows: list[FloodRow]) -> str:
    lines = [
        "| row | how | batches (answers) | first batch ms | later batches p50 / max ms "
        "| catalog rows | history rows | violation rows | database MB | MB per batch "
        "| of which catalog / history / violations / event log MB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        answers = ", ".join(f"{n} x {status}" for status, n in sorted(row.statuses.items()))
        later = (
            f"{statistics.median(row.times[1:]) * 1000:,.0f} / {max(row.times[1:]) * 1000:,.0f}"
            if len(row.times) > 1
            else "-"
        )
        parts = " / ".join(
            f"{row.grown(f'{what} bytes') / 1e6:,.1f}"
            for what in ("catalog", "history", "violations", "event log")
        )
        lines.append(
            f"| {row.name} | {row.how} | {len(row.times)} ({answers}) "
            f"| {row.times[0] * 1000:,.0f} | {later} | +{row.grown('catalog'):,} "
            f"| +{row.grown('history'):,} | +{row.grown('violations'):,} "
            f"| +{row.grown('database bytes') / 1e6:,.1f} "
            f"| {row.grown('database bytes') / 1e6 / len(row.times):,.2f} | {parts} |"
        )
    return "\n".join(lines)


def flood_section(args, rows: list[FloodRow], shapes: dict[int, dict]) -> str:
    facts = environment(args)
    facts["Catalog"] = (
        f"{args.events} events x {args.properties} typed properties, emptied before each row"
    )
    batches = "; ".join(
        f"{kb} KB: {shape['bytes']:,} bytes, {min(args.flood_events, 500)} track calls of the "
        f"events `Flood 0`... with {shape['per event']:,} new properties each"
        for kb, shape in shapes.items()
    )
    longest = max((shape["longest name"] for shape in shapes.values()), default=0)
    facts["Traffic"] = (
        f"one client, one batch after the other for {args.seconds:g} s per row (the first "
        f"batch whatever the clock says). A flood batch of {batches}; property names of 1 to "
        f"{longest} characters, every value 0; each later batch names the same events with "
        "the next names"
    )
    for key in ("Load", "In-process"):
        facts.pop(key)
    listed = "\n".join(f"- {k}: {v}" for k, v in facts.items())
    limits = "\n".join(f"- {row.name}: {row.limits}" for row in rows if row.limits)
    return (
        f"### Results\n\n{listed}\n\n{flood_table(rows)}\n\n"
        f"The integration's `discovery_limit` violation at the end:\n\n{limits or '- none'}\n"
    )


def measure_names(args, plan) -> str:
    """`--names`: one known event with N new property names in a batch, flag mode,
    in-process, twice per N (fresh names each time): ingest()'s time and its slowest
    statements. Each new name is a violation row that carries the event as its example, so
    the cost grows with N times the event's size."""
    from catalog.models import EntityType, Resource
    from catalog.tracking_api.formats import segment

    integration, secret = reset_database("flag", plan)
    category = Resource.objects.filter(
        integration=integration, entity_type=EntityType.EVENT_CATEGORY
    ).first()
    Resource.objects.create(
        entity_type=EntityType.EVENT, title="Flood 0", integration=integration, parent=category
    )
    ip = InProcess(integration, secret, [], uuid.uuid4().hex[:8])
    lines = [
        "| new names in the event | body bytes | ingest() ms | slowest statements, ms |",
        "| ---: | ---: | ---: | --- |",
    ]
    first = 0
    for n in args.name_counts:
        for attempt in range(2):
            properties = {short_name(first + i): 0 for i in range(n)}
            first += n
            call = {"type": "track", "event": "Flood 0", "userId": "flooder"}
            call |= {"messageId": f"{ip.run}-{n}-{attempt}", "properties": properties}
            body = json.dumps({"batch": [call]}, separators=(",", ":")).encode()
            parsed = segment(json.loads(body), body, None)
            if parsed.problems:
                raise SystemExit(f"--names {n}: {parsed.problems[0].errors}")
            split = time_split(ip, [parsed.events])
            slowest = "; ".join(f"`{what}` {ms:,.0f}" for what, ms in split[1:3])
            lines.append(f"| {n:,} | {len(body):,} | {split[0][1]:,.0f} | {slowest} |")
            log(f"  {n:,} new names: ingest() {split[0][1]:,.0f} ms ({slowest})")
    return "\n".join(lines)


# --- the report --------------------------------------------------------------------------------


def ratios(row: Row, floor: Row, naive: Row) -> tuple[str, str]:
    f = floor.rate / row.rate if row.rate else float("inf")
    n = row.rate / naive.rate if naive.rate else float("inf")
    return f"{f:.1f}x", f"{n:.1f}x"


def table(rows: list[Row], floor: Row, naive: Row) -> str:
    lines = [
        "| row | how | events | events/s | p50 ms / batch | p99 ms / batch | SQL / batch "
        "| floor ÷ row | row ÷ naive | load before → after |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        to_floor, over_naive = ratios(row, floor, naive)
        queries = "-" if row.queries is None else str(row.queries)
        lines.append(
            f"| {row.name} | {row.how} | {row.events:,} | {row.rate:,.0f} | {row.p50:.1f} "
            f"| {row.p99:.1f} | {queries} | {to_floor} | {over_naive} "
            f"| {row.load[0]:.1f} → {row.load[1]:.1f} |"
        )
    return "\n".join(lines)


def cpu_table(http_rows: list[Row]) -> str:
    cores_here = os.cpu_count() or 1
    lines = [
        "| row | errors | CPU cores: gunicorn / PostgreSQL / clients / other "
        "| CPU ms per batch: gunicorn / PostgreSQL "
        f"| events/s if the {cores_here} cores were the server's (estimate) |",
        "| --- | ---: | --- | --- | ---: |",
    ]
    for row in http_rows:
        cpu = row.cpu or {}
        batches = len(row.times) / row.elapsed if row.elapsed else 0  # answered per second
        cores = " / ".join(f"{cpu.get(k, 0):.2f}" for k in ("gunicorn", "PostgreSQL", "clients"))
        cores += f" / {cpu.get('other', 0):.2f}"
        per_batch = [cpu.get(k, 0) * 1000 / batches if batches else 0 for k in SERVER_SIDE]
        per = " / ".join(f"{ms:.1f}" for ms in per_batch) if batches else "n/a"
        events_per_batch = row.events / len(row.times) if row.times else 0
        ceiling = cores_here * 1000 / sum(per_batch) * events_per_batch if sum(per_batch) else 0
        lines.append(
            f"| {row.name} | {sum(row.errors.values())} | {cores} | {per} | {ceiling:,.0f} |"
        )
    return "\n".join(lines)


def checks(best: Row, view: Row, ingest_row: Row, floor: Row, naive: Row, mode: str):
    yield (
        f"at least {GOAL_EVENTS_PER_S:,} events/s over HTTP with validation on ({mode})",
        best.rate >= GOAL_EVENTS_PER_S,
        f"{best.rate:,.0f} events/s ({best.name})",
    )
    for row in (best, ingest_row):
        yield (
            f"{row.name} within {GOAL_FLOOR_RATIO:g}x of the COPY floor",
            floor.rate <= GOAL_FLOOR_RATIO * row.rate,
            f"floor {floor.rate:,.0f} events/s is {floor.rate / row.rate:.1f}x {row.rate:,.0f}",
        )
    for row in (best, ingest_row):
        yield (
            f"{row.name} at least {GOAL_NAIVE_RATIO:g}x the naive path",
            row.rate >= GOAL_NAIVE_RATIO * naive.rate,
            f"{row.rate:,.0f} / {naive.rate:,.0f} events/s = {row.rate / naive.rate:.1f}x",
        )
    yield (
        "SQL statements per batch constant and at most 8 (view)",
        view.queries is not None and view.queries <= 8,
        f"{view.queries} through the view, {ingest_row.queries} in ingest()",
    )


def environment(args) -> dict[str, str]:
    import django
    import gunicorn
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        database = cursor.fetchone()[0].split(" on ")[0]
        settings = []
        for name in ("shared_buffers", "synchronous_commit", "max_wal_size", "autovacuum"):
            cursor.execute(f"SHOW {name}")
            settings.append(f"{name} {cursor.fetchone()[0]}")
    conn_max_age = os.environ.get("DATABASE_CONN_MAX_AGE", "the default, 60")
    command = shlex.join(["uv", "run", "python", "bench/ingest.py", *sys.argv[1:]])
    return {
        "Command": f"`{command}`",
        "Date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "Product code": f"`{product_version()}`",
        "Machine": machine(),
        "Software": (
            f"Python {platform.python_version()}, Django {django.get_version()}, "
            f"gunicorn {gunicorn.__version__}, {platform.system()} {platform.release()}"
        ),
        "Database": f"{database} ({'; '.join(settings)})",
        "Server": (
            f"`gunicorn config.wsgi:application`, sync workers, on 127.0.0.1, DEBUG off, "
            f"DATABASE_CONN_MAX_AGE {conn_max_age} s, rate limit raised "
            "(INGEST_RATE_PER_SECOND=1000000)"
        ),
        "Catalog": (
            f"{args.events} events x {args.properties} typed properties (2 required each; "
            "allowed values on one property of one event in four); "
            f"validation mode `{args.mode}`"
        ),
        "Traffic": (
            f"batches of {args.batch_size} Segment track calls, event names Zipf-distributed "
            f"over the catalog, {args.unknown_share:.0%} unknown names, {args.wrong_share:.0%} "
            f"of property values of a wrong type or not allowed, {args.missing_share:.0%} of "
            f"optional properties left out, {args.extra_share:.0%} of calls with an unplanned "
            "property; every messageId unique"
        ),
        "Load": (
            f"{args.concurrency} client processes (`http.client`, bodies built before the "
            f"clock starts), {args.warmup:g} s warm-up then {args.seconds:g} s per HTTP row"
        ),
        "In-process": (
            f"{args.batches} batches per row (the naive path {args.naive_batches}) one at a "
            "time after 20 warm-up batches, the rows interleaved batch by batch"
        ),
    }


def section(args, rows: list[Row], http_rows: list[Row], statements: dict, split) -> str:
    view, ingest_row, naive, floor = rows
    best = max(http_rows, key=lambda r: r.rate)
    facts = "\n".join(f"- {k}: {v}" for k, v in environment(args).items())
    results = table([*http_rows, *rows], floor, naive)
    check_lines = "\n".join(
        f"- **{'PASS' if ok else 'FAIL'}** {what}: {evidence}."
        for what, ok, evidence in checks(best, view, ingest_row, floor, naive, args.mode)
    )
    listed = "\n".join(f"- {what}: {shapes(sql)}" for what, sql in statements.items())
    overhead = view.p50 - ingest_row.p50
    return (
        f"{explanation()}\n### Results\n\n{facts}\n\n{results}\n\n"
        f"Under gunicorn, who used the CPU:\n\n{cpu_table(http_rows)}\n\n"
        f"Best worker count in this run: {best.workers} ({best.rate:,.0f} events/s). "
        f"In-process, the view's p50 is {view.p50:.1f} ms a batch and ingest()'s "
        f"{ingest_row.p50:.1f} ms: {overhead:.1f} ms ({overhead / view.p50:.0%}) is Django, "
        "authentication, JSON parsing and the wire format.\n\n"
        f"Checks:\n\n{check_lines}\n\nThe statements of one batch:\n\n{listed}\n\n"
        f"Where ingest()'s time goes ({args.batches} more batches in-process, one at a time; "
        "a statement's time is measured around Django's `cursor.execute`, so it includes "
        "psycopg's work of putting the parameters into the SQL text):\n\n"
        f"{split_table(split)}\n"
    )


def short(sql: str) -> str:
    """The start of a statement, up to its column list or values; an upsert that reads its
    rows in a `WITH` first is `WITH ... INSERT INTO table`, a SELECT of a function alone
    (an advisory lock) names the function."""
    words = sql.split()
    if words[0] == "WITH" and "INSERT" in words:
        at = words.index("INSERT")
        return " ".join(["WITH ...", *words[at : at + 3]])
    kept = {"INSERT": 3, "UPDATE": 2, "COPY": 2}.get(words[0], 1)
    head = " ".join(words[:kept])
    if words[0] == "SELECT":
        table = next((w for w in words if w.startswith('"catalog_')), "").split(".")[0]
        if table:
            head += f" ... FROM {table.strip(chr(34))}"
        else:
            head += f" {words[1].split('(')[0]}"
    return head


def shapes(statements: list[str]) -> str:
    """The statements of a batch, a repeated one once with its count."""
    counts = Counter(short(sql) for sql in statements)
    return "; ".join(f"`{shape}`" + (f" x{n}" if n > 1 else "") for shape, n in counts.items())


def explanation() -> str:
    return """Measured by `bench/ingest.py`. It makes its own database
(`event_catalog_bench_ingest`, emptied at the start of every run), a catalog of 200 events x 8
typed properties in the integration, and a write key, then starts gunicorn itself and sends
Segment `POST /v1/batch` requests of 100 track calls from client processes on the same
machine, with the integration validating (`flag` by default: everything is stored and the
breaches are counted).

```sh
uv run python bench/ingest.py                      # 2 workers, 8 clients, 15 s, mode flag
uv run python bench/ingest.py --workers 2,3,4      # one HTTP row per worker count
uv run python bench/ingest.py --mode block         # or discover
uv run python bench/ingest.py --profile            # cProfile of 200 batches, to stderr
uv run python bench/ingest.py --write-docs         # refresh this section
uv run python bench/ingest.py --project ../old --database-url .../other_db  # older code
uv run python bench/ingest.py --flood --seconds 60 # a flood of new names (next section)
```

The rows:

- *HTTP, N workers*: the real server: gunicorn with N sync workers, DEBUG off, the client
  processes sending one batch after the other on their connection. gunicorn's sync workers
  close the connection after each answer, so every batch also opens a loopback TCP
  connection; Django checks its kept database connection (`CONN_HEALTH_CHECKS`) once per
  request. *events/s* counts the accepted events of the batches answered 2xx in the timed
  window; the latency is per batch, as the client saw it (queueing in gunicorn included).
- *view in-process*: the same batches through Django's test client, one at a time: the
  middleware, write-key authentication, the rate limiter, JSON parsing, the Segment format and
  `ingest()`, without a server or a network.
- *ingest() alone*: the pipeline on batches parsed beforehand: matching, validation, dedupe,
  the event log `COPY`, the volume, first/last seen and violation upserts.
- *naive ORM*: what a straightforward implementation does: per event, look the event up by
  name, `LoggedEvent(...).save()`, `get_or_create` + `F()` update of its `DailyVolume` and of
  its `ResourceSeen` (one transaction per batch). It does less than `ingest()` (no property
  volumes, no validation, no violations, no dedupe), so *row ÷ naive* is a lower bound.
- *COPY floor*: the same rows, built beforehand, stored with one `COPY` into the partitioned
  event log and a `COMMIT` per batch: what any implementation pays to store them.

Every batch rewrites the same counter rows (the daily volume and first/last seen of each event
and property it names, the violation counts), so the script runs `VACUUM` on those tables
before each row: autovacuum is off on the machine below, and their dead row versions would
otherwise pile up over the run and slow every later row.

*SQL / batch* counts what Django logs (`CaptureQueriesContext`) plus the `COPY`, which goes
through psycopg's own cursor, without the `BEGIN` and `COMMIT` of the batch's transaction; for
the view it is the fewer of two batches (a write key's first use in a minute adds an
`UPDATE`). *floor ÷ row* is how many times faster the floor stores the same events (the goal:
at most 3), *row ÷ naive* how many times the naive path's rate the row reaches (the goal: at
least 20). The in-process rows run on one connection, one batch at a time, interleaved batch
by batch (so a change in the machine's load hits them alike); the HTTP rows use every core, so
compare them with the floor knowing that the floor uses one. The load average (1 minute) is
taken before and after each row: the machine is shared, and a high load means the row had less
CPU than it seemed. The CPU table splits the cores over the timed window: gunicorn (master and
workers), the PostgreSQL backends of the bench database, the client processes, and *other*:
everything else on the machine (other people's jobs included). *CPU ms per batch* is the most
stable number across runs on a shared machine; the last column divides
the machine's cores by it: the throughput the server would reach with every core to itself and
nothing else slowing it (an estimate that ignores lock waits and PostgreSQL's background work).
"""


def write_docs(text: str) -> None:
    write_section(text, DOC_START, DOC_END, heading=DOC_HEADING)
    log(f"wrote {DOCS_PATH}")


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--mode", choices=["discover", "flag", "block"], default="flag")
    parser.add_argument(
        "--workers", default="2", help="gunicorn sync workers; a list (2,3,4) runs one row each"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="client processes")
    parser.add_argument("--seconds", type=float, default=15.0, help="timed load per HTTP row")
    parser.add_argument("--warmup", type=float, default=3.0, help="untimed load first")
    parser.add_argument("--batch-size", type=int, default=100, help="track calls per request")
    parser.add_argument("--events", type=int, default=200, help="events in the catalog")
    parser.add_argument("--properties", type=int, default=8, help="properties per event")
    parser.add_argument("--unknown-share", type=float, default=0.02, help="unknown event names")
    parser.add_argument("--wrong-share", type=float, default=0.03, help="wrong property values")
    parser.add_argument("--missing-share", type=float, default=0.1, help="optional ones left out")
    parser.add_argument("--extra-share", type=float, default=0.02, help="unplanned properties")
    parser.add_argument("--batches", type=int, default=200, help="batches per in-process row")
    parser.add_argument("--naive-batches", type=int, default=20, help="batches of the naive row")
    parser.add_argument("--templates", type=int, default=64, help="distinct batch bodies")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the view")
    parser.add_argument("--no-http", action="store_true", help="only the in-process rows")
    parser.add_argument(
        "--flood",
        action="store_true",
        help="discover mode flooded with new names, with and without limits (--seconds each)",
    )
    parser.add_argument(
        "--flood-events", type=int, default=500, help="track calls of a flood batch (1-500)"
    )
    parser.add_argument(
        "--names",
        help="one known event with this many new property names (a list: 250,500), flag mode",
    )
    parser.add_argument(
        "--flood-kb",
        default="1024",
        help="size of a flood batch in KB (at most 1024); a list (64,1024) floods with each",
    )
    parser.add_argument(
        "--project", type=Path, help="measure the product code of this checkout (default: ours)"
    )
    parser.add_argument(
        "--write-docs", action="store_true", help="refresh the section in docs/PERFORMANCE.md"
    )
    args = parser.parse_args(argv)
    try:
        args.worker_counts = [int(w) for w in args.workers.split(",")]
    except ValueError:
        parser.error("--workers: a number or a comma-separated list of numbers")
    if not all(1 <= w <= 32 for w in args.worker_counts) or not 1 <= args.concurrency <= 64:
        parser.error("--workers 1-32, --concurrency 1-64")
    if not 1 <= args.batch_size <= 500 or args.seconds <= 0 or args.batches < 1:
        parser.error("--batch-size 1-500, --seconds and --batches positive")
    if not is_postgres(args.database_url):
        parser.error("PostgreSQL only: the event log is partitioned and written with COPY there")
    if args.write_docs and args.no_http:
        parser.error("--write-docs needs the HTTP rows")
    try:
        args.flood_sizes = [int(kb) for kb in args.flood_kb.split(",")]
    except ValueError:
        parser.error("--flood-kb: a number or a comma-separated list of numbers")
    try:
        args.name_counts = [int(n) for n in args.names.split(",")] if args.names else []
    except ValueError:
        parser.error("--names: a number or a comma-separated list of numbers")
    if not 1 <= args.flood_events <= 500 or not all(1 <= kb <= 1024 for kb in args.flood_sizes):
        parser.error("--flood-events 1-500, --flood-kb 1-1024")
    if args.project is not None:
        args.project = args.project.resolve()
        if not (args.project / "config" / "wsgi.py").is_file():
            parser.error(f"--project {args.project}: not a checkout of this project")

    ensure_postgres_database(args.database_url)
    configure(args.database_url, args.mode, args.project)
    log(f"product code: {product_version()}")
    rng = random.Random(SEED)
    plan = catalog_plan(args.events, args.properties, rng)
    if args.name_counts:
        print(measure_names(args, plan))
        return
    if args.flood:
        rows, shapes = measure_flood(args, plan)
        text = flood_section(args, rows, shapes)
        print(text)
        if args.write_docs:
            write_section(text, FLOOD_DOC_START, FLOOD_DOC_END, heading=FLOOD_DOC_HEADING)
            log(f"wrote {DOCS_PATH}")
        return
    integration, secret = reset_database(args.mode, plan)
    traffic = Traffic(args.unknown_share, args.wrong_share, args.missing_share, args.extra_share)
    log(f"building {args.templates} batch bodies of {args.batch_size} calls")
    templates = make_templates(plan, traffic, args.batch_size, args.templates, SEED + 1)
    log(f"  {sum(len(b) for t in templates for b in t.parts) // len(templates):,} bytes a batch")
    run = uuid.uuid4().hex[:8]

    rows, statements, split = measure_in_process(args, integration, secret, templates, run)
    if args.profile:
        print(profile(args, integration, secret, templates, run), file=sys.stderr)
    if args.no_http:
        print(table(rows, rows[3], rows[2]))
        print(split_table(split))
        return
    http_rows = measure_http(args, integration, secret, templates, run, rows[0].queries)
    text = section(args, rows, http_rows, statements, split)
    print(text)
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
