"""Benchmark of the catalog pages (HTML) on a catalog of realistic size.

Not a test: it reuses the fill of bench/api.py (1,000 categories, 100,000 events and 1,000,000
event properties, times `--scale`) and renders the real pages through Django's test client, as
an editor and as a viewer (logged in with `force_login`, so the session and authentication
middleware run): the request, the view, its queries and the template, to HTML. Per page it
reports the SQL statements of one request, the median and p95 latency, and side by side, in the
same run:

* the floor: the same page's data (the rows with the joins the template shows, the count, the
  filter choices) fetched with hand-written SQL on `connection.cursor()`, in the same query
  shape as the page (the policy's visibility rule written in SQL), with no ORM and no template;
* a naive baseline: the same view with `select_related` and `prefetch_related` switched off
  (every related name shown costs a query: N+1), the search as an `icontains` scan, and the
  home page counting each category's events one by one.

    uv run python bench/pages.py                    # full scale, PostgreSQL, fills on 1st run
    uv run python bench/pages.py --write-docs       # also refresh docs/PERFORMANCE.md
    uv run python bench/pages.py --only events,search --runs 5   # some pages, quickly
    uv run python bench/pages.py --plans            # EXPLAIN ANALYZE of what misses the goal
    uv run python bench/pages.py --profile "/ as viewer"   # cProfile of one page's request

PostgreSQL only: the floors are PostgreSQL SQL (full-text search, arrays). The fill is api.py's
(same seed, same reuse and refusal rules), in its own database by default. The first run also
adds what the pages need and the fill lacks, and reuses it later: two users of its own (an editor
and a viewer, who own and follow what a user of the fill does) and 30 changes in the history of
one event. It exits with status 1 when a goal fails.
"""

import argparse
import contextlib
import cProfile
import io
import math
import os
import pstats
import shlex
import statistics
import sys
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from api import Measure, Size, configure_django, ensure_filled, environment, time_calls
from common import ensure_postgres_database, is_postgres, log, write_section

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/event_catalog_bench_pages"
DOC_START = "<!-- bench:pages:start -->"
DOC_END = "<!-- bench:pages:end -->"
DOC_HEADING = "## Catalog pages\n\n"

#: The issue's goal for the events list and a search (p50 of the whole request).
GOAL_MS = 200.0
#: tests/web asserts that no page costs more statements than this.
MAX_QUERIES = 17
#: The naive baseline is timed at most this many seconds per row (but at least MIN_NAIVE_RUNS).
NAIVE_BUDGET_S = 10.0
MIN_NAIVE_RUNS = 3
#: Changes written to the history of the sampled event (the history page shows 25 a page).
HISTORY_CHANGES = 30
#: role -> (our user, the user of the fill whose owned and followed resources they share).
BENCH_USERS = {
    "editor": ("bench-pages-editor", "bench-user-000"),
    "viewer": ("bench-pages-viewer", "bench-user-001"),
}
NAIVE_URL = "/bench/naive/home/"


# --- what the pages need beyond the fill ---------------------------------------------------


def bench_users() -> dict:
    """The editor and the viewer the pages are rendered for, created once. Each owns and follows
    what one user of the fill does (about 4,000 resources, 400 of them events), so "owner=me"
    lists as many events as it would for anyone."""
    from django.db import connection

    from catalog.models import User

    users = {}
    for role, (username, twin) in BENCH_USERS.items():
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={"role": role, "email": f"{username}@example.com", "password": "!"},
        )
        users[role] = user
        with connection.cursor() as cursor:
            for table in ("catalog_resource_owners", "catalog_resource_subscribers"):
                cursor.execute(f"SELECT 1 FROM {table} WHERE user_id = %s LIMIT 1", [user.pk])
                if cursor.fetchone():
                    continue
                cursor.execute(
                    f"INSERT INTO {table} (resource_id, user_id) SELECT t.resource_id, %s "
                    f"FROM {table} t JOIN catalog_user u ON u.id = t.user_id "
                    "WHERE u.username = %s",
                    [user.pk, twin],
                )
                log(f"  {user.username} now in {cursor.rowcount:,} rows of {table}")
    return users


@dataclass(frozen=True)
class Samples:
    tag: str  # the most used tag's id
    tag_title: str
    event: str  # a published event with 10 properties, a definition and no followers
    event_word: str  # the number in its title: a rare word
    category: str  # a published category with (about) 100 events


def pick_samples() -> Samples:
    """The same rows on every run over the same fill (ties broken by id)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT x.tag_id, t.title FROM catalog_resource_tags x "
            "JOIN catalog_tag t ON t.id = x.tag_id GROUP BY x.tag_id, t.title "
            "ORDER BY count(*) DESC, x.tag_id LIMIT 1"
        )
        tag, tag_title = cursor.fetchone()
        # No followers on the event or its category: its history changes write no outbox rows.
        cursor.execute(
            "SELECT e.id, e.title FROM catalog_resource e "
            "JOIN catalog_resource c ON c.id = e.parent_id "
            "WHERE e.entity_type = 'event' AND e.published AND c.published "
            "AND e.definition <> '' "
            "AND (SELECT count(*) FROM catalog_resource p WHERE p.parent_id = e.id) = 10 "
            "AND NOT EXISTS (SELECT 1 FROM catalog_resource_subscribers s "
            "WHERE s.resource_id IN (e.id, c.id)) "
            "ORDER BY e.id LIMIT 1"
        )
        event, event_title = cursor.fetchone()
        cursor.execute(
            "SELECT c.id FROM catalog_resource c JOIN (SELECT parent_id, count(*) AS n "
            "FROM catalog_resource WHERE entity_type = 'event' GROUP BY parent_id) e "
            "ON e.parent_id = c.id WHERE c.published ORDER BY abs(e.n - 100), c.id LIMIT 1"
        )
        (category,) = cursor.fetchone()
    return Samples(str(tag), tag_title, str(event), event_title.split()[-1], str(category))


def ensure_history(event_id: str) -> None:
    """HISTORY_CHANGES changes of the event through the change pipeline (so the history page
    has two pages of real diffs), written once."""
    from catalog.models import ObjectChange, Resource
    from catalog.services.context import ChangeContext
    from catalog.services.resources import resource_update

    done = ObjectChange.objects.filter(object_id=event_id).count()
    if done >= HISTORY_CHANGES:
        return
    log(f"  writing {HISTORY_CHANGES - done} changes to the history of event {event_id}")
    ctx = ChangeContext.for_system()
    for n in range(done, HISTORY_CHANGES):
        current = Resource.objects.get(pk=event_id)
        data = [
            {"description": f"{current.description.split(' (rev')[0]} (rev {n})"},
            {"verified": not current.verified},
            {"definition": f"{current.definition}\n- Revision {n}: clarified when it fires"},
        ][n % 3]
        resource_update(ctx=ctx, resource=current, data=data)


#: What the tracking pages read, added to the fill once (see `ensure_tracking`).
VIOLATIONS = 20_000
#: Open violations that were resolved by a steward (every fifth one).
RESOLVED_EVERY = 5
TREND_DAYS = 14
LOGGED_EVENTS = 1_000_000
LOG_DAYS = 7
#: The events that send: the busiest by their last 7 days' volume; an event's share of the
#: log falls off steeply with its rank (rank = POOL * random()^3).
LOG_POOL = 5_000
#: Calls of the sampled event (so its page has recent payloads to show).
SAMPLE_EVENT_CALLS = 300
COLLECTIONS = 40
#: Each collection holds about 1 event in COLLECTION_SHARE (about 1,000 of 100,000).
COLLECTION_SHARE = 100
WRITE_KEYS = 2  # per integration


def _count(sql: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def ensure_tracking(samples: "Samples", users: dict) -> None:
    """Violations with their 14-day trend, a week of received events in the event log, write
    keys and collections with resources: what the stewards' pages read and the fill lacks,
    written once (each part when its table is empty), in SQL on the server (seconds)."""
    from django.db import connection

    added = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.25)")  # the same rows on every fill
        if not _count("SELECT count(*) FROM catalog_violation"):
            log(f"  writing {VIOLATIONS:,} violations and their daily counts")
            _fill_violations(cursor, users["editor"].pk)
            added += ["catalog_violation", "catalog_violationday"]
        if not _count("SELECT count(*) FROM catalog_loggedevent"):
            log(f"  writing {LOGGED_EVENTS:,} received events over {LOG_DAYS} days")
            _fill_event_log(cursor, samples.event)
            added += ["catalog_loggedevent"]
        if not _count("SELECT count(*) FROM catalog_collection"):
            log(f"  writing {COLLECTIONS} collections and their resources")
            _fill_collections(cursor, users)
            added += ["catalog_collection", "catalog_resource_collections"]
    if not _count("SELECT count(*) FROM catalog_writekey"):
        _fill_write_keys()
    with connection.cursor() as cursor:
        for table in added:
            cursor.execute(f"VACUUM ANALYZE {table}")


def _fill_violations(cursor, resolver_id) -> None:
    """VIOLATIONS violations of the events with the most properties' worth of traffic: per
    event four kinds on its properties, every twentieth an unknown event; a fifth resolved."""
    kinds = "ARRAY['missing_required', 'wrong_type', 'not_allowed', 'unknown_property']"
    messages = (
        "ARRAY['A required property is missing.', 'Expected a number, got a string.', "
        "'The value is not one of the allowed values.', 'The plan has no such property.']"
    )
    cursor.execute(
        "WITH ev AS (SELECT id, title, integration_id, "
        "row_number() OVER (ORDER BY md5(id::text)) - 1 AS n "
        "FROM catalog_resource WHERE entity_type = 'event'), "
        "g AS (SELECT i, now() - interval '14 days' * power(random(), 2) AS last, "
        "floor(10 / power(random() + 0.001, 0.9))::bigint AS n "
        "FROM generate_series(0, %s - 1) i) "
        "INSERT INTO catalog_violation (integration_id, event_id, event_name, property_name, "
        "kind, count, first_seen_at, last_seen_at, message, example, resolved_at, "
        "resolved_by_id) "
        "SELECT ev.integration_id, CASE WHEN g.i %% 20 = 19 THEN NULL ELSE ev.id END, "
        "CASE WHEN g.i %% 20 = 19 THEN 'Unknown ' || ev.title ELSE ev.title END, "
        "CASE WHEN g.i %% 20 = 19 THEN '' ELSE (ARRAY['order_id', 'user_id', 'cart_value', "
        "'page_url', 'product_id'])[(g.i / 4) %% 5 + 1] END, "
        f"CASE WHEN g.i %% 20 = 19 THEN 'unknown_event' ELSE ({kinds})[g.i %% 4 + 1] END, "
        "g.n, g.last - interval '30 days' * random(), g.last, "
        f"CASE WHEN g.i %% 20 = 19 THEN 'The plan has no such event.' "
        f"ELSE ({messages})[g.i %% 4 + 1] END, "
        "jsonb_build_object('type', 'track', 'event', ev.title, 'properties', "
        "jsonb_build_object('order_id', 'ord-' || g.i, 'cart_value', '19.99')), "
        f"CASE WHEN g.i %% {RESOLVED_EVERY} = 0 THEN g.last + interval '1 hour' END, "
        f"CASE WHEN g.i %% {RESOLVED_EVERY} = 0 THEN %s::uuid END "
        "FROM g JOIN ev ON ev.n = g.i / 4",
        [VIOLATIONS, str(resolver_id)],
    )
    # The trend: a count on 60% of the days between first and last seen, within 14 days.
    cursor.execute(
        "INSERT INTO catalog_violationday (violation_id, day, count) "
        "SELECT v.id, d.day, 1 + floor(random() * v.count / 4)::bigint FROM catalog_violation v "
        "CROSS JOIN LATERAL (SELECT ((now() AT TIME ZONE 'UTC')::date - k) AS day "
        f"FROM generate_series(0, {TREND_DAYS - 1}) k) d "
        "WHERE d.day BETWEEN (v.first_seen_at AT TIME ZONE 'UTC')::date "
        "AND (v.last_seen_at AT TIME ZONE 'UTC')::date AND random() < 0.6"
    )


#: A property's value in a payload, by its data type (strings vary with the event).
_VALUE_SQL = (
    "CASE p.data_type WHEN 'number' THEN to_jsonb(19.99) WHEN 'integer' THEN to_jsonb(3) "
    "WHEN 'boolean' THEN to_jsonb(true) "
    "WHEN 'datetime' THEN to_jsonb('2026-12-07T10:00:00Z'::text) "
    "WHEN 'array' THEN '[\"a\", \"b\"]'::jsonb WHEN 'object' THEN '{\"id\": 1}'::jsonb "
    "WHEN 'null' THEN 'null'::jsonb "
    "ELSE to_jsonb(p.title || '-' || left(md5(p.id::text), 6)) END"
)


def _fill_event_log(cursor, sample_event: str) -> None:
    """LOGGED_EVENTS calls of the LOG_POOL busiest events over the last LOG_DAYS days (each
    with a payload of its catalog properties), and SAMPLE_EVENT_CALLS of the sampled event,
    stored in the day partitions as ingestion stores them."""
    import datetime as dt

    from catalog.services.eventlog import ensure_partitions

    today = dt.datetime.now(dt.UTC).date()
    ensure_partitions(today - dt.timedelta(days=n) for n in range(LOG_DAYS + 1))
    payload = (
        f"(SELECT coalesce(jsonb_object_agg(p.title, {_VALUE_SQL}), '{{}}') "
        "FROM catalog_resource p WHERE p.parent_id = e.id)"
    )
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_pool AS "
        f"SELECT row_number() OVER (ORDER BY v.total DESC, e.id) - 1 AS n, e.id, e.title, "
        f"e.integration_id, {payload} AS payload FROM catalog_resource e "
        "JOIN (SELECT resource_id, sum(count) AS total FROM catalog_dailyvolume "
        f"WHERE day > current_date - {LOG_DAYS} GROUP BY resource_id) v ON v.resource_id = e.id "
        "WHERE e.entity_type = 'event' AND e.id <> %s "
        f"ORDER BY v.total DESC, e.id LIMIT {LOG_POOL}",
        [sample_event],
    )
    cursor.execute(
        f"INSERT INTO bench_pool SELECT -1, e.id, e.title, e.integration_id, {payload} "
        "FROM catalog_resource e WHERE e.id = %s",
        [sample_event],
    )
    columns = (
        "id, integration_id, received_at, sent_at, type, name, user_id, anonymous_id, "
        "message_id, properties, format"
    )
    row = (
        "SELECT gen_random_uuid(), p.integration_id, s.at, s.at - interval '2 seconds' * "
        "random(), CASE WHEN s.g % 40 = 0 THEN 'identify' ELSE 'track' END, "
        "CASE WHEN s.g % 40 = 0 THEN '' ELSE p.title END, 'user-' || (s.g % 50000), "
        "md5(s.g::text), gen_random_uuid()::text, "
        'CASE WHEN s.g % 40 = 0 THEN \'{"email": "someone@example.com"}\'::jsonb '
        "ELSE p.payload END, 'segment'"
    )
    cursor.execute(
        f"INSERT INTO catalog_loggedevent ({columns}) {row} FROM (SELECT g, "
        f"now() - interval '{LOG_DAYS} days' * random() AS at, "
        f"floor({LOG_POOL} * power(random(), 3))::bigint AS n "
        f"FROM generate_series(1, {LOGGED_EVENTS}) g) s JOIN bench_pool p ON p.n = s.n"
    )
    cursor.execute(
        f"INSERT INTO catalog_loggedevent ({columns}) {row} FROM (SELECT g * 41 AS g, "
        f"now() - interval '{LOG_DAYS} days' * random() AS at "
        f"FROM generate_series(1, {SAMPLE_EVENT_CALLS}) g) s JOIN bench_pool p ON p.n = -1"
    )
    cursor.execute("DROP TABLE bench_pool")


def _fill_collections(cursor, users: dict) -> None:
    """COLLECTIONS collections (70% published, the first one too), each with about 1,000
    events, owned by the editor and followed by the viewer."""
    cursor.execute(
        "INSERT INTO catalog_collection (id, title, description, definition, icon, pii, "
        "published, verified, created_at, updated_at) "
        "SELECT gen_random_uuid(), 'Collection ' || lpad(i::text, 2, '0'), "
        "'Events of the ' || i || 'th funnel.', "
        "'## Funnel ' || i || E'\\n\\nThe steps of the flow, in order. See the events below.', "
        f"'', false, i = 1 OR random() < 0.7, random() < 0.5, now(), now() "
        f"FROM generate_series(1, {COLLECTIONS}) i"
    )
    cursor.execute(
        "INSERT INTO catalog_resource_collections (resource_id, collection_id) "
        "SELECT e.id, c.id FROM catalog_collection c JOIN catalog_resource e "
        "ON e.entity_type = 'event' "
        f"AND abs(hashtext(e.id::text || c.title)) % {COLLECTION_SHARE} = 0"
    )
    for table, role in (("owners", "editor"), ("subscribers", "viewer")):
        cursor.execute(
            f"INSERT INTO catalog_collection_{table} (collection_id, user_id) "
            "SELECT id, %s FROM catalog_collection",
            [users[role].pk],
        )


def _fill_write_keys() -> None:
    """WRITE_KEYS write keys per integration, through the service (hashed as in production)."""
    from catalog.models import Integration
    from catalog.services.context import ChangeContext
    from catalog.services.writekeys import write_key_create

    ctx = ChangeContext.for_system()
    for integration in Integration.objects.order_by("name"):
        for n in range(WRITE_KEYS):
            write_key_create(ctx=ctx, integration=integration, name=f"bench key {n + 1}")


# --- the floor: each page's data in hand-written SQL ---------------------------------------


class Floor:
    """Runs hand-written SQL on Django's connection (no ORM) and counts the statements."""

    def __init__(self) -> None:
        self.statements = 0

    def all(self, sql: str, params=()) -> list[tuple]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            self.statements += 1
            return cursor.fetchall()

    def one(self, sql: str, params=()) -> tuple | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None


@dataclass
class Shown:
    """What a floor fetched that the page must show: resource ids and the count, if any."""

    ids: list[str]
    count: int | None = None
    capped: bool = False
    #: Other text each shown row puts on the page (a link, a form's action, a row's id).
    paths: list[str] = field(default_factory=list)
    #: The words that show the count on the page (when not the events list's or search's).
    text: str = ""


def visibility(
    role: str, r: str = "r", p: str = "p", g: str = "g", joined: int = 0, kind: str = ""
):
    """(joins, condition): the policy's rule in SQL. Editors see everything; a viewer sees a
    resource when it, its parent and its grandparent (if any) are published. `joined` says how
    many of the parent (1) and grandparent (2) joins the query already has. For one `kind`
    ("event"), the ancestors' kind is known: an inner join on the category, as the policy
    writes it."""
    if role != "viewer":
        return "", "TRUE"
    if kind == "event":
        joins = "" if joined >= 1 else f" JOIN catalog_resource {p} ON {p}.id = {r}.parent_id"
        return joins, (f"{r}.published AND {p}.published AND {p}.entity_type = 'event_category'")
    joins = "" if joined >= 1 else f" LEFT JOIN catalog_resource {p} ON {p}.id = {r}.parent_id"
    if joined < 2:
        joins += f" LEFT JOIN catalog_resource {g} ON {g}.id = {p}.parent_id"
    condition = (
        f"{r}.published AND ({r}.parent_id IS NULL OR {p}.published) "
        f"AND ({p}.parent_id IS NULL OR {g}.published)"
    )
    return joins, condition


#: What the events list's filters offer: integrations, tags, active users (one statement).
CHOICES_SQL = (
    "(SELECT 'integration', id::text, name FROM catalog_integration ORDER BY name) "
    "UNION ALL (SELECT 'tag', id::text, title FROM catalog_tag ORDER BY title) "
    "UNION ALL (SELECT 'user', id::text, username FROM catalog_user WHERE is_active "
    "ORDER BY username)"
)


#: The events list's sorts (catalog.filtersets.EVENT_SORTS): (key, its direction, the
#: tie-breakers). Titles sort case-insensitively, then byte-wise, then by id.
TITLE_ORDER = "lower(e.title), e.title, e.id"
VOLUME_30D_SQL = (
    "coalesce((SELECT sum(d.count) FROM catalog_dailyvolume d WHERE d.resource_id = e.id "
    "AND d.day >= '{since}'), 0)"
)
EVENT_ORDERS = {
    "title": ("", "", TITLE_ORDER),
    "-updated": ("e.updated_at", "DESC", "e.id"),
    "-last_seen": ("s.last_seen_at", "DESC NULLS LAST", TITLE_ORDER),
    "-volume_30d": (VOLUME_30D_SQL, "DESC", TITLE_ORDER),
}


def floor_events(role: str, user_id, where: str = "", params=(), sort="title", page=1):
    """The events list: its count, one page with category, integration, last seen, owners
    and tags, the page's 30 daily counts (each row's chart and total), and the filters'
    choices. A deep page chooses its ids first, as the view does."""
    import datetime as dt

    from catalog.web.views import DEEP_OFFSET, PAGE_SIZE

    db = Floor()
    joins, visible = visibility(role, "e", "c", "cg", kind="event")
    where = where.format(user=user_id)
    count = db.one(
        f"SELECT count(*) FROM catalog_resource e{joins} "
        f"WHERE e.entity_type = 'event' AND {visible}{where}",
        params,
    )[0]
    page = min(page, max(1, math.ceil(count / PAGE_SIZE)))
    offset = (page - 1) * PAGE_SIZE
    today = dt.datetime.now(dt.UTC).date()
    since = today - dt.timedelta(days=29)
    key, direction, ties = EVENT_ORDERS[sort]
    key = key.format(since=since)
    order = f"{key} {direction}, {ties}" if key else ties
    outer = ("p.sort_key " + direction + ", " if key else "") + ties.replace("e.", "p.")
    seen = " LEFT JOIN catalog_resourceseen s ON s.resource_id = e.id"
    columns = (
        "SELECT e.id, e.title, e.description, e.pii, e.verified, e.published, e.updated_at, "
        "e.parent_id, c.title AS category, i.name AS integration, s.last_seen_at, "
        f"{key or 'NULL'} AS sort_key "
        "FROM catalog_resource e LEFT JOIN catalog_resource c ON c.id = e.parent_id "
        f"JOIN catalog_integration i ON i.id = e.integration_id{seen}"
    )
    if offset >= DEEP_OFFSET:
        rows = (
            f"{columns} WHERE e.id IN (SELECT e.id FROM catalog_resource e{joins}{seen} "
            f"WHERE e.entity_type = 'event' AND {visible}{where} "
            f"ORDER BY {order} LIMIT %s OFFSET %s)"
        )
    else:
        page_joins, page_visible = visibility(role, "e", "c", "cg", joined=1, kind="event")
        rows = (
            f"{columns}{page_joins} WHERE e.entity_type = 'event' AND {page_visible}{where} "
            f"ORDER BY {order} LIMIT %s OFFSET %s"
        )
    # The owners and tags of the page's rows only (in the select list of the query above,
    # they would be computed for every row the offset skips).
    shown = db.all(
        "SELECT p.*, "
        "ARRAY(SELECT u.username || ' ' || u.first_name || ' ' || u.last_name "
        "FROM catalog_resource_owners o JOIN catalog_user u ON u.id = o.user_id "
        "WHERE o.resource_id = p.id ORDER BY u.username), "
        "ARRAY(SELECT t.title || ' ' || t.color FROM catalog_resource_tags x "
        "JOIN catalog_tag t ON t.id = x.tag_id WHERE x.resource_id = p.id ORDER BY t.title) "
        f"FROM ({rows}) p ORDER BY {outer}",
        [*params, PAGE_SIZE, offset],
    )
    db.all(
        "SELECT resource_id, day, count FROM catalog_dailyvolume WHERE resource_id = ANY(%s) "
        "AND day BETWEEN %s AND %s",
        [[row[0] for row in shown], since, today],
    )
    db.all(CHOICES_SQL)
    return db, Shown([str(row[0]) for row in shown], count)


def floor_search(role: str, text: str, suggest: bool = False):
    """The search as catalog.search writes it: at most MAX_RESULTS candidates from the title
    index and then the full-text index (visibility inside), ranked; the page with its parents
    and integration, and the capped count (none for the suggestions)."""
    from catalog.search import MAX_RESULTS, PG_TITLE_VECTOR, _pg_tsquery, search_terms
    from catalog.web.views import SEARCH_PAGE_SIZE, SUGGESTIONS

    db = Floor()
    words = search_terms(text)
    hinted = _pg_tsquery(words, hint=True)
    joins, visible = visibility(role, "r", "rp", "rg")
    title_vector = PG_TITLE_VECTOR.format(table="r")
    candidates = (
        f"(SELECT r.id FROM catalog_resource r{joins} WHERE {title_vector} @@ "
        f"to_tsquery('simple', %s) AND {visible} LIMIT {MAX_RESULTS}) UNION ALL "
        f"(SELECT r.id FROM catalog_resource r{joins} WHERE r.search_vector @@ "
        f"to_tsquery('simple', %s) AND {visible} LIMIT {MAX_RESULTS}) LIMIT {MAX_RESULTS}"
    )
    rank = (
        "(CASE WHEN s.search_vector @@ to_tsquery('simple', %s) THEN 2 "
        "WHEN s.search_vector @@ to_tsquery('simple', %s) THEN 1 ELSE 0 END) "
        "+ 1.0 - 1.0 / (1.0 + ts_rank(s.search_vector, to_tsquery('simple', %s)))"
    )
    rank = f"({rank})::double precision"
    limit = SUGGESTIONS + 1 if suggest else SEARCH_PAGE_SIZE
    rows = db.all(
        "SELECT s.id, s.entity_type, s.title, s.description, s.pii, s.verified, s.published, "
        f"s.parent_id, p.title, p.parent_id, g.title, i.name, {rank} AS rank "
        "FROM catalog_resource s LEFT JOIN catalog_resource p ON p.id = s.parent_id "
        "LEFT JOIN catalog_resource g ON g.id = p.parent_id "
        "JOIN catalog_integration i ON i.id = s.integration_id "
        f"WHERE s.id IN ({candidates}) ORDER BY rank DESC, s.title, s.id LIMIT %s",
        [
            _pg_tsquery(words, "A"),
            _pg_tsquery(words, "AB"),
            _pg_tsquery(words),
            hinted,
            hinted,
            limit,
        ],
    )
    ids = [str(row[0]) for row in rows][: SUGGESTIONS if suggest else None]
    if suggest:
        return db, Shown(ids)
    count = db.one(
        f"SELECT count(*) FROM catalog_resource s WHERE s.id IN ({candidates})", [hinted, hinted]
    )[0]
    return db, Shown(ids, count, capped=count >= MAX_RESULTS)


def floor_home(role: str):
    """Visible resources per integration and kind, each category with its visible events, and
    the integrations."""
    db = Floor()
    joins, visible = visibility(role)
    db.all(
        "SELECT r.integration_id, r.entity_type, count(*) "
        f"FROM catalog_resource r{joins} WHERE {visible} GROUP BY 1, 2"
    )
    event_joins, event_visible = visibility(role, "e", "ep", "eg")
    category_joins, category_visible = visibility(role, "c", "cp", "cg")
    rows = db.all(
        "SELECT c.id, c.title, c.description, c.integration_id, "
        f"(SELECT count(*) FROM catalog_resource e{event_joins} WHERE e.parent_id = c.id "
        f"AND e.entity_type = 'event' AND {event_visible}) "
        "FROM catalog_resource c JOIN catalog_integration i ON i.id = c.integration_id"
        f"{category_joins} WHERE c.entity_type = 'event_category' AND {category_visible} "
        "ORDER BY i.name, c.title"
    )
    db.all("SELECT id, name, type FROM catalog_integration ORDER BY name")
    return db, Shown([str(row[0]) for row in rows])


def _resource(db: Floor, role: str, pk: str, since_7d=None, since_30d=None) -> tuple:
    """A resource with its parent, grandparent and integration, if the user may see it; with
    `since_7d` and `since_30d`, also its first and last seen and its 7- and 30-day volumes.
    The integration's id is the last column."""
    _, visible = visibility(role, joined=2)
    tracking, params = "", [pk]
    if since_30d:
        volume = (
            "(SELECT coalesce(sum(d.count), 0) FROM catalog_dailyvolume d "
            "WHERE d.resource_id = r.id AND d.day >= %s)"
        )
        tracking = f"s.first_seen_at, s.last_seen_at, {volume}, {volume}, "
        params = [since_7d, since_30d, pk]
    return db.one(
        "SELECT r.id, r.entity_type, r.title, r.description, r.definition, r.pii, r.verified, "
        "r.published, r.data_type, r.required, r.allowed_values, r.examples, r.created_at, "
        f"r.updated_at, r.parent_id, p.title, p.parent_id, g.title, i.name, {tracking}"
        "r.integration_id FROM catalog_resource r "
        "LEFT JOIN catalog_resource p ON p.id = r.parent_id "
        "LEFT JOIN catalog_resource g ON g.id = p.parent_id "
        "JOIN catalog_integration i ON i.id = r.integration_id "
        + ("LEFT JOIN catalog_resourceseen s ON s.resource_id = r.id " if since_30d else "")
        + f"WHERE r.id = %s AND {visible}",
        params,
    )


#: A resource's owners, owner groups, teams, tags, collections and followers by name (one
#: statement; the parameter is the resource id, six times).
RELATIONS_SQL = " UNION ALL ".join(
    [
        "SELECT 'owner', u.username, '' FROM catalog_resource_owners x "
        "JOIN catalog_user u ON u.id = x.user_id WHERE x.resource_id = %s",
        "SELECT 'group', g.name, '' FROM catalog_resource_owners_groups x "
        "JOIN catalog_usergroup g ON g.id = x.usergroup_id WHERE x.resource_id = %s",
        "SELECT 'team', t.name, '' FROM catalog_resource_teams x "
        "JOIN catalog_team t ON t.id = x.team_id WHERE x.resource_id = %s",
        "SELECT 'tag', t.title, t.color FROM catalog_resource_tags x "
        "JOIN catalog_tag t ON t.id = x.tag_id WHERE x.resource_id = %s",
        "SELECT 'collection', c.title, c.published::text FROM catalog_resource_collections x "
        "JOIN catalog_collection c ON c.id = x.collection_id WHERE x.resource_id = %s",
        "SELECT 'subscriber', u.username, u.first_name || ' ' || u.last_name "
        "FROM catalog_resource_subscribers x JOIN catalog_user u ON u.id = x.user_id "
        "WHERE x.resource_id = %s",
    ]
)


def floor_detail(role: str, pk: str):
    """A resource's page as a steward reads it: the resource with its last seen and 7- and
    30-day volumes; its relations and followers by name; its visible children (a category's
    events with their visible properties counted, an event's properties), each with its
    tracking; its 30 daily counts; its custom values. For an event and an editor: its 10
    newest received payloads (with the two statements of their PII masking) and its open
    violations. (The "How to send it" snippets are built from the children: no query.)"""
    import datetime as dt

    from catalog.web.views import CHILDREN_SHOWN, RECENT_EVENTS_SHOWN, VIOLATIONS_SHOWN

    db = Floor()
    today = dt.datetime.now(dt.UTC).date()
    since_7d, since_30d = today - dt.timedelta(days=6), today - dt.timedelta(days=29)
    resource = _resource(db, role, pk, since_7d, since_30d)
    db.all(RELATIONS_SQL, [pk] * 6)
    child_joins, child_visible = visibility(role, "c", "cp", "cg")
    count = "0"
    if resource[1] == "event_category":
        joins, visible = visibility(role, "gc", "gcp", "gcg")
        count = (
            f"(SELECT count(*) FROM catalog_resource gc{joins} "
            f"WHERE gc.parent_id = c.id AND {visible})"
        )
    rows = db.all(
        "SELECT c.id, c.title, c.verified, c.published, c.data_type, c.required, c.pii, "
        f"c.description, c.allowed_values, {count}, s.first_seen_at, s.last_seen_at, "
        "v.volume_7d, v.volume_30d "
        f"FROM catalog_resource c{child_joins} "
        "LEFT JOIN catalog_resourceseen s ON s.resource_id = c.id "
        "LEFT JOIN LATERAL (SELECT sum(CASE WHEN d.day >= %s THEN d.count ELSE 0 END) "
        "AS volume_7d, sum(d.count) AS volume_30d FROM catalog_dailyvolume d "
        "WHERE d.resource_id = c.id AND d.day >= %s) v ON TRUE "
        f"WHERE c.parent_id = %s AND {child_visible} "
        "ORDER BY lower(c.title), c.title, c.id LIMIT %s",
        [since_7d, since_30d, pk, CHILDREN_SHOWN + 1],
    )
    db.all(
        "SELECT day, count FROM catalog_dailyvolume WHERE resource_id = %s "
        "AND day BETWEEN %s AND %s",
        [pk, since_30d, today],
    )
    db.all(
        "SELECT v.property_id, p.name, v.value FROM catalog_custompropertyvalue v "
        "JOIN catalog_customproperty p ON p.id = v.property_id WHERE v.resource_id = %s "
        "ORDER BY p.name",
        [pk],
    )
    if resource[1] == "event" and role != "viewer":
        recent = db.all(
            f"SELECT {LOG_COLUMNS} FROM catalog_loggedevent WHERE integration_id = %s "
            "AND name = %s AND type = 'track' ORDER BY received_at DESC, id DESC LIMIT %s",
            [resource[-1], resource[2], RECENT_EVENTS_SHOWN],
        )
        _log_decorations(db, recent, links=False)
        db.all(
            "SELECT id, event_name, property_name, kind, count, first_seen_at, last_seen_at, "
            "message FROM catalog_violation WHERE event_id = %s AND resolved_at IS NULL "
            "ORDER BY last_seen_at DESC, id LIMIT %s",
            [pk, VIOLATIONS_SHOWN + 1],
        )
    return db, Shown([str(row[0]) for row in rows])


def floor_history(role: str, pk: str):
    """A resource's history: the resource, the count of its changes and the first page of
    them with their change sets."""
    from catalog.web.views import HISTORY_PAGE_SIZE

    db = Floor()
    resource = _resource(db, role, pk)
    count = db.one("SELECT count(*) FROM catalog_objectchange WHERE object_id = %s", [pk])[0]
    db.all(
        "SELECT rc.id, rc.action, rc.diff, cs.actor_name, cs.created_at, cs.source "
        "FROM catalog_objectchange rc JOIN catalog_changeset cs ON cs.id = rc.change_set_id "
        "WHERE rc.object_id = %s ORDER BY rc.id DESC LIMIT %s",
        [pk, HISTORY_PAGE_SIZE],
    )
    return db, Shown([str(resource[0])], count)


def floor_edit(role: str, pk: str):
    """The edit form: the resource, the ids of its relations, and the choices (active users and
    its owners, teams, tags, collections)."""
    db = Floor()
    resource = _resource(db, role, pk)
    db.all(
        "SELECT 'owners', user_id FROM catalog_resource_owners WHERE resource_id = %s "
        "UNION ALL SELECT 'teams', team_id FROM catalog_resource_teams WHERE resource_id = %s "
        "UNION ALL SELECT 'tags', tag_id FROM catalog_resource_tags WHERE resource_id = %s "
        "UNION ALL SELECT 'collections', collection_id FROM catalog_resource_collections "
        "WHERE resource_id = %s",
        [pk] * 4,
    )
    db.all(
        "(SELECT 'user', id, username FROM catalog_user WHERE is_active OR id IN "
        "(SELECT user_id FROM catalog_resource_owners WHERE resource_id = %s) "
        "ORDER BY username) "
        "UNION ALL (SELECT 'team', id, name FROM catalog_team ORDER BY name) "
        "UNION ALL (SELECT 'tag', id, title FROM catalog_tag ORDER BY title) "
        "UNION ALL (SELECT 'collection', id, title FROM catalog_collection ORDER BY title)",
        [pk],
    )
    return db, Shown([str(resource[0])])


# --- the stewards' pages: samples and floors -------------------------------------------------


@dataclass(frozen=True)
class Tracked:
    integration: str  # the integration with the most open violations
    integration_name: str
    event_name: str  # the most received event name of the last hour
    event_name_integration: str
    poll_after: str  # the cursor of the log's 10th newest row: a poll gets 9 rows
    collection: str  # `Collection 01`, published


def pick_tracked(samples: Samples) -> Tracked:
    from django.db import connection

    from catalog.web.eventlog import cursor_of

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.id, i.name FROM catalog_integration i JOIN catalog_violation v "
            "ON v.integration_id = i.id WHERE v.resolved_at IS NULL GROUP BY i.id, i.name "
            "ORDER BY count(*) DESC, i.id LIMIT 1"
        )
        integration, integration_name = cursor.fetchone()
        cursor.execute(
            "SELECT name, integration_id FROM catalog_loggedevent "
            "WHERE received_at > now() - interval '1 day' AND name <> '' "
            "GROUP BY name, integration_id ORDER BY count(*) DESC, name LIMIT 1"
        )
        event_name, event_integration = cursor.fetchone()
        cursor.execute(
            "SELECT received_at, id FROM catalog_loggedevent "
            "ORDER BY received_at DESC, id DESC OFFSET 9 LIMIT 1"
        )
        received_at, pk = cursor.fetchone()
        cursor.execute("SELECT id FROM catalog_collection WHERE title = 'Collection 01'")
        (collection,) = cursor.fetchone()
    after = cursor_of(types.SimpleNamespace(received_at=received_at, id=pk))
    return Tracked(
        str(integration),
        integration_name,
        event_name,
        str(event_integration),
        after,
        str(collection),
    )


def floor_violations(role: str, integration: str | None = None):
    """The violations page: the filter's integrations, the open ones' count, a page of them
    grouped by event and integration (its integration, event and resolver joined), and the
    page's 14-day trends."""
    import datetime as dt

    from catalog.web.violations import PAGE_SIZE, TREND_DAYS

    db = Floor()
    db.all("SELECT id, name FROM catalog_integration ORDER BY name, id")
    where, params = "v.resolved_at IS NULL", []
    if integration:
        where, params = where + " AND v.integration_id = %s", [integration]
    count = db.one(f"SELECT count(*) FROM catalog_violation v WHERE {where}", params)[0]
    rows = db.all(
        "SELECT v.id, v.event_name, v.property_name, v.kind, v.count, v.first_seen_at, "
        "v.last_seen_at, v.message, v.resolved_at, v.integration_id, v.event_id, i.name, "
        "e.title, u.username, u.first_name, u.last_name FROM catalog_violation v "
        "JOIN catalog_integration i ON i.id = v.integration_id "
        "LEFT JOIN catalog_resource e ON e.id = v.event_id "
        f"LEFT JOIN catalog_user u ON u.id = v.resolved_by_id WHERE {where} "
        "ORDER BY v.event_name, i.name, v.integration_id, v.kind, v.property_name, v.id "
        "LIMIT %s",
        [*params, PAGE_SIZE],
    )
    today = dt.datetime.now(dt.UTC).date()
    db.all(
        "SELECT violation_id, day, count FROM catalog_violationday "
        "WHERE violation_id = ANY(%s) AND day BETWEEN %s AND %s",
        [[row[0] for row in rows], today - dt.timedelta(days=TREND_DAYS - 1), today],
    )
    paths = [f"/violations/{row[0]}/resolve/" for row in rows]
    return db, Shown([], count, paths=paths, text=f"{count} open violation")


#: The event log's columns, as the page reads them.
LOG_COLUMNS = (
    "id, integration_id, received_at, sent_at, type, name, user_id, anonymous_id, message_id, "
    "properties, format"
)


def _log_decorations(db: Floor, rows: list[tuple], links: bool = True) -> None:
    """What `mask_pii` and the event links read for a page of logged events: the PII-flagged
    properties and events of the page's names, and the catalog's events of those names."""
    integrations = list({row[1] for row in rows})
    names = list({row[5] for row in rows if row[5]})
    if not names:
        return
    db.all(
        "SELECT p.integration_id, e.title, p.title FROM catalog_resource p "
        "JOIN catalog_resource e ON e.id = p.parent_id WHERE (p.pii OR e.pii) "
        "AND p.entity_type = 'event_property' AND p.integration_id = ANY(%s) "
        "AND e.title = ANY(%s)",
        [integrations, names],
    )
    db.all(
        "SELECT integration_id, title FROM catalog_resource WHERE pii AND entity_type = 'event' "
        "AND integration_id = ANY(%s) AND title = ANY(%s)",
        [integrations, names],
    )
    if not links:
        return
    db.all(
        "SELECT integration_id, title, id FROM catalog_resource WHERE entity_type = 'event' "
        "AND integration_id = ANY(%s) AND title = ANY(%s) ORDER BY created_at, id",
        [integrations, names],
    )


def floor_event_log(role: str, name: str = "", after: str = ""):
    """The event log: the integrations, the newest page (one more row than shown, to know
    there are older ones) or, polling, the rows after a cursor; their PII masking and links."""
    from catalog.web.eventlog import PAGE_SIZE, parse_cursor

    db = Floor()
    db.all("SELECT id, name FROM catalog_integration ORDER BY name, id")
    where, params = "TRUE", []
    if name:
        where, params = "name = %s", [name]
    if after:
        moment, pk = parse_cursor(after)
        rows = db.all(
            f"SELECT {LOG_COLUMNS} FROM catalog_loggedevent WHERE {where} AND received_at >= %s "
            "AND NOT (received_at = %s AND id <= %s) ORDER BY received_at, id LIMIT %s",
            [*params, moment, moment, pk, PAGE_SIZE],
        )
    else:
        rows = db.all(
            f"SELECT {LOG_COLUMNS} FROM catalog_loggedevent WHERE {where} "
            "ORDER BY received_at DESC, id DESC LIMIT %s",
            [*params, PAGE_SIZE + 1],
        )[:PAGE_SIZE]
    _log_decorations(db, rows)
    return db, Shown([], paths=[f'id="event-{row[0]}"' for row in rows])


def floor_integrations(role: str):
    """Every integration with its figures in one statement, as the page's subqueries."""
    db = Floor()

    def counted(table: str, condition: str) -> str:
        return f"(SELECT count(*) FROM {table} x WHERE x.integration_id = i.id AND {condition})"

    events = counted("catalog_resource", "x.entity_type = 'event'")
    properties = counted("catalog_resource", "x.entity_type = 'event_property'")
    rows = db.all(
        f"SELECT i.id, i.name, i.type, i.description, i.validation_mode, {events}, "
        f"{properties}, "
        "(SELECT s.last_seen_at FROM catalog_resourceseen s JOIN catalog_resource r "
        "ON r.id = s.resource_id WHERE r.integration_id = i.id AND r.entity_type = 'event' "
        "ORDER BY s.last_seen_at DESC LIMIT 1), "
        f"{counted('catalog_violation', 'x.resolved_at IS NULL')}, "
        "(SELECT sum(count) FROM catalog_violation x WHERE x.integration_id = i.id "
        "AND x.resolved_at IS NULL), "
        f"{counted('catalog_writekey', 'x.revoked_at IS NULL')} "
        "FROM catalog_integration i ORDER BY i.name"
    )
    return db, Shown([], paths=[f"/integrations/{row[0]}/" for row in rows])


def floor_integration(role: str, pk: str):
    """An integration's page for an editor: the integration, its resources by kind, its 10
    busiest events of 30 days (totals, the events with category and last seen, their daily
    counts) and its open violations by kind. (Admins also read its write keys.)"""
    import datetime as dt

    from catalog.web.integrations import TOP_EVENTS

    db = Floor()
    db.one("SELECT * FROM catalog_integration WHERE id = %s", [pk])
    counts = dict(
        db.all(
            "SELECT entity_type, count(*) FROM catalog_resource WHERE integration_id = %s "
            "GROUP BY entity_type",
            [pk],
        )
    )
    today = dt.datetime.now(dt.UTC).date()
    since = today - dt.timedelta(days=29)
    top = db.all(
        "SELECT d.resource_id, sum(d.count) AS total FROM catalog_dailyvolume d "
        "JOIN catalog_resource r ON r.id = d.resource_id WHERE r.integration_id = %s "
        "AND r.entity_type = 'event' AND d.day BETWEEN %s AND %s GROUP BY d.resource_id "
        "ORDER BY total DESC, d.resource_id LIMIT %s",
        [pk, since, today, TOP_EVENTS],
    )
    ids = [row[0] for row in top]
    db.all(
        "SELECT r.id, r.title, r.published, p.title, s.last_seen_at FROM catalog_resource r "
        "LEFT JOIN catalog_resource p ON p.id = r.parent_id "
        "LEFT JOIN catalog_resourceseen s ON s.resource_id = r.id WHERE r.id = ANY(%s)",
        [ids],
    )
    db.all(
        "SELECT resource_id, day, count FROM catalog_dailyvolume WHERE resource_id = ANY(%s) "
        "AND day BETWEEN %s AND %s",
        [ids, since, today],
    )
    db.all(
        "SELECT kind, count(*), sum(count) AS occurrences, max(last_seen_at) "
        "FROM catalog_violation WHERE integration_id = %s AND resolved_at IS NULL "
        "GROUP BY kind ORDER BY occurrences DESC, kind",
        [pk],
    )
    events = counts.get("event", 0)
    return db, Shown(
        [str(pk) for pk in ids], text=f"All {events:,} event{'s' if events != 1 else ''}"
    )


def _collection_figures(role: str) -> str:
    """The columns of a collection's figures: resources the reader sees in it, followers,
    whether the reader follows it (the reader's id is the first parameter)."""
    joins, visible = visibility(role, "r", "rp", "rg")
    return (
        "(SELECT count(*) FROM catalog_resource_collections x JOIN catalog_resource r "
        f"ON r.id = x.resource_id{joins} WHERE x.collection_id = c.id AND {visible}), "
        "(SELECT count(*) FROM catalog_collection_subscribers x WHERE x.collection_id = c.id), "
        "EXISTS (SELECT 1 FROM catalog_collection_subscribers x WHERE x.collection_id = c.id "
        "AND x.user_id = %s)"
    )


def _collections_visible(role: str) -> str:
    return "c.published" if role == "viewer" else "TRUE"


def floor_collections(role: str, user_id: str):
    """The collections list: the count and a page with each one's figures."""
    from catalog.web.collections import PAGE_SIZE

    db = Floor()
    where = _collections_visible(role)
    count = db.one(f"SELECT count(*) FROM catalog_collection c WHERE {where}")[0]
    rows = db.all(
        f"SELECT c.id, c.title, c.icon, c.description, {_collection_figures(role)} "
        f"FROM catalog_collection c WHERE {where} ORDER BY c.title, c.id LIMIT %s",
        [user_id, PAGE_SIZE],
    )
    return db, Shown(
        [], count, paths=[f"/collections/{row[0]}/" for row in rows], text=f"{count} collection"
    )


def floor_collection(role: str, user_id: str, pk: str):
    """A collection's page: the collection with its figures, its parent and integration; the
    count and first page of the resources the reader sees in it (with integration and
    parent); its owners, teams, tags and visible child collections (one statement)."""
    from catalog.web.collections import RESOURCES_PAGE_SIZE

    db = Floor()
    where = _collections_visible(role)
    db.one(
        f"SELECT c.*, {_collection_figures(role)}, p.title, i.name FROM catalog_collection c "
        "LEFT JOIN catalog_collection p ON p.id = c.parent_id "
        f"LEFT JOIN catalog_integration i ON i.id = c.integration_id WHERE c.id = %s AND {where}",
        [user_id, pk],
    )
    joins, visible = visibility(role, "r", "rp", "rg")
    members = (
        f"FROM catalog_resource r{joins} JOIN catalog_resource_collections x "
        f"ON x.resource_id = r.id WHERE x.collection_id = %s AND {visible}"
    )
    count = db.one(f"SELECT count(*) {members}", [pk])[0]
    page_joins, page_visible = visibility(role, "r", "rp", "rg", joined=1)
    rows = db.all(
        "SELECT r.id, r.entity_type, r.title, r.description, r.pii, r.verified, r.published, "
        "rp.title, i.name FROM catalog_resource r "
        f"LEFT JOIN catalog_resource rp ON rp.id = r.parent_id{page_joins} "
        "JOIN catalog_integration i ON i.id = r.integration_id "
        "JOIN catalog_resource_collections x ON x.resource_id = r.id "
        f"WHERE x.collection_id = %s AND {page_visible} ORDER BY r.title, r.id LIMIT %s",
        [pk, RESOURCES_PAGE_SIZE],
    )
    db.all(
        "SELECT 'owner', u.username, u.first_name || ' ' || u.last_name "
        "FROM catalog_collection_owners x JOIN catalog_user u ON u.id = x.user_id "
        "WHERE x.collection_id = %s UNION ALL SELECT 'team', t.name, '' "
        "FROM catalog_collection_teams x JOIN catalog_team t ON t.id = x.team_id "
        "WHERE x.collection_id = %s UNION ALL SELECT 'tag', t.title, t.color "
        "FROM catalog_collection_tags x JOIN catalog_tag t ON t.id = x.tag_id "
        "WHERE x.collection_id = %s UNION ALL SELECT 'child', c.id::text, c.title "
        f"FROM catalog_collection c WHERE c.parent_id = %s AND {where}",
        [pk] * 4,
    )
    return db, Shown([str(row[0]) for row in rows], count, text=f"{count:,} resource")


# --- the naive baseline ------------------------------------------------------------------


@contextlib.contextmanager
def naive_orm() -> Iterator[None]:
    """The ORM without select_related and prefetch_related: each parent, integration, owner
    list and tag list the template reads is a query of its own (N+1)."""
    from django.db.models.query import QuerySet

    saved = QuerySet.select_related, QuerySet.prefetch_related
    QuerySet.select_related = lambda self, *fields: self._chain()
    QuerySet.prefetch_related = lambda self, *lookups: self._chain()
    try:
        yield
    finally:
        QuerySet.select_related, QuerySet.prefetch_related = saved


@contextlib.contextmanager
def naive_search() -> Iterator[None]:
    """The search as `icontains` on title, description and definition (bench/search.py's
    scan), with the ORM as in `naive_orm`."""
    import search as search_bench

    from catalog.web import views

    saved = views.search_resources
    views.search_resources = lambda user, text, **kwargs: search_bench.scan_queryset(user, text)
    try:
        with naive_orm():
            yield
    finally:
        views.search_resources = saved


def naive_home(request):
    """The home page the N+1 way: a count per integration and kind, then each category and a
    count of its events, one query each."""
    from django.shortcuts import render

    from catalog.models import EntityType, Integration
    from catalog.policy import resources_visible_to

    user = request.user
    integrations = []
    for integration in Integration.objects.order_by("name"):
        visible = resources_visible_to(user).filter(integration=integration)
        counts = {
            "categories": visible.filter(entity_type=EntityType.EVENT_CATEGORY).count(),
            "events": visible.filter(entity_type=EntityType.EVENT).count(),
            "properties": visible.filter(entity_type=EntityType.EVENT_PROPERTY).count(),
        }
        if not any(counts.values()):
            continue
        categories = [
            {
                "id": category.pk,
                "title": category.title,
                "description": category.description,
                "events": resources_visible_to(user, EntityType.EVENT)
                .filter(parent=category)
                .count(),
            }
            for category in resources_visible_to(user, EntityType.EVENT_CATEGORY)
            .filter(integration=integration)
            .order_by("title")
        ]
        integrations.append(
            {"integration": integration, "categories": categories, "counts": counts}
        )
    return render(request, "catalog/home.html", {"integrations": integrations})


def naive_urlconf() -> str:
    """The project's URLs plus the naive home page (behind the same middleware)."""
    from django.contrib.auth.decorators import login_required
    from django.urls import path

    from config import urls

    module = types.ModuleType("bench_pages_urlconf")
    module.urlpatterns = [path(NAIVE_URL.lstrip("/"), login_required(naive_home))]
    module.urlpatterns += urls.urlpatterns
    sys.modules[module.__name__] = module
    return module.__name__


# --- the pages ----------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    url: str
    floor: Callable[[str], tuple[Floor, Shown]]  # role -> (statements, what it shows)
    naive: str  # "orm", "icontains" or "home"
    roles: tuple[str, ...] = ("editor", "viewer")
    goal: str = ""  # "issue": the goal; "list": the events list's other views
    htmx: bool = False


NAIVE_LABELS = {
    "orm": "no select_related / prefetch",
    "icontains": "`icontains` scan",
    "home": "a count per category",
    "": "",
}


def pages(samples: Samples, tracked: Tracked, users: dict, deep_page: int) -> list[Page]:
    event, category = samples.event, samples.category
    user_id = {role: str(user.pk) for role, user in users.items()}
    owner = "AND EXISTS (SELECT 1 FROM catalog_resource_owners x WHERE x.resource_id = e.id AND "
    tagged = "AND EXISTS (SELECT 1 FROM catalog_resource_tags x WHERE x.resource_id = e.id AND "
    never = "AND NOT EXISTS (SELECT 1 FROM catalog_resourceseen x WHERE x.resource_id = e.id)"
    return [
        Page("/ (home)", "/", floor_home, "home"),
        Page("/events/", "/events/", lambda role: floor_events(role, None), "orm", goal="issue"),
        Page(
            "/events/?sort=-updated",
            "/events/?sort=-updated",
            lambda role: floor_events(role, None, sort="-updated"),
            "orm",
            goal="list",
        ),
        Page(
            "/events/?sort=-last_seen",
            "/events/?sort=-last_seen",
            lambda role: floor_events(role, None, sort="-last_seen"),
            "orm",
            goal="list",
        ),
        Page(
            "/events/?sort=-volume_30d",
            "/events/?sort=-volume_30d",
            lambda role: floor_events(role, None, sort="-volume_30d"),
            "orm",
            goal="list",
        ),
        Page(
            "/events/?not_seen_days=never",
            "/events/?not_seen_days=never",
            lambda role: floor_events(role, None, f" {never}"),
            "orm",
            goal="list",
        ),
        Page(
            f"/events/?tag= (most used: {samples.tag_title})",
            f"/events/?tag={samples.tag}",
            lambda role: floor_events(role, None, f" {tagged}x.tag_id = %s)", [samples.tag]),
            "orm",
            goal="list",
        ),
        Page(
            "/events/?owner=me",
            "/events/?owner=me",
            lambda role: floor_events(role, user_id[role], f" {owner}x.user_id = '{{user}}')"),
            "orm",
            goal="list",
        ),
        Page(
            f"/events/?page={deep_page}",
            f"/events/?page={deep_page}",
            lambda role: floor_events(role, None, page=deep_page),
            "orm",
            goal="list",
        ),
        Page(
            "/search/?q=order",
            "/search/?q=order",
            lambda role: floor_search(role, "order"),
            "icontains",
            goal="issue",
        ),
        Page(
            f"/search/?q={samples.event_word} (one event)",
            f"/search/?q={samples.event_word}",
            lambda role: floor_search(role, samples.event_word),
            "icontains",
            goal="issue",
        ),
        Page(
            "/search/?q=ord&suggest=1 (htmx)",
            "/search/?q=ord&suggest=1",
            lambda role: floor_search(role, "ord", suggest=True),
            "icontains",
            goal="issue",
            htmx=True,
        ),
        Page(
            "event (10 properties)",
            f"/resources/{event}/",
            lambda role: floor_detail(role, event),
            "orm",
        ),
        Page(
            "category (100 events)",
            f"/resources/{category}/",
            lambda role: floor_detail(role, category),
            "orm",
        ),
        Page(
            f"event history ({HISTORY_CHANGES} changes)",
            f"/resources/{event}/history/",
            lambda role: floor_history(role, event),
            "orm",
        ),
        Page(
            "event edit form",
            f"/resources/{event}/edit/",
            lambda role: floor_edit(role, event),
            "orm",
            roles=("editor",),
        ),
        *tracking_pages(tracked, users),
    ]


def tracking_pages(tracked: Tracked, users: dict) -> list[Page]:
    """The stewards' pages. Violations, the event log and the integrations are for editors
    and admins (the bench's editor reads them; an admin's integration page also lists its
    write keys); collections for everyone."""
    from urllib.parse import urlencode

    editor = ("editor",)
    user_id = {role: str(user.pk) for role, user in users.items()}
    integration, collection = tracked.integration, tracked.collection
    return [
        Page("/violations/", "/violations/", floor_violations, "orm", roles=editor),
        Page(
            f"/violations/?integration= ({tracked.integration_name})",
            f"/violations/?integration={integration}",
            lambda role: floor_violations(role, integration),
            "orm",
            roles=editor,
        ),
        Page("/event-log/", "/event-log/", floor_event_log, "", roles=editor),
        Page(
            f"/event-log/?name= (most received: {tracked.event_name})",
            "/event-log/?" + urlencode({"name": tracked.event_name}),
            lambda role: floor_event_log(role, name=tracked.event_name),
            "",
            roles=editor,
        ),
        Page(
            "/event-log/?after= (htmx poll, 9 new)",
            "/event-log/?" + urlencode({"after": tracked.poll_after}),
            lambda role: floor_event_log(role, after=tracked.poll_after),
            "",
            roles=editor,
            htmx=True,
        ),
        Page("/integrations/", "/integrations/", floor_integrations, "", roles=editor),
        Page(
            f"integration ({tracked.integration_name})",
            f"/integrations/{integration}/",
            lambda role: floor_integration(role, integration),
            "orm",
            roles=editor,
        ),
        Page(
            "/collections/",
            "/collections/",
            lambda role: floor_collections(role, user_id[role]),
            "",
        ),
        Page(
            "collection (1,000 events)",
            f"/collections/{collection}/",
            lambda role: floor_collection(role, user_id[role], collection),
            "orm",
        ),
    ]


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Row:
    page: Page
    role: str
    app: Measure
    sql_ms: float  # median time in SQL statements of one request
    floor: Measure
    naive: Measure | None  # None: no naive baseline for this page
    slowest: tuple[float, str]  # (ms, SQL) of the request's slowest statement

    @property
    def ratio(self) -> float:
        return self.app.p50 / self.floor.p50


def requester(client, page: Page, url: str | None = None) -> Callable[[], str]:
    """A GET of the page that fails loudly unless it answers 200; returns the HTML."""
    headers = {"HX-Request": "true"} if page.htmx else {}
    url = url or page.url

    def get() -> str:
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} -> {response.status_code}: {response.content[:300]!r}")
        return response.content.decode()

    return get


def captured(call: Callable[[], str], times: int = 3) -> tuple[int, float, tuple[float, str], str]:
    """(statements, median ms in SQL, the slowest statement, HTML) over `times` requests."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts, sql, slowest, html = [], [], (0.0, ""), ""
    for _ in range(times):
        with CaptureQueriesContext(connection) as queries:
            html = call()
        spent = [(float(q["time"]) * 1000, q["sql"]) for q in queries.captured_queries]
        counts.append(len(spent))
        sql.append(sum(ms for ms, _ in spent))
        slowest = max([slowest, *spent], key=lambda item: item[0])
    return max(counts), statistics.median(sql), slowest, html


def check_shown(page: Page, role: str, shown: Shown, html: str) -> None:
    """The floor fetched what the page shows: every resource it found is linked on the page,
    and the count is the page's."""
    missing = [pk for pk in shown.ids if f"/resources/{pk}/" not in html]
    missing += [path for path in shown.paths if path not in html]
    if missing and page.url.startswith("/search/") and len(missing) < len(shown.ids):
        # A capped search ranks whichever MAX_RESULTS candidates the index scans yield first;
        # a parallel scan yields them in no fixed order, so the best of them may differ.
        log(f"  {len(missing)} of the floor's {len(shown.ids)} results not on the page")
    elif missing:
        raise SystemExit(f"{page.name} as {role}: the floor found {missing[:3]}, not on the page")
    if shown.text:
        if shown.text not in html:
            raise SystemExit(f"{page.name} as {role}: the page does not say {shown.text!r}")
        return
    if shown.count is None or page.htmx:
        return
    if page.url.startswith("/events/"):
        expected = f"{shown.count} event"
    elif page.url.startswith("/search/"):
        expected = "At least" if shown.capped else f"{shown.count} result"
    else:
        from catalog.web.views import HISTORY_PAGE_SIZE

        expected = f"of {math.ceil(shown.count / HISTORY_PAGE_SIZE)}</span>"  # its pager
    if expected not in html:
        raise SystemExit(f"{page.name} as {role}: the floor counted {shown.count}, the page not")


def measure_naive(call: Callable[[], object], runs: int, budget: float) -> Measure:
    """As many runs as fit in `budget` seconds (at least MIN_NAIVE_RUNS, at most `runs`),
    after one warm-up that also sizes them."""
    started = time.perf_counter()
    call()
    first = time.perf_counter() - started
    n = max(MIN_NAIVE_RUNS, min(runs, int(budget / max(first, 1e-3))))
    return Measure(0, time_calls(call, n, 0))


def naive_context(page: Page):
    return naive_search() if page.naive == "icontains" else naive_orm()


def measure(page: Page, role: str, client, args) -> Row:
    runs, warmups = args.runs, args.warmups
    get = requester(client, page)
    app_times = time_calls(get, runs, warmups)
    queries, sql_ms, slowest, html = captured(get)
    db, shown = page.floor(role)
    check_shown(page, role, shown, html)
    floor_times = time_calls(lambda: page.floor(role), runs, warmups)
    if not page.naive:
        return Row(
            page, role, Measure(queries, app_times), sql_ms, Measure(db.statements, floor_times),
            None, slowest,
        )  # fmt: skip
    naive_get = requester(client, page, NAIVE_URL if page.naive == "home" else None)
    with naive_context(page):
        naive_queries, _, _, naive_html = captured(naive_get, times=1)
        if page.naive != "icontains":
            check_shown(page, role, shown, naive_html)
        naive = measure_naive(naive_get, runs, args.naive_budget)
    naive.queries = naive_queries
    return Row(
        page,
        role,
        Measure(queries, app_times),
        sql_ms,
        Measure(db.statements, floor_times),
        naive,
        slowest,
    )


def run(samples: Samples, tracked: Tracked, users: dict, args) -> list[Row]:
    from django.test import Client

    clients = {}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    rows = []
    for page in pages(samples, tracked, users, args.deep_page):
        for role in page.roles:
            name = f"{page.name} as {role}"
            if args.only and not any(word in name for word in args.only):
                continue
            log(f"measuring {name}")
            rows.append(measure(page, role, clients[role], args))
            if args.profile and args.profile in name:
                profile(requester(clients[role], page))
    return rows


def profile(call: Callable[[], object]) -> None:
    """cProfile of 5 requests, the 30 most expensive calls by cumulative time, to stderr."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    print(out.getvalue(), file=sys.stderr)


def plans(rows: list[Row]) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of each row that misses the goal."""
    from django.db import connection

    out = []
    with connection.cursor() as cursor:
        for row in rows:
            ms, sql = row.slowest
            if row.app.p50 <= GOAL_MS or not sql:
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(line for (line,) in cursor.fetchall())
            out.append(
                f"{row.page.name} as {row.role} ({ms:.0f} ms in one request):\n\n"
                f"```\n{sql}\n\n{plan}\n```"
            )
    return "\n\n".join(out)


# --- reporting ----------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = [
        "| page | as | queries | p50 ms | p95 ms | in SQL ms | floor queries | floor p50 ms "
        "| page / floor | naive | naive queries | naive p50 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.page.name} | {r.role} | {r.app.queries} | {r.app.p50:.1f} | {r.app.p95:.1f} "
            f"| {r.sql_ms:.1f} | {r.floor.queries} | {r.floor.p50:.1f} | {r.ratio:.1f}x "
            + (
                f"| {NAIVE_LABELS[r.page.naive]} | {r.naive.queries:,} | {r.naive.p50:.1f} |"
                if r.naive
                else "| (none: nothing to prefetch) | | |"
            )
        )
    return "\n".join(lines)


def goals(rows: list[Row]) -> list[tuple[str, bool, str]]:
    def over(kind: str) -> tuple[bool, str]:
        chosen = [r for r in rows if r.page.goal == kind]
        if not chosen:
            return True, "not measured in this run"
        slow = [r for r in chosen if r.app.p50 > GOAL_MS]
        worst = max(chosen, key=lambda r: r.app.p50)
        if slow:
            return False, "over: " + "; ".join(
                f"{r.page.name} as {r.role} {r.app.p50:.0f} ms" for r in slow
            )
        return True, f"slowest: {worst.page.name} as {worst.role}, {worst.app.p50:.1f} ms"

    most = max(rows, key=lambda r: r.app.queries)
    many = [r for r in rows if r.app.queries > MAX_QUERIES]
    return [
        (
            f"Every page at most {MAX_QUERIES} queries (the bound tests/web asserts)",
            not many,
            ", ".join(f"{r.page.name} as {r.role}: {r.app.queries}" for r in many)
            or f"most: {most.page.name} as {most.role}, {most.app.queries}",
        ),
        (
            f"The events list (page 1) and the searches under {GOAL_MS:g} ms (p50)",
            *over("issue"),
        ),
        (
            f"The events list sorted, filtered and deep under {GOAL_MS:g} ms (p50)",
            *over("list"),
        ),
    ]


def where_time_goes(rows: list[Row]) -> str:
    """For each row over the goal: SQL against the rest, and its slowest statement."""
    lines = []
    for r in rows:
        if r.app.p50 <= GOAL_MS:
            continue
        ms, sql = r.slowest
        lines.append(
            f"- {r.page.name} as {r.role}: {r.app.p50:.0f} ms, of which {r.sql_ms:.0f} ms in "
            f"{r.app.queries} statements; the slowest, {ms:.0f} ms: `{shorten(sql)}`"
        )
    return "\n".join(lines) or "- Every page is under the goal."


def shorten(sql: str, size: int = 160) -> str:
    """The gist of a statement: what it counts or selects from, and its conditions."""
    text = " ".join(sql.replace('"', "").split())
    depth = 0
    for i, char in enumerate(text):  # the outermost FROM, not a subquery's
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and text.startswith(" FROM ", i) and not text.startswith("SELECT COUNT"):
            text = "SELECT ..." + text[i:]
            break
    return text if len(text) <= size else text[: size - 3] + "..."


#: What the columns mean, for the docs.
HOW_TO_READ = """\
Measured by `bench/pages.py`: the catalog pages (HTML) at the size of the API benchmark's fill,
for an editor and a viewer. Run `uv run python bench/pages.py` (PostgreSQL on 127.0.0.1,
database `event_catalog_bench_pages`, filled on the first run like `bench/api.py`'s);
`--write-docs` refreshes this section, `--plans` prints the plans of the slowest statements,
`--profile NAME` a cProfile of one row's request. A run takes about 15 minutes.

Each row is one GET through Django's test client in one process, logged in with `force_login`:
every middleware (sessions, authentication, CSRF, messages, htmx, the CSP header), the view,
its queries and the template, with DEBUG off and the database connection kept between
requests; no network and no WSGI server. Static URLs come from the plain static files storage,
as in the tests (production's manifest lookup is a dictionary read). The editor and the viewer
own and follow what one user of the fill does (about 4,000 resources, 400 of them events).
*queries* are the SQL statements of one request, the session's and the user's included. *p50*
is the median, *p95* the latency 95% of requests beat. *in SQL ms* is the time one request
spends in its statements (median of 3 requests, measured around the cursor, so with psycopg's
own work): the rest of *p50* is Python (view, forms, Markdown, template). *floor* is the same
page's data (its rows with the joins the template shows, the count, the filters' and the form's
choices) fetched with hand-written SQL on Django's cursor, no ORM and no template: the same
query shapes as the page (the policy's visibility rule written in SQL, the search's capped
candidates, a deep page's ids first), so *page / floor* is what Django and the template add,
and a floor near the page's time means the query itself is slow. *naive* is the same page
without `select_related` and `prefetch_related` (every parent, integration, owner list and tag
list read is a query), the search as an `icontains` scan of title, description and definition,
and the home page counting each category's events one by one (bench/pages.py's `naive_home`).

The stewards' pages read what the first run adds to the fill (`ensure_tracking`): 20,000
violations (every fifth resolved; 4 per event on 5,000 events, every twentieth an unknown
event) with their daily counts over 14 days; 1,000,000 received events over the last 7 days
in the event log's day partitions (the 5,000 busiest events, steeply skewed, each payload
with its catalog properties; 300 calls of the sampled event); 40 collections of about 1,000
events each; 2 write keys per integration. Violations, the event log and the integrations
are measured as the editor only (viewers may not read them); the editor's integration page
has no write keys (an admin's adds one statement). The poll row asks for the events after
the log's 10th newest (9 rows). The event page's floor reads what the page shows (activity,
the property schema with each property's 30-day presence, followers by name, the 10 newest
payloads with their PII masking and the open violations, for an editor); it does not build
the "How to send it" snippets (no query). Pages whose view has nothing to prefetch (the
event log, the integrations and collections lists) have no naive baseline.
"""


def section(rows: list[Row], env: dict, args, samples: Samples) -> str:
    facts = "\n".join(f"- {key}: {value}" for key, value in env.items())
    checks = "\n".join(
        f"- **{'PASS' if ok else 'FAIL'}** {goal}: {evidence}."
        for goal, ok, evidence in goals(rows)
    )
    return (
        f"{HOW_TO_READ}\n### Results\n\n{facts}\n- Runs: {args.runs} timed requests after "
        f"{args.warmups} warm-ups per row, the floor likewise; the naive baseline as many as "
        f"fit in {args.naive_budget:g} s (at least {MIN_NAIVE_RUNS}) after one warm-up\n"
        f"- Samples: the most used tag `{samples.tag_title}`; event `{samples.event}` (its "
        f"number `{samples.event_word}` is the rare word); category `{samples.category}`\n\n"
        f"{table(rows)}\n\nGoals:\n\n{checks}\n\nWhere the time goes (rows over "
        f"{GOAL_MS:g} ms):\n\n{where_time_goes(rows)}\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1.0 = 100,000 events, 1,000,000 properties"
    )
    parser.add_argument("--refill", action="store_true", help="rebuild the data even if present")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per measurement")
    parser.add_argument("--warmups", type=int, default=3, help="untimed requests first")
    parser.add_argument(
        "--naive-budget", type=float, default=NAIVE_BUDGET_S, help="seconds per naive row"
    )
    parser.add_argument("--deep-page", type=int, default=1000, help="the deep events page")
    parser.add_argument(
        "--only", type=lambda s: [w for w in s.split(",") if w], default=[],
        help="comma-separated parts of row names (such as 'events,as viewer') to measure",
    )  # fmt: skip
    parser.add_argument("--plans", action="store_true", help="EXPLAIN ANALYZE of slow rows")
    parser.add_argument("--profile", default="", help="cProfile the rows whose name has this")
    parser.add_argument(
        "--write-docs", action="store_true", help="refresh the results in docs/PERFORMANCE.md"
    )
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.runs < 1 or args.warmups < 0 or args.deep_page < 1:
        parser.error("--scale, --runs and --deep-page must be positive, --warmups not negative")
    if not is_postgres(args.database_url):
        parser.error("the floors are PostgreSQL SQL: give a postgres:// --database-url")
    if args.write_docs and args.only:
        parser.error("--write-docs needs every page: leave out --only")

    ensure_postgres_database(args.database_url)
    # Nothing is emailed: the history changes queue no delivery.
    os.environ["TASKS_BACKEND"] = "dummy"
    os.environ["EMAIL_URL"] = "dummymail://"
    configure_django(args.database_url)
    from django.test.utils import override_settings

    size = Size(args.scale)
    ensure_filled(size, args.refill)
    users = bench_users()
    samples = pick_samples()
    ensure_history(samples.event)
    ensure_tracking(samples, users)
    tracked = pick_tracked(samples)
    load_before = os.getloadavg()[0]
    # Static URLs without collectstatic's manifest (as in the tests); the naive home page.
    storages = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    from django.conf import settings

    with override_settings(
        STORAGES={**settings.STORAGES, **storages}, ROOT_URLCONF=naive_urlconf()
    ):
        rows = run(samples, tracked, users, args)
    if not rows:
        parser.error("--only matched no page")
    env = environment(args.database_url, size)
    env["Command"] = (
        "`" + shlex.join(["uv", "run", "python", "bench/pages.py", *sys.argv[1:]]) + "`"
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        env["Database"] += f"; jit {cursor.fetchone()[0]}"
    # Other work on the machine shows in the numbers: say how busy it was.
    env["Load average"] = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (1 minute)"
    text = section(rows, env, args, samples)
    print(text)
    if args.plans:
        print(plans(rows) or "No row misses the goal: no plans.")
    if args.write_docs:
        write_section(text, DOC_START, DOC_END, heading=DOC_HEADING)
        log("wrote docs/PERFORMANCE.md")
    if not all(ok for _, ok, _ in goals(rows)):
        sys.exit(1)


if __name__ == "__main__":
    main()
