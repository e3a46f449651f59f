"""Many senders at once, on PostgreSQL: counts add up exactly, discovery makes one row each.

Each thread posts through Django's test client (the whole request stack, its own database
connection) after a barrier, so the requests really overlap; the data must be committed, hence
`transaction=True`. SQLite takes one writer at a time, so there is no race to test there.
"""

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

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
from catalog.services.eventlog import ensure_partitions, forget_partitions, partition_name
from tests.factories import EventCategoryFactory, EventFactory, EventPropertyFactory
from tests.ingest.conftest import Sender, track

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serialises writers; races need PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]

THREADS = 8
BATCHES = 5
EVENTS = 50


@pytest.fixture(autouse=True)
def _todays_partition():
    """Today's event log partition exists before the senders start (see the midnight test for
    the race to make it), so that the other tests race on the counters only."""
    forget_partitions()
    ensure_partitions([timezone.now().astimezone(dt.UTC).date()])
    yield
    forget_partitions()


def race(work, threads=THREADS):
    """Run `work(i)` in `threads` threads released together; returns their results in order
    (a response, or the repr of what the request raised)."""
    barrier = threading.Barrier(threads)
    results = [None] * threads

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:
            results[i] = repr(error)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in pool), "a sender hung"
    return results


def statuses(results):
    """Every request's status; a request that raised appears as its error."""
    flat = [r for result in results for r in (result if isinstance(result, list) else [result])]
    return [r.status_code if hasattr(r, "status_code") else r for r in flat]


def sender(write_key, integration):
    return Sender(Client(), write_key, integration)


def volumes():
    return {v.resource_id: v.count for v in DailyVolume.objects.all()}


def new_batch(name, properties, size=EVENTS):
    return {
        "batch": [
            track(name, dict(properties), messageId=str(uuid.uuid4()), userId=f"u{n}")
            for n in range(size)
        ]
    }


@pytest.fixture
def order_completed(integration):
    category = EventCategoryFactory(integration=integration, title="Checkout")
    event = EventFactory(parent=category, title="Order Completed")
    revenue = EventPropertyFactory(parent=event, title="revenue", data_type="number")
    currency = EventPropertyFactory(parent=event, title="currency", data_type="string")
    return event, revenue, currency


def test_concurrent_batches_of_a_known_event_count_exactly(integration, write_key, order_completed):
    event, revenue, currency = order_completed
    properties = {"revenue": 39.95, "currency": "EUR"}

    def send(i):
        out = sender(write_key, integration)
        return [out.segment(new_batch("Order Completed", properties)) for _ in range(BATCHES)]

    results = race(send)
    assert statuses(results) == [200] * (THREADS * BATCHES)
    total = THREADS * BATCHES * EVENTS
    assert volumes() == {event.pk: total, revenue.pk: total, currency.pk: total}
    assert LoggedEvent.objects.count() == total
    assert IngestedMessage.objects.count() == total
    assert ResourceSeen.objects.count() == 3
    assert not Violation.objects.exists()
    assert Resource.objects.count() == 4  # nothing discovered


def test_the_first_batches_of_a_day_from_many_senders_at_once(
    integration, write_key, order_completed
):
    """At midnight (UTC) every sender's first batch of the day needs the new day's partition
    of the event log: made once, no request fails."""
    event, revenue, _currency = order_completed
    today = timezone.now().astimezone(dt.UTC).date()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {partition_name(today)}")
    forget_partitions()

    def send(i):
        return sender(write_key, integration).segment(new_batch("Order Completed", {"revenue": 1}))

    try:
        results = race(send)
    finally:
        forget_partitions()
    assert statuses(results) == [200] * THREADS
    assert volumes() == {event.pk: THREADS * EVENTS, revenue.pk: THREADS * EVENTS}
    assert LoggedEvent.objects.count() == THREADS * EVENTS


def test_concurrent_retries_of_one_batch_count_once(integration, write_key, order_completed):
    event, revenue, currency = order_completed
    body = new_batch("Order Completed", {"revenue": 5, "currency": "USD"})

    results = race(lambda i: sender(write_key, integration).segment(body))
    assert statuses(results) == [200] * THREADS
    assert volumes() == {event.pk: EVENTS, revenue.pk: EVENTS, currency.pk: EVENTS}
    assert LoggedEvent.objects.count() == EVENTS
    assert IngestedMessage.objects.count() == EVENTS


def test_concurrent_discovery_of_a_new_event_makes_one_row_each(integration, write_key):
    properties = {"plan": "pro", "trial": True, "seats": 3, "referrer": {"source": "ad"}}

    def send(i):
        out = sender(write_key, integration)
        return [out.segment(new_batch("Signed Up", properties, size=10)) for _ in range(2)]

    results = race(send)
    assert statuses(results) == [200] * (THREADS * 2)
    categories = Resource.objects.filter(entity_type=EntityType.EVENT_CATEGORY)
    assert [c.title for c in categories] == ["Uncategorized"]
    event = Resource.objects.get(entity_type=EntityType.EVENT)
    assert event.title == "Signed Up"
    props = Resource.objects.filter(entity_type=EntityType.EVENT_PROPERTY)
    assert sorted((p.title, p.data_type, p.parent_id) for p in props) == sorted(
        [
            ("plan", "string", event.pk),
            ("trial", "boolean", event.pk),
            ("seats", "integer", event.pk),
            ("referrer", "object", event.pk),
        ]
    )
    total = THREADS * 2 * 10
    assert volumes() == {event.pk: total, **{p.pk: total for p in props}}
    assert LoggedEvent.objects.count() == total


@pytest.fixture
def slow_insert_of_p10():
    """Inserting a resource titled "p10" takes a second: a wide, reliable race window."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_slow_p10() RETURNS trigger AS $$ BEGIN "
            "IF NEW.title = 'p10' THEN PERFORM pg_sleep(1); END IF; RETURN NEW; END $$ "
            "LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER test_slow_p10 BEFORE INSERT ON catalog_resource "
            "FOR EACH ROW EXECUTE FUNCTION test_slow_p10()"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_slow_p10 ON catalog_resource")
        cursor.execute("DROP FUNCTION test_slow_p10()")


def test_concurrent_discovery_of_new_properties_in_different_orders(
    integration, write_key, slow_insert_of_p10
):
    """Two senders name the same 21 new properties of a known event, one in the reverse
    order of the other (JSON objects have no order). Both are answered 200 and each
    property is made once."""
    category = EventCategoryFactory(integration=integration, title="Checkout")
    event = EventFactory(parent=category, title="Order Completed")
    names = [f"p{n:02}" for n in range(21)]

    def send(i):
        ordered = names if i == 0 else names[::-1]
        return sender(write_key, integration).segment(
            new_batch("Order Completed", {name: "x" for name in ordered}, size=1)
        )

    results = race(send, threads=2)
    assert statuses(results) == [200, 200]
    props = Resource.objects.filter(parent=event)
    assert sorted(p.title for p in props) == names
    assert volumes() == {event.pk: 2, **{p.pk: 2 for p in props}}


def test_concurrent_violations_add_up_exactly(integration, write_key):
    integration.validation_mode = ValidationMode.FLAG
    integration.save(update_fields=["validation_mode"])
    category = EventCategoryFactory(integration=integration, title="Checkout")
    event = EventFactory(parent=category, title="Order Completed")
    EventPropertyFactory(parent=event, title="revenue", data_type="number", required=True)

    def batch():
        calls = []
        for n in range(EVENTS // 2):
            calls.append(track("Signed Up", {"plan": "pro"}, messageId=str(uuid.uuid4())))
            calls.append(
                track(
                    "Order Completed",
                    {"coupon": f"C{n}"},  # revenue missing, coupon unknown
                    messageId=str(uuid.uuid4()),
                )
            )
        return {"batch": calls}

    def send(i):
        out = sender(write_key, integration)
        return [out.segment(batch()) for _ in range(BATCHES)]

    results = race(send)
    assert statuses(results) == [200] * (THREADS * BATCHES)
    each = THREADS * BATCHES * EVENTS // 2
    counts = {(v.event_name, v.property_name, v.kind): v.count for v in Violation.objects.all()}
    assert counts == {
        ("Signed Up", "", ViolationKind.UNKNOWN_EVENT): each,
        ("Order Completed", "revenue", ViolationKind.MISSING_REQUIRED): each,
        ("Order Completed", "coupon", ViolationKind.UNKNOWN_PROPERTY): each,
    }
    assert volumes() == {event.pk: each}
    assert LoggedEvent.objects.count() == 2 * each
