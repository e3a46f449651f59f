"""The received-event log: seed 003's read API (`GET /api/v1/event/log`) and its retention purge."""

import datetime as dt
import json
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import ProgrammingError, connection
from rest_framework.test import APIClient

from catalog.api import eventlog as api
from catalog.models import IngestedMessage, LoggedEvent
from catalog.services.eventlog import (
    ensure_partitions,
    event_log_cutoff,
    forget_partitions,
    log_events,
    partition_name,
    purge_event_log,
    purge_event_log_report,
)
from catalog.services.keys import api_key_create
from catalog.services.writekeys import write_key_create
from catalog.tasks import next_purge, purge_event_log_task
from tests.factories import SYSTEM, IntegrationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/event/log"
#: The events' clock: a fixed day, so dates in filters are easy to read.
T0 = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="day partitions exist on PostgreSQL only"
)


def event(integration, received_at, name="Order Completed", **fields) -> LoggedEvent:
    return LoggedEvent(
        integration_id=integration.pk,
        received_at=received_at,
        name=name,
        format=fields.pop("format", "segment"),
        **fields,
    )


def key_of(user) -> str:
    return api_key_create(ctx=SYSTEM, user=user)[1]


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key_of(user)}")
    return client


@pytest.fixture
def integration():
    return IntegrationFactory()


@pytest.fixture
def as_editor(editor):
    return bearer(editor)


@pytest.fixture
def log(integration):
    """Ten events an hour apart, T0 - 9h ... T0; every third a "Page Viewed"."""
    rows = [
        event(
            integration,
            T0 - dt.timedelta(hours=9 - n),
            name="Page Viewed" if n % 3 == 0 else f"Event {n}",
            type="page" if n % 3 == 0 else "track",
            user_id=f"user-{n}",
            message_id=f"m-{n}",
            properties={"n": n},
        )
        for n in range(10)
    ]
    log_events(rows)
    return rows


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [result["event"] for result in response.json()["results"]]


def numbers(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [result["properties"]["n"] for result in response.json()["results"]]


# --- reading --------------------------------------------------------------------------------


def test_newest_first_ten_by_default_with_every_field(as_editor, log, integration):
    log_events([event(integration, T0 - dt.timedelta(days=1, hours=1), properties={"n": -1})])
    response = as_editor.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["count_capped"], body["from"], body["size"]) == (11, False, 0, 10)
    assert numbers(response) == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    first = body["results"][0]
    assert first == {
        "id": str(log[9].id),
        "event": "Page Viewed",
        "type": "page",
        "integration_id": str(integration.pk),
        "received_at": "2026-03-10T12:00:00Z",
        "sent_at": None,
        "user_id": "user-9",
        "anonymous_id": "",
        "message_id": "m-9",
        "properties": {"n": 9},
        "format": "segment",
    }
    assert as_editor.get(URL + "/").json() == body


def test_sort_ascending_and_ties_broken_by_id(as_editor, log, integration):
    assert numbers(as_editor.get(URL, {"sort": "asc", "size": 3})) == [0, 1, 2]
    assert numbers(as_editor.get(URL, {"sort": "DESC", "size": 3})) == [9, 8, 7]
    twins = [
        event(integration, T0 + dt.timedelta(hours=1), properties={"n": 100 + n}) for n in (0, 1)
    ]
    log_events(twins)
    ids = sorted(str(twin.id) for twin in twins)
    newest = as_editor.get(URL, {"size": 2}).json()["results"]
    assert [result["id"] for result in newest] == ids[::-1]
    oldest = as_editor.get(URL, {"sort": "asc", "from": 10}).json()["results"]
    assert [result["id"] for result in oldest] == ids


def test_include_and_exclude(as_editor, log):
    assert numbers(as_editor.get(URL, {"include": "Page Viewed"})) == [9, 6, 3, 0]
    assert numbers(as_editor.get(URL, {"exclude": "Page Viewed,Event 8, Event 1"})) == [
        7,
        5,
        4,
        2,
    ]
    assert numbers(as_editor.get(URL, {"include": "Page Viewed", "exclude": "Page Viewed"})) == []
    assert numbers(as_editor.get(URL, {"include": "No Such Event"})) == []
    # Empty parameters are not given.
    assert len(names(as_editor.get(URL, {"include": "", "exclude": "", "sort": ""}))) == 10


def test_start_and_end_dates_and_datetimes(as_editor, log, integration):
    log_events([event(integration, T0 - dt.timedelta(days=2), properties={"n": -2})])
    # start is inclusive, end exclusive.
    assert numbers(as_editor.get(URL, {"start": "2026-03-10T10:00:00Z", "sort": "asc"})) == [
        7,
        8,
        9,
    ]
    assert numbers(as_editor.get(URL, {"end": "2026-03-10T05:00:00+00:00", "sort": "asc"})) == [
        -2,
        0,
        1,
    ]
    # A date is its midnight UTC; a time without an offset is UTC; an offset is honoured.
    assert numbers(as_editor.get(URL, {"start": "2026-03-09", "end": "2026-03-10"})) == []
    assert numbers(as_editor.get(URL, {"start": "2026-03-08", "end": "2026-03-09"})) == [-2]
    assert numbers(as_editor.get(URL, {"start": "2026-03-10T11:00"})) == [9, 8]
    assert numbers(as_editor.get(URL, {"start": "2026-03-10T12:00:00+03:00"})) == [9, 8, 7, 6]
    assert as_editor.get(URL, {"start": "2026-03-11", "end": "2026-03-01"}).json()["count"] == 0


def test_filters_combined_with_paging(as_editor, log):
    params = {"exclude": "Page Viewed", "start": "2026-03-10T04:00Z", "sort": "asc", "size": 2}
    assert numbers(as_editor.get(URL, params)) == [1, 2]
    page = as_editor.get(URL, {**params, "from": 2}).json()
    assert [r["properties"]["n"] for r in page["results"]] == [4, 5]
    assert (page["count"], page["from"], page["size"]) == (6, 2, 2)
    assert numbers(as_editor.get(URL, {**params, "from": 4})) == [7, 8]
    last = as_editor.get(URL, {**params, "from": 5}).json()
    assert ([r["properties"]["n"] for r in last["results"]], last["count"]) == ([8], 6)
    past_the_end = as_editor.get(URL, {**params, "from": 6}).json()
    assert (past_the_end["results"], past_the_end["count"]) == ([], 6)


def test_integration_id_with_or_without_dashes(as_editor, log, integration):
    other = IntegrationFactory()
    log_events([event(other, T0, properties={"n": 50})])
    assert as_editor.get(URL).json()["count"] == 11
    assert numbers(as_editor.get(URL, {"integration_id": str(other.pk)})) == [50]
    hex_id = integration.pk.hex
    assert as_editor.get(URL, {"integration_id": hex_id}).json()["count"] == 10
    assert as_editor.get(URL, {"integration_id": str(uuid.uuid4())}).json()["count"] == 0


def test_paging_through_everything(as_editor, log):
    seen = []
    for start in range(0, 10, 3):
        seen += numbers(as_editor.get(URL, {"from": start, "size": 3}))
    assert seen == list(range(9, -1, -1))


def test_count_is_exact_up_to_the_cap_then_capped(as_editor, integration, monkeypatch):
    monkeypatch.setattr(api, "COUNT_CAP", 5)
    log_events([event(integration, T0 - dt.timedelta(minutes=n)) for n in range(5)])
    body = as_editor.get(URL, {"size": 2}).json()
    assert (body["count"], body["count_capped"]) == (5, False)
    log_events([event(integration, T0 - dt.timedelta(minutes=10 + n)) for n in range(3)])
    body = as_editor.get(URL, {"size": 2}).json()
    assert (body["count"], body["count_capped"]) == (5, True)
    assert as_editor.get(URL, {"include": "Other"}).json()["count"] == 0
    # A short page tells the count itself, capped or not.
    body = as_editor.get(URL, {"size": 100}).json()
    assert (body["count"], body["count_capped"], len(body["results"])) == (8, False, 8)


def test_the_count_counts_at_most_cap_plus_one_rows(integration, django_assert_num_queries):
    log_events([event(integration, T0 - dt.timedelta(minutes=n)) for n in range(3)])
    query = api.parse_log_query({"size": "1"})
    with django_assert_num_queries(2) as captured:
        page, count, capped = api.read_log(query)
    assert (len(page), count, capped) == (1, 3, False)
    sql = captured.captured_queries[1]["sql"]
    assert "COUNT(" in sql.upper() and f"LIMIT {api.COUNT_CAP + 1}" in sql


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"include": "Page Viewed", "sort": "asc"},
        {"exclude": "a,b,c", "start": "2026-03-01", "end": "2026-03-11", "from": 3, "size": 2},
        {"integration_id": str(uuid.uuid4()), "size": 100},
    ],
)
def test_a_constant_number_of_queries(editor, log, params, django_assert_max_num_queries):
    client = bearer(editor)
    client.get(URL)  # records the key's use, a write at most once a minute
    with django_assert_max_num_queries(3):  # the key, the page, the count
        assert client.get(URL, params).status_code == 200


# --- bad parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("from", "x"),
        ("from", "-1"),
        ("from", "1.5"),
        ("from", "10000"),
        ("from", "9" * 5000),
        ("from", "1e3"),
        ("size", "0"),
        ("size", "101"),
        ("size", "-5"),
        ("size", "ten"),
        ("size", "99999999999999999999999"),
        ("size", "1\x00"),
        ("sort", "up"),
        ("sort", "asc\x00"),
        ("start", "yesterday"),
        ("start", "2026-02-30"),
        ("start", "2026-13-01"),
        ("start", "2026-01-01T25:00"),
        ("start", "99999-01-01"),
        ("end", "0001-01-01T00:00:00+05:00"),
        ("end", "9999-12-31T23:59:59-05:00"),
        ("end", "2026-01-01\x00"),
        ("integration_id", "not-a-uuid"),
        ("integration_id", "1234"),
        ("integration_id", "\x00"),
        ("include", "Page\x00Viewed"),
        ("include", "x" * 256),
        ("include", "   "),
        ("exclude", "a,\x00"),
        ("exclude", ",".join(f"e{n}" for n in range(101))),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(as_editor, param, value):
    response = as_editor.get(URL, {param: value})
    assert response.status_code == 400, (param, value)
    body = response.json()
    assert list(body) == [param]
    assert isinstance(body[param][0], str) and body[param][0]


def test_paging_deeper_than_ten_thousand_is_refused(as_editor):
    assert as_editor.get(URL, {"from": 9990, "size": 10}).status_code == 200
    response = as_editor.get(URL, {"from": 9991, "size": 10})
    assert response.status_code == 400
    assert "10,000" in response.json()["from"][0]


def test_every_bad_parameter_is_named_at_once(as_editor):
    response = as_editor.get(URL, {"size": "0", "sort": "x", "start": "no"})
    assert response.status_code == 400
    assert set(response.json()) == {"size", "sort", "start"}


# --- who may read ---------------------------------------------------------------------------


def test_the_key_in_an_auth_token_header(editor, admin_user, log):
    client = APIClient()
    assert len(names(client.get(URL, HTTP_AUTH_TOKEN=key_of(editor)))) == 10
    assert len(names(client.get(URL + "/", HTTP_AUTH_TOKEN=key_of(admin_user)))) == 10


def test_a_logged_in_session_reads_too(client, editor, log):
    client.force_login(editor)
    assert len(names(client.get(URL))) == 10


def test_the_auth_token_header_is_for_the_event_log_only(editor):
    response = APIClient().get("/api/v1/event/events", HTTP_AUTH_TOKEN=key_of(editor))
    assert response.status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer ec_nope_nope"},
        {"HTTP_AUTH_TOKEN": "ec_nope_nope"},
        {"HTTP_AUTH_TOKEN": ""},
        {"HTTP_AUTH_TOKEN": "ec_\x00_x"},
        {"HTTP_AUTH_TOKEN": "ec_\u00e9_x"},
        {"HTTP_AUTHORIZATION": "Bearer"},
    ],
)
def test_no_key_or_a_wrong_one_is_a_401(headers, log):
    response = APIClient().get(URL, **headers)
    assert response.status_code == 401
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_write_key_is_not_an_api_key(integration):
    _, secret = write_key_create(ctx=SYSTEM, integration=integration)
    assert secret.startswith("wk_")
    for headers in ({"HTTP_AUTHORIZATION": f"Bearer {secret}"}, {"HTTP_AUTH_TOKEN": secret}):
        response = APIClient().get(URL, **headers)
        assert response.status_code == 401
        assert "write key" in response.json()["detail"]


def test_a_revoked_key_is_a_401(editor):
    from catalog.services.keys import api_key_revoke

    key, secret = api_key_create(ctx=SYSTEM, user=editor)
    api_key_revoke(ctx=SYSTEM, key=key)
    assert APIClient().get(URL, HTTP_AUTH_TOKEN=secret).status_code == 401


def test_viewers_are_refused_editors_and_admins_read(viewer, admin_user, client, log):
    for response in (
        bearer(viewer).get(URL),
        APIClient().get(URL, HTTP_AUTH_TOKEN=key_of(viewer)),
    ):
        assert response.status_code == 403
        assert response.json() == {"detail": "Only editors and admins can read the event log."}
    client.force_login(viewer)
    assert client.get(URL).status_code == 403
    assert bearer(admin_user).get(URL).json()["count"] == 10


def test_the_schema_documents_it(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/event/log"]["get"]
    params = {p["name"] for p in operation["parameters"]}
    assert params == {
        "integration_id",
        "include",
        "exclude",
        "start",
        "end",
        "sort",
        "from",
        "size",
    }
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    assert {"ApiKey", "AuthToken"} <= set(schema["components"]["securitySchemes"])
    assert {"ApiKey": []} in operation["security"] and {"AuthToken": []} in operation["security"]


# --- retention ------------------------------------------------------------------------------


def test_the_cutoff_is_midnight_utc_retention_days_ago(settings):
    settings.EVENT_LOG_RETENTION_DAYS = 7
    assert event_log_cutoff(T0) == dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    late = dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert event_log_cutoff(late) == dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
    settings.EVENT_LOG_RETENTION_DAYS = 1
    assert event_log_cutoff(T0) == dt.datetime(2026, 3, 9, tzinfo=dt.UTC)


@pytest.fixture
def days_of_events(integration):
    """Three events a day from 2026-03-01 to 2026-03-10: at 00:00, 12:00 and 23:59:59.999999."""
    rows = []
    for day in range(1, 11):
        midnight = dt.datetime(2026, 3, day, tzinfo=dt.UTC)
        for offset in (
            dt.timedelta(0),
            dt.timedelta(hours=12),
            dt.timedelta(days=1, microseconds=-1),
        ):
            rows.append(event(integration, midnight + offset))
    log_events(rows)
    return rows


def received_days() -> set[dt.date]:
    return {
        moment.astimezone(dt.UTC).date()
        for moment in LoggedEvent.objects.values_list("received_at", flat=True)
    }


def march(*days: int) -> set[dt.date]:
    return {dt.date(2026, 3, day) for day in days}


def test_purge_removes_the_days_before_the_cutoff_and_keeps_the_rest(settings, days_of_events):
    settings.EVENT_LOG_RETENTION_DAYS = 7
    report = purge_event_log_report(now=T0)
    assert report.cutoff == dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    assert report.events == 6
    assert received_days() == march(*range(3, 11))
    assert LoggedEvent.objects.count() == 24
    assert LoggedEvent.objects.filter(received_at=report.cutoff).exists()
    # Nothing left to remove: a second run removes nothing.
    assert purge_event_log(now=T0) == 0
    assert LoggedEvent.objects.count() == 24


def test_purge_removes_message_ids_older_than_a_day(integration):
    for message_id, age in (("old", 25), ("edge", 24), ("new", 23)):
        IngestedMessage.objects.create(
            integration=integration, message_id=message_id, received_at=T0 - dt.timedelta(hours=age)
        )
    report = purge_event_log_report(now=T0)
    assert report.messages == 1
    assert set(IngestedMessage.objects.values_list("message_id", flat=True)) == {"edge", "new"}


def pg_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'catalog_loggedevent_p%%'")
        return {name for (name,) in cursor.fetchall()}


@on_postgres
def test_purge_on_postgresql_drops_whole_day_partitions(settings, days_of_events):
    settings.EVENT_LOG_RETENTION_DAYS = 7
    all_days = {partition_name(dt.date(2026, 3, day)) for day in range(1, 11)}
    assert all_days <= pg_tables()
    report = purge_event_log_report(now=T0)
    assert report.days == (dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert report.events == 6
    tables = pg_tables()
    assert partition_name(dt.date(2026, 3, 1)) not in tables
    assert partition_name(dt.date(2026, 3, 2)) not in tables
    assert {partition_name(dt.date(2026, 3, day)) for day in range(3, 11)} <= tables
    assert received_days() == march(*range(3, 11))
    assert LoggedEvent.objects.count() == 24
    # The log still takes events for the kept days, and for a day dropped and made again.
    log_events([event(days_of_events[0].integration, dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC))])
    assert LoggedEvent.objects.count() == 25


@on_postgres
def test_a_partition_that_cant_be_made_is_an_error_not_a_missing_day(monkeypatch):
    """Only another process making the same day at once is tolerated; any other failure
    must surface where it happens, not as "no partition for row" on the next insert."""
    from catalog.services import eventlog

    monkeypatch.setattr(eventlog, "TABLE", "catalog_no_such_table")
    forget_partitions()
    with pytest.raises(ProgrammingError, match="catalog_no_such_table"):
        ensure_partitions([dt.date(2031, 1, 1)])
    forget_partitions()


@on_postgres
def test_purge_makes_the_next_days_partitions(settings, days_of_events):
    purge_event_log_report(now=T0)
    today = T0.astimezone(dt.UTC).date()
    ahead = {partition_name(today + dt.timedelta(days=n)) for n in range(3)}
    assert ahead <= pg_tables()


@on_postgres
def test_purge_on_postgresql_leaves_other_tables_alone(settings, days_of_events):
    settings.EVENT_LOG_RETENTION_DAYS = 7
    with connection.cursor() as cursor:
        # A table that only looks like a partition, and one whose name isn't a date.
        cursor.execute("CREATE TABLE catalog_loggedevent_p20260101 (x int)")
        cursor.execute(
            "CREATE TABLE catalog_loggedevent_p20261399 PARTITION OF catalog_loggedevent "
            "FOR VALUES FROM ('2025-01-01') TO ('2025-01-02')"
        )
        cursor.execute(
            "INSERT INTO catalog_loggedevent_p20261399 SELECT id, integration_id, "
            "'2025-01-01 10:00+00', sent_at, type, name, user_id, anonymous_id, message_id, "
            "properties, format FROM catalog_loggedevent LIMIT 1"
        )
    report = purge_event_log_report(now=T0)
    # Its row is older than the cutoff: deleted, and the table kept.
    assert report.events == 7
    assert report.days == (dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert {"catalog_loggedevent_p20260101", "catalog_loggedevent_p20261399"} <= pg_tables()


def test_the_command_says_what_it_removed(settings, days_of_events, integration):
    settings.EVENT_LOG_RETENTION_DAYS = 7
    IngestedMessage.objects.create(
        integration=integration, message_id="m", received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    # days_of_events are all long past: everything goes.
    out = StringIO()
    call_command("purge_event_log", stdout=out, verbosity=2)
    text = out.getvalue()
    assert "Removed 30 logged event(s) received before" in text
    assert "1 message id(s)" in text
    assert "Keeping 7 day(s)" in text
    if connection.vendor == "postgresql":
        assert "dropped 10 day partition(s)" in text
        assert "2026-03-01" in text
    assert LoggedEvent.objects.count() == 0
    out = StringIO()
    call_command("purge_event_log", stdout=out)
    assert out.getvalue().startswith("Removed 0 logged event(s)")
    out = StringIO()
    call_command("purge_event_log", stdout=out, verbosity=0)
    assert out.getvalue() == ""


def test_the_task_purges_and_reschedules_itself_when_it_can(days_of_events, monkeypatch):
    # The immediate backend can't run a task later: one run, nothing scheduled.
    result = purge_event_log_task.enqueue()
    assert result.return_value["events"] == 30
    json.dumps(result.return_value)
    assert LoggedEvent.objects.count() == 0
    assert next_purge(T0) == dt.datetime(2026, 3, 11, 0, 10, tzinfo=dt.UTC)
    assert next_purge(dt.datetime(2026, 3, 10, 23, 59, tzinfo=dt.UTC)) == next_purge(T0)


def test_the_task_reschedules_itself_with_a_backend_that_defers(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import default_task_backend

    backend = default_task_backend
    backend.clear()
    assert backend.supports_defer
    purge_event_log_task.call()
    (scheduled,) = backend.results
    assert scheduled.task.run_after is not None
    assert scheduled.task.run_after.time() == dt.time(0, 10)


def test_the_command_can_enqueue_the_task(days_of_events):
    out = StringIO()
    call_command("purge_event_log", "--enqueue", stdout=out)
    assert out.getvalue().startswith("Enqueued the event log purge task")
    assert LoggedEvent.objects.count() == 0  # the immediate backend ran it
