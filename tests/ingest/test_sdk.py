"""Segment's own Python SDK (`segment-analytics-python`) against a live server.

The SDK only gets its `host` swapped: it posts `/v1/batch` with the write key as the Basic
user name (and again as `writeKey` in the body), gzipped or not, exactly as it would to
api.segment.io. The server runs in a thread, so the data must be committed: these tests use
`transactional_db` (which `live_server` asks for).
"""

import datetime as dt
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
import requests
from django.db import connection
from django.utils import timezone
from segment.analytics import Client
from segment.analytics import request as sdk_request
from segment.analytics.request import APIError

from catalog.models import (
    DailyVolume,
    EntityType,
    IngestedMessage,
    LoggedEvent,
    Resource,
    ResourceSeen,
    ValidationMode,
    Violation,
    ViolationKind,
)
from catalog.services.context import ChangeContext
from catalog.services.writekeys import write_key_create, write_key_revoke
from tests.factories import EventCategoryFactory, EventFactory, EventPropertyFactory

SHIPPED_AT = dt.datetime(2024, 5, 1, 10, 30, tzinfo=dt.UTC)
SENT_AT = dt.datetime(2024, 5, 2, 8, 0, 0, 123000, tzinfo=dt.UTC)


@pytest.fixture
def sdk_session(monkeypatch):
    """A fresh HTTP session for the SDK, which otherwise keeps one for the whole process."""
    session = requests.Session()
    monkeypatch.setattr(sdk_request, "_session", session)
    yield session
    session.close()


@pytest.fixture
def server_closes_db_connections(monkeypatch):
    """The live server's request threads close their database connection after each request.

    With CONN_MAX_AGE > 0 (the PostgreSQL default here) a thread serving a kept-alive HTTP
    connection keeps its database connection open after the test, and the test database
    can't be dropped at the end of the run. Threads make their connections from this dict.
    """
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)


@pytest.fixture
def wire(sdk_session, monkeypatch):
    """Every request the SDK makes, as sent (url, body bytes, headers) with its status."""
    sent = []
    original = sdk_session.post

    def post(url, **kwargs):
        response = original(url, **kwargs)
        sent.append(
            SimpleNamespace(
                url=url,
                data=kwargs["data"],
                headers=dict(kwargs["headers"]),
                status=response.status_code,
            )
        )
        return response

    monkeypatch.setattr(sdk_session, "post", post)
    return sent


@pytest.fixture
def sdk(
    live_server,
    transactional_db,
    write_key,
    sdk_session,
    server_closes_db_connections,
):
    """Make SDK clients pointed at the live server; each collects what `on_error` reports."""
    clients = []

    def make(key=None, *, gzip=True, sync=False):
        errors = []
        client = Client(
            key or write_key,
            host=live_server.url,
            gzip=gzip,
            sync_mode=sync,
            max_retries=1,
            max_total_backoff_duration=2,
            max_rate_limit_duration=2,
            timeout=30,
            upload_interval=0.05,
            on_error=lambda error, batch: errors.append((error, batch)),
        )
        client.errors = errors
        clients.append(client)
        return client

    yield make
    for client in clients:
        if not client.sync_mode:
            client.shutdown()


def _sent(result):
    """The message an SDK call queued (or sent), as it went over the wire."""
    ok, message = result
    assert ok
    return message


def _volumes():
    return {
        (v.resource.parent.title if v.resource.entity_type == EntityType.EVENT_PROPERTY else "")
        + ("." if v.resource.entity_type == EntityType.EVENT_PROPERTY else "")
        + v.resource.title: v.count
        for v in DailyVolume.objects.select_related("resource__parent")
    }


def _send_every_call(client):
    """One call of each kind (two tracks of one event); returns the messages by label."""
    return {
        "order": _sent(
            client.track(
                user_id="u1",
                event="Order Completed",
                properties={
                    "order_id": "o-1",
                    "revenue": 39.95,
                    "items": 3,
                    "gift": True,
                    "address": {"city": "Lyon", "zip": "69001"},
                    "skus": ["sku-1", "sku-2"],
                    "shipped_at": SHIPPED_AT,
                    "delivery_day": dt.date(2024, 5, 3),
                    "discount": Decimal("5.5"),
                },
                timestamp=SENT_AT,
            )
        ),
        "order_again": _sent(
            client.track(
                user_id="u2",
                event="Order Completed",
                properties={"order_id": "o-2", "revenue": 12.5, "gift": False},
            )
        ),
        "viewed": _sent(
            client.track(anonymous_id="anon-1", event="Product Viewed", properties={"sku": "a"})
        ),
        "identify": _sent(
            client.identify(user_id="u1", traits={"email": "ada@example.com", "plan": "pro"})
        ),
        "page": _sent(
            client.page(
                user_id="u1",
                category="Docs",
                name="Pricing",
                properties={"url": "https://example.com/pricing"},
            )
        ),
        "screen": _sent(client.screen(user_id="u1", name="Home", properties={"variant": "b"})),
        "group": _sent(client.group(user_id="u1", group_id="g-1", traits={"name": "ACME"})),
        "alias": _sent(client.alias(previous_id="anon-1", user_id="u1")),
    }


@pytest.mark.parametrize(
    ("gzip", "sync"),
    [(True, False), (False, False), (True, True), (False, True)],
    ids=["gzip-queued", "plain-queued", "gzip-sync", "plain-sync"],
)
def test_sdk_calls_discover_count_and_log(sdk, wire, integration, gzip, sync):
    client = sdk(gzip=gzip, sync=sync)
    started = timezone.now()
    sent = _send_every_call(client)
    if not sync:
        client.flush()
    finished = timezone.now()

    assert client.errors == []
    assert wire, "the SDK sent nothing"
    assert {r.status for r in wire} == {200}
    assert all(r.url.endswith("/v1/batch") for r in wire)
    assert all(("Content-Encoding" in r.headers) == gzip for r in wire)

    # The catalog: two discovered events, unverified and unpublished, in "Uncategorized".
    events = Resource.objects.filter(entity_type=EntityType.EVENT, integration=integration)
    assert sorted(e.title for e in events) == ["Order Completed", "Product Viewed"]
    for event in events:
        assert event.parent.title == "Uncategorized"
        assert event.parent.integration_id == integration.pk
        assert (event.verified, event.published) == (False, False)
    order = events.get(title="Order Completed")
    props = Resource.objects.filter(parent=order)
    assert {p.title: p.data_type for p in props} == {
        "order_id": "string",
        "revenue": "number",
        "items": "integer",
        "gift": "boolean",
        "address": "object",
        "skus": "array",
        "shipped_at": "datetime",
        "delivery_day": "datetime",
        "discount": "number",
    }
    assert {(p.verified, p.published, p.required) for p in props} == {(False, False, False)}
    viewed_props = Resource.objects.filter(parent__title="Product Viewed")
    assert [(p.title, p.data_type) for p in viewed_props] == [("sku", "string")]
    # Page and screen names, traits and the other calls add nothing to the catalog.
    assert Resource.objects.count() == 1 + 2 + 9 + 1

    # Volumes: one a call of the event, one a call that carried the property.
    assert _volumes() == {
        "Order Completed": 2,
        "Order Completed.order_id": 2,
        "Order Completed.revenue": 2,
        "Order Completed.gift": 2,
        "Order Completed.items": 1,
        "Order Completed.address": 1,
        "Order Completed.skus": 1,
        "Order Completed.shipped_at": 1,
        "Order Completed.delivery_day": 1,
        "Order Completed.discount": 1,
        "Product Viewed": 1,
        "Product Viewed.sku": 1,
    }
    days = set(DailyVolume.objects.values_list("day", flat=True))
    assert len(days) == 1
    assert days.pop() in {started.astimezone(dt.UTC).date(), finished.astimezone(dt.UTC).date()}

    # First and last seen, for every counted event and property.
    seen = ResourceSeen.objects.all()
    assert len(seen) == 12
    for row in seen:
        assert started <= row.first_seen_at <= row.last_seen_at <= finished

    # The event log: every call, as sent.
    logged = {row.message_id: row for row in LoggedEvent.objects.all()}
    assert len(logged) == 8
    assert {row.integration_id for row in logged.values()} == {integration.pk}
    assert {row.format for row in logged.values()} == {"segment"}
    expected = {
        "order": (
            "track",
            "Order Completed",
            "u1",
            "",
            {
                "order_id": "o-1",
                "revenue": 39.95,
                "items": 3,
                "gift": True,
                "address": {"city": "Lyon", "zip": "69001"},
                "skus": ["sku-1", "sku-2"],
                "shipped_at": "2024-05-01T10:30:00+00:00",
                "delivery_day": "2024-05-03",
                "discount": 5.5,
            },
        ),
        "order_again": (
            "track",
            "Order Completed",
            "u2",
            "",
            {"order_id": "o-2", "revenue": 12.5, "gift": False},
        ),
        "viewed": ("track", "Product Viewed", "", "anon-1", {"sku": "a"}),
        "identify": ("identify", "", "u1", "", {"email": "ada@example.com", "plan": "pro"}),
        "page": ("page", "Pricing", "u1", "", {"url": "https://example.com/pricing"}),
        "screen": ("screen", "Home", "u1", "", {"variant": "b"}),
        "group": ("group", "", "u1", "", {"name": "ACME", "groupId": "g-1"}),
        "alias": ("alias", "", "u1", "", {"previousId": "anon-1"}),
    }
    for label, (kind, name, user_id, anonymous_id, properties) in expected.items():
        row = logged[sent[label]["messageId"]]
        assert (row.type, row.name, row.user_id, row.anonymous_id, row.properties) == (
            kind,
            name,
            user_id,
            anonymous_id,
            properties,
        ), label
        assert started <= row.received_at <= finished
    assert logged[sent["order"]["messageId"]].sent_at == SENT_AT
    assert logged[sent["viewed"]["messageId"]].sent_at is not None  # the SDK's own timestamp
    assert not Violation.objects.exists()


@pytest.mark.parametrize("gzip", [True, False], ids=["gzip", "plain"])
def test_a_batch_sent_again_is_counted_once(sdk, wire, integration, gzip):
    """A retry carries the same messageIds: the server drops it (the SDK itself would make
    new ids for new calls, so the very bytes it sent are posted again)."""
    client = sdk(gzip=gzip)
    for n in range(3):
        client.track(user_id="u1", event="Order Completed", properties={"n": n})
    client.identify(user_id="u1", traits={"plan": "pro"})
    client.flush()
    assert client.errors == []
    before = _volumes()
    assert before == {"Order Completed": 3, "Order Completed.n": 3}
    logged, messages = LoggedEvent.objects.count(), IngestedMessage.objects.count()
    assert (logged, messages) == (4, 4)

    for request in list(wire):
        again = requests.post(request.url, data=request.data, headers=request.headers, timeout=30)
        assert again.status_code == 200, again.text
        assert again.json() == {"success": True}

    assert _volumes() == before
    assert LoggedEvent.objects.count() == logged
    assert IngestedMessage.objects.count() == messages

    # A batch with the old calls and one new one counts the new one only.
    old = [m for r in wire for m in _batch_of(r)]
    new = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u1",
        "properties": {"n": 9},
        "messageId": str(uuid.uuid4()),
    }
    response = sdk_request.post(
        client.write_key, client.host, gzip=gzip, batch=[*old[:2], new, *old[2:]]
    )
    assert response.json() == {"success": True}
    assert _volumes() == {"Order Completed": 4, "Order Completed.n": 4}
    assert LoggedEvent.objects.count() == logged + 1
    assert LoggedEvent.objects.filter(message_id=new["messageId"]).count() == 1


def _batch_of(request):
    import gzip as gzip_module
    import json

    data = request.data
    if request.headers.get("Content-Encoding") == "gzip":
        data = gzip_module.decompress(data)
    return json.loads(data)["batch"]


@pytest.fixture
def revoked_key(integration):
    ctx = ChangeContext.for_system()
    key, secret = write_key_create(ctx=ctx, integration=integration, name="old")
    write_key_revoke(ctx=ctx, key=key)
    return secret


@pytest.mark.parametrize("which", ["wrong", "revoked", "malformed"])
@pytest.mark.parametrize("gzip", [True, False], ids=["gzip", "plain"])
def test_a_bad_key_is_reported_by_the_sdk_and_nothing_is_stored(
    sdk, wire, write_key, revoked_key, which, gzip
):
    prefix = write_key.split("_")[1]
    key = {
        # The right key's prefix with another secret: the row is found, the hash differs.
        "wrong": f"wk_{prefix}_{'x' * 43}",
        "revoked": revoked_key,
        "malformed": "not-a-write-key",
    }[which]
    client = sdk(key, gzip=gzip)
    client.track(user_id="u1", event="Order Completed", properties={"revenue": 1})
    client.identify(user_id="u1", traits={"plan": "pro"})
    client.flush()
    assert len(client.errors) == 1
    error, batch = client.errors[0]
    assert isinstance(error, APIError)
    assert error.status == 401
    assert [m["type"] for m in batch] == ["track", "identify"]
    assert [r.status for r in wire] == [401]  # not retried

    with pytest.raises(APIError) as raised:
        sdk(key, gzip=gzip, sync=True).track(user_id="u1", event="Order Completed")
    assert raised.value.status == 401

    assert not LoggedEvent.objects.exists()
    assert not IngestedMessage.objects.exists()
    assert not DailyVolume.objects.exists()
    assert not ResourceSeen.objects.exists()
    assert not Violation.objects.exists()
    assert not Resource.objects.exists()


@pytest.fixture
def planned(integration):
    """A flag-mode integration with one planned event."""
    integration.validation_mode = ValidationMode.FLAG
    integration.save(update_fields=["validation_mode"])
    category = EventCategoryFactory(integration=integration, title="Checkout")
    event = EventFactory(parent=category, title="Order Completed")
    EventPropertyFactory(parent=event, title="revenue", data_type="number", required=True)
    EventPropertyFactory(
        parent=event, title="currency", data_type="string", allowed_values=["EUR", "USD"]
    )
    EventPropertyFactory(parent=event, title="items", data_type="integer")
    return event


@pytest.mark.parametrize("sync", [False, True], ids=["queued", "sync"])
def test_flag_mode_records_violations_and_accepts_everything(sdk, planned, integration, sync):
    client = sdk(sync=sync)
    sent = {
        "unknown_1": _sent(client.track(user_id="u1", event="Signed Up", properties={"a": 1})),
        "unknown_2": _sent(client.track(user_id="u2", event="Signed Up")),
        "wrong_type": _sent(
            client.track(
                user_id="u1",
                event="Order Completed",
                properties={"revenue": "39.95", "currency": "EUR", "items": 2},
            )
        ),
        "not_allowed": _sent(
            client.track(
                user_id="u1",
                event="Order Completed",
                properties={"revenue": 10, "currency": "GBP"},
            )
        ),
        "missing": _sent(
            client.track(user_id="u3", event="Order Completed", properties={"currency": "USD"})
        ),
        "unknown_prop": _sent(
            client.track(
                user_id="u1",
                event="Order Completed",
                properties={"revenue": 5.5, "currency": "EUR", "coupon": "SPRING"},
            )
        ),
        "valid": _sent(
            client.track(
                user_id="u1",
                event="Order Completed",
                properties={"revenue": 7, "currency": "USD", "items": 1},
            )
        ),
        "identify": _sent(client.identify(user_id="u1", traits={"anything": True})),
    }
    if not sync:
        client.flush()
    assert client.errors == []

    rows = {(v.event_name, v.property_name, v.kind): v for v in Violation.objects.all()}
    expected = {
        ("Signed Up", "", ViolationKind.UNKNOWN_EVENT): (
            2,
            "Unknown event 'Signed Up': it isn't in the catalog.",
            "unknown_2",
        ),
        ("Order Completed", "revenue", ViolationKind.WRONG_TYPE): (
            1,
            "Property 'revenue' must be number, not string.",
            "wrong_type",
        ),
        ("Order Completed", "currency", ViolationKind.NOT_ALLOWED): (
            1,
            "Property 'currency' has a value that is not allowed: 'GBP'",
            "not_allowed",
        ),
        ("Order Completed", "revenue", ViolationKind.MISSING_REQUIRED): (
            1,
            "Required property 'revenue' is missing.",
            "missing",
        ),
        ("Order Completed", "coupon", ViolationKind.UNKNOWN_PROPERTY): (
            1,
            "Unknown property 'coupon' of 'Order Completed'.",
            "unknown_prop",
        ),
    }
    assert set(rows) == set(expected)
    for key, (count, message, label) in expected.items():
        row = rows[key]
        assert (row.count, row.message) == (count, message), key
        assert row.integration_id == integration.pk
        assert row.event_id == (None if key[0] == "Signed Up" else planned.pk), key
        assert row.first_seen_at <= row.last_seen_at
        message_sent = sent[label]
        assert row.example["message_id"] == message_sent["messageId"], key
        assert row.example["event"] == message_sent["event"]
        assert row.example["type"] == "track"
        assert row.example["user_id"] == message_sent["userId"]
        # A property's violation keeps only that property of the event (if it was sent).
        properties = message_sent.get("properties", {})
        if key[1]:
            properties = {k: v for k, v in properties.items() if k == key[1]}
        assert row.example["properties"] == properties, key
        assert row.example["sent_at"] is not None

    # Flag mode accepts every call and discovers nothing.
    assert LoggedEvent.objects.count() == len(sent)
    assert not Resource.objects.filter(title__in=["Signed Up", "coupon", "a"]).exists()
    assert Resource.objects.filter(parent=planned).count() == 3
    assert _volumes() == {
        "Order Completed": 5,
        "Order Completed.revenue": 4,
        "Order Completed.currency": 5,
        "Order Completed.items": 2,
    }

    # The same mistakes again add to the counts of the same rows.
    again = sdk(sync=True)
    again.track(user_id="u1", event="Signed Up")
    again.track(user_id="u1", event="Order Completed", properties={"currency": "GBP"})
    counts = {(v.event_name, v.property_name, v.kind): v.count for v in Violation.objects.all()}
    assert counts == {
        ("Signed Up", "", ViolationKind.UNKNOWN_EVENT): 3,
        ("Order Completed", "revenue", ViolationKind.WRONG_TYPE): 1,
        ("Order Completed", "currency", ViolationKind.NOT_ALLOWED): 2,
        ("Order Completed", "revenue", ViolationKind.MISSING_REQUIRED): 2,
        ("Order Completed", "coupon", ViolationKind.UNKNOWN_PROPERTY): 1,
    }
