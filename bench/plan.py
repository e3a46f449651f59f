"""Benchmark of the tracking plan's import and export on a plan of the issue's size.

Not a test. It writes a plan of `--events` events (10,000 by default) in about events/50
categories, `--properties-per-event` properties each (10: 100,000 properties), as CSV and as
JSON Schema, and measures on PostgreSQL, each step in a fresh Python process (so that its
peak memory is its own):

* the import into an empty integration through the API (`POST /api/v1/plan/import`, mode
  `add`, as an editor with an API key: auth, body read, parse, diff, bulk writes, history,
  outbox), split into the file's parse and the service, in one request: the step raises
  PLAN_IMPORT_SYNC_MAX_BYTES to the file's size, so that the request applies the file itself
  (past it, the API answers 202 and a task imports the file), and so measures what one
  request would cost;
* the same import in the background, as the API runs files past PLAN_IMPORT_SYNC_MAX_BYTES:
  the POST and its 202, then the queued task run in the same process as a worker would run
  it (`plan_import_run`), then `GET /api/v1/plan/imports/{id}`, which must say `done` with
  every object created;
* a dry run of the same file on the filled catalog (mode `update`: an empty diff) and the
  re-import in `update` mode (a no-op), what a CI job pays;
* the export of the same plan (`GET /api/v1/plan/export`) as CSV and as JSON Schema;

side by side with

* the floor: COPY of the same rows (categories, events, properties, their owners, tags and
  followers, one change set and a history row per object), which no Python layer can beat;
* a naive baseline: one `resource_create` service call per category, event and property, for
  the first `--naive-events` events, extrapolated linearly to the whole plan.

Each step reports wall time, SQL statements, the longest statement, Python's peak memory
(tracemalloc, in a second run of the step, since tracing slows Python down) and the growth of
the process's peak RSS over the step.

    uv run python bench/plan.py                                   # 10,000 / 100,000
    uv run python bench/plan.py --events 500 --naive-events 100   # a quick look
    uv run python bench/plan.py --profile --write-docs            # also refresh the docs

The database (`ec_bench_plan` on 127.0.0.1) is created if missing and migrated; the script
empties its catalog between steps and refuses a database holding integrations it did not make.
"""

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import random
import resource
import shlex
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from contextlib import contextmanager
from pathlib import Path

from api import RESOURCE_COLUMNS, configure_django, load_rows
from common import ensure_postgres_database, log, machine, write_section

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ec_bench_plan"
START, END = "<!-- bench/plan.py:start -->", "<!-- bench/plan.py:end -->"
INTEGRATION = "bench-plan"
EDITOR = "bench-plan-editor"
OWNERS = [f"bench-plan-owner-{n}" for n in range(5)]
TAGS = ["checkout", "growth", "core", "mobile", "web", "billing", "experiment", "legal"]
SEED = 20261207
GUNICORN_TIMEOUT = 30  # gunicorn.conf.py's default worker timeout, in seconds


def words(text: str) -> list[str]:
    return text.split()


AREAS = words(
    "Checkout Cart Search Catalog Account Billing Onboarding Messaging Video Reports "
    "Settings Sharing Support Referrals Ads Feed Profile Reviews Shipping Loyalty"
)
NOUNS = words(
    "Product Cart Order Payment Coupon Page Screen Video Article Signup Login Subscription "
    "Trial Invite Message Notification Report Dashboard File Comment Review Wishlist Ticket"
)
VERBS = words(
    "Viewed Clicked Added Removed Started Completed Failed Updated Shared Opened Closed "
    "Submitted Cancelled Downloaded Selected"
)
SUBJECTS = words("product cart order user session page device campaign coupon payment item")
ATTRIBUTES = words("id name type value count category url source status position")
TYPES = {"string": 50, "number": 12, "integer": 12, "boolean": 10, "datetime": 8, "array": 4}
TYPES.update({"object": 4})
FILLER = (
    "Sent by the web and mobile clients when the user acts; used by the growth and "
    "finance dashboards and by the weekly retention report."
)


# --- the plan ---------------------------------------------------------------------------


def description(rng: random.Random, subject: str) -> str:
    """About 80 characters."""
    start = rng.randrange(0, 40)
    return f"The {subject}: " + FILLER[start : start + rng.randrange(60, 75)].strip()


def make_plan(events: int, per_event: int, seed: int = SEED):
    """A plan of `events` events in about events/50 categories, `per_event` properties each:
    mixed types, some enums, descriptions of about 80 characters, a few owners and tags."""
    from catalog.tracking_plan.model import Plan, PlanEvent, PlanProperty

    rng = random.Random(seed)
    categories = max(1, round(events / 50))
    category_names = [f"{AREAS[n % len(AREAS)]} {n // len(AREAS) + 1}" for n in range(categories)]
    combos = [(noun, verb) for noun in NOUNS for verb in VERBS]
    prop_names = [f"{s}_{a}" for s in SUBJECTS for a in ATTRIBUTES]
    if per_event > len(prop_names):
        raise SystemExit(f"At most {len(prop_names)} properties per event.")
    types, weights = zip(*TYPES.items(), strict=True)
    plan_events = []
    for n in range(events):
        category = category_names[n % categories]
        noun, verb = combos[rng.randrange(len(combos))]
        name = f"{noun} {verb} {n + 1}"  # unique in the integration
        properties = []
        for prop_name in sorted(rng.sample(prop_names, per_event)):
            data_type = rng.choices(types, weights)[0]
            allowed = []
            if data_type == "string" and rng.random() < 0.25:
                allowed = [f"{prop_name.split('_')[0]}-{k}" for k in range(rng.randrange(3, 8))]
            elif data_type == "integer" and rng.random() < 0.2:
                allowed = list(range(1, rng.randrange(3, 6)))
            properties.append(
                PlanProperty(
                    name=prop_name,
                    type=data_type,
                    required=rng.random() < 0.4,
                    allowed_values=allowed,
                    pii=rng.random() < 0.05,
                    description=description(rng, prop_name.replace("_", " ")),
                )
            )
        plan_events.append(
            PlanEvent(
                name=name,
                integration=INTEGRATION,
                category=category,
                description=description(rng, name.lower()),
                owners=sorted(rng.sample(OWNERS, rng.choice((0, 1, 1, 2)))),
                tags=sorted(rng.sample(TAGS, rng.choice((0, 1, 1, 2, 3)))),
                properties=properties,
            )
        )
    return Plan(events=plan_events)


def write_files(args, directory: Path) -> dict[str, Path]:
    from catalog.tracking_plan.formats import write_plan

    plan = make_plan(args.events, args.properties_per_event)
    paths = {}
    for name, suffix in (("csv", "csv"), ("json-schema", "json")):
        path = directory / f"plan.{suffix}"
        path.write_bytes(write_plan(name, plan))
        paths[name] = path
    return paths


# --- the database -----------------------------------------------------------------------


def prepare() -> None:
    """Migrate; refuse a database with integrations this script did not make; make the
    integration, the editor and the owners."""
    from django.core.management import call_command

    from catalog.models import Integration, IntegrationType, Role, User

    call_command("migrate", verbosity=0, interactive=False)
    others = Integration.objects.exclude(name=INTEGRATION).values_list("name", flat=True)
    if others:
        raise SystemExit(
            f"This database holds integrations the benchmark did not make ({', '.join(others)});"
            " give it a database of its own (--database-url)."
        )
    Integration.objects.get_or_create(name=INTEGRATION, defaults={"type": IntegrationType.CUSTOM})
    User.objects.get_or_create(
        username=EDITOR, defaults={"role": Role.EDITOR, "email": "editor@example.com"}
    )
    for name in OWNERS:
        User.objects.get_or_create(
            username=name, defaults={"role": Role.EDITOR, "email": f"{name}@example.com"}
        )
    reset()


def reset() -> None:
    """Empty the catalog, its history, outbox and tags (the database is the bench's own)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE catalog_resource, catalog_changeset, catalog_objectchange, "
            "catalog_notification, catalog_tag, catalog_planimport CASCADE"
        )
        cursor.execute("VACUUM ANALYZE catalog_resource")


def catalog_counts() -> dict[str, int]:
    from django.db.models import Count

    from catalog.models import ObjectChange, Resource, Tag

    counts = dict(
        Resource.objects.filter(integration__name=INTEGRATION)
        .values_list("entity_type")
        .annotate(n=Count("id"))
        .order_by()
    )
    # The catalog's history only (an API key's creation is history too).
    kinds = ("event_category", "event", "event_property", "tag")
    counts["history"] = ObjectChange.objects.filter(object_type__in=kinds).count()
    counts["tags"] = Tag.objects.count()
    return counts


def expected_counts(args) -> dict[str, int]:
    """What the import must leave: every category, event and property, a history row each
    (and one per new tag)."""
    categories = max(1, round(args.events / 50))
    properties = args.events * args.properties_per_event
    return {
        "event_category": categories,
        "event": args.events,
        "event_property": properties,
        "tags": len(TAGS),
        "history": categories + args.events + properties + len(TAGS),
    }


def check_counts(args, what: str, expected: dict | None = None) -> dict:
    counts = catalog_counts()
    expected = expected or expected_counts(args)
    wrong = {k: (counts.get(k, 0), v) for k, v in expected.items() if counts.get(k, 0) != v}
    if wrong:
        raise SystemExit(
            f"{what} left the wrong rows (found, expected): {wrong}; all found: {counts}"
        )
    return counts


# --- measuring one step -----------------------------------------------------------------


class Statements:
    """Counts the SQL statements on the default connection and times the longest."""

    def __init__(self):
        self.count = 0
        self.longest = 0.0
        self.total = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            self.count += 1
            self.total += took
            self.longest = max(self.longest, took)

    def snapshot(self) -> dict:
        return {"statements": self.count, "sql_seconds": self.total, "longest": self.longest}

    def reset(self) -> None:
        self.count, self.longest, self.total = 0, 0.0, 0.0


@contextmanager
def timed_calls(module, names: list[str], spent: dict[str, float]):
    """Wrap `module.name` for each name, adding the seconds spent in it to `spent[name]`."""
    originals = {name: getattr(module, name) for name in names}

    def wrap(name, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - started

        return timed

    for name, function in originals.items():
        setattr(module, name, wrap(name, function))
    try:
        yield
    finally:
        for name, function in originals.items():
            setattr(module, name, function)


def api_client():
    from rest_framework.test import APIClient

    from catalog.models import User
    from catalog.services.context import ChangeContext
    from catalog.services.keys import api_key_create

    _, secret = api_key_create(
        ctx=ChangeContext.for_system(), user=User.objects.get(username=EDITOR), name="bench"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.get("/api/v1/user/me")  # the key's first use (its last-used stamp), URL conf, apps
    return client


def run_step(args) -> dict:
    """One measured step in this process: what it took, as a dict for the parent."""
    from django.db import connection

    import catalog.api.plan as plan_api
    import catalog.services.plan as plan_service
    from config.database import limit_statement_time

    limit_statement_time()  # as gunicorn's workers have it (config/wsgi.py)
    step, fmt = args.step.rsplit(":", 1) if ":" in args.step else (args.step, "")
    paths = json.loads(args.files)
    body = Path(paths[fmt]).read_bytes() if fmt else b""
    statements = Statements()
    call, check = step_call(step, fmt, body, args, statements)
    spent: dict[str, float] = {}
    profile = cProfile.Profile() if args.profile_step else None
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if args.trace_memory:
        tracemalloc.start()
    with (
        timed_calls(plan_api, ["read_plan", "plan_import", "plan_diff"], spent),
        # The background task's calls (plan_import_run's names for the same functions).
        timed_calls(plan_service, ["read_plan", "plan_import"], spent),
        connection.execute_wrapper(statements),
    ):
        if profile:
            profile.enable()
        started = time.perf_counter()
        result = call()
        elapsed = time.perf_counter() - started
        if profile:
            profile.disable()
    peak = tracemalloc.get_traced_memory()[1] if args.trace_memory else None
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    answer = {
        "step": args.step,
        "seconds": elapsed,
        "statements": statements.count,
        "sql_seconds": statements.total,
        "longest_statement": statements.longest,
        "parse": spent.get("read_plan"),
        "service": spent.get("plan_import", spent.get("plan_diff")),
        "rss_growth_kib": rss_after - rss_before,
        "rss_peak_kib": rss_after,
        "python_peak": peak,
        **check(result),
    }
    if profile:
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        Path(args.profile_step).write_text(out.getvalue())
    return answer


def step_call(step: str, fmt: str, body: bytes, args, statements: Statements):
    """(the call to measure, the check of its result) of a step."""
    if step == "floor":
        return floor_call(args)
    if step == "naive":
        return naive_call(args)
    client = api_client()
    media = {"csv": "text/csv", "json-schema": "application/json"}.get(fmt, "")
    base = f"/api/v1/plan/import?format={fmt}&integration={INTEGRATION}"

    def post(url):
        def call():
            response = client.post(url, body, content_type=media)
            if response.status_code != 200:
                raise SystemExit(f"POST {url} -> {response.status_code}: {response.content[:800]}")
            return response

        return call

    if step == "import":

        def check(response):
            answer = json.loads(response.content)
            created = len(answer["created"])
            want = sum(v for k, v in expected_counts(args).items() if k != "history")
            if created != want:
                raise SystemExit(f"The import created {created:,} objects, not {want:,}.")
            check_counts(args, f"The {fmt} import")
            return {"rows": created, "response_bytes": len(response.content)}

        return post(base + "&mode=add"), check
    if step == "background":
        return background_call(client, base, body, media, args, statements)
    if step in ("dry-run", "reimport"):
        dry = "true" if step == "dry-run" else "false"

        def check(response):
            answer = json.loads(response.content)
            if answer["created"] or answer["changed"] or answer["deleted"]:
                raise SystemExit(
                    f"The {step} of the same file found a diff: {len(answer['created'])} created, "
                    f"{len(answer['changed'])} changed, {len(answer['deleted'])} deleted; first: "
                    f"{(answer['created'] + answer['changed'])[:2]}"
                )
            if step == "reimport" and answer.get("change_set") is not None:
                raise SystemExit("The no-op re-import wrote a change set.")
            check_counts(args, f"The {step}")
            return {"rows": 0, "response_bytes": len(response.content)}

        return post(base + f"&mode=update&dry_run={dry}"), check
    if step == "export":
        url = f"/api/v1/plan/export?format={fmt}&integration={INTEGRATION}"

        def get():
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"GET {url} -> {response.status_code}: {response.content[:800]}")
            return response

        def check(response):
            from catalog.tracking_plan.formats import read_plan

            plan, _ = read_plan(fmt, response.content)
            events = len(plan.events)
            properties = sum(len(e.properties) for e in plan.events)
            if (events, properties) != (args.events, args.events * args.properties_per_event):
                raise SystemExit(
                    f"The {fmt} export holds {events:,} events and {properties:,} properties."
                )
            return {"rows": events + properties, "response_bytes": len(response.content)}

        return get, check
    raise SystemExit(f"Unknown step {step!r}.")


def background_call(client, base: str, body: bytes, media: str, args, statements):
    """POST the file (a 202), then run the queued import in this process as a worker would
    (`plan_import_run`, what `plan_import_task` calls): the task backend is the dummy one in
    the steps, so nothing else runs it. The 202's time and statements are kept apart."""
    from django.conf import settings

    from catalog.services.plan import plan_import_run

    url = base + "&mode=add"
    if len(body) <= settings.PLAN_IMPORT_SYNC_MAX_BYTES:
        url += "&background=true"  # a small file (a quick run) goes to the background too
    answered: dict = {}

    def call():
        started = time.perf_counter()
        response = client.post(url, body, content_type=media)
        answered["seconds"] = time.perf_counter() - started
        answered.update(statements.snapshot())
        if response.status_code != 202:
            raise SystemExit(
                f"POST {url} -> {response.status_code}, not 202: {response.content[:800]}"
            )
        queued = json.loads(response.content)
        if queued.get("status") != "queued":
            raise SystemExit(f"The 202 says {queued.get('status')!r}, not 'queued': {queued}")
        answered["id"], answered["url"] = queued["id"], queued["url"]
        statements.reset()
        started = time.perf_counter()
        job = plan_import_run(queued["id"])
        answered["task_seconds"] = time.perf_counter() - started
        if job is None:
            raise SystemExit(f"plan_import_run({queued['id']}) found no queued import.")
        return job

    def check(job):
        response = client.get(answered["url"])
        if response.status_code != 200:
            raise SystemExit(f"GET {answered['url']} -> {response.status_code}")
        answer = json.loads(response.content)
        if answer["status"] != "done":
            raise SystemExit(
                f"The background import is {answer['status']!r}, not 'done': "
                f"{json.dumps(answer['problems'])[:800]}"
            )
        created = len(answer["result"]["created"])
        want = sum(v for k, v in expected_counts(args).items() if k != "history")
        if created != want:
            raise SystemExit(f"The background import created {created:,} objects, not {want:,}.")
        check_counts(args, "The background import")
        return {
            "rows": created,
            "seconds": answered["task_seconds"],
            "task_seconds": answered["task_seconds"],
            "answer_seconds": answered["seconds"],
            "answer_statements": answered["statements"],
            "answer_longest": answered["longest"],
            "status_after": answer["status"],
        }

    return call, check


# --- the floor: COPY ----------------------------------------------------------------------


CHANGE_SET_COLUMNS = (
    "id",
    "created_at",
    "source",
    "request_id",
    "actor_id",
    "actor_name",
    "api_key_name",
)


def floor_call(args):
    """COPY the same rows as the import (from the same file, parsed outside the timing):
    resources, owners, tags and followers, one change set and a history row per object."""
    from django.db import transaction

    from catalog.models import Integration, User
    from catalog.tracking_plan.formats import read_plan

    plan, _ = read_plan("csv", Path(json.loads(args.files)["csv"]).read_bytes())
    integration = Integration.objects.get(name=INTEGRATION).pk
    editor = User.objects.get(username=EDITOR)
    users = dict(User.objects.filter(username__in=OWNERS).values_list("username", "pk"))

    def call():
        now = dt.datetime.now(dt.UTC)
        tag_ids = {title: uuid.uuid4() for title in TAGS}
        resources, owners, tags, history = [], [], [], []
        category_ids: dict[str, uuid.UUID] = {}

        def add(pk, kind, title, text, parent, prop=None):
            typed = (prop.type, prop.required, json.dumps(prop.allowed_values)) if prop else ()
            flags = (bool(prop and prop.pii), False, False)
            typed = typed or (None, None, None)
            resources.append(
                (
                    pk,
                    kind,
                    title,
                    text or "",
                    "",
                    *flags,
                    integration,
                    parent,
                    *typed,
                    None,
                    now,
                    now,
                )
            )
            diff = {"title": [None, title], "description": [None, text]}
            if parent:
                diff["parent"] = [None, {"id": str(parent), "label": ""}]
            if prop:
                diff |= {"data_type": [None, prop.type], "required": [None, prop.required]}
            history.append((kind, pk, title, json.dumps(diff)))

        for event in plan.events:
            category = category_ids.get(event.category)
            if category is None:
                category = category_ids[event.category] = uuid.uuid4()
                add(category, "event_category", event.category, "", None)
            event_id = uuid.uuid4()
            add(event_id, "event", event.name, event.description, category)
            owners += [(event_id, users[name]) for name in event.owners]
            tags += [(event_id, tag_ids[title]) for title in event.tags]
            for prop in event.properties:
                add(uuid.uuid4(), "event_property", prop.name, prop.description, event_id, prop)
        change_set = uuid.uuid4()
        with transaction.atomic():
            load_rows(
                "catalog_tag",
                ("id", "title", "description", "color", "created_at", "updated_at"),
                ((pk, title, "", "", now, now) for title, pk in tag_ids.items()),
            )
            load_rows("catalog_resource", RESOURCE_COLUMNS, resources)
            load_rows("catalog_resource_owners", ("resource_id", "user_id"), owners)
            load_rows("catalog_resource_subscribers", ("resource_id", "user_id"), owners)
            load_rows("catalog_resource_tags", ("resource_id", "tag_id"), tags)
            load_rows(
                "catalog_changeset",
                CHANGE_SET_COLUMNS,
                [(change_set, now, "api", "bench-floor", editor.pk, EDITOR, "bench")],
            )
            load_rows(
                "catalog_objectchange",
                ("change_set_id", "object_type", "object_id", "title", "action", "diff"),
                ((change_set, *row[:3], "create", row[3]) for row in history),
            )
        return len(resources)

    def check(rows):
        expected = expected_counts(args)
        expected["history"] -= len(TAGS)  # the floor writes no history of its tags
        check_counts(args, "The floor's COPY", expected)
        # psycopg's COPY bypasses Django's execute wrapper: seven COPY statements.
        return {"rows": rows, "statements": 7, "longest_statement": None}

    return call, check


# --- the naive baseline -------------------------------------------------------------------


def naive_call(args):
    """One `resource_create` per category, event and property of the first `naive_events`
    events (tags made first with `workspace_object_create`), as the editor."""
    from catalog.models import ChangeSource, Integration, Tag, User
    from catalog.services.context import ChangeContext
    from catalog.services.resources import resource_create
    from catalog.services.workspace import workspace_object_create
    from catalog.tracking_plan.formats import read_plan

    plan, _ = read_plan("csv", Path(json.loads(args.files)["csv"]).read_bytes())
    events = plan.events[: args.naive_events]
    integration = Integration.objects.get(name=INTEGRATION)
    editor = User.objects.get(username=EDITOR)
    users = dict(User.objects.filter(username__in=OWNERS).values_list("username", "pk"))
    ctx = ChangeContext(source=ChangeSource.API, user=editor)

    def call():
        tags = {
            title: workspace_object_create(ctx=ctx, model=Tag, data={"title": title}).pk
            for title in TAGS
        }
        categories = {}
        made = 0
        for event in events:
            category = categories.get(event.category)
            if category is None:
                category = categories[event.category] = resource_create(
                    ctx=ctx,
                    entity_type="event_category",
                    data={"title": event.category, "integration": integration},
                )
                made += 1
            parent = resource_create(
                ctx=ctx,
                entity_type="event",
                data={
                    "title": event.name,
                    "parent": category,
                    "description": event.description,
                    "owners": [users[name] for name in event.owners],
                    "tags": [tags[title] for title in event.tags],
                },
            )
            made += 1
            for prop in event.properties:
                resource_create(
                    ctx=ctx,
                    entity_type="event_property",
                    data={
                        "title": prop.name,
                        "parent": parent,
                        "description": prop.description,
                        "data_type": prop.type,
                        "required": prop.required,
                        "allowed_values": prop.allowed_values,
                        "pii": prop.pii,
                    },
                )
                made += 1
        return made

    def check(made):
        want = len({e.category for e in events}) + len(events)
        want += sum(len(e.properties) for e in events)
        if made != want or catalog_counts().get("history") != want + len(TAGS):
            raise SystemExit(f"The naive import made {made:,} resources, not {want:,}.")
        return {"rows": made, "naive_events": len(events)}

    return call, check


# --- the run ------------------------------------------------------------------------------


def spawn(args, step: str, paths: dict, *, memory: bool, profile: str = "") -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--step",
        step,
        "--files",
        json.dumps({k: str(v) for k, v in paths.items()}),
        "--database-url",
        args.database_url,
        "--events",
        str(args.events),
        "--properties-per-event",
        str(args.properties_per_event),
        "--naive-events",
        str(args.naive_events),
    ]
    if memory:
        command.append("--trace-memory")
    if profile:
        command += ["--profile-step", profile]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"Step {step} failed (exit {done.returncode}).")
    return json.loads(done.stdout.strip().splitlines()[-1])


#: (label, step, whether the catalog is emptied before it)
def plan_of_steps() -> list[tuple[str, str, bool]]:
    return [
        ("Import, CSV (`mode=add`)", "import:csv", True),
        ("Dry run of the same CSV (`mode=update`): empty diff", "dry-run:csv", False),
        ("Re-import of the same CSV (`mode=update`): no-op", "reimport:csv", False),
        ("Export, CSV", "export:csv", False),
        ("Export, JSON Schema", "export:json-schema", False),
        ("Import in the background, CSV: the task", "background:csv", True),
        ("Import, JSON Schema (`mode=add`)", "import:json-schema", True),
        ("Dry run of the same JSON Schema (`mode=update`)", "dry-run:json-schema", False),
        ("Floor: COPY of the same rows and history", "floor", True),
        ("Naive: `resource_create` per object", "naive", True),
    ]


def measure_all(args, paths: dict) -> list[dict]:
    rows = []
    for label, step, fresh in plan_of_steps():
        log(label)
        if fresh:
            reset()
        timed = spawn(args, step, paths, memory=False)
        # The same step again with tracemalloc, on the same catalog state.
        if step.startswith(("import", "background")) or step in ("floor", "naive"):
            reset()
        memory = spawn(args, step, paths, memory=True)
        timed["python_peak"] = memory["python_peak"]
        timed["label"] = label
        log(
            f"  {timed['seconds']:.2f} s, {timed['statements']:,} statements, "
            f"peak {mib(timed['python_peak'])}, RSS +{timed['rss_growth_kib'] / 1024:.0f} MiB"
        )
        rows.append(timed)
    reset()
    return rows


def mib(value) -> str:
    return "—" if value is None else f"{value / 2**20:,.0f} MiB"


def milliseconds(value) -> str:
    return "—" if value is None else f"{value * 1000:,.0f} ms"


def seconds(value) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} s" if value < 100 else f"{value:,.0f} s"


def report(args, argv, paths: dict, rows: list[dict], profile_text: str) -> str:
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0].split()[0]
    properties = args.events * args.properties_per_event
    sizes = {name: path.stat().st_size for name, path in paths.items()}
    limit = settings.PLAN_IMPORT_MAX_BYTES
    sync_limit = settings.PLAN_IMPORT_SYNC_MAX_BYTES
    lines = [
        f"A plan of {args.events:,} events in {max(1, round(args.events / 50)):,} categories "
        f"and {properties:,} properties ({args.properties_per_event} per event; mixed types, "
        "a quarter of the strings with allowed values, descriptions of about 80 characters, "
        f"0-2 of {len(OWNERS)} owners and 0-3 of {len(TAGS)} tags per event), imported by an "
        f"editor through the API (Django's test client, an API key) into an empty integration; "
        f"PostgreSQL {version}, {machine()}, Python {platform.python_version()}. Each step ran "
        "in a fresh process, twice: once timed, once under tracemalloc for the peak.",
        "",
        "```",
        "uv run python " + shlex.join(["bench/plan.py", *argv]),
        "```",
        "",
        "The files: "
        + ", ".join(f"{name} {size / 2**20:.1f} MiB" for name, size in sizes.items())
        + f" (PLAN_IMPORT_MAX_BYTES is {limit / 2**20:.0f} MiB: "
        + ("both fit" if max(sizes.values()) <= limit else "**too large**")
        + f"; past PLAN_IMPORT_SYNC_MAX_BYTES, {sync_limit / 2**20:g} MiB, "
        + (
            "both import in the background"
            if min(sizes.values()) > sync_limit
            else "a file imports in the background"
        )
        + "). The *Import* steps below raise PLAN_IMPORT_SYNC_MAX_BYTES to the file's size in "
        "their process, so that one request applies the file: what one request would cost. "
        "*Import in the background* leaves it (or, for a file below it, asks `background=true`), "
        "gets the 202, then runs the queued task in the same process, as a worker would "
        "(`plan_import_run`), and checks that `GET /api/v1/plan/imports/{id}` says `done`.",
        "",
        "| step | time | of it: parse / service | statements (longest) | Python peak "
        "| RSS growth | rows |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    naive = next(r for r in rows if r["step"] == "naive")
    for row in rows:
        if row["step"].startswith("background"):
            lines.append(
                f"| Import in the background, CSV: the POST's 202 | "
                f"{milliseconds(row['answer_seconds'])} | — | {row['answer_statements']:,} "
                f"({milliseconds(row['answer_longest'])}) | — | — | 0 |"
            )
        split = "—"
        if row.get("parse") is not None:
            split = f"{seconds(row['parse'])} / {seconds(row['service'])}"
        lines.append(
            f"| {row['label']} | {seconds(row['seconds'])} | {split} | "
            f"{row['statements']:,} ({milliseconds(row['longest_statement'])}) | "
            f"{mib(row['python_peak'])} | {row['rss_growth_kib'] / 1024:,.0f} MiB | "
            f"{row['rows']:,} |"
        )
    scale = args.events / naive["naive_events"]
    lines.append(
        f"| Naive, **extrapolated** x{scale:g} to {args.events:,} events | "
        f"{seconds(naive['seconds'] * scale)} | — | {round(naive['statements'] * scale):,} | — "
        f"| — | {round(naive['rows'] * scale):,} |"
    )
    imports = [r for r in rows if r["step"].startswith(("import", "reimport", "dry-run"))]
    slowest = max(imports, key=lambda r: r["seconds"])
    longest = max(rows, key=lambda r: r["longest_statement"] or 0)
    floor = next(r for r in rows if r["step"] == "floor")
    csv_import = next(r for r in rows if r["step"] == "import:csv")
    background = next(r for r in rows if r["step"].startswith("background"))
    lines += [
        "",
        f"The CSV import took {csv_import['seconds'] / floor['seconds']:.0f}x the floor's "
        f"time; the naive baseline ({naive['naive_events']:,} events measured) would take "
        f"{naive['seconds'] * scale / csv_import['seconds']:.0f}x the import's. "
        f"The slowest request, {slowest['label']}, took "
        f"{seconds(slowest['seconds'])} in-process (as one request; the API would run it in "
        f"the background): "
        + (
            f"**past** gunicorn's {GUNICORN_TIMEOUT} s worker timeout"
            if slowest["seconds"] >= GUNICORN_TIMEOUT
            else f"{slowest['seconds'] / GUNICORN_TIMEOUT:.0%} of gunicorn's "
            f"{GUNICORN_TIMEOUT} s worker timeout"
        )
        + f". The longest single statement took {longest['longest_statement'] * 1000:,.0f} ms "
        f"({longest['label']}), against the "
        f"{settings.DATABASE_STATEMENT_TIMEOUT:g} s statement timeout (applied in the steps as "
        "config/wsgi.py applies it). "
        f"In the background, the POST answered its 202 in "
        f"{milliseconds(background['answer_seconds'])} and the task then took "
        f"{seconds(background['task_seconds'])} "
        f"({background['task_seconds'] / csv_import['seconds']:.0%} of the one-request import's "
        f"time); `GET /api/v1/plan/imports/{{id}}` then said `{background['status_after']}` "
        f"with {background['rows']:,} objects created.",
        "",
        "### How to read this",
        "",
        "* *time* is the whole request in the test client: authentication, reading the body, "
        "parsing the file, the diff, the writes (resources, relations, history, outbox), the "
        "JSON answer (the import's lists every created object). *parse* is `read_plan`, "
        "*service* `plan_import` or `plan_diff`; the rest is the view, the answer's JSON and "
        "the test client. For the background import, the 202's row is the POST (authentication, "
        "the body, the file stored in a `PlanImport` row); the task's row is `plan_import_run` "
        "alone (parse / service as above; its Python peak and RSS growth cover the POST too).",
        "* *statements* are every SQL statement of the request, counted with a connection "
        "wrapper; a bulk insert of 1,000 rows is one. *longest* is the slowest of them.",
        "* *Python peak* is tracemalloc's peak in a second run of the step (tracemalloc slows "
        "Python down, so it is not the timed run); *RSS growth* is how much the process's peak "
        "resident memory (`ru_maxrss`) grew during the timed step, over Django, the file and "
        "the client already loaded: what a gunicorn worker would grow by.",
        "* *rows*: objects created (imports: categories, events, properties, tags), rows of "
        "the exported plan (events + properties), resources COPYed (floor) or made (naive).",
        "* The floor COPYs the same resources with their owners, followers and tags, one change "
        "set and a history row per resource, from the same parsed file (parsing not timed); it "
        "validates nothing. The naive baseline calls the service once per object, so each "
        "object gets its own change set, and is measured on the first "
        f"{naive['naive_events']:,} events and scaled linearly: **extrapolated**, not measured.",
    ]
    if profile_text:
        lines += ["", profile_text]
    return "\n".join(lines) + "\n"


def profile_summary(path: Path, top: int = 14) -> str:
    """The functions with the most time of their own in the profiled CSV import."""
    text = path.read_text()
    return (
        "<details><summary>cProfile of the CSV import (top functions by own time)</summary>\n\n"
        "```\n" + trim_profile(text, top) + "\n```\n\n</details>"
    )


def trim_profile(text: str, top: int) -> str:
    """The tottime table of the profile's text, `top` rows, paths shortened."""
    part = text.split("Ordered by: internal time", 1)[-1]
    lines = [line for line in part.splitlines() if line.strip()]
    header = next(i for i, line in enumerate(lines) if "ncalls" in line)
    kept = lines[header : header + 1 + top]
    site = str(Path(sys.prefix))
    here = str(Path(__file__).resolve().parent.parent) + "/"
    return "\n".join(line.replace(site, "…").replace(here, "") for line in kept)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--properties-per-event", type=int, default=10)
    parser.add_argument("--naive-events", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="profile the CSV import once")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    parser.add_argument("--trace-memory", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile-step", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.naive_events = min(args.naive_events, args.events)

    if args.step:
        # The outbox rows are written; their delivery (a thread of the web process, after
        # the answer) is not part of the request and would print the emails here.
        os.environ["TASKS_BACKEND"] = "dummy"
        step, _, fmt = args.step.partition(":")
        if step in ("import", "reimport", "dry-run"):
            # What one request costs: the request applies (or compares) the file itself,
            # however large (past PLAN_IMPORT_SYNC_MAX_BYTES the API would answer 202).
            size = Path(json.loads(args.files)[fmt]).stat().st_size
            os.environ["PLAN_IMPORT_SYNC_MAX_BYTES"] = str(size)
        configure_django(args.database_url)
        print(json.dumps(run_step(args)))
        return
    ensure_postgres_database(args.database_url)
    configure_django(args.database_url)
    prepare()
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as directory:
        paths = write_files(args, Path(directory))
        for name, path in paths.items():
            log(f"{name}: {path.stat().st_size / 2**20:.1f} MiB")
        rows = measure_all(args, paths)
        profile_text = ""
        if args.profile:
            log("profiling the CSV import")
            reset()
            out = Path(directory) / "profile.txt"
            spawn(args, "import:csv", paths, memory=False, profile=str(out))
            reset()
            profile_text = profile_summary(out)
            kept = Path(tempfile.gettempdir()) / "bench-plan-profile.txt"
            kept.write_text(out.read_text())
            log(f"the whole profile: {kept}")
        section = report(args, argv, paths, rows, profile_text)
    print(section)
    if args.write_docs:
        write_section(section, START, END, heading="## Plan import and export\n\n")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
