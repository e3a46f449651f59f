"""Benchmark of a change to a resource with up to 1,000 subscribers: the request, then the emails.

Not a test. Every write records its notifications in an outbox (one row per recipient, one bulk
insert) and sends the emails after the commit (docs/NOTIFICATIONS.md). This script measures
whether that keeps the request flat in the number of subscribers, and how fast the emails reach a
real SMTP server (aiosmtpd, in a subprocess on 127.0.0.1):

1. **The request.** `PATCH /api/v1/event/events/{id}` (one field) on events with 0, 1, 10, 100
   and 1,000 subscribers, with the dummy task backend so only the request's own work is timed
   (history and outbox rows), side by side with
   * the floor: the same UPDATE, change set, resource change and outbox rows written by psycopg
     (sqlite3) directly, the outbox in one `INSERT ... SELECT`, in one transaction; and
   * a naive view: no outbox, one email rendered and sent with `send_mail` per subscriber inside
     the request (one SMTP connection each), to the same SMTP server.
2. **The emails.** From the start of the PATCH until the server has accepted all 1,000 emails:
   with the immediate task backend (delivery runs in the request's process after the commit),
   with the rows left pending and sent by `deliver_due()` in-process, and by
   `manage.py send_notifications` in a new process; against the floor of smtplib sending the same
   1,000 messages, built beforehand, over one connection. Where `deliver_due()` spends its time
   is measured by wrapping its steps (claim, load, build, send, record).

A full run takes about 2.5 minutes; the naive view at 1,000 subscribers (seconds per request)
and the four 1,000-email deliveries take most of it.

    uv run python bench/notify.py                    # PostgreSQL at 127.0.0.1
    uv run python bench/notify.py --write-docs       # also refresh docs/PERFORMANCE.md
    uv run python bench/notify.py --database-url sqlite:////tmp/bench-notify.sqlite3

The database is created if missing and migrated. The script only ever deletes what it created
(an integration named `bench-notify` and what hangs off it, users named `bench-notify-*` and
their change sets and emails), and refuses a database holding a catalog it did not create.
"""

import argparse
import functools
import gc
import itertools
import json
import os
import platform
import selectors
import shlex
import smtplib
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
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

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
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/event_catalog_bench_notify"
DOC_START = "<!-- bench:notify:start -->"
DOC_END = "<!-- bench:notify:end -->"

MARKER = "bench-notify"
USER_PREFIX = "bench-notify-"
SUBSCRIBER_COUNTS = (0, 1, 10, 100, 1_000)
EMAILS = SUBSCRIBER_COUNTS[-1]
#: Seconds one naive measurement may take: at 1,000 subscribers a request takes seconds.
NAIVE_BUDGET = 12.0
#: The request counts as flat beyond the bulk insert when at least this share of what 1,000
#: subscribers add over one is spent in the outbox step and its commit (the rest is noise, or
#: per-subscriber work elsewhere).
FLAT_SHARE = 0.9
#: Seconds to wait for the SMTP server to receive what it should, before giving up.
SMTP_WAIT = 120.0


# --- the SMTP server: a subprocess of this script --------------------------------------------


class CountingHandler:
    """aiosmtpd hooks that count, and keep nothing: the server should cost as little as a real
    relay's queueing. Connections are counted by the controller, greetings (EHLO/HELO) here."""

    def __init__(self):
        self.changed = threading.Condition()
        self.reset()

    def reset(self) -> None:
        self.connections = self.greetings = self.messages = self.bytes = 0
        self.first = self.last = 0.0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.greetings += 1
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        self.greetings += 1
        return f"250 {server.hostname}"

    async def handle_DATA(self, server, session, envelope):
        with self.changed:
            now = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
            self.first = self.first or now
            self.last = now
            self.messages += 1
            self.bytes += len(envelope.original_content or b"")
            self.changed.notify_all()
        return "250 Message accepted for delivery"

    def tally(self) -> dict:
        return {
            "messages": self.messages,
            "connections": self.connections,
            "greetings": self.greetings,
            "bytes": self.bytes,
            "first": self.first,
            "last": self.last,
        }


def serve_smtp() -> None:
    """The server process: prints its port, then answers `reset` and `wait N SECONDS` on stdin
    with a JSON tally, until stdin closes."""
    from aiosmtpd.controller import Controller

    handler = CountingHandler()

    class CountingController(Controller):
        def factory(self):
            handler.connections += 1  # called once per accepted connection
            return super().factory()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = CountingController(
        handler, hostname="127.0.0.1", port=port, server_hostname="bench-smtp.localhost"
    )
    controller.start()
    handler.reset()  # forget the controller's own start-up probe
    print(port, flush=True)
    try:
        for line in sys.stdin:
            command, *args = line.split()
            if command == "reset":
                with handler.changed:
                    handler.reset()
            elif command == "wait":
                wanted, deadline = int(args[0]), time.monotonic() + float(args[1])
                with handler.changed:
                    while handler.messages < wanted and time.monotonic() < deadline:
                        handler.changed.wait(deadline - time.monotonic())
            print(json.dumps(handler.tally()), flush=True)
    finally:
        controller.stop()


@dataclass
class Tally:
    """What the server saw since the last reset; times are `time.monotonic()` values."""

    messages: int
    connections: int
    greetings: int
    bytes: int
    first: float
    last: float


class SmtpServer:
    """The parent's handle on the server subprocess (its own process, so it doesn't compete
    with the sender for the GIL, as a real mail relay wouldn't)."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--smtp-server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self._read(30))

    def _read(self, timeout: float) -> str:
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                raise SystemExit("The SMTP server did not answer in time.")
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("The SMTP server stopped.")
        return line

    def _ask(self, command: str, timeout: float = 10) -> Tally:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return Tally(**json.loads(self._read(timeout)))

    def reset(self) -> None:
        self._ask("reset")

    def wait(self, messages: int, timeout: float = SMTP_WAIT) -> Tally:
        """Block until the server has accepted `messages` emails since the reset; refuse to go
        on with fewer (the numbers would be wrong)."""
        tally = self._ask(f"wait {messages} {timeout}", timeout + 10)
        if tally.messages != messages:
            raise SystemExit(f"The SMTP server got {tally.messages} emails, not {messages}.")
        return tally

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


# --- configuration ---------------------------------------------------------------------------


def configure_django(database_url: str, smtp_port: int) -> None:
    """Django as production runs it (DEBUG off, which would record every query), sending over
    SMTP to the local server, tasks to the dummy backend unless a measurement says otherwise.

    Through the environment, so `manage.py send_notifications` in a subprocess gets the same.
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-" + uuid.uuid4().hex)
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp_port}"
    os.environ["EMAIL_TIMEOUT"] = "10"
    os.environ["TASKS_BACKEND"] = "dummy"
    os.environ["SITE_URL"] = "https://catalog.example.com"
    sys.path.insert(0, str(BASE_DIR))
    # WhiteNoise warns that collectstatic never ran; nothing here serves static files.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django

    django.setup()


def tasks_backend(name: str) -> dict:
    from django.conf import settings

    paths = {
        "dummy": "django_tasks.backends.dummy.DummyBackend",
        "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    }
    assert settings.TASKS["default"]["BACKEND"] == paths["dummy"]
    return {"default": {"BACKEND": paths[name]}}


# --- the data: one category, one event per subscriber count, 1,000 users ------------------------


@dataclass
class Setup:
    editor: object
    secret: str
    #: subscriber count -> event id
    events: dict[int, uuid.UUID]


def wipe() -> None:
    """Delete what an earlier run created, and only that."""
    from catalog.models import ChangeSet, Integration, Notification, Resource, User

    ours = User.objects.filter(username__startswith=USER_PREFIX)
    ChangeSet.objects.filter(actor__in=ours).delete()  # with its changes and notifications
    Notification.objects.filter(recipient__in=ours).delete()
    Resource.objects.filter(integration__name=MARKER, parent__isnull=False).delete()
    Resource.objects.filter(integration__name=MARKER).delete()
    Integration.objects.filter(name=MARKER).delete()
    ours.delete()


def refuse_foreign_database() -> None:
    """Stop before migrating or deleting anything if the database holds a catalog this script
    did not create (raw SQL: its tables may be at an older migration)."""
    from django.db import connection

    if "catalog_integration" not in connection.introspection.table_names():
        return  # a new database
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM catalog_integration WHERE name = %s", [MARKER])
        if cursor.fetchone():
            return
        cursor.execute(
            "SELECT 1 FROM catalog_resource UNION ALL "
            "SELECT 1 FROM catalog_user WHERE username NOT LIKE %s",
            [USER_PREFIX + "%"],
        )
        if cursor.fetchone():
            raise SystemExit(
                "The database holds a catalog this script did not create; use a dedicated "
                "database (--database-url)."
            )


def prepare() -> Setup:
    """Check the database is ours or empty, migrate it, and create the catalog afresh."""
    from django.core.management import call_command
    from django.db import transaction

    from catalog.models import EntityType, Integration, IntegrationType, Resource, Role, User
    from catalog.services.context import ChangeContext
    from catalog.services.keys import api_key_create

    refuse_foreign_database()
    call_command("migrate", verbosity=0, interactive=False)
    wipe()
    with transaction.atomic():
        integration = Integration.objects.create(name=MARKER, type=IntegrationType.CUSTOM)
        editor = User.objects.create(
            username=f"{USER_PREFIX}editor", email="editor@example.com", role=Role.EDITOR
        )
        users = User.objects.bulk_create(
            User(
                username=f"{USER_PREFIX}{i:04d}",
                email=f"{USER_PREFIX}{i:04d}@example.com",
                password="!",  # unusable: these accounts only subscribe
            )
            for i in range(EMAILS)
        )
        # Published: the subscribers are viewers, who are told only of what they may see.
        category = Resource.objects.create(
            entity_type=EntityType.EVENT_CATEGORY,
            title="Bench",
            integration=integration,
            published=True,
        )
        events = {}
        through = Resource.subscribers.through
        for count in SUBSCRIBER_COUNTS:
            event = Resource.objects.create(
                entity_type=EntityType.EVENT,
                title=f"Order Completed {count}",
                description="Sent when an order is paid.",
                integration=integration,
                parent=category,
                published=True,
            )
            through.objects.bulk_create(
                through(resource_id=event.pk, user_id=user.pk) for user in users[:count]
            )
            events[count] = event.pk
    _, secret = api_key_create(ctx=ChangeContext.for_system(), user=editor, name=MARKER)
    return Setup(editor=editor, secret=secret, events=events)


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Measure:
    queries: int
    times: list[float]
    #: The naive view: SMTP connections of one request.
    connections: int = 0
    #: The app: seconds spent in the outbox step, and in the commit, of each timed request.
    outbox: list[float] = field(default_factory=list)
    commit: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return p50_ms(self.times)

    @property
    def p95(self) -> float:
        return p95_ms(self.times)

    @property
    def outbox_p50(self) -> float:
        return statistics.median(self.outbox) * 1000

    @property
    def commit_p50(self) -> float:
        return statistics.median(self.commit) * 1000

    @property
    def rest_p50(self) -> float:
        """The median of each request's time outside the outbox step and the commit, in ms."""
        parts = zip(self.times, self.outbox, self.commit, strict=True)
        return statistics.median(t - o - c for t, o, c in parts) * 1000


def count_queries(call: Callable[[], object]) -> int:
    """The SQL statements of one call, less the API key's `last_used_at` UPDATE (made at most
    once a minute, so not part of a typical request)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call()
    return sum(
        1
        for query in queries
        if not query["sql"].startswith('UPDATE "catalog_apikey" SET "last_used_at"')
    )


def measure(
    call: Callable[[], object],
    runs: int,
    warmups: int,
    *,
    budget: float = 60.0,
    min_runs: int = 3,
) -> Measure:
    """Queries of a first call (also a warm-up: plans, caches, lazy imports), more warm-ups
    unless a call takes over a second, then seconds per call, until `runs` calls or
    `budget` seconds (and at least `min_runs` calls)."""
    started = time.perf_counter()
    queries = count_queries(call)
    for _ in range(warmups - 1 if time.perf_counter() - started < 1 else 0):
        call()
    gc.collect()
    times: list[float] = []
    deadline = time.perf_counter() + budget
    while len(times) < runs and (len(times) < min_runs or time.perf_counter() < deadline):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return Measure(queries, times)


@contextmanager
def timing(owner, name: str, spent: dict[str, list[float]]):
    """Record the seconds of every call of `owner.name` (a module's function or a class's
    method) in `spent[name]`, to see where a call of the app spends its time without
    changing the app."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.setdefault(name, []).append(time.perf_counter() - started)

    setattr(owner, name, timed)
    try:
        yield
    finally:
        setattr(owner, name, original)


class Patcher:
    """PATCHes one field of an event through the whole stack (middleware, API-key auth, DRF,
    the service, the response), a new value each time so every call is a real change."""

    def __init__(self, secret: str):
        from django.test import Client

        self.client = Client(
            headers={"authorization": f"Bearer {secret}", "accept": "application/json"}
        )
        self.counter = itertools.count()
        self.calls = 0

    def __call__(self, url: str) -> None:
        self.calls += 1
        text = f"Sent when an order is paid (edit {next(self.counter)})."
        body = json.dumps({"description": text})
        response = self.client.patch(url, body, content_type="application/json")
        if response.status_code != 200:
            raise SystemExit(f"PATCH {url} -> {response.status_code}: {response.content[:500]!r}")


class SqlFloor:
    """The request's writes with no framework: the UPDATE, the change set, the resource change
    and every outbox row from one `INSERT ... SELECT`, in one transaction on a DB-API connection.
    What no ORM or view can beat."""

    def __init__(self, database_url: str, editor):
        self.postgres = is_postgres(database_url)
        self.editor = editor
        if self.postgres:
            import psycopg

            self.conn = psycopg.connect(database_url, prepare_threshold=None)
        else:
            from django.conf import settings

            name = settings.DATABASES["default"]["NAME"]
            self.conn = sqlite3.connect(name, isolation_level=None, timeout=30)
        self.counter = itertools.count()

    def _value(self, value):
        """Values as Django stores them: UUIDs as 32 hex digits and JSON as text on SQLite."""
        if self.postgres:
            from psycopg.types.json import Jsonb

            return Jsonb(value) if isinstance(value, list | dict) else value
        if isinstance(value, uuid.UUID):
            return value.hex
        if isinstance(value, list | dict):
            return json.dumps(value)
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def __call__(self, event_id: uuid.UUID) -> int:
        """Write one change of `event_id`; returns the number of outbox rows."""
        now = datetime.now(UTC)
        text = f"Sent when an order is paid (floor {next(self.counter)})."
        change_set = uuid.uuid4()
        statements = [
            (
                "UPDATE catalog_resource SET description = %s, updated_at = %s WHERE id = %s",
                [text, now, event_id],
            ),
            (
                "INSERT INTO catalog_changeset (id, created_at, source, request_id, actor_id, "
                "actor_name, api_key_name) VALUES (%s, %s, 'api', %s, %s, %s, '')",
                [change_set, now, uuid.uuid4().hex, self.editor.pk, self.editor.username],
            ),
            (
                "INSERT INTO catalog_objectchange (change_set_id, object_id, object_type, "
                "title, action, diff) VALUES (%s, %s, 'event', 'Order Completed', 'update', %s)",
                [change_set, event_id, {"description": ["before", text]}],
            ),
            (
                "INSERT INTO catalog_notification (change_set_id, recipient_id, followed, digest, "
                "status, attempts, next_attempt_at, last_error, created_at) "
                "SELECT %s, u.id, %s, u.email_frequency = 'daily', 'pending', 0, %s, '', %s "
                "FROM catalog_resource_subscribers s JOIN catalog_user u ON u.id = s.user_id "
                "WHERE s.resource_id = %s AND u.is_active AND u.email <> '' AND u.id <> %s",
                [change_set, [str(event_id)], now, now, event_id, self.editor.pk],
            ),
        ]
        cursor = self.conn.cursor()
        if not self.postgres:
            cursor.execute("BEGIN IMMEDIATE")
        for statement, params in statements:
            if not self.postgres:
                statement = statement.replace("%s", "?")
            cursor.execute(statement, [self._value(p) for p in params])
        outbox_rows = cursor.rowcount
        if self.postgres:
            self.conn.commit()
        else:
            cursor.execute("COMMIT")
        return outbox_rows

    def close(self) -> None:
        self.conn.close()


def naive_urlconf() -> str:
    """The app's routes plus a naive PATCH view behind the same middleware and API-key auth:
    save the field, then render and `send_mail` one email per subscriber, each over its own
    SMTP connection, before answering. What one writes without an outbox."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import path
    from django.utils import timezone
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from catalog.models import Resource
    from catalog.notifications import emails
    from catalog.notifications.links import resource_url, unsubscribe_url
    from config import urls

    class NaivePatch(APIView):
        permission_classes = [IsAuthenticated]

        def patch(self, request, pk):
            resource = Resource.objects.get(pk=pk)
            old, new = resource.description, request.data["description"]
            resource.description = new
            resource.save(update_fields=["description", "updated_at"])
            summary = emails.ChangeSetSummary(
                actor=str(request.user),
                api_key_name=request.auth.name,
                source="REST API",
                when=emails.format_when(timezone.now()),
                resources=[
                    emails.ChangedResource(
                        kind="Event",
                        title=resource.title,
                        action="update",
                        verb="changed",
                        url=resource_url(resource.pk),
                        fields=[emails.field_change("description", old, new)],
                    )
                ],
                more=0,
                phrase=f'Event "{resource.title}" changed',
            )
            recipients = resource.subscribers.filter(is_active=True).exclude(email="")
            for user in recipients.exclude(pk=request.user.pk):
                context = {
                    "change_set": summary,
                    "recipient": user,
                    "unsubscribe_url": unsubscribe_url(user.pk, [resource.pk]),
                    "site_url": settings.SITE_URL,
                }
                send_mail(
                    f"{emails.SUBJECT_PREFIX} {summary.phrase}",
                    emails.tidy(render_to_string("emails/change.txt", context)),
                    None,
                    [user.email],
                    html_message=render_to_string("emails/change.html", context),
                )
            return Response({"id": str(resource.pk), "description": resource.description})

    module = types.ModuleType("bench_notify_urlconf")
    module.urlpatterns = [
        path("bench/naive/events/<uuid:pk>", NaivePatch.as_view()),
        *urls.urlpatterns,
    ]
    sys.modules[module.__name__] = module
    return module.__name__


@dataclass
class RequestRow:
    subscribers: int
    app: Measure
    floor: Measure
    naive: Measure


def outbox_rows_of_last_change() -> int:
    from catalog.models import ChangeSet

    last = ChangeSet.objects.order_by("-created_at").first()
    return last.notifications.count() if last else 0


def measure_requests(
    setup: Setup, floor: SqlFloor, server: SmtpServer, runs: int, warmups: int
) -> list[RequestRow]:
    """Part 1: the three ways, for each subscriber count."""
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.test import override_settings
    from django_tasks import default_task_backend

    from catalog.services import changes

    patch = Patcher(setup.secret)
    rows = []
    with override_settings(ROOT_URLCONF=naive_urlconf()):
        for n, event in setup.events.items():
            log(f"request, {n:,} subscribers")
            app_url = f"/api/v1/event/events/{event}"
            spent: dict[str, list[float]] = {}
            # A microsecond per request; each PATCH calls each once.
            with (
                timing(changes, "_write_outbox", spent),
                timing(BaseDatabaseWrapper, "_commit", spent),
            ):
                app = measure(lambda u=app_url: patch(u), runs, warmups)
            app.outbox = spent["_write_outbox"][-len(app.times) :]
            app.commit = spent["_commit"][-len(app.times) :]
            if (written := outbox_rows_of_last_change()) != n:
                raise SystemExit(f"The PATCH wrote {written} outbox rows, not {n}.")
            default_task_backend.clear()  # the dummy backend keeps every enqueued task

            floor_measure = measure(lambda e=event: floor(e), runs, warmups)
            if (written := floor(event)) != n:
                raise SystemExit(f"The floor wrote {written} outbox rows, not {n}.")

            naive_url = f"/bench/naive/events/{event}"
            server.reset()
            calls = patch.calls
            naive = measure(
                lambda u=naive_url: patch(u), runs, warmups, budget=NAIVE_BUDGET, min_runs=2
            )
            calls = patch.calls - calls
            naive.connections = server.wait(n * calls).connections // calls
            rows.append(RequestRow(n, app, floor_measure, naive))
    return rows


@dataclass
class DeliveryRow:
    name: str
    #: Seconds, each a list over the runs: the PATCH alone, and from the PATCH's start until
    #: the server accepted the first and the last email.
    request: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    last: list[float] = field(default_factory=list)
    connections: int = 0
    greetings: int = 0
    emails: int = 0
    bytes: int = 0

    def add(self, started: float, request: float | None, tally: Tally) -> None:
        if request is not None:
            self.request.append(request)
        self.first.append(tally.first - started)
        self.last.append(tally.last - started)
        self.connections, self.greetings = tally.connections, tally.greetings
        self.emails, self.bytes = tally.messages, tally.bytes

    @property
    def seconds(self) -> float:
        return statistics.median(self.last)

    @property
    def rate(self) -> float:
        return self.emails / self.seconds


def prebuilt_messages(change_set_id) -> list[tuple[str, bytes]]:
    """The change set's 1,000 emails as the sender builds them, as bytes, for the floor."""
    from catalog.models import Notification
    from catalog.notifications.emails import change_email

    rows = (
        Notification.objects.filter(change_set_id=change_set_id)
        .select_related("recipient", "change_set")
        .prefetch_related("change_set__changes")
    )
    messages = []
    for row in rows:
        message = change_email(row)
        messages.append((message.to[0], message.message().as_bytes(linesep="\r\n")))
    return messages


#: The steps of `deliver_due()` that are timed, as (owner, attribute, label).
def delivery_steps() -> list[tuple[object, str, str]]:
    from django.core.mail.backends.smtp import EmailBackend

    from catalog.notifications import delivery

    return [
        (delivery, "claim", "claim a batch of 20 (SELECT ... FOR UPDATE, UPDATE)"),
        (delivery, "_load", "load the batch (rows, recipients, change set)"),
        (delivery, "change_email", "build each email (summary, templates, unsubscribe link)"),
        (EmailBackend, "send_messages", "send each email (MIME serialization + SMTP)"),
        (smtplib.SMTP, "sendmail", "  of which SMTP (MAIL, RCPT, DATA)"),
        (EmailBackend, "open", "open an SMTP connection per batch"),
        (delivery, "mark_sent", "record each email (one UPDATE and commit per row)"),
    ]


def measure_delivery(
    setup: Setup, server: SmtpServer, runs: int
) -> tuple[list[DeliveryRow], list[tuple[str, float]], float]:
    """Part 2: from the PATCH until the SMTP server has all 1,000 emails, four ways; where
    `deliver_due()` spends its time (seconds per run, by step); and the seconds
    `manage.py send_notifications` takes with nothing to send."""
    from django.conf import settings
    from django.test import override_settings

    from catalog.models import ChangeSet, Notification
    from catalog.notifications.delivery import deliver_due

    patch = Patcher(setup.secret)
    url = f"/api/v1/event/events/{setup.events[EMAILS]}"
    immediate = DeliveryRow("PATCH, immediate task backend (sent in the request)")
    in_process = DeliveryRow("PATCH, then `deliver_due()` in the same process")
    command = DeliveryRow("PATCH, then `manage.py send_notifications` (new process)")
    raw = DeliveryRow("floor: smtplib, 1,000 pre-built messages, one connection")
    pending = Notification.objects.filter(
        status=Notification.Status.PENDING, recipient__username__startswith=USER_PREFIX
    )
    spent: dict[str, list[float]] = {}
    messages: list[tuple[str, bytes]] = []
    # This environment may forbid bytecode files (PYTHONDONTWRITEBYTECODE): the command would
    # compile every module at each start, which a deployment doesn't. Cache them in /tmp.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "bench-notify-pycache")
    send_notifications = functools.partial(
        subprocess.run,
        [sys.executable, "manage.py", "send_notifications", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    pending.delete()  # part 1 left its rows pending; they would be sent too
    send_notifications()  # fills the bytecode cache
    started = time.monotonic()
    send_notifications()
    startup = time.monotonic() - started
    for run in range(runs):
        log(f"delivery, run {run + 1} of {runs}")
        pending.delete()  # part 1 left its rows pending; they would be sent too

        with override_settings(TASKS=tasks_backend("immediate")):
            server.reset()
            started = time.monotonic()
            patch(url)
            request = time.monotonic() - started
        immediate.add(started, request, server.wait(EMAILS))

        server.reset()
        started = time.monotonic()
        patch(url)
        request = time.monotonic() - started
        with ExitStack() as stack:
            for owner, name, _ in delivery_steps():
                stack.enter_context(timing(owner, name, spent))
            began = time.perf_counter()
            report = deliver_due()
            spent.setdefault("deliver_due", []).append(time.perf_counter() - began)
        if report.emails != EMAILS:
            raise SystemExit(f"deliver_due sent {report.emails} emails, not {EMAILS}.")
        in_process.add(started, request, server.wait(EMAILS))
        change_set = ChangeSet.objects.order_by("-created_at").first().pk

        server.reset()
        started = time.monotonic()
        patch(url)
        request = time.monotonic() - started
        send_notifications()
        command.add(started, request, server.wait(EMAILS))

        messages = messages or prebuilt_messages(change_set)
        server.reset()
        started = time.monotonic()
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as smtp:
            for to, message in messages:
                smtp.sendmail(settings.DEFAULT_FROM_EMAIL, [to], message)
        raw.add(started, None, server.wait(EMAILS))
    steps = [(label, sum(spent.get(name, [])) / runs) for _, name, label in delivery_steps()]
    total = sum(spent["deliver_due"]) / runs
    timed = sum(seconds for label, seconds in steps if not label.startswith(" "))
    steps += [("other (batching, logging, closing connections)", total - timed)]
    steps += [("`deliver_due()` in all", total)]
    return [immediate, in_process, command, raw], steps, startup


# --- reporting -------------------------------------------------------------------------------


def requests_table(rows: list[RequestRow]) -> str:
    lines = [
        "| subscribers | app queries | app p50 ms | app p95 ms | outbox step p50 ms "
        "| commit p50 ms | rest p50 ms | floor p50 ms | floor p95 ms | naive queries "
        "| naive p50 ms | naive p95 ms | naive runs | naive SMTP connections |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: |",
    ]
    for row in rows:
        a, f, n = row.app, row.floor, row.naive
        lines.append(
            f"| {row.subscribers:,} | {a.queries} | {a.p50:.1f} | {a.p95:.1f} "
            f"| {a.outbox_p50:.1f} | {a.commit_p50:.1f} | {a.rest_p50:.1f} "
            f"| {f.p50:.1f} | {f.p95:.1f} "
            f"| {n.queries} | {n.p50:,.1f} | {n.p95:,.1f} | {len(n.times)} | {n.connections:,} |"
        )
    return "\n".join(lines)


def delivery_table(rows: list[DeliveryRow], runs: int) -> str:
    lines = [
        "| how | request ms | first email s | all 1,000 emails s | emails/s | SMTP connections "
        "| EHLO/HELO | MB received |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        request = f"{statistics.median(row.request) * 1000:,.0f}" if row.request else "-"
        spread = f" ({min(row.last):.2f}-{max(row.last):.2f})" if runs > 1 else ""
        lines.append(
            f"| {row.name} | {request} | {statistics.median(row.first):.2f} "
            f"| {row.seconds:.2f}{spread} | {row.rate:,.0f} | {row.connections:,} "
            f"| {row.greetings:,} | {row.bytes / 1e6:.1f} |"
        )
    return "\n".join(lines)


def steps_table(steps: list[tuple[str, float]]) -> str:
    lines = [
        "| step of `deliver_due()` | s for 1,000 emails | ms per email |",
        "| --- | ---: | ---: |",
    ]
    for label, seconds in steps:
        name = f"&nbsp;&nbsp;{label.strip()}" if label.startswith(" ") else label
        lines.append(f"| {name} | {seconds:.2f} | {seconds * 1000 / EMAILS:.2f} |")
    return "\n".join(lines)


def conclusions(
    requests: list[RequestRow],
    delivery: list[DeliveryRow],
    steps: list[tuple[str, float]],
    startup: float,
) -> list[str]:
    """What the numbers say, in sentences with the numbers in them."""
    by_n = {row.subscribers: row for row in requests}
    one, most = by_n[1], by_n[EMAILS]
    queries = {row.subscribers: row.app.queries for row in requests}
    constant = len({q for n, q in queries.items() if n}) == 1
    rest_growth = most.app.rest_p50 - one.app.rest_p50
    growth = most.app.p50 - one.app.p50
    outbox_growth = most.app.outbox_p50 - one.app.outbox_p50
    commit_growth = most.app.commit_p50 - one.app.commit_p50
    share = (outbox_growth + commit_growth) / growth if growth > 0 else 1.0
    flat = constant and share >= FLAT_SHARE
    floor_growth = most.floor.p50 - one.floor.p50
    immediate, in_process, command, raw = delivery
    step = dict(steps)
    per_email = step["`deliver_due()` in all"] * 1000 / EMAILS
    build = step["build each email (summary, templates, unsubscribe link)"] * 1000 / EMAILS
    record = step["record each email (one UPDATE and commit per row)"] * 1000 / EMAILS
    smtp = step["  of which SMTP (MAIL, RCPT, DATA)"] * 1000 / EMAILS
    serialize = step["send each email (MIME serialization + SMTP)"] * 1000 / EMAILS - smtp
    queries_text = ", ".join(str(queries[n]) for n in queries if n)
    sqlite_note = " (SQLite: Django splits a bulk INSERT into batches of 999 parameters)"
    return [
        f"**Queries flat in the number of subscribers: {'yes' if constant else 'no'}.** "
        f"{queries[0]} without subscribers (no recipients to look up, nothing to insert), "
        f"{queries_text} for 1, 10, 100 and {EMAILS:,}{'' if constant else sqlite_note}.",
        f"**Request time flat beyond the bulk insert: {'yes' if flat else 'no'}** (the rule: "
        f"same queries, and at least {FLAT_SHARE:.0%} of what {EMAILS:,} subscribers add over "
        f"one spent in the outbox step and its commit). p50 goes from {one.app.p50:.1f} ms to "
        f"{most.app.p50:.1f} ms ({growth:+.1f} ms, {growth * 1000 / (EMAILS - 1):.0f} µs per "
        f"subscriber): the outbox step {outbox_growth:+.1f} ms and the commit "
        f"{commit_growth:+.1f} ms (the new rows' deferred foreign-key checks), {share:.0%} of it; "
        f"everything else {rest_growth:+.1f} ms (reading the {EMAILS:,} subscriber ids for the "
        f"snapshot and diff, returning them in the response, garbage collection).",
        f"**The outbox step against the floor:** the outbox step and the commit grow by "
        f"{outbox_growth + commit_growth:.1f} ms from 1 to {EMAILS:,} recipients, the floor "
        f"(the same rows from one `INSERT ... SELECT`, and its commit) by {floor_growth:.1f} ms "
        f"({one.floor.p50:.1f} -> {most.floor.p50:.1f} ms). On PostgreSQL `_write_outbox` "
        f"(`catalog/services/changes.py`) also writes the rows with one `INSERT ... SELECT` "
        f"from two arrays (recipient ids, followed resources); what is left above the floor is "
        f"Python building those arrays from the snapshot. On SQLite it uses a recipients query "
        f"and `bulk_create`, a model instance per recipient.",
        f"**Without the outbox** (the naive view) the request takes "
        f"{most.naive.p50 / 1000:,.1f} s at {EMAILS:,} subscribers, {most.naive.connections:,} "
        f"SMTP connections, {most.naive.p50 / most.app.p50:,.0f}x the outbox's "
        f"{most.app.p50:.0f} ms; it is already {by_n[10].naive.p50 / by_n[10].app.p50:.1f}x "
        f"slower at 10 subscribers. Per email it spends {most.naive.p50 / EMAILS:.1f} ms with "
        f"a connection each, the outbox's sender {per_email:.1f} ms (below) with a connection "
        f"per 20 emails but a claim, a load and an UPDATE and commit per email.",
        f"**With the immediate task backend (the default then; `background` now answers "
        f"first) the PATCH returns only when all "
        f"{EMAILS:,} emails are sent:** {statistics.median(immediate.request):.1f} s, "
        f"{immediate.rate:,.0f} emails/s over {immediate.connections} SMTP connections (batches "
        f"of 20), because the task runs in the request's process right after the commit. "
        f"With `TASKS_BACKEND=database` the request only queues the task (one more INSERT, "
        f"not measured here) and `manage.py db_worker` sends the emails.",
        f"**{'The sender, not SMTP,' if smtp < per_email / 2 else 'SMTP'} limits delivery:** "
        f"`deliver_due()` took all {EMAILS:,} emails "
        f"to the server {in_process.seconds:.1f} s after the PATCH began "
        f"({in_process.rate:,.0f} emails/s), `manage.py send_notifications` in a new process "
        f"{command.seconds:.1f} s (first email after {statistics.median(command.first):.1f} s: "
        f"the command takes {startup:.1f} s with nothing to send: Django's set-up and system "
        f"checks), "
        f"while smtplib sends the same messages, built beforehand, over one "
        f"connection in {raw.seconds:.2f} s ({raw.rate:,.0f} emails/s). Per email "
        f"`deliver_due()` spends {per_email:.1f} ms: {build:.1f} ms building it (two templates "
        f"per recipient, the change set's summary rendered once for all of them), "
        f"{serialize:.1f} ms serializing MIME, {smtp:.1f} ms in SMTP and {record:.1f} ms "
        f"recording it (an UPDATE and a commit per email in `mark_sent`).",
    ]


def environment(database_url: str, load: tuple[float, ...]) -> dict[str, str]:
    """What the numbers depend on: machine, its load, versions, database."""
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
            database = cursor.fetchone()[0].split(" on ")[0]
            cursor.execute("SHOW synchronous_commit")
            database += f" (synchronous_commit {cursor.fetchone()[0]})"
        else:
            database = f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL)"
    packages = ", ".join(
        f"{name} {version(name)}"
        for name in ("djangorestframework", "django-tasks", "psycopg", "aiosmtpd")
    )
    end = os.getloadavg()
    return {
        "Command": f"`{shlex.join(['uv', 'run', 'python', 'bench/notify.py', *sys.argv[1:]])}`",
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "Machine": (
            f"{machine()}; 1-minute load average "
            f"{load[0]:.2f} at the start, {end[0]:.2f} at the end"
        ),
        "Software": (
            f"Python {platform.python_version()}, Django {django.get_version()}, {packages}, "
            f"{platform.system()} {platform.release()}"
        ),
        "Database": database,
        "SMTP server": "aiosmtpd on 127.0.0.1 in its own process, counting and discarding",
    }


HOW_TO_READ = """\
*The request* is one `PATCH /api/v1/event/events/{id}` changing `description`, through Django's
test client in one process (middleware, API-key authentication, DRF, the change pipeline, the JSON
response; no network, no WSGI server), with `TASKS_BACKEND=dummy` so delivery is only queued.
*Queries* are the SQL statements of one request (without the API key's once-a-minute
`last_used_at` UPDATE), *p50* the median and *p95* the time 95% of requests beat. *Outbox step*
is the time in `_write_outbox` (choosing the recipients and inserting their rows), *commit*
the time of the transaction's COMMIT, *rest* everything else, each the median over the same
timed requests. *Floor* is the same writes (UPDATE, change set, resource change, the outbox rows
from one `INSERT ... SELECT`: four statements) with psycopg (sqlite3) in one transaction, and
its commit: what the database itself needs. *Naive* is a view without an outbox that renders
and `send_mail`s one email per subscriber before answering, one SMTP connection each; its slow
rows are timed fewer times (*naive runs*).

*The emails* are timed from the start of the PATCH to the moment the SMTP server accepted the
first and the 1,000th message (median of the runs, range in brackets), on the event with 1,000
subscribers. *SMTP connections* are the connections the server accepted for them, *EHLO/HELO*
the greetings. The floor sends messages built beforehand by the app's own `change_email`, so it
is the cost of SMTP alone. The steps are the time `deliver_due()` spent in each function (mean
of the runs), measured by wrapping them for the in-process runs."""


def section(
    env: dict[str, str],
    requests: list[RequestRow],
    delivery: list[DeliveryRow],
    steps: list[tuple[str, float]],
    startup: float,
    runs: int,
    delivery_runs: int,
) -> str:
    facts = "\n".join(f"- {key}: {value}" for key, value in env.items())
    found = "\n".join(f"- {text}" for text in conclusions(requests, delivery, steps, startup))
    return (
        "## Notifications: a change with 1,000 subscribers\n\n"
        "Measured by `bench/notify.py`: does the outbox keep a write's request flat in the "
        "number of subscribers, and how fast do the emails reach a mail server? Run "
        "`uv run python bench/notify.py` (PostgreSQL on 127.0.0.1, database "
        "`event_catalog_bench_notify`, created and migrated if missing) or add "
        "`--database-url sqlite:////tmp/bench-notify.sqlite3`; `--write-docs` refreshes this "
        "section. A run takes about 2.5 minutes.\n\n"
        f"{facts}\n- Runs: up to {runs} timed requests per measurement (after warm-ups), "
        f"{delivery_runs} per delivery row\n\n"
        f"### The request\n\n{requests_table(requests)}\n\n"
        f"### Until the SMTP server has all 1,000 emails\n\n"
        f"{delivery_table(delivery, delivery_runs)}\n\n{steps_table(steps)}\n\n"
        f"### How to read this\n\n{HOW_TO_READ}\n\n"
        f"### Conclusions\n\n{found}\n"
    )


def write_docs(text: str) -> None:
    write_section(text, DOC_START, DOC_END)
    log(f"wrote {DOCS_PATH.relative_to(BASE_DIR)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--runs", type=int, default=20, help="timed requests per measurement")
    parser.add_argument("--warmups", type=int, default=2, help="untimed requests first")
    parser.add_argument(
        "--delivery-runs", type=int, default=2, help="repetitions of each 1,000-email delivery"
    )
    parser.add_argument(
        "--write-docs", action="store_true", help="refresh this section of docs/PERFORMANCE.md"
    )
    parser.add_argument("--smtp-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smtp_server:
        serve_smtp()
        return
    if args.runs < 3 or args.warmups < 1 or args.delivery_runs < 1:
        parser.error("--runs must be at least 3, --warmups and --delivery-runs at least 1")

    started, load = time.perf_counter(), os.getloadavg()
    if is_postgres(args.database_url):
        ensure_postgres_database(args.database_url)
    server = SmtpServer()
    try:
        configure_django(args.database_url, server.port)
        setup = prepare()
        floor = SqlFloor(args.database_url, setup.editor)
        try:
            requests = measure_requests(setup, floor, server, args.runs, args.warmups)
        finally:
            floor.close()
        delivery, steps, startup = measure_delivery(setup, server, args.delivery_runs)
        env = environment(args.database_url, load)
    finally:
        server.stop()
    text = section(env, requests, delivery, steps, startup, args.runs, args.delivery_runs)
    print(text)
    if args.write_docs:
        write_docs(text)
    log(f"done in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
