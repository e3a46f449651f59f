"""Benchmark of the REST API's read endpoints on a catalog of realistic size.

Not a test: it fills a database with 100,000 events and 1,000,000 event properties (times
`--scale`), sends real requests through Django's test client (middleware, API-key auth, routing,
filters, pagination, serializers, JSON rendering) and reports, per endpoint, the SQL queries of
one request and the median and p95 latency, side by side with

* a plain DRF `ModelSerializer` (fields="__all__", no prefetching): what the API would cost
  without the selectors' constant-query work, and
* the raw SQL floor: psycopg running the same page directly (page columns, M2M ids,
  first/last seen and volumes; no count), which no Python layer can beat.

    uv run python bench/api.py                      # full scale, PostgreSQL, fills on first run
    uv run python bench/api.py --scale 0.01         # a quick run (1,000 events, 10,000 props)
    uv run python bench/api.py --write-docs         # also refresh docs/PERFORMANCE.md
    uv run python bench/api.py --database-url sqlite:///data/bench.sqlite3 --scale 0.01
    uv run python bench/api.py --patch --write-docs # writes: PATCH throughput under gunicorn
    uv run python bench/api.py --throughput         # reads under gunicorn, gunicorn.conf.py
    uv run python bench/api.py --throughput --workers 2,3,5

`--patch` measures writes instead: it runs the project's WSGI app under gunicorn on 127.0.0.1
and sends a bounded load of GETs and PATCHes from this machine, next to the framework's floor
(`GET /healthcheck`), and undoes its writes afterwards.

`--throughput` measures reads the same way, with the repository's gunicorn.conf.py: the
requests per second and p50/p99 of `/healthcheck` (the framework floor), `/api/v1/user/me`
(the API's floor: DRF and the API key), an event by id and a 50-row events list, side by
side with their share of the floor's rate (the goals), and
each worker's resident memory after the load. Its load comes from separate processes, each
sending prepared request bytes on a loopback socket and reading the answer to its end (about
half the CPU of `http.client` per request), so the load generator stays light next to the
server on the same cores.

The fill is reused while the database holds exactly what this version of the script would
write for the same scale and seed; `--refill` forces a new one. The script refuses to wipe a
database it did not fill itself.
"""

import argparse
import bisect
import gc
import http.client
import itertools
import json
import os
import platform
import random
import re
import shlex
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate, islice
from pathlib import Path
from urllib.parse import quote

from common import (
    DOCS_PATH,
    ensure_postgres_database,
    is_postgres,
    log,
    machine,
    p50_ms,
    p95_ms,
    write_section,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/event_catalog_bench"

#: Bump when the generator changes, so an old fill is not reused for new numbers.
FILL_VERSION = 2  # 2: first/last seen and daily volumes
SEED = 20260101
MARKER_INTEGRATION = "bench-segment"

#: The read goals, checked and printed as PASS/FAIL.
MAX_QUERIES = 8
MAX_FLOOR_RATIO = 3.0

RESOURCE_TABLE = "catalog_resource"
SEEN_TABLE = "catalog_resourceseen"
VOLUME_TABLE = "catalog_dailyvolume"
TRACKING_TABLES = (SEEN_TABLE, VOLUME_TABLE)
RESOURCE_COLUMNS = (
    "id",
    "entity_type",
    "title",
    "description",
    "definition",
    "pii",
    "verified",
    "published",
    "integration_id",
    "parent_id",
    "data_type",
    "required",
    "allowed_values",
    "examples",
    "created_at",
    "updated_at",
)


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: M2M field -> (through table, column of the other side). The order is the selectors' order.
M2M_TABLES = {
    "owners": ("catalog_resource_owners", "user_id"),
    "owners_groups": ("catalog_resource_owners_groups", "usergroup_id"),
    "teams": ("catalog_resource_teams", "team_id"),
    "tags": ("catalog_resource_tags", "tag_id"),
    "collections": ("catalog_resource_collections", "collection_id"),
    "subscribers": ("catalog_resource_subscribers", "user_id"),
}
#: How many owners / tags / subscribers a resource gets: count -> weight. Teams and
#: collections stay empty; their (empty) through tables are still read by every list.
OWNER_COUNTS = {0: 40, 1: 45, 2: 15}
TAG_COUNTS = {0: 30, 1: 35, 2: 25, 3: 10}
SUBSCRIBER_COUNTS = {0: 60, 1: 30, 2: 10}

NOUNS = words(
    "Product Cart Order Checkout Payment Coupon Search Page Screen Video Article Signup Login "
    "Account Subscription Trial Invite Message Notification Report Dashboard File Comment Review "
    "Wishlist Shipment Refund Ticket Survey Onboarding"
)
VERBS = words(
    "Viewed Clicked Added Removed Started Completed Failed Updated Shared Opened Closed "
    "Submitted Cancelled Downloaded Selected"
)
PROPERTY_SUBJECTS = words(
    "product cart order user session page device campaign coupon payment item screen "
    "search video plan"
)
PROPERTY_ATTRIBUTES = words("id name type value count category url source status position")
TAG_WORDS = words(
    "checkout growth core marketing mobile web backend deprecated experiment billing "
    "onboarding search retention activation ads email push partner legal analytics"
)
DATA_TYPES = {"string": 50, "number": 12, "integer": 12, "boolean": 10, "datetime": 6}
DATA_TYPES.update({"object": 4, "array": 5, "null": 1})


# --- configuration ------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    """How much to fill: the target size times `--scale` (users and tags don't scale)."""

    scale: float
    integrations: int = 3
    users: int = 200
    tags: int = 300

    @property
    def categories(self) -> int:
        return max(self.integrations, round(1_000 * self.scale))

    @property
    def events(self) -> int:
        return max(1, round(100_000 * self.scale))

    @property
    def properties(self) -> int:
        return max(1, round(1_000_000 * self.scale))

    def signature(self) -> str:
        """What the marker integration remembers, to tell a reusable fill from a stale one."""
        return json.dumps(
            {"version": FILL_VERSION, "seed": SEED, "scale": self.scale}, sort_keys=True
        )


def configure_django(database_url: str) -> None:
    """Set up Django as production would run it (DEBUG off), but answering the test client.

    DEBUG must be off: with DEBUG on, Django records every query and the numbers would
    include that bookkeeping.
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-" + uuid.uuid4().hex)
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(BASE_DIR))
    # WhiteNoise warns that collectstatic never ran; the API serves no static files.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django

    django.setup()


# --- filling the database -----------------------------------------------------------------


def cumulative(weights: dict) -> tuple[list, list[float]]:
    """Keys and cumulative weights, for fast weighted picks with `pick`."""
    keys, running, total = [], [], 0.0
    for key, weight in weights.items():
        total += weight
        keys.append(key)
        running.append(total)
    return keys, running


def pick(rng: random.Random, table: tuple[list, list[float]]):
    keys, running = table
    return keys[bisect.bisect_right(running, rng.random() * running[-1])]


def new_uuid(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID from the seeded generator, so a fill is reproducible."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def batched(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def load_rows(table: str, columns: Iterable[str], rows: Iterable[tuple]) -> int:
    """Append rows to a table: COPY on PostgreSQL (about 10x faster than INSERTs),
    executemany on SQLite. Returns the number of rows."""
    from django.db import connection

    columns = list(columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
            for batch in batched(rows, 10_000):
                cursor.executemany(statement, [sqlite_row(row) for row in batch])
                count += len(batch)
    return count


def sqlite_row(row: tuple) -> tuple:
    """Values as Django stores them in SQLite: UUIDs as 32 hex digits, datetimes as text."""
    from django.db import connection

    adapt = connection.ops.adapt_datetimefield_value
    return tuple(
        value.hex
        if isinstance(value, uuid.UUID)
        else adapt(value)
        if isinstance(value, datetime)
        else value
        for value in row
    )


@dataclass
class Workspace:
    """What resources point to, created with the ORM (a few hundred rows)."""

    integrations: list[uuid.UUID]
    users: list[uuid.UUID]
    tags: list[uuid.UUID]


def create_workspace(size: Size, rng: random.Random) -> Workspace:
    from catalog.models import Integration, IntegrationType, Tag, User

    kinds = [IntegrationType.SEGMENT, IntegrationType.AMPLITUDE, IntegrationType.CUSTOM]
    integrations = [
        Integration(
            id=new_uuid(rng),
            name=MARKER_INTEGRATION if i == 0 else f"bench-{kinds[i % 3]}-{i}",
            type=kinds[i % 3],
            # Written last, once the fill is complete: see `fill`.
            description="",
        )
        for i in range(size.integrations)
    ]
    Integration.objects.bulk_create(integrations)
    users = [
        User(
            id=new_uuid(rng),
            username=f"bench-user-{i:03d}",
            email=f"bench-user-{i:03d}@example.com",
            password="!",  # unusable: these accounts only own and subscribe
        )
        for i in range(size.users)
    ]
    User.objects.bulk_create(users)
    tags = [
        Tag(id=new_uuid(rng), title=TAG_WORDS[i % len(TAG_WORDS)] + f"-{i // len(TAG_WORDS)}")
        for i in range(size.tags)
    ]
    Tag.objects.bulk_create(tags)
    return Workspace(
        integrations=[i.id for i in integrations],
        users=[u.id for u in users],
        tags=[t.id for t in tags],
    )


@dataclass
class Timestamps:
    """Creation dates over two years, updates up to six months later."""

    start: datetime = datetime(2024, 1, 1, tzinfo=UTC)

    def pick(self, rng: random.Random) -> tuple[datetime, datetime]:
        created = self.start + timedelta(seconds=rng.randrange(2 * 365 * 86_400))
        return created, created + timedelta(seconds=rng.randrange(180 * 86_400))


def definition_text(rng: random.Random, title: str) -> str:
    """A markdown definition on 30% of resources, about 300 characters: payloads look real."""
    if rng.random() >= 0.3:
        return ""
    return (
        f"## {title}\n\nSent when the user reaches this step of the flow. "
        "Use it to measure conversion between steps; do **not** use it for billing.\n\n"
        "- Owner: see the owners field\n- Since: v2.4 of the web and mobile apps\n"
        "- Sampling: none"
    )


def resource_rows(size: Size, workspace: Workspace, rng: random.Random, ids: list) -> Iterator:
    """Every resource row, categories first, then events, then properties grouped by event
    (the order a catalog grows in). Appends each id to `ids` for the M2M fill."""
    stamps = Timestamps()
    data_types = cumulative(DATA_TYPES)
    integration_of: dict[uuid.UUID, uuid.UUID] = {}

    categories = []
    for i in range(size.categories):
        pk, integration = new_uuid(rng), workspace.integrations[i % size.integrations]
        title = f"{NOUNS[i % len(NOUNS)]} {i // len(NOUNS) + 1}"
        categories.append(pk)
        integration_of[pk] = integration
        ids.append(pk)
        yield (
            pk, "event_category", title, f"Events about {title.lower()}.",
            definition_text(rng, title), False, rng.random() < 0.4, rng.random() < 0.7,
            integration, None, None, None, None, None, *stamps.pick(rng),
        )  # fmt: skip

    events = []
    for i in range(size.events):
        pk, parent = new_uuid(rng), categories[rng.randrange(len(categories))]
        title = f"{rng.choice(NOUNS)} {rng.choice(VERBS)} {i}"
        events.append(pk)
        integration_of[pk] = integration_of[parent]
        ids.append(pk)
        yield (
            pk, "event", title, event_description(title),
            definition_text(rng, title), rng.random() < 0.02, rng.random() < 0.4,
            rng.random() < 0.7, integration_of[parent], parent, None, None, None, None,
            *stamps.pick(rng),
        )  # fmt: skip

    names = [f"{s}_{a}" for s in PROPERTY_SUBJECTS for a in PROPERTY_ATTRIBUTES]
    per_event = [0] * len(events)
    for _ in range(size.properties):
        per_event[rng.randrange(len(events))] += 1
    for parent, count in zip(events, per_event, strict=True):
        titles = rng.sample(names, count) if count <= len(names) else names + [
            f"extra_{n}" for n in range(count - len(names))
        ]  # fmt: skip
        for title in titles:
            pk = new_uuid(rng)
            ids.append(pk)
            allowed = json.dumps(["web", "ios", "android"]) if rng.random() < 0.1 else None
            examples = json.dumps([f"{title}-1", f"{title}-2"]) if rng.random() < 0.3 else None
            yield (
                pk, "event_property", title, f"The {title.replace('_', ' ')} of the event.",
                definition_text(rng, title), rng.random() < 0.05, rng.random() < 0.4,
                rng.random() < 0.7, integration_of[parent], parent, pick(rng, data_types),
                rng.random() < 0.3, allowed, examples, *stamps.pick(rng),
            )  # fmt: skip


def event_description(title: str) -> str:
    """An event's description in the fill; the PATCH benchmark puts it back with this."""
    return f"Sent when a user's {title.lower()}."


def m2m_rows(
    ids: list, targets: list, counts: dict, rng: random.Random, weights: list | None = None
) -> Iterator[tuple]:
    """(resource id, target id) pairs: each resource gets a weighted number of distinct
    targets, picked uniformly or by `weights` (tags: a few labels are on many resources)."""
    how_many = cumulative(counts)
    cum = list(accumulate(weights)) if weights else None
    for resource in ids:
        count = pick(rng, how_many)
        if not count:
            continue
        if cum is None:
            chosen = rng.sample(targets, count)
        else:
            chosen = set()
            while len(chosen) < count:
                chosen.add(targets[bisect.bisect_right(cum, rng.random() * cum[-1])])
        for target in chosen:
            yield resource, target


#: What the ingestion pipeline would have recorded: the share of events and properties ever
#: seen, and for each, over how many recent days a daily volume may exist and the chance
#: that it does (properties are sent with their events, so they have volumes too).
SEEN_SHARE = 0.85
VOLUME_DAYS = {"event": (30, 0.7), "event_property": (7, 0.5)}


def tracking_rows(ids: list, size: Size, rng: random.Random, now: datetime):
    """(ResourceSeen rows, DailyVolume rows) for the events and properties among `ids`
    (categories first, then events, then properties, as `resource_rows` yields them)."""
    seen, volumes = [], []
    today = now.date()
    for index, pk in enumerate(ids[size.categories :]):
        if rng.random() >= SEEN_SHARE:
            continue
        kind = "event" if index < size.events else "event_property"
        recent = rng.random() < 0.7
        last = now - timedelta(hours=rng.uniform(0, 72) if recent else rng.uniform(72, 24 * 90))
        seen.append((pk, last - timedelta(days=rng.uniform(0, 400)), last))
        if not recent:
            continue
        days, chance = VOLUME_DAYS[kind]
        for back in range(days):
            if rng.random() < chance:
                volumes.append((pk, today - timedelta(days=back), int(rng.paretovariate(1.2) * 10)))
    return seen, volumes


def fill_state(size: Size) -> str:
    """'ready' (reuse it), 'stale' (ours, refill it) or 'empty'; raises on a foreign database
    so the script never wipes a catalog it did not create."""
    from django.db.models import Count

    from catalog.models import Integration, Resource, Tag

    marker = Integration.objects.filter(name=MARKER_INTEGRATION).first()
    if marker is None:
        if Resource.objects.exists() or Tag.objects.exists() or Integration.objects.exists():
            raise SystemExit(
                "The database holds a catalog this script did not fill; use a dedicated "
                "database (--database-url)."
            )
        return "empty"
    counts = dict(Resource.objects.values_list("entity_type").annotate(n=Count("id")).order_by())
    expected = {
        "event_category": size.categories,
        "event": size.events,
        "event_property": size.properties,
    }
    return "ready" if marker.description == size.signature() and counts == expected else "stale"


def wipe() -> None:
    """Empty the tables this script fills (only called on a database it filled)."""
    from django.db import connection

    from catalog.models import User

    tables = [*TRACKING_TABLES, *(table for table, _ in M2M_TABLES.values())]
    tables += [RESOURCE_TABLE, "catalog_tag", "catalog_integration_teams", "catalog_integration"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    User.objects.filter(username__startswith="bench-user-").delete()


def fill(size: Size) -> None:
    """Write the whole catalog in one transaction, then VACUUM ANALYZE it, so the planner has
    statistics and index-only scans work, as on a database that has been running a while."""
    from django.db import connection, transaction

    from catalog.models import Integration

    rng = random.Random(SEED)
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Foreign keys are DEFERRABLE INITIALLY DEFERRED: each of the ~3.7 million rows would
            # queue a check for the commit. The generator writes every parent before its
            # children, so skip them (superuser only); check constraints still apply.
            with connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                if cursor.fetchone()[0]:
                    cursor.execute("SET LOCAL session_replication_role = replica")
        workspace = create_workspace(size, rng)
        ids: list[uuid.UUID] = []
        n = load_rows(RESOURCE_TABLE, RESOURCE_COLUMNS, resource_rows(size, workspace, rng, ids))
        log(f"  {n:,} resources in {time.perf_counter() - started:.0f}s")
        zipf = [1 / (rank + 1) for rank in range(len(workspace.tags))]
        for name, targets, counts, weights in (
            ("owners", workspace.users, OWNER_COUNTS, None),
            ("tags", workspace.tags, TAG_COUNTS, zipf),
            ("subscribers", workspace.users, SUBSCRIBER_COUNTS, None),
        ):
            table, column = M2M_TABLES[name]
            rows = m2m_rows(ids, targets, counts, rng, weights)
            n = load_rows(table, ("resource_id", column), rows)
            log(f"  {n:,} {name} in {time.perf_counter() - started:.0f}s")
        seen, volumes = tracking_rows(ids, size, rng, datetime.now(UTC))
        load_rows(SEEN_TABLE, ("resource_id", "first_seen_at", "last_seen_at"), seen)
        load_rows(VOLUME_TABLE, ("resource_id", "day", "count"), volumes)
        log(
            f"  {len(seen):,} seen, {len(volumes):,} daily volumes in "
            f"{time.perf_counter() - started:.0f}s"
        )
        Integration.objects.filter(name=MARKER_INTEGRATION).update(description=size.signature())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in [RESOURCE_TABLE, *(t for t, _ in M2M_TABLES.values()), *TRACKING_TABLES]:
                cursor.execute(f"VACUUM ANALYZE {table}")
        else:
            cursor.execute("ANALYZE")
    log(f"  filled and analyzed in {time.perf_counter() - started:.0f}s")


def ensure_filled(size: Size, refill: bool) -> None:
    """Migrate, then fill unless the database already holds this exact fill."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    state = fill_state(size)
    if state == "ready" and not refill:
        log("reusing the filled database (--refill to rebuild it)")
        return
    if state != "empty":
        log("wiping the previous fill")
        wipe()
    log(
        f"filling {size.categories:,} categories, {size.events:,} events, "
        f"{size.properties:,} properties"
    )
    fill(size)


# --- what is measured ---------------------------------------------------------------------


@dataclass
class Scenario:
    """One endpoint call, plus what the baseline and the SQL floor must do for the same page.

    `where` is the SQL condition on `catalog_resource r` with %s placeholders, `baseline` the
    ORM filter of the plain DRF view.
    """

    name: str
    url: str
    where: str
    params: list
    baseline: dict
    page_size: int = 200
    page: int = 1
    detail: bool = False
    #: One of the "same list, growing page size" rows the constant-queries goal compares.
    size_series: bool = False

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


@dataclass(frozen=True)
class Samples:
    ids: dict  # event, property, tag (UUIDs)


def query_json(node: dict) -> str:
    return quote(json.dumps(node, separators=(",", ":")))


def scenarios(samples: Samples) -> list[Scenario]:
    """The endpoints measured: list properties by page size, filtered by event, events,
    a detail, two resource queries and deep pages."""
    event, prop, tag = samples.ids["event"], samples.ids["property"], samples.ids["tag"]
    props = "/api/v1/event/event_properties"
    is_prop = "r.entity_type = 'event_property'"
    prop_filter = {"entity_type": "event_property"}
    list_props = [
        Scenario(f"properties, page_size={n}", f"{props}?page_size={n}", is_prop, [],
                 prop_filter, page_size=n, size_series=True)
        for n in (1, 50, 200)
    ]  # fmt: skip
    type_event_pii = {
        "operator": "and",
        "operands": [
            {"operator": "exact", "field": "type", "value": "event"},
            {"operator": "exact", "field": "pii", "value": True},
        ],
    }
    has_tag = {"operator": "contains", "field": "tags", "value": str(tag)}
    type_prop = {"operator": "exact", "field": "type", "value": "event_property"}
    catalog = "/api/v1/resource/catalog?page_size=200&filter="
    tag_exists = (
        "EXISTS (SELECT 1 FROM catalog_resource_tags t WHERE t.resource_id = r.id "
        "AND t.tag_id = %s)"
    )
    return [
        *list_props,
        Scenario(
            "properties of one event",
            f"{props}?page_size=200&parent_id={event}",
            f"{is_prop} AND r.parent_id = %s",
            [event],
            {**prop_filter, "parent_id": event},
        ),
        Scenario(
            "events, page_size=200",
            "/api/v1/event/events?page_size=200",
            "r.entity_type = 'event'",
            [],
            {"entity_type": "event"},
        ),
        Scenario(
            "property detail",
            f"{props}/{prop}",
            f"{is_prop} AND r.id = %s",
            [prop],
            {**prop_filter, "pk": prop},
            page_size=1,
            detail=True,
        ),
        Scenario(
            "query: type=event and pii",
            catalog + query_json(type_event_pii),
            "r.entity_type = 'event' AND r.pii",
            [],
            {"entity_type": "event", "pii": True},
        ),
        Scenario(
            "query: tags contains top tag",
            catalog + query_json(has_tag),
            tag_exists,
            [tag],
            {"tags": tag},
        ),
        Scenario(
            "properties, page 50 (rows 9,801-10,000)",
            f"{props}?page_size=200&page=50",
            is_prop,
            [],
            prop_filter,
            page=50,
        ),
        Scenario(
            "query: type=event_property, page 50",
            catalog + query_json(type_prop) + "&page=50",
            is_prop,
            [],
            prop_filter,
            page=50,
        ),
    ]


def pick_samples(floor: "SqlFloor") -> Samples:
    """The ids the scenarios use: the event with the most properties (the largest filtered
    page), a property with owners and tags, and the most used tag (the heaviest tag query)."""
    event = floor.scalar(
        "SELECT parent_id FROM catalog_resource WHERE entity_type = 'event_property' "
        "GROUP BY parent_id ORDER BY count(*) DESC, parent_id LIMIT 1"
    )
    prop = floor.scalar(
        "SELECT r.id FROM catalog_resource r WHERE r.entity_type = 'event_property' "
        "AND EXISTS (SELECT 1 FROM catalog_resource_tags t WHERE t.resource_id = r.id) "
        "AND EXISTS (SELECT 1 FROM catalog_resource_owners o WHERE o.resource_id = r.id) "
        "ORDER BY r.id LIMIT 1"
    )
    tag = floor.scalar(
        "SELECT tag_id FROM catalog_resource_tags GROUP BY tag_id "
        "ORDER BY count(*) DESC, tag_id LIMIT 1"
    )
    return Samples({"event": as_uuid(event), "property": as_uuid(prop), "tag": as_uuid(tag)})


def as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


class SqlFloor:
    """The same page straight from the database on its own DB-API connection: the page's
    columns, its M2M ids and its tracking (`request`). The cost any API must pay at least;
    the count is the app's own cost (the goal leaves it out of the floor).

    Statement preparation is off, as in Django: each request parses and plans its SQL.
    """

    def __init__(self, database_url: str):
        self.postgres = is_postgres(database_url)
        if self.postgres:
            import psycopg

            self.conn = psycopg.connect(database_url, autocommit=True, prepare_threshold=None)
        else:
            from django.conf import settings

            self.conn = sqlite3.connect(settings.DATABASES["default"]["NAME"])

    def _sql(self, statement: str) -> str:
        return statement if self.postgres else statement.replace("%s", "?")

    def _param(self, value):
        return value.hex if isinstance(value, uuid.UUID) and not self.postgres else value

    def execute(self, statement: str, params: Iterable = ()):
        cursor = self.conn.cursor()
        cursor.execute(self._sql(statement), [self._param(p) for p in params])
        return cursor

    def scalar(self, statement: str, params: Iterable = ()):
        return self.execute(statement, params).fetchone()[0]

    def tracking(self, ids: list) -> None:
        """First/last seen and the 7- and 30-day volumes of `ids` on SQLite (which has no
        LATERAL): the page's rows with two correlated sums."""
        today = datetime.now(UTC).date()
        since = [today - timedelta(days=6), today - timedelta(days=29)]
        statement = (
            "SELECT r.id, s.first_seen_at, s.last_seen_at, "
            f"(SELECT SUM(count) FROM {VOLUME_TABLE} WHERE resource_id = r.id AND day >= %s), "
            f"(SELECT SUM(count) FROM {VOLUME_TABLE} WHERE resource_id = r.id AND day >= %s) "
            f"FROM {RESOURCE_TABLE} r LEFT JOIN {SEEN_TABLE} s ON s.resource_id = r.id "
            f"WHERE r.id IN ({', '.join(['%s'] * len(ids))})"
        )
        self.execute(statement, [*since, *ids]).fetchall()

    def request(self, scenario: Scenario) -> tuple[int, list[uuid.UUID]]:
        """Run the scenario's queries; returns (statements run, ids of the page).

        What the page holds and nothing else: no count (the goal puts it on the app's side
        only), the page's columns, its M2M ids, and its first/last seen and volumes (every
        scenario lists events or properties, which the API shows with them). On PostgreSQL
        all in one statement: the page in a derived table, then correlated subqueries for its
        rows only, the fastest form measured (1 row: 1.1 ms against 2.4 ms for three
        statements; 50 rows 4.0 against 4.9; 200 rows 14.3 against 17.3). SQLite, with no
        round trips to save, takes three.
        """
        offset = (scenario.page - 1) * scenario.page_size
        columns = ", ".join(f"r.{c}" for c in RESOURCE_COLUMNS)
        if self.postgres:
            today = datetime.now(UTC).date()
            arrays = ", ".join(
                f"ARRAY(SELECT {column} FROM {table} WHERE resource_id = r.id ORDER BY 1)"
                for table, column in M2M_TABLES.values()
            )
            seen = [
                f"(SELECT {name} FROM {SEEN_TABLE} WHERE resource_id = r.id)"
                for name in ("first_seen_at", "last_seen_at")
            ]
            volume = (
                f"(SELECT SUM(count) FROM {VOLUME_TABLE} WHERE resource_id = r.id AND day >= %s)"
            )
            rows = self.execute(
                f"SELECT r.*, {arrays}, {', '.join(seen)}, {volume}, {volume} FROM ("
                f"SELECT {columns} FROM catalog_resource r WHERE {scenario.where} "
                "ORDER BY r.title, r.id LIMIT %s OFFSET %s) r ORDER BY r.title, r.id",
                [
                    today - timedelta(days=6),
                    today - timedelta(days=29),
                    *scenario.params,
                    scenario.page_size,
                    offset,
                ],
            ).fetchall()
            return 1, [as_uuid(row[0]) for row in rows]
        rows = self.execute(
            f"SELECT {columns} FROM catalog_resource r WHERE {scenario.where} "
            "ORDER BY r.title, r.id LIMIT %s OFFSET %s",
            [*scenario.params, scenario.page_size, offset],
        ).fetchall()
        ids = [row[0] for row in rows]
        if ids:
            marks = ", ".join(["%s"] * len(ids))
            union = " UNION ALL ".join(
                f"SELECT resource_id, '{name}', {column} FROM {table} "
                f"WHERE resource_id IN ({marks})"
                for name, (table, column) in M2M_TABLES.items()
            )
            self.execute(union, ids * len(M2M_TABLES)).fetchall()
            self.tracking(ids)
        return (3 if ids else 1), [as_uuid(pk) for pk in ids]


def baseline_urlconf(cases: list[Scenario]) -> str:
    """A URLconf with the app's routes plus one plain-DRF route per scenario, so the baseline
    goes through the same middleware and API-key auth as the app. Returns its module name."""
    from django.urls import path
    from rest_framework import generics, pagination, serializers

    from catalog.models import Resource
    from config import urls

    class PlainResourceSerializer(serializers.ModelSerializer):
        class Meta:
            model = Resource
            fields = "__all__"

    class PlainPagination(pagination.PageNumberPagination):
        page_size_query_param = "page_size"
        max_page_size = 200

    def view_for(case: Scenario):
        queryset = Resource.objects.filter(**case.baseline)
        if case.detail:
            return generics.RetrieveAPIView.as_view(
                queryset=queryset, serializer_class=PlainResourceSerializer, filter_backends=[]
            )
        return generics.ListAPIView.as_view(
            queryset=queryset.order_by("title", "id"),
            serializer_class=PlainResourceSerializer,
            pagination_class=PlainPagination,
            filter_backends=[],
        )

    module = types.ModuleType("bench_urlconf")
    module.urlpatterns = [
        path(f"bench/baseline/{c.slug}" + ("/<uuid:pk>" if c.detail else ""), view_for(c))
        for c in cases
    ]
    module.urlpatterns += urls.urlpatterns
    sys.modules[module.__name__] = module
    return module.__name__


def baseline_url(case: Scenario) -> str:
    if case.detail:
        return f"/bench/baseline/{case.slug}/{case.baseline['pk']}"
    return f"/bench/baseline/{case.slug}?page_size={case.page_size}&page={case.page}"


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Measure:
    queries: int
    times: list[float]

    @property
    def p50(self) -> float:
        return p50_ms(self.times)

    @property
    def p95(self) -> float:
        return p95_ms(self.times)


def time_calls(call: Callable[[], object], runs: int, warmups: int) -> list[float]:
    """Seconds per call after warm-ups (caches, plans, lazy imports): the steady state."""
    for _ in range(warmups):
        call()
    gc.collect()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def measure_http(client, url: str, runs: int, warmups: int) -> tuple[Measure, list[uuid.UUID]]:
    """Latency of a GET through the whole stack; queries counted on one extra request so the
    counting doesn't slow the timed ones."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} -> {response.status_code}: {response.content[:500]!r}")
        return response

    times = time_calls(get, runs, warmups)
    counts = []
    for _ in range(2):  # the fewer of two: an API key's first use in a minute adds an UPDATE
        with CaptureQueriesContext(connection) as queries:
            body = get().json()
        counts.append(len(queries))
    rows = body.get("results", [body])
    return Measure(min(counts), times), [uuid.UUID(row["id"]) for row in rows]


def measure_floor(floor: SqlFloor, case: Scenario, runs: int, warmups: int):
    times = time_calls(lambda: floor.request(case), runs, warmups)
    statements, ids = floor.request(case)
    return Measure(statements, times), ids


@dataclass
class Row:
    case: Scenario
    app: Measure
    baseline: Measure
    floor: Measure
    rows: int

    @property
    def ratio(self) -> float:
        return self.app.p50 / self.floor.p50


def bench_api_key():
    """The editor the benchmarks act as, and a new API key of theirs: (user, secret)."""
    from catalog.models import Role, User
    from catalog.services.context import ChangeContext
    from catalog.services.keys import api_key_create
    from catalog.services.workspace import user_create

    editor = User.objects.filter(username="bench-editor").first() or user_create(
        ctx=ChangeContext.for_system(), username="bench-editor", role=Role.EDITOR
    )
    _, secret = api_key_create(ctx=ChangeContext.for_system(), user=editor, name="bench")
    return editor, secret


def run_benchmark(database_url: str, runs: int, warmups: int) -> list[Row]:
    """Measure every scenario three ways; checks that the three return the same page."""
    from django.test import Client, override_settings

    _, secret = bench_api_key()
    client = Client(headers={"authorization": f"Bearer {secret}", "accept": "application/json"})
    floor = SqlFloor(database_url)
    cases = scenarios(pick_samples(floor))
    rows = []
    with override_settings(ROOT_URLCONF=baseline_urlconf(cases)):
        for case in cases:
            log(f"measuring {case.name}")
            app, app_ids = measure_http(client, case.url, runs, warmups)
            base, base_ids = measure_http(client, baseline_url(case), runs, warmups)
            sql, sql_ids = measure_floor(floor, case, runs, warmups)
            if not app_ids == base_ids == sql_ids:
                raise SystemExit(f"{case.name}: the app, baseline and SQL pages differ")
            rows.append(Row(case, app, base, sql, len(app_ids)))
    return rows


# --- reporting ----------------------------------------------------------------------------


def markdown_table(rows: list[Row]) -> str:
    head = (
        "| endpoint | rows | app queries | app p50 ms | app p95 ms | DRF queries | DRF p50 ms "
        "| DRF p95 ms | SQL queries | SQL p50 ms | SQL p95 ms | app / SQL p50 |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    lines = [head]
    for row in rows:
        a, b, f = row.app, row.baseline, row.floor
        lines.append(
            f"| {row.case.name} | {row.rows} "
            f"| {a.queries} | {a.p50:.1f} | {a.p95:.1f} "
            f"| {b.queries} | {b.p50:.1f} | {b.p95:.1f} "
            f"| {f.queries} | {f.p50:.1f} | {f.p95:.1f} | {row.ratio:.2f}x |"
        )
    return "\n".join(lines)


def goals(rows: list[Row]) -> list[tuple[str, bool, str]]:
    """The goals: (goal, passed, evidence)."""
    by_size = {r.case.page_size: r.app.queries for r in rows if r.case.size_series}
    worst = max(rows, key=lambda r: r.app.queries)
    constant = len(set(by_size.values())) == 1 and worst.app.queries <= MAX_QUERIES
    lists = [r for r in rows if not r.case.detail]
    slow = [r for r in lists if r.ratio > MAX_FLOOR_RATIO]
    slowest = max(lists, key=lambda r: r.ratio)
    sizes = ", ".join(f"page_size={n}: {q}" for n, q in by_size.items())
    return [
        (
            f"Constant number of queries, at most {MAX_QUERIES}",
            constant,
            f"properties list {sizes}; most on any endpoint: {worst.app.queries} "
            f"({worst.case.name})",
        ),
        (
            f"List p50 within {MAX_FLOOR_RATIO:g}x the SQL floor",
            not slow,
            "over: " + "; ".join(f"{r.case.name} {ratio_text(r)}" for r in slow)
            if slow
            else f"worst: {slowest.case.name} {ratio_text(slowest)}",
        ),
    ]


def ratio_text(row: Row) -> str:
    return f"at {row.ratio:.2f}x ({row.app.p50:.1f} ms vs {row.floor.p50:.1f} ms)"


def goals_text(rows: list[Row]) -> str:
    return "\n".join(
        f"- **{'PASS' if ok else 'FAIL'}** {goal}: {evidence}."
        for goal, ok, evidence in goals(rows)
    )


def environment(database_url: str, size: Size) -> dict[str, str]:
    """What the numbers depend on, for the docs: machine, versions, data sizes."""
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
            database = cursor.fetchone()[0].split(" on ")[0]
            cursor.execute("SHOW shared_buffers")
            database += f" (shared_buffers {cursor.fetchone()[0]}"
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('catalog_resource'))")
            database += f"; catalog_resource with indexes: {cursor.fetchone()[0]})"
            prepared = connection.settings_dict.get("OPTIONS", {}).get("server_side_binding")
            database += f"; prepared statements {'on' if prepared else 'off'}"
        else:
            database = f"SQLite {sqlite3.sqlite_version}"
        m2m = {}
        for name, (table, _) in M2M_TABLES.items():
            cursor.execute(f"SELECT count(*) FROM {table}")
            m2m[name] = cursor.fetchone()[0]
        tracked = {}
        for table in TRACKING_TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            tracked[table] = cursor.fetchone()[0]
    links = ", ".join(f"{n:,} {name}" for name, n in m2m.items() if n)
    return {
        "Command": "`" + shlex.join(["uv", "run", "python", "bench/api.py", *sys.argv[1:]]) + "`",
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "Machine": machine(),
        "Software": (
            f"Python {platform.python_version()}, Django {django.get_version()}, "
            f"{platform.system()} {platform.release()}"
        ),
        "Database": database,
        "Data": (
            f"{size.integrations} integrations, {size.categories:,} categories, "
            f"{size.events:,} events, {size.properties:,} event properties; {links} links; "
            f"{size.users} users, {size.tags} tags; {tracked[SEEN_TABLE]:,} events and "
            f"properties seen, {tracked[VOLUME_TABLE]:,} daily volumes"
        ),
    }


DOC_START = "<!-- bench:results:start -->"
DOC_END = "<!-- bench:results:end -->"
DOC_SKELETON = f"""# Performance

How fast the REST API reads the catalog, measured by `bench/api.py`.

## How to read this

Each row is one GET request, timed `--runs` times (30 by default) after `--warmups` warm-ups
(3) through Django's test client in one process: middleware, API-key authentication, routing,
filters, pagination, serializers and JSON rendering, but no network and no WSGI server.
*Queries* are the SQL statements of one request. *p50* is the median latency, *p95* the latency
95% of requests beat. *DRF* is a plain `ModelSerializer` (`fields = "__all__"`, no prefetching)
behind the same middleware and authentication. *SQL* is the floor: the same page, M2M ids,
first/last seen and volumes fetched with psycopg directly, without the count (the app's count
is on the app's side). *app / SQL* is how many times the floor the API takes.

{DOC_START}
{DOC_END}
"""


def results_section(rows: list[Row], env: dict[str, str], runs: int, warmups: int) -> str:
    facts = "\n".join(f"- {key}: {value}" for key, value in env.items())
    return (
        f"## Results\n\n{facts}\n- Runs: {runs} timed requests after {warmups} warm-ups per "
        f"row\n\n{markdown_table(rows)}\n\nGoals:\n\n{goals_text(rows)}\n"
    )


def write_docs(section: str, start: str = DOC_START, end: str = DOC_END, heading: str = "") -> None:
    write_section(section, start, end, heading=heading, skeleton=DOC_SKELETON)
    log(f"wrote {DOCS_PATH.relative_to(BASE_DIR)}")


# --- writes: PATCH throughput under gunicorn ----------------------------------------------

PATCH_DOC_START = "<!-- bench:patch:start -->"
PATCH_DOC_END = "<!-- bench:patch:end -->"
PATCH_DOC_HEADING = "## Writes: PATCH throughput under gunicorn\n\n"
#: Each PATCH sets the description to the other one of these: every request is a real change.
PATCH_VALUES = ("Benchmark description A.", "Benchmark description B.")
#: The extra subscribers of row (c); `wipe` deletes them with the other bench users.
SUBSCRIBER_PREFIX = "bench-user-sub-"
EVENTS_URL = "/api/v1/event/events/{}"
WARMUP_SECONDS = 2.0
REQUEST_TIMEOUT = 30.0
SERVER_START_TIMEOUT = 60.0
MAX_WORKERS, MAX_CONCURRENCY, MAX_DURATION = 32, 64, 600


@dataclass
class PatchSetup:
    """Whom the PATCH benchmark acts as, what it writes to, and what to put back after."""

    editor: object
    secret: str
    #: One event per connection, each with its own few subscribers (row b, and the GET).
    light: list[uuid.UUID]
    #: One event per connection, each with `subscribers` more (row c).
    heavy: list[uuid.UUID]
    #: The rows as they were (description, updated_at), to undo the PATCHes.
    originals: list
    #: How many PATCHes each event got: the next one sets PATCH_VALUES[n % 2].
    patched: dict = field(default_factory=dict)

    def body(self, pk: uuid.UUID) -> bytes:
        return json.dumps({"description": PATCH_VALUES[self.patched.get(pk, 0) % 2]}).encode()


def patch_setup(concurrency: int, subscribers: int) -> PatchSetup:
    """Pick one event per connection for each PATCH row (so no two requests wait for the same
    row lock) and give row (c)'s events `subscribers` extra subscribers, created in bulk."""
    from catalog.models import Resource, User

    editor, secret = bench_api_key()
    cleanup_patch(editor, [])  # what an interrupted run may have left
    events = Resource.objects.filter(entity_type="event").order_by("pk")
    light = list(events.filter(subscribers__isnull=False).distinct().values_list("pk", flat=True))[
        :concurrency
    ]
    heavy = list(events.filter(subscribers__isnull=True).values_list("pk", flat=True)[:concurrency])
    if len(light) < concurrency or len(heavy) < concurrency:
        raise SystemExit(f"the fill has too few events for {concurrency} connections")

    names = [f"{SUBSCRIBER_PREFIX}{i:04d}" for i in range(subscribers)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    User.objects.bulk_create(
        User(username=name, email=f"{name}@example.com", password="!")
        for name in names
        if name not in existing
    )
    users = list(User.objects.filter(username__in=names).values_list("pk", flat=True))
    table, column = M2M_TABLES["subscribers"]
    n = load_rows(table, ("resource_id", column), ((e, u) for e in heavy for u in users))
    log(f"  {n:,} subscriptions: {len(heavy)} events x {len(users):,} subscribers")
    originals = list(
        Resource.objects.filter(pk__in=light + heavy).only("description", "updated_at")
    )
    return PatchSetup(editor, secret, light, heavy, originals)


def cleanup_patch(editor, originals: list) -> None:
    """Put the fill back as it was (descriptions, subscriptions) and drop the benchmark's
    history and outbox rows, so the read benchmark and the next run see the same database."""
    from django.db import connection

    from catalog.models import ChangeSet, Notification, ObjectChange, Resource

    Resource.objects.bulk_update(originals, ["description", "updated_at"])
    # An interrupted run kept no originals: the fill's description follows from the title.
    stale = list(Resource.objects.filter(entity_type="event", description__in=PATCH_VALUES))
    for resource in stale:
        resource.description = event_description(resource.title)
    Resource.objects.bulk_update(stale, ["description"])
    through = Resource.subscribers.through
    through.objects.filter(user__username__startswith=SUBSCRIBER_PREFIX).delete()
    Notification.objects.filter(change_set__actor=editor).delete()
    ObjectChange.objects.filter(change_set__actor=editor).delete()
    ChangeSet.objects.filter(actor=editor).delete()
    if connection.vendor == "postgresql":
        tables = [m._meta.db_table for m in (Notification, ObjectChange, ChangeSet, through)]
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")


def written_rows(editor) -> tuple[int, int]:
    """(history rows, outbox rows) the benchmark's editor has caused so far."""
    from catalog.models import Notification, ObjectChange

    return (
        ObjectChange.objects.filter(change_set__actor=editor).count(),
        Notification.objects.filter(change_set__actor=editor).count(),
    )


@dataclass
class LoadCase:
    """One row of the load: a GET of fixed paths, or a PATCH of each connection's event."""

    name: str
    method: str
    #: The path each connection requests (one per connection).
    paths: list[str]
    #: PATCH: the event each connection changes.
    events: list[uuid.UUID] | None = None
    authenticated: bool = True


@dataclass
class Single:
    """One request at a time, in-process: statements, latency, and where the time went.

    Each part is the median over the runs of that part (milliseconds), so they add up only
    roughly; "python" is the median of what was left of each request.
    """

    queries: int
    #: Per run: (seconds in all, waiting on SQL statements, waiting on COMMIT).
    runs: list[tuple[float, float, float]]
    size: int  # response bytes

    def _median_ms(self, part: Callable[[tuple], float]) -> float:
        return statistics.median(part(run) for run in self.runs) * 1000

    @property
    def p50(self) -> float:
        return self._median_ms(lambda run: run[0])

    @property
    def sql(self) -> float:
        return self._median_ms(lambda run: run[1])

    @property
    def commit(self) -> float:
        return self._median_ms(lambda run: run[2])

    @property
    def python(self) -> float:
        return self._median_ms(lambda run: run[0] - run[1] - run[2])


@dataclass
class LoadResult:
    case: LoadCase
    single: Single | None  # set once measured
    times: list[float]
    errors: Counter
    elapsed: float
    #: Cores busy on average, by who used them (see CpuSnapshot); None off Linux.
    cpu: dict[str, float] | None
    history: int = 0
    outbox: int = 0

    @property
    def rate(self) -> float:
        return len(self.times) / self.elapsed

    @property
    def measure(self) -> Measure:
        return Measure(0, self.times or [0.0])  # latencies only


@contextmanager
def database_time(totals: dict[str, float]) -> Iterator[None]:
    """Add the seconds spent waiting on SQL statements and on COMMIT to `totals`: the rest of
    a request's time is Python (the test client has no network)."""
    from django.db import connection

    def timed_execute(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            totals["sql"] += time.perf_counter() - started

    commit = connection._commit

    def timed_commit():
        started = time.perf_counter()
        try:
            return commit()
        finally:
            totals["commit"] += time.perf_counter() - started

    connection._commit = timed_commit  # COMMIT bypasses the execute wrappers
    try:
        with connection.execute_wrapper(timed_execute):
            yield
    finally:
        del connection._commit


def measure_single(call: Callable, runs_wanted: int, warmups: int) -> tuple[Single, list[str]]:
    """Time `call` alone, split its time between SQL, COMMIT and Python, and count its
    statements (the fewer of two requests: a key's first use in a minute adds an UPDATE)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmups):
        call()
    gc.collect()
    totals = {"sql": 0.0, "commit": 0.0}
    runs = []
    with database_time(totals):
        for _ in range(runs_wanted):
            before = dict(totals)
            started = time.perf_counter()
            call()
            elapsed = time.perf_counter() - started
            runs.append(
                (elapsed, totals["sql"] - before["sql"], totals["commit"] - before["commit"])
            )
    counted = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            response = call()
        counted.append([q["sql"] for q in captured.captured_queries])
    statements = min(counted, key=len)
    single = Single(len(statements), runs, len(response.content))
    return single, statements


def in_process_calls(setup: PatchSetup, cases: list[LoadCase]) -> list[Callable]:
    """Each case's first connection's request through Django's test client."""
    from django.test import Client

    client = Client(
        headers={"authorization": f"Bearer {setup.secret}", "accept": "application/json"}
    )

    def call_for(case: LoadCase) -> Callable:
        def call():
            if case.method == "GET":
                response = client.get(case.paths[0])
            else:
                pk = case.events[0]
                response = client.patch(
                    case.paths[0], setup.body(pk), content_type="application/json"
                )
                setup.patched[pk] = setup.patched.get(pk, 0) + 1
            if response.status_code != 200:
                raise SystemExit(f"{case.method} {case.paths[0]} -> {response.status_code}")
            return response

        return call

    return [call_for(case) for case in cases]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


GUNICORN_CONFIG = BASE_DIR / "gunicorn.conf.py"


@contextmanager
def gunicorn_server(
    database_url: str, workers: int, config: bool = False, extra_env: dict | None = None
) -> Iterator[tuple[int, int]]:
    """Run the project's WSGI app under gunicorn on 127.0.0.1 as production would (DEBUG off)
    and yield (port, pid); the server is stopped however the block ends, Ctrl-C included.

    With `config`, gunicorn reads the repository's gunicorn.conf.py (preload, gc.freeze,
    max_requests...) and only the address, the workers and the log level come from here;
    `extra_env` reaches the server (and the config file) on top of this process's environment.

    Tasks use the dummy backend, so no email is sent during a request (the outbox rows are
    still written); production's database backend would add one INSERT after the commit.
    """
    port = free_port()
    env = {
        **os.environ,
        **(extra_env or {}),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": os.environ["SECRET_KEY"],
        "DJANGO_DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "TASKS_BACKEND": "dummy",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
        # WhiteNoise warns that collectstatic never ran; the API serves no static files.
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }
    if config:
        command = [
            sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "config.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning",
        ]  # fmt: skip
    else:
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "sync",
            "--timeout", "120", "--graceful-timeout", "5", "--log-level", "warning",
        ]  # fmt: skip
    with tempfile.TemporaryFile("w+") as output:
        how = f"with {GUNICORN_CONFIG.name}" if config else "sync workers"
        log(f"starting gunicorn: {workers} workers ({how}) on 127.0.0.1:{port}")
        # Its own session: a Ctrl-C reaches only this script, which then stops the server.
        server = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            wait_until_healthy(port, server, output)
            yield port, server.pid
        finally:
            stop_server(server)
            output.seek(0)
            if text := output.read().strip():
                log("gunicorn said:\n" + "\n".join(text.splitlines()[-20:]))


def wait_until_healthy(port: int, server: subprocess.Popen, output) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output.seek(0)
            raise SystemExit(f"gunicorn exited with {server.returncode}:\n{output.read()[-3000:]}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthcheck")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.25)
    raise SystemExit(f"gunicorn did not answer /healthcheck within {SERVER_START_TIMEOUT:g} s")


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM (gunicorn's graceful stop), then SIGKILL to the server's own process group."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
    log(f"gunicorn stopped ({server.returncode})")


@dataclass
class CpuSnapshot:
    """CPU seconds used so far: by the machine, by gunicorn (master and workers), by the
    PostgreSQL backends of the bench database, and by this process (the load generator).

    The machine is shared: what none of these used is other work (other processes,
    PostgreSQL's background writers, the kernel). Linux only (/proc).
    """

    machine: float
    processes: dict[str, dict[int, float]]
    load: float

    @classmethod
    def take(cls, server_pid: int) -> "CpuSnapshot | None":
        try:
            head = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
        except OSError:
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in head)
        tick = os.sysconf("SC_CLK_TCK")
        stats = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                values = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process ended meanwhile
            stats[int(stat.parent.name)] = (
                int(values[1]),  # parent pid
                (int(values[11]) + int(values[12])) / tick,  # user + system time
            )
        server = {pid: cpu for pid, (ppid, cpu) in stats.items() if server_pid in (pid, ppid)}
        database = {pid: stats[pid][1] for pid in database_backends() if pid in stats}
        return cls(
            (user + nice + system + irq + softirq + steal) / tick,
            {"gunicorn": server, "PostgreSQL": database},
            time.process_time(),
        )

    def cores_since(self, before: "CpuSnapshot", elapsed: float) -> dict[str, float]:
        """Average cores busy between `before` and this snapshot, by who used them."""
        cores = {
            kind: sum(cpu - before.processes[kind].get(pid, 0.0) for pid, cpu in pids.items())
            / elapsed
            for kind, pids in self.processes.items()
        }
        cores["load"] = (self.load - before.load) / elapsed
        cores["other"] = max(0.0, (self.machine - before.machine) / elapsed - sum(cores.values()))
        return cores


def database_backends() -> list[int]:
    """PostgreSQL's processes serving the bench database, except this script's own."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def run_load(
    port: int, case: LoadCase, setup: PatchSetup, duration: float, max_requests: int
) -> tuple[list[float], Counter, float]:
    """Send the case's requests on one connection per path for `duration` seconds, at most
    `max_requests` in all; returns (seconds of each 2xx answer, errors by kind, elapsed)."""
    deadline = time.perf_counter() + duration
    issued = itertools.count()
    stop = threading.Event()
    headers = {"Accept": "application/json"}
    if case.authenticated:
        headers["Authorization"] = f"Bearer {setup.secret}"
    if case.method == "PATCH":
        headers["Content-Type"] = "application/json"
    results: list[tuple[list[float], Counter]] = [([], Counter()) for _ in case.paths]

    def connection(index: int) -> None:
        times, errors = results[index]
        path = case.paths[index]
        pk = case.events[index] if case.events else None
        # gunicorn's sync workers close the connection after each answer (they expect a
        # proxy in front); http.client then reconnects, so each request pays a loopback connect.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            while (
                not stop.is_set() and time.perf_counter() < deadline and next(issued) < max_requests
            ):
                body = setup.body(pk) if pk else None
                started = time.perf_counter()
                try:
                    conn.request(case.method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException) as error:
                    conn.close()
                    errors[type(error).__name__] += 1
                    time.sleep(0.05)  # no busy loop while the server is down
                    continue
                if 200 <= response.status < 300:
                    times.append(time.perf_counter() - started)
                    if pk:
                        setup.patched[pk] = setup.patched.get(pk, 0) + 1
                else:
                    errors[f"HTTP {response.status}"] += 1
        finally:
            conn.close()

    threads = [
        threading.Thread(target=connection, args=(i,), daemon=True) for i in range(len(case.paths))
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.perf_counter()) + REQUEST_TIMEOUT + 5)
    finally:
        stop.set()
    elapsed = time.perf_counter() - started
    times = [t for ts, _ in results for t in ts]
    errors = sum((e for _, e in results), Counter())
    return times, errors, elapsed


def load_cases(setup: PatchSetup, subscribers: int) -> list[LoadCase]:
    light = [EVENTS_URL.format(pk) for pk in setup.light]
    heavy = [EVENTS_URL.format(pk) for pk in setup.heavy]
    return [
        LoadCase("GET /healthcheck (1 query)", "GET", ["/healthcheck"] * len(light),
                 authenticated=False),
        LoadCase("GET /api/v1/event/events/{id}", "GET", light),
        LoadCase("PATCH /api/v1/event/events/{id}", "PATCH", light, setup.light),
        LoadCase(f"PATCH, event with {subscribers:,} subscribers", "PATCH", heavy, setup.heavy),
    ]  # fmt: skip


def measure_load(port: int, pid: int, case: LoadCase, setup: PatchSetup, args) -> LoadResult:
    """Warm up, then load the server with one case; count the rows it wrote and who used
    the CPU meanwhile."""
    log(f"load: {case.name}, warming up {WARMUP_SECONDS:g} s")
    run_load(port, case, setup, WARMUP_SECONDS, args.max_requests)
    log(f"load: {case.name}, {args.concurrency} connections for {args.duration:g} s")
    history, outbox = written_rows(setup.editor)
    cpu_before = CpuSnapshot.take(pid)
    times, errors, elapsed = run_load(port, case, setup, args.duration, args.max_requests)
    cpu_after = CpuSnapshot.take(pid)
    cpu = cpu_after.cores_since(cpu_before, elapsed) if cpu_before and cpu_after else None
    result = LoadResult(case, None, times, errors, elapsed, cpu)
    history_after, outbox_after = written_rows(setup.editor)
    result.history, result.outbox = history_after - history, outbox_after - outbox
    log(
        f"  {result.rate:.1f} req/s, p50 {result.measure.p50:.1f} ms, "
        f"p95 {result.measure.p95:.1f} ms, errors {dict(errors) or 0}"
    )
    return result


def run_patch_benchmark(args) -> list[LoadResult]:
    """Measure each case in-process (statements, where the time goes), then under gunicorn
    with `args.concurrency` connections; always undo the benchmark's writes at the end."""
    log(f"setting up {args.concurrency} events per PATCH row, {args.subscribers:,} subscribers")
    setup = patch_setup(args.concurrency, args.subscribers)
    try:
        cases = load_cases(setup, args.subscribers)
        singles = []
        for case, call in zip(cases, in_process_calls(setup, cases), strict=True):
            log(f"in-process: {case.name}")
            single, statements = measure_single(call, args.runs, args.warmups)
            singles.append(single)
            if case.method == "PATCH":
                log(f"  {len(statements)} statements:")
                for statement in statements:
                    log("    " + (statement if len(statement) < 150 else statement[:147] + "..."))
        results = []
        with gunicorn_server(args.database_url, args.workers) as (port, pid):
            for case, single in zip(cases, singles, strict=True):
                result = measure_load(port, pid, case, setup, args)
                result.single = single
                results.append(result)
        return results
    finally:
        log("putting the fill back")
        cleanup_patch(setup.editor, setup.originals)


def patch_checks(results: list[LoadResult], subscribers: int) -> list[tuple[str, bool, str]]:
    """What must hold for the numbers to mean anything, and the flat-cost goal."""
    patches = [r for r in results if r.case.method == "PATCH"]
    light, heavy = patches
    errors = sum(sum(r.errors.values()) for r in results)
    return [
        ("No errors under load", not errors, f"{errors} errors"),
        (
            "Every PATCH was a real change that wrote its history",
            all(r.history == len(r.times) for r in patches),
            "; ".join(f"{len(r.times):,} PATCHes, {r.history:,} history rows" for r in patches),
        ),
        (
            f"A PATCH's statements don't grow with {subscribers:,} subscribers",
            heavy.single.queries == light.single.queries,
            f"{light.single.queries} vs {heavy.single.queries} statements, "
            f"{outbox_per_request(light):.1f} vs {outbox_per_request(heavy):,.1f} outbox rows "
            "per PATCH",
        ),
    ]


def outbox_per_request(result: LoadResult) -> float:
    return result.outbox / len(result.times) if result.times else 0.0


def patch_tables(results: list[LoadResult], workers: int) -> str:
    load = [
        "| request | requests | errors | req/s | p50 ms | p95 ms | worker ms / request "
        "| CPU ms / request: gunicorn / PostgreSQL | outbox rows / request "
        "| CPU cores: gunicorn / PostgreSQL / load / other |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        m, cpu = r.measure, r.cpu
        cores = " / ".join(f"{c:.2f}" for c in cpu.values()) if cpu else "n/a"
        # What a request costs in CPU, whoever else used the machine meanwhile.
        per_request = (
            " / ".join(f"{cpu[k] * 1000 / r.rate:.1f}" for k in ("gunicorn", "PostgreSQL"))
            if cpu and r.times
            else "n/a"
        )
        outbox = f"{outbox_per_request(r):,.1f}" if r.case.method == "PATCH" else "-"
        load.append(
            f"| {r.case.name} | {len(r.times):,} | {sum(r.errors.values())} | {r.rate:.1f} "
            f"| {m.p50:.1f} | {m.p95:.1f} | {workers * 1000 / max(r.rate, 1e-9):.1f} "
            f"| {per_request} | {outbox} | {cores} |"
        )
    single = [
        "| request | SQL statements | p50 ms | in SQL ms | in COMMIT ms | rest (Python) ms "
        "| response bytes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        s = r.single
        single.append(
            f"| {r.case.name} | {s.queries} | {s.p50:.1f} | {s.sql:.1f} "
            f"| {s.commit:.1f} | {s.python:.1f} | {s.size:,} |"
        )
    return "\n".join(load) + "\n\nOne request at a time, in-process:\n\n" + "\n".join(single)


def patch_section(results: list[LoadResult], env: dict[str, str], args) -> str:
    import gunicorn
    from django.db import connection

    env = dict(env)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            env["Database"] += f"; synchronous_commit {cursor.fetchone()[0]}"
    conn_max_age = os.environ.get("DATABASE_CONN_MAX_AGE", "the default, 60")
    env["Server"] = (
        f"gunicorn {gunicorn.__version__}, {args.workers} sync workers, "
        f"`config.wsgi:application` on 127.0.0.1, DEBUG off, TASKS_BACKEND=dummy, "
        f"DATABASE_CONN_MAX_AGE {conn_max_age} s"
    )
    env["Load"] = (
        f"{args.concurrency} concurrent connections from this machine (Python threads, "
        f"`http.client`), {args.duration:g} s per row after a {WARMUP_SECONDS:g} s warm-up, "
        f"at most {args.max_requests:,} requests per row; each PATCH connection changes its "
        f"own event"
    )
    env["In-process"] = (
        f"{args.runs} requests one at a time after {args.warmups} warm-ups (Django test client)"
    )
    env["Subscribers"] = (
        f"the last row's {args.concurrency} events get {args.subscribers:,} extra subscribers each "
        "for the run (removed after it)"
    )
    facts = "\n".join(f"- {key}: {value}" for key, value in env.items())
    checks = "\n".join(
        f"- **{'PASS' if ok else 'FAIL'}** {check}: {evidence}."
        for check, ok, evidence in patch_checks(results, args.subscribers)
    )
    return (
        f"### PATCH results\n\n{facts}\n\nUnder gunicorn:\n\n"
        f"{patch_tables(results, args.workers)}\n\nChecks:\n\n{checks}\n"
    )


def patch_main(args, size: Size) -> None:
    """The `--patch` part: PATCH throughput under gunicorn next to a trivial view."""
    results = run_patch_benchmark(args)
    section = patch_section(results, environment(args.database_url, size), args)
    print(section)
    if args.write_docs:
        write_docs(section, PATCH_DOC_START, PATCH_DOC_END, PATCH_DOC_HEADING)
    if not all(ok for _, ok, _ in patch_checks(results, args.subscribers)):
        sys.exit(1)


# --- reads: throughput under gunicorn (--throughput) ----------------------------------------

THROUGHPUT_DOC_START = "<!-- bench:api-throughput:start -->"
THROUGHPUT_DOC_END = "<!-- bench:api-throughput:end -->"
THROUGHPUT_DOC_HEADING = "## Reads: throughput under gunicorn\n\n"
#: The throughput goals: a share of the `/healthcheck` rate measured in the same run, and memory.
GOAL_DETAIL_SHARE = 0.50
GOAL_LIST_SHARE = 0.25
GOAL_WORKER_RSS_MIB = 120.0
#: Distinct events the detail row asks for (seeded), so no single row stays hot.
DETAIL_EVENTS = 1_000
LIST_PATH = "/api/v1/event/events?page_size=50"
#: The cheapest authenticated API read (the key's user and their teams), no goal: what DRF
#: and API-key authentication cost before any catalog row is read.
ME_PATH = "/api/v1/user/me"
#: Warm-up of each later round's window (the first round's is WARMUP_SECONDS).
ROUND_WARMUP_SECONDS = 0.5


@dataclass(frozen=True)
class Target:
    """One row of the read load: GETs cycling over `paths`; `key`: send the API key."""

    name: str
    paths: tuple[str, ...]
    key: bool
    goal: float | None  # the share of /healthcheck's rate it must reach


def throughput_targets() -> list[Target]:
    """The framework floor, the API's floor (the current user), an event by id (1,000 events
    picked with the seed) and the first 50-row page of the events list, each URL written
    before the clock starts."""
    from catalog.models import Resource

    ids = list(Resource.objects.filter(entity_type="event").values_list("pk", flat=True))
    events = random.Random(SEED).sample(ids, min(DETAIL_EVENTS, len(ids)))
    return [
        Target("GET /healthcheck (1 query), the framework floor", ("/healthcheck",), False, None),
        Target(f"GET {ME_PATH} (2 queries), no catalog row", (ME_PATH,), True, None),
        Target(
            "GET /api/v1/event/events/{id}",
            tuple(EVENTS_URL.format(pk) for pk in events),
            True,
            GOAL_DETAIL_SHARE,
        ),
        Target(f"GET {LIST_PATH}", (LIST_PATH,), True, GOAL_LIST_SHARE),
    ]


def read_client(index: int, port: int, secret: str, targets: list[Target], commands, results):
    """A load process: waits for (target, start, measure_at, end_at) on `commands`, then sends
    that target's GETs one after the other until `end_at`; puts back the latencies of the 200
    answers that arrived in [measure_at, end_at], the errors and its CPU time in that window.
    Clocks: time.monotonic, shared by all processes on Linux.

    Each request is bytes written before the clock starts, sent on a new loopback connection
    with `Connection: close` (gunicorn's sync workers close it after each answer anyway), and
    the answer is read to the end of the stream; only its status line is parsed. That costs
    about half the CPU of `http.client` per request (which parses every header), CPU the
    server on the same cores doesn't get."""

    def request(path: str, key: bool) -> bytes:
        auth = f"Authorization: Bearer {secret}\r\n" if key else ""
        return (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n"
            f"{auth}Connection: close\r\n\r\n"
        ).encode()

    prepared = [[request(path, t.key) for path in t.paths] for t in targets]
    address = ("127.0.0.1", port)
    while (command := commands.get()) is not None:
        which, start_at, measure_at, end_at = command
        # Each process starts at its own place in the URL list: not all on the same event.
        requests = prepared[which]
        requests = itertools.cycle(requests[index * 97 % len(requests) :] + requests)
        times, errors, cpu_start = [], Counter(), None
        time.sleep(max(0.0, start_at - time.monotonic()))
        while (now := time.monotonic()) < end_at:
            if cpu_start is None and now >= measure_at:
                cpu_start = time.process_time()
            t0 = time.monotonic()
            try:
                with socket.create_connection(address, timeout=REQUEST_TIMEOUT) as sock:
                    sock.sendall(next(requests))
                    first = sock.recv(65536)
                    while sock.recv(65536):
                        pass
            except OSError as error:
                errors[type(error).__name__] += 1
                time.sleep(0.05)  # no busy loop while the server is down
                continue
            t1 = time.monotonic()
            status = first[9:12]
            if status != b"200":
                errors[f"HTTP {status.decode(errors='replace') or 'no answer'}"] += 1
            elif measure_at <= t0 and t1 <= end_at:
                times.append(t1 - t0)
        cpu = time.process_time() - cpu_start if cpu_start is not None else 0.0
        results.put((index, times, errors, cpu))


@dataclass
class Window:
    """What one target got in one measured window."""

    times: list[float]
    errors: Counter
    seconds: float
    cpu: dict[str, float] | None  # cores by who used them (CpuSnapshot, plus "load")
    load: tuple[float, float]  # 1-minute load average before and after


@dataclass
class ReadRow:
    target: Target
    windows: list[Window] = field(default_factory=list)

    @property
    def times(self) -> list[float]:
        return [t for w in self.windows for t in w.times]

    @property
    def seconds(self) -> float:
        return sum(w.seconds for w in self.windows)

    @property
    def rate(self) -> float:
        return len(self.times) / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> Counter:
        return sum((w.errors for w in self.windows), Counter())

    @property
    def p50(self) -> float:
        return p50_ms(self.times) if self.times else float("nan")

    @property
    def p99(self) -> float:
        ordered = sorted(self.times)
        return ordered[max(0, -(-99 * len(ordered) // 100) - 1)] * 1000 if ordered else 0.0

    @property
    def cpu(self) -> dict[str, float] | None:
        """Cores by who used them, averaged over the windows (weighted by their length)."""
        if not self.windows or any(w.cpu is None for w in self.windows):
            return None
        return {
            kind: sum(w.cpu[kind] * w.seconds for w in self.windows) / self.seconds
            for kind in self.windows[0].cpu
        }

    @property
    def load(self) -> tuple[float, float]:
        return min(w.load[0] for w in self.windows), max(w.load[1] for w in self.windows)


@dataclass
class Memory:
    """A gunicorn process's memory after the load (MiB), from /proc: resident (VmRSS), its
    proportional share (PSS: pages shared with the master and the other workers count for a
    part) and its own pages (USS: private, what one more worker costs); `role` is master or
    worker."""

    pid: int
    role: str
    rss: float
    pss: float | None
    uss: float | None


def process_memory(server_pid: int) -> list[Memory]:
    """The master and its workers (its child processes), read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == server_pid:
                children.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    out = []
    for pid, role in [(server_pid, "master"), *((pid, "worker") for pid in sorted(children))]:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        rss = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) / 1024
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            kib = {k: int(v) for k, v in re.findall(r"^(\w+):\s+(\d+) kB", rollup, re.M)}
            pss = kib["Pss"] / 1024
            uss = (kib["Private_Clean"] + kib["Private_Dirty"]) / 1024
        except (OSError, KeyError):
            pss = uss = None
        out.append(Memory(pid, role, rss, pss, uss))
    return out


@dataclass
class ThroughputRun:
    """One server (a worker count) and what it did."""

    workers: int
    rows: list[ReadRow]
    memory: list[Memory]
    config: dict  # the gunicorn.conf.py values the server ran with

    @property
    def floor(self) -> ReadRow:
        return self.rows[0]

    def share(self, row: ReadRow) -> float:
        return row.rate / self.floor.rate if self.floor.rate else 0.0

    @property
    def worker_memory(self) -> list[Memory]:
        return [m for m in self.memory if m.role == "worker"]


def server_config(extra_env: dict) -> dict:
    """What gunicorn.conf.py decides under the server's environment (it is plain Python)."""
    import runpy

    saved = dict(os.environ)
    os.environ.update(extra_env)
    try:
        values = runpy.run_path(str(GUNICORN_CONFIG))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {
        "preload_app": values["preload_app"],
        "gc_freeze": values["_gc_freeze"],
        "max_requests": values["max_requests"],
        "worker_class": values["worker_class"],
        "default_workers": values["workers"],
    }


def measure_window(pid, target_index, clients, commands, results, warmup, seconds) -> Window:
    """One target for `warmup` + `seconds` on every load process; CPU use in the window."""
    start_at = time.monotonic() + 0.1
    measure_at, end_at = start_at + warmup, start_at + warmup + seconds
    for queue in commands:
        queue.put((target_index, start_at, measure_at, end_at))
    time.sleep(max(0.0, measure_at - time.monotonic()))
    load_before, cpu_before = os.getloadavg()[0], CpuSnapshot.take(pid)
    time.sleep(max(0.0, end_at - time.monotonic()))
    cpu_after, load_after = CpuSnapshot.take(pid), os.getloadavg()[0]
    collected = [results.get(timeout=REQUEST_TIMEOUT + 30) for _ in range(clients)]
    cpu = None
    if cpu_before and cpu_after:
        cpu = cpu_after.cores_since(cpu_before, seconds)
        clients_cores = sum(c for *_, c in collected) / seconds
        # The load processes are not this process: move their CPU from "other" to "load".
        cpu["other"] = max(0.0, cpu["other"] - clients_cores)
        cpu["load"] += clients_cores
    return Window(
        [t for _, ts, _, _ in collected for t in ts],
        sum((e for _, _, e, _ in collected), Counter()),
        seconds,
        cpu,
        (load_before, load_after),
    )


def run_throughput(args, secret: str, targets: list[Target], workers: int) -> ThroughputRun:
    """Start gunicorn with gunicorn.conf.py, then load it with `args.concurrency` processes:
    every target in turn, `args.rounds` times (so a change in the machine's load hits every
    row alike), `args.duration` seconds per target in all; then read the workers' memory."""
    import multiprocessing

    # Recycling workers during the run would hide memory growth and add restarts.
    extra_env = {"GUNICORN_MAX_REQUESTS": "0"}
    config = server_config(extra_env)
    rows = [ReadRow(target) for target in targets]
    ctx = multiprocessing.get_context("spawn")
    with gunicorn_server(args.database_url, workers, config=True, extra_env=extra_env) as (
        port,
        pid,
    ):
        commands = [ctx.Queue() for _ in range(args.concurrency)]
        results = ctx.Queue()
        procs = [
            ctx.Process(
                target=read_client,
                args=(i, port, secret, targets, commands[i], results),
                daemon=True,
            )
            for i in range(args.concurrency)
        ]
        for proc in procs:
            proc.start()
        try:
            seconds = args.duration / args.rounds
            for round_ in range(args.rounds):
                for index, row in enumerate(rows):
                    warmup = WARMUP_SECONDS if round_ == 0 else ROUND_WARMUP_SECONDS
                    window = measure_window(
                        pid, index, len(procs), commands, results, warmup, seconds
                    )
                    row.windows.append(window)
                    rate = len(window.times) / seconds
                    log(
                        f"  {workers} workers, round {round_ + 1}/{args.rounds}: "
                        f"{row.target.name}: {rate:,.0f} req/s, p50 "
                        f"{p50_ms(window.times or [0]):.1f} ms, errors {dict(window.errors) or 0}, "
                        f"load {window.load[0]:.2f} -> {window.load[1]:.2f}"
                    )
        finally:
            for queue in commands:
                queue.put(None)
            for proc in procs:
                proc.join(timeout=10)
                if proc.is_alive():
                    proc.kill()
        memory = process_memory(pid)
    return ThroughputRun(workers, rows, memory, config)


def throughput_goals(run: ThroughputRun) -> list[tuple[str, bool, str]]:
    floor = run.floor
    goals_ = [
        (
            "No errors under load",
            not any(r.errors for r in run.rows),
            "; ".join(f"{r.target.name}: {dict(r.errors) or 0}" for r in run.rows),
        )
    ]
    for row in run.rows:
        if row.target.goal is None:
            continue
        goals_.append(
            (
                f"{row.target.name} at least {row.target.goal:.0%} of /healthcheck "
                f"({run.workers} workers)",
                run.share(row) >= row.target.goal,
                f"{run.share(row):.1%} ({row.rate:,.0f} vs {floor.rate:,.0f} req/s)",
            )
        )
    workers = run.worker_memory
    biggest = max((m.rss for m in workers), default=0.0)
    goals_.append(
        (
            f"Each worker's resident size after the load under {GOAL_WORKER_RSS_MIB:g} MiB",
            bool(workers) and biggest < GOAL_WORKER_RSS_MIB,
            f"largest {biggest:.1f} MiB (VmRSS) of {len(workers)} workers",
        )
    )
    return goals_


def throughput_tables(run: ThroughputRun) -> str:
    lines = [
        f"{run.workers} workers:\n",
        "| request | requests | errors | req/s | share of /healthcheck (goal) | p50 ms | p99 ms "
        "| CPU ms / request: gunicorn / PostgreSQL "
        "| CPU cores: gunicorn / PostgreSQL / load / other | 1-min load before → after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for row in run.rows:
        cpu = row.cpu
        cores = " / ".join(f"{cpu[k]:.2f}" for k in ("gunicorn", "PostgreSQL", "load", "other"))
        per_request = (
            " / ".join(f"{cpu[k] * 1000 / row.rate:.2f}" for k in ("gunicorn", "PostgreSQL"))
            if cpu and row.rate
            else "n/a"
        )
        share = f"{run.share(row):.1%}"
        if row.target.goal:
            share += f" (≥ {row.target.goal:.0%})"
        lines.append(
            f"| {row.target.name} | {len(row.times):,} | {sum(row.errors.values())} "
            f"| {row.rate:,.0f} | {share} | {row.p50:.1f} | {row.p99:.1f} | {per_request} "
            f"| {cores if cpu else 'n/a'} | {row.load[0]:.2f} → {row.load[1]:.2f} |"
        )
    lines += [
        "",
        "Memory after the load (MiB; PSS counts pages shared with other processes in part, "
        "USS only the process's own):",
        "",
        "| process | pid | VmRSS | PSS | USS |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for m in run.memory:
        pss = f"{m.pss:.1f}" if m.pss is not None else "n/a"
        uss = f"{m.uss:.1f}" if m.uss is not None else "n/a"
        lines.append(f"| {m.role} | {m.pid} | {m.rss:.1f} | {pss} | {uss} |")
    total = [m.pss for m in run.memory if m.pss is not None]
    if total:
        lines.append(f"| all | | | {sum(total):.1f} | |")
    return "\n".join(lines)


def throughput_summary(runs: list[ThroughputRun]) -> str:
    """One line per worker count, when several were measured."""
    lines = [
        "| workers | /healthcheck req/s | event by id req/s (share) | 50-row list req/s (share) "
        "| CPU ms / request (gunicorn): floor / user/me / by id / list "
        "| worker VmRSS max MiB | PSS of all processes MiB |",
        "| ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for run in runs:
        floor, _me, detail, listing = run.rows
        pss = [m.pss for m in run.memory if m.pss is not None]
        cpu = " / ".join(
            f"{r.cpu['gunicorn'] * 1000 / r.rate:.2f}" if r.cpu and r.rate else "n/a"
            for r in run.rows
        )
        lines.append(
            f"| {run.workers} | {floor.rate:,.0f} | {detail.rate:,.0f} ({run.share(detail):.1%}) "
            f"| {listing.rate:,.0f} ({run.share(listing):.1%}) | {cpu} "
            f"| {max((m.rss for m in run.worker_memory), default=0):.1f} "
            f"| {sum(pss):.1f} |"
        )
    return "\n".join(lines)


def throughput_section(runs: list[ThroughputRun], env: dict[str, str], args) -> str:
    import gunicorn

    env = dict(env)
    config = runs[0].config
    conn_max_age = os.environ.get("DATABASE_CONN_MAX_AGE", "the default, 60")
    env["Server"] = (
        f"gunicorn {gunicorn.__version__} with `gunicorn.conf.py` ({config['worker_class']} "
        f"workers, preload_app {config['preload_app']}, gc.freeze() "
        f"{'on' if config['gc_freeze'] else 'off'}, max_requests off for the run so the memory "
        f"is after every request), `config.wsgi:application` on 127.0.0.1, DEBUG off, "
        f"DATABASE_CONN_MAX_AGE {conn_max_age} s"
    )
    env["Load"] = (
        f"{args.concurrency} load processes on this machine, each sending one request at a time "
        f"on a new loopback connection (`Connection: close`; sync workers close it anyway), "
        f"the request bytes written before, the answer read to its end, its status checked; "
        f"{args.duration:g} s per request type in {args.rounds} rounds taken in turn "
        f"(each after a warm-up: {WARMUP_SECONDS:g} s in the first round, "
        f"{ROUND_WARMUP_SECONDS:g} s later); the event by id cycles over {DETAIL_EVENTS:,} "
        f"events; the API key goes in `Authorization: Bearer`"
    )
    facts = "\n".join(f"- {key}: {value}" for key, value in env.items())
    parts = [f"### Read throughput results\n\n{facts}\n"]
    if len(runs) > 1:
        parts.append(f"By worker count:\n\n{throughput_summary(runs)}\n")
    for run in runs:
        checks = "\n".join(
            f"- **{'PASS' if ok else 'FAIL'}** {goal}: {evidence}."
            for goal, ok, evidence in throughput_goals(run)
        )
        parts.append(f"{throughput_tables(run)}\n\nGoals:\n\n{checks}\n")
    return "\n".join(parts)


def throughput_main(args, size: Size) -> None:
    """The `--throughput` part: reads under gunicorn next to the framework floor."""
    _, secret = bench_api_key()
    targets = throughput_targets()
    from django.db import connection

    connection.close()  # the server's workers and this process's idle connection don't mix
    runs = [run_throughput(args, secret, targets, workers) for workers in args.worker_counts]
    section = throughput_section(runs, environment(args.database_url, size), args)
    print(section)
    if args.write_docs:
        write_docs(section, THROUGHPUT_DOC_START, THROUGHPUT_DOC_END, THROUGHPUT_DOC_HEADING)
    if not all(ok for run in runs for _, ok, _ in throughput_goals(run)):
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1.0 = 100,000 events, 1,000,000 properties"
    )
    parser.add_argument("--refill", action="store_true", help="rebuild the data even if present")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per measurement")
    parser.add_argument("--warmups", type=int, default=3, help="untimed requests first")
    parser.add_argument(
        "--write-docs", action="store_true", help="refresh the results in docs/PERFORMANCE.md"
    )
    writes = parser.add_argument_group("PATCH throughput under gunicorn (--patch)")
    writes.add_argument(
        "--patch", action="store_true", help="measure writes under gunicorn instead of reads"
    )
    writes.add_argument(
        "--workers",
        default="2",
        help="gunicorn sync workers; --throughput also takes a list (2,3,5: one server each) "
        "or 0: what gunicorn.conf.py picks (WEB_CONCURRENCY or cores + 1)",
    )
    writes.add_argument("--concurrency", type=int, default=8, help="concurrent connections")
    writes.add_argument(
        "--duration",
        type=float,
        help="seconds of load per row (default 15; --throughput: 10, per request type)",
    )
    writes.add_argument(
        "--max-requests", type=int, default=100_000, help="cap on the requests of one row"
    )
    writes.add_argument(
        "--subscribers", type=int, default=1_000, help="subscribers of the last row's events"
    )
    reads = parser.add_argument_group("read throughput under gunicorn (--throughput)")
    reads.add_argument(
        "--throughput",
        action="store_true",
        help="/healthcheck, an event by id and a 50-row list under gunicorn with "
        "gunicorn.conf.py; the rates side by side, the workers' memory after",
    )
    reads.add_argument(
        "--rounds", type=int, default=2, help="--throughput: turns over the request types"
    )
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 10.0 if args.throughput else 15.0
    try:
        args.worker_counts = [int(w) for w in args.workers.split(",")]
    except ValueError:
        parser.error("--workers: a number or a comma-separated list of numbers")
    if 0 in args.worker_counts:
        args.worker_counts = [w or server_config({})["default_workers"] for w in args.worker_counts]
    if len(args.worker_counts) > 1 and not args.throughput:
        parser.error("--workers: a list only with --throughput")
    args.workers = args.worker_counts[0]
    if args.patch and args.throughput:
        parser.error("--patch or --throughput, not both")
    if args.scale <= 0 or args.runs < 1 or args.warmups < 0:
        parser.error("--scale and --runs must be positive, --warmups not negative")
    if not (
        all(1 <= w <= MAX_WORKERS for w in args.worker_counts)
        and 1 <= args.rounds <= 20
        and 1 <= args.concurrency <= MAX_CONCURRENCY
        and 0 < args.duration <= MAX_DURATION
        and args.max_requests >= 1
        and 1 <= args.subscribers <= 100_000
    ):
        parser.error(
            f"--workers 1-{MAX_WORKERS}, --rounds 1-20, --concurrency 1-{MAX_CONCURRENCY}, "
            f"--duration up to {MAX_DURATION} s, --max-requests at least 1, --subscribers 1-100,000"
        )

    if is_postgres(args.database_url):
        ensure_postgres_database(args.database_url)
    if args.patch:
        # As in the server: no email is sent during a request (the outbox is still written).
        os.environ["TASKS_BACKEND"] = "dummy"
        os.environ["EMAIL_URL"] = "dummymail://"
    configure_django(args.database_url)
    size = Size(args.scale)
    ensure_filled(size, args.refill)
    if args.patch:
        try:
            patch_main(args, size)
        except KeyboardInterrupt:
            sys.exit("interrupted: the server is stopped and the fill put back")
        return
    if args.throughput:
        try:
            throughput_main(args, size)
        except KeyboardInterrupt:
            sys.exit("interrupted: the server is stopped")
        return
    rows = run_benchmark(args.database_url, args.runs, args.warmups)
    env = environment(args.database_url, size)
    section = results_section(rows, env, args.runs, args.warmups)
    print(section)
    if args.write_docs:
        write_docs(section)
    if not all(ok for _, ok, _ in goals(rows)):
        sys.exit(1)


if __name__ == "__main__":
    main()
