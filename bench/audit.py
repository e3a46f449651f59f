"""Benchmark of the audit log's first page (`GET /api/v1/changes`) on a year of history.

Not a test. It fills a PostgreSQL database with `--changes` ObjectChange rows (1,000,000 by
default) in `--sets` change sets (300,000), loaded with COPY: four in five sets change the
catalog (events, properties, categories, tags, collections), one in five the workspace
(users, teams, keys, integrations), which an editor doesn't see. It then times the first page
(50 sets) through Django's test client (middleware, API-key auth, filters, pagination,
serializers, JSON) as an admin and as an editor, p50 and p95 over `--runs` requests, side by
side with

* the SQL floor: psycopg running one hand-written query that returns the same rows (the page's
  sets and their visible changes; no count), which no Python layer can beat;
* a naive baseline: a nested `ModelSerializer` over `ChangeSet.objects.order_by(...)` without
  a prefetch (a query per set), for editors with `.filter(changes__object_type__in=...)
  .distinct()`, serialized without HTTP (which favours it);
* the API with the indexes as they were before (`created_at` alone, `change_set` alone).

    uv run python bench/audit.py                  # 1,000,000 changes, fills on the first run
    uv run python bench/audit.py --write-docs     # also refresh docs/PERFORMANCE.md
    uv run python bench/audit.py --changes 100000 --sets 30000   # a quick look

The database (`ec_bench_audit` on 127.0.0.1) is created if missing and migrated; the fill is
reused while it holds what this script would write, and the script refuses a database that
holds history it did not write.
"""

import argparse
import datetime as dt
import json
import platform
import random
import shlex
import sys
import uuid

from api import configure_django, load_rows, time_calls
from common import ensure_postgres_database, log, machine, p50_ms, p95_ms, write_section

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ec_bench_audit"
#: The bench's people: the fill's actors and the readers whose keys make the requests.
ADMIN, EDITOR = "bench-audit-admin", "bench-audit-editor"
CATALOG_TYPES = {
    "event": 40,
    "event_property": 40,
    "event_category": 6,
    "tag": 8,
    "collection": 6,
}
WORKSPACE_TYPES = {
    "user": 25,
    "team": 15,
    "user_group": 10,
    "integration": 10,
    "custom_property": 10,
    "api_key": 20,
    "write_key": 10,
}
EDITOR_TYPES = tuple(CATALOG_TYPES)
START, END = "<!-- bench/audit.py:start -->", "<!-- bench/audit.py:end -->"


def fill(sets: int, changes: int, seed: int = 7) -> None:
    """Users, then `sets` change sets over the last year and `changes` changes among them."""
    from django.db import connection, transaction

    from catalog.models import Role, User

    rng = random.Random(seed)
    admin = User.objects.create(username=ADMIN, role=Role.ADMIN, email="a@example.com")
    editor = User.objects.create(username=EDITOR, role=Role.EDITOR, email="e@example.com")
    actors = [(admin.pk, str(admin)), (editor.pk, str(editor))]
    now = dt.datetime.now(dt.UTC)
    set_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(sets)]
    # Every set has a change; the rest are spread at random.
    owners = list(range(sets)) + [rng.randrange(sets) for _ in range(changes - sets)]
    owners.sort()
    workspace = [rng.random() < 0.2 for _ in range(sets)]
    catalog_kinds, catalog_weights = zip(*CATALOG_TYPES.items(), strict=True)
    workspace_kinds, workspace_weights = zip(*WORKSPACE_TYPES.items(), strict=True)

    def set_rows():
        for n, pk in enumerate(set_ids):
            actor = actors[n % 2]
            at = now - dt.timedelta(seconds=(sets - n) * 365 * 86400 / sets)
            yield (pk, at, "api", f"req-{n}", actor[0], actor[1], "")

    def change_rows():
        for n, owner in enumerate(owners):
            if workspace[owner]:
                kind = rng.choices(workspace_kinds, workspace_weights)[0]
            else:
                kind = rng.choices(catalog_kinds, catalog_weights)[0]
            diff = {"description": [f"Old text {n}", f"New text {n}"]}
            if n % 3 == 0:
                tag = {"id": str(uuid.UUID(int=n % 300 + 1)), "label": f"tag-{n % 300}"}
                diff["tags"] = [[], [tag]]
            object_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            yield (set_ids[owner], object_id, kind, f"{kind} {n}", "update", json.dumps(diff))

    with transaction.atomic():
        log(f"COPY {sets:,} change sets")
        load_rows(
            "catalog_changeset",
            ("id", "created_at", "source", "request_id", "actor_id", "actor_name", "api_key_name"),
            set_rows(),
        )
        log(f"COPY {changes:,} changes")
        load_rows(
            "catalog_objectchange",
            ("change_set_id", "object_id", "object_type", "title", "action", "diff"),
            change_rows(),
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalog_changeset")
        cursor.execute("VACUUM ANALYZE catalog_objectchange")


def prepare(sets: int, changes: int, refill: bool) -> None:
    """Fill the database unless it holds this fill already; refuse someone else's history."""
    from django.core.management import call_command

    from catalog.models import ChangeSet, ObjectChange, User

    call_command("migrate", verbosity=0, interactive=False)
    ours = User.objects.filter(username__in=[ADMIN, EDITOR]).count() == 2
    if ours and not refill and ObjectChange.objects.count() >= changes:
        log("reusing the fill")
        return
    if ChangeSet.objects.exists() and not ours:
        raise SystemExit("This database holds history the benchmark did not write.")
    ObjectChange.objects.all()._raw_delete("default")
    ChangeSet.objects.all()._raw_delete("default")
    User.objects.filter(username__startswith="bench-audit-").delete()
    fill(sets, changes)


def client_for(username: str):
    from rest_framework.test import APIClient

    from catalog.models import User
    from catalog.services.context import ChangeContext
    from catalog.services.keys import api_key_create

    _, secret = api_key_create(
        ctx=ChangeContext.for_system(), user=User.objects.get(username=username)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def api_request(client, params: dict):
    def run():
        response = client.get("/api/v1/changes", params)
        assert response.status_code == 200, response.content[:300]
        return response.content

    return run


FLOOR = """
WITH page AS (
    SELECT s.id, s.created_at, s.source, s.request_id, s.actor_id, s.actor_name,
           s.api_key_name, s.integration_id, s.reverts_id
    FROM catalog_changeset s
    {where}
    ORDER BY s.created_at DESC, s.id DESC
    LIMIT 50
)
SELECT page.*, c.object_type, c.object_id, c.title, c.action, c.diff
FROM page JOIN catalog_objectchange c ON c.change_set_id = page.id {kinds}
ORDER BY page.created_at DESC, page.id DESC, c.id
"""


def floor_query(editor: bool):
    from django.db import connection

    if editor:
        kinds = "AND c.object_type = ANY(%(kinds)s)"
        where = (
            "WHERE EXISTS (SELECT 1 FROM catalog_objectchange c WHERE c.change_set_id = s.id "
            + kinds
            + ")"
        )
    else:
        kinds = where = ""
    statement = FLOOR.format(where=where, kinds=kinds)
    params = {"kinds": list(EDITOR_TYPES)}

    def run():
        with connection.connection.cursor() as cursor:  # psycopg itself, no Django
            cursor.execute(statement, params)
            return cursor.fetchall()

    return run


def naive(editor: bool):
    from rest_framework import serializers

    from catalog.models import ChangeSet, ObjectChange

    class Change(serializers.ModelSerializer):
        class Meta:
            model = ObjectChange
            fields = ["object_type", "object_id", "title", "action", "diff"]

    class Set(serializers.ModelSerializer):
        changes = Change(many=True)

        class Meta:
            model = ChangeSet
            fields = ["id", "created_at", "actor", "source", "request_id", "reverts", "changes"]

    def run():
        sets = ChangeSet.objects.order_by("-created_at", "-id")
        if editor:
            sets = sets.filter(changes__object_type__in=EDITOR_TYPES).distinct()
        count = sets.count()
        return json.dumps({"count": count, "results": Set(sets[:50], many=True).data}, default=str)

    return run


def count_of(username: str):
    """The page's count alone (up to the deepest row a client may page to), as the API's
    paginator asks it when the page is full."""
    from catalog.api.pagination import MAX_RESULT_DEPTH, count_at_most
    from catalog.models import User
    from catalog.selectors import audit_log

    user = User.objects.get(username=username)
    return lambda: count_at_most(audit_log(user), MAX_RESULT_DEPTH)


def queries_of(function) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured)


#: (drop, restore) of each index the audit log's migrations changed: as before, then as now.
OLD_INDEXES = [
    (
        "DROP INDEX change_set_newest_idx; "
        "CREATE INDEX bench_audit_old_1 ON catalog_changeset (created_at)",
        "DROP INDEX bench_audit_old_1; "
        "CREATE INDEX change_set_newest_idx ON catalog_changeset (created_at DESC, id DESC)",
    ),
    (
        "DROP INDEX change_set_kind_idx; "
        "CREATE INDEX bench_audit_old_2 ON catalog_objectchange (change_set_id)",
        "DROP INDEX bench_audit_old_2; "
        "CREATE INDEX change_set_kind_idx ON catalog_objectchange (change_set_id, object_type)",
    ),
]


def without_the_index(measure):
    """Run `measure` with the indexes as they were before the audit log's migrations."""
    from django.db import connection

    with connection.cursor() as cursor:
        for drop, _ in OLD_INDEXES:
            cursor.execute(drop)
        cursor.execute("VACUUM ANALYZE catalog_changeset, catalog_objectchange")
    try:
        return measure()
    finally:
        with connection.cursor() as cursor:
            for _, restore in OLD_INDEXES:
                cursor.execute(restore)
            cursor.execute("VACUUM ANALYZE catalog_changeset, catalog_objectchange")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--changes", type=int, default=1_000_000)
    parser.add_argument("--sets", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--refill", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    ensure_postgres_database(args.database_url)
    configure_django(args.database_url)
    prepare(args.sets, args.changes, args.refill)

    from catalog.models import ObjectChange, ObjectType

    admin, editor = client_for(ADMIN), client_for(EDITOR)
    some_event = ObjectChange.objects.filter(object_type=ObjectType.EVENT).order_by("-id")[500]
    cases = [
        ("admin, first page", admin, {}, floor_query(False), naive(False), ADMIN),
        ("editor, first page", editor, {}, floor_query(True), naive(True), EDITOR),
        ("admin, `?object_type=write_key`", admin, {"object_type": "write_key"}, None, None, None),
        (
            "editor, `?object_id=` an event",
            editor,
            {"object_id": str(some_event.object_id)},
            None,
            None,
            None,
        ),
        ("admin, `?page=100`", admin, {"page": "100"}, None, None, None),
    ]
    rows = []
    for name, client, params, floor, baseline, reader in cases:
        log(name)
        request = api_request(client, params)
        api = time_calls(request, args.runs, 1)
        row = {"name": name, "queries": queries_of(request), "api": api}
        if floor is not None:
            row["floor"] = time_calls(floor, args.runs, 1)
            row["naive"] = time_calls(baseline, max(3, args.runs // 10), 1)
            row["naive_queries"] = queries_of(baseline)
        if reader is not None:
            row["count"] = time_calls(count_of(reader), args.runs, 1)
        if not params:
            log(f"{name}: without the index")
            row["old_index"] = without_the_index(lambda r=request: time_calls(r, args.runs, 1))
        rows.append(row)

    def count_cell(times):
        return f"{p50_ms(times):.1f}" if times else "—"

    def cell(times):
        return f"{p50_ms(times):.1f} / {p95_ms(times):.1f}" if times else "—"

    lines = [
        f"{args.changes:,} changes in {args.sets:,} change sets, PostgreSQL "
        f"{postgres_version()}, {machine()}, Python {platform.python_version()}; "
        f"{args.runs} requests each (naive: {max(3, args.runs // 10)}), after one to warm up.",
        "",
        "```",
        "uv run python " + shlex.join(["bench/audit.py", *(argv or sys.argv[1:])]),
        "```",
        "",
        "| request (50 sets a page) | API p50 / p95 ms | queries | SQL floor p50 / p95 ms "
        "| its count alone p50 ms | naive p50 / p95 ms (queries) "
        "| API with the old indexes p50 / p95 ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        naive_cell = f"{cell(row['naive'])} ({row['naive_queries']})" if "naive" in row else "—"
        lines.append(
            f"| {row['name']} | {cell(row['api'])} | {row['queries']} | "
            f"{cell(row.get('floor'))} | {count_cell(row.get('count'))} | {naive_cell} | "
            f"{cell(row.get('old_index'))} |"
        )
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write_docs:
        write_section(section, START, END, heading="## The audit log\n\n")


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


if __name__ == "__main__":
    main()
