"""Validation modes: discover, flag and block, and the violations each records."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import (
    DailyVolume,
    EntityType,
    LoggedEvent,
    Resource,
    ValidationMode,
    Violation,
)
from tests.factories import EventFactory, EventPropertyFactory
from tests.ingest.conftest import track


@pytest.fixture
def plan(integration):
    """An event with a required integer, an optional string with allowed values."""
    event = EventFactory(title="Order Completed", parent__integration=integration)
    EventPropertyFactory(title="items", parent=event, data_type="integer", required=True)
    EventPropertyFactory(
        title="currency", parent=event, data_type="string", allowed_values=["EUR", "USD"]
    )
    return event


def _violations():
    return {(v.event_name, v.property_name, v.kind): v for v in Violation.objects.order_by("id")}


def test_flag_mode_accepts_everything_and_records_each_kind(send, integration, plan):
    integration.validation_mode = ValidationMode.FLAG
    integration.save()
    response = send.segment(
        {
            "batch": [
                track("Order Completed", {"items": 2, "currency": "EUR"}),  # fine
                track("Order Completed", {"items": "two", "currency": "GBP", "coupon": "X"}),
                track("Order Completed", {"currency": "USD"}),
                track("Order Completed", {}),
                track("Unknown Thing", {"a": 1}),
            ]
        }
    )
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert LoggedEvent.objects.count() == 5
    found = _violations()
    assert set(found) == {
        ("Order Completed", "items", "wrong_type"),
        ("Order Completed", "currency", "not_allowed"),
        ("Order Completed", "coupon", "unknown_property"),
        ("Order Completed", "items", "missing_required"),
        ("Unknown Thing", "", "unknown_event"),
    }
    missing = found[("Order Completed", "items", "missing_required")]
    assert missing.count == 2
    assert missing.event == plan
    assert missing.message == "Required property 'items' is missing."
    assert missing.example["properties"] == {}
    wrong = found[("Order Completed", "items", "wrong_type")]
    assert wrong.message == "Property 'items' must be integer, not string."
    assert wrong.example["properties"]["items"] == "two"
    assert found[("Unknown Thing", "", "unknown_event")].event is None
    # Nothing is discovered in flag mode.
    assert not Resource.objects.filter(title__in=["Unknown Thing", "coupon"]).exists()
    assert DailyVolume.objects.get(resource=plan).count == 4


def test_violation_counts_add_up_across_batches(send, integration, plan):
    integration.validation_mode = ValidationMode.FLAG
    integration.save()
    for _ in range(3):
        send.segment({"batch": [track("Order Completed", {"items": 1.5})] * 2})
    violation = Violation.objects.get(kind="wrong_type")
    assert violation.count == 6
    assert violation.first_seen_at <= violation.last_seen_at


def test_block_mode_rejects_and_trims(send, integration, plan):
    integration.validation_mode = ValidationMode.BLOCK
    integration.save()
    response = send.segment(
        {
            "batch": [
                track("Order Completed", {"items": 2, "extra": "trim me"}),
                track("Order Completed", {"items": "two"}),
                track("Never Registered"),
            ]
        }
    )
    assert response.status_code == 200
    assert response.json()["rejected"] == [
        {
            "index": 1,
            "event": "Order Completed",
            "errors": ["Property 'items' must be integer, not string."],
        },
        {
            "index": 2,
            "event": "Never Registered",
            "errors": ["Unknown event 'Never Registered': register it in the catalog first."],
        },
    ]
    row = LoggedEvent.objects.get()
    assert row.properties == {"items": 2}
    assert DailyVolume.objects.get(resource=plan).count == 1
    assert not Resource.objects.filter(title__in=["Never Registered", "extra"]).exists()
    assert set(_violations()) == {
        ("Order Completed", "extra", "unknown_property"),
        ("Order Completed", "items", "wrong_type"),
        ("Never Registered", "", "unknown_event"),
    }


def test_block_mode_single_event_formats_answer_400(send, integration, plan):
    integration.validation_mode = ValidationMode.BLOCK
    integration.save()
    response = send.flameup({"userId": "u", "event": "Order Completed", "properties": {}})
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "error": "Required property 'items' is missing.",
        "errors": ["Required property 'items' is missing."],
    }
    response = send.prime({"events": [{"eventType": "Nope"}]})
    assert response.status_code == 400
    assert response.json()["updated"] == 0
    assert not LoggedEvent.objects.exists()


def test_discover_mode_adds_new_properties_to_known_events(send, integration, plan):
    send.segment(
        {
            "batch": [
                track(
                    "Order Completed",
                    {
                        "items": 1,
                        "coupon": "SAVE",
                        "at": "2024-01-02T03:04:05Z",
                        "tags": ["a"],
                        "meta": {"k": 1},
                        "ok": True,
                    },
                )
            ]
        }
    )
    types = dict(Resource.objects.filter(parent=plan).values_list("title", "data_type"))
    assert types == {
        "items": "integer",
        "currency": "string",
        "coupon": "string",
        "at": "datetime",
        "tags": "array",
        "meta": "object",
        "ok": "boolean",
    }
    assert Resource.objects.filter(entity_type=EntityType.EVENT_CATEGORY).count() == 1


def test_discovery_is_recorded_once_and_reused(send, integration):
    send.segment({"batch": [track("A", {"x": 1})]})
    send.segment({"batch": [track("A", {"x": 2})]})
    assert Resource.objects.filter(title="A").count() == 1
    assert Resource.objects.filter(title="x").count() == 1
    event = Resource.objects.get(title="A")
    assert DailyVolume.objects.get(resource=event).count == 2


def test_retries_are_dropped_by_message_id(send):
    batch = {"batch": [track("A", messageId="m-1"), track("A", messageId="m-2")]}
    assert send.segment(batch).status_code == 200
    assert send.segment(batch).status_code == 200
    event = Resource.objects.get(title="A")
    assert DailyVolume.objects.get(resource=event).count == 2
    assert LoggedEvent.objects.count() == 2
    # The same id twice in one batch counts once.
    send.segment({"batch": [track("A", messageId="m-3"), track("A", messageId="m-3")]})
    assert DailyVolume.objects.get(resource=event).count == 3


def test_message_ids_are_per_integration(send, client):
    from catalog.services.context import ChangeContext
    from catalog.services.writekeys import write_key_create
    from tests.factories import IntegrationFactory
    from tests.ingest.conftest import Sender

    other = IntegrationFactory(name="Other")
    _, secret = write_key_create(ctx=ChangeContext.for_system(), integration=other)
    batch = {"batch": [track("A", messageId="same")]}
    send.segment(batch)
    Sender(client, secret, other).segment(batch)
    assert LoggedEvent.objects.count() == 2


def _statements(send, body):
    with CaptureQueriesContext(connection) as context:
        assert send.segment(body).status_code == 200
    return len(context)


def test_batches_cost_a_constant_number_of_queries(send, integration, plan):
    integration.validation_mode = ValidationMode.FLAG
    integration.save()
    send.segment({"batch": [track("Order Completed", {"items": 1})]})  # warm: key last used

    def batch(n):
        known = [
            track(
                "Order Completed", {"items": i, "currency": "EUR", "odd": i}, messageId=f"{n}-{i}"
            )
            for i in range(n)
        ]
        return {"batch": known + [track(f"Unknown {i}") for i in range(n)]}

    small, large = _statements(send, batch(5)), _statements(send, batch(200))
    # The same few statements for 10 events and 400 (at most: first/last seen is skipped when
    # everything was seen a moment ago). In tests the day partition is made again each time.
    # One of them adds to the violations' counts of the day (their trend).
    assert small <= 14 and large <= 14


def test_discovery_costs_a_constant_number_of_queries(send):
    def batch(size):
        events = [track(f"New {size}-{i}", {f"p{j}": j for j in range(5)}) for i in range(size)]
        return {"batch": events}

    send.segment({"batch": [track("Warm")]})  # the category (and the log's day partition)
    small, large = _statements(send, batch(3)), _statements(send, batch(100))
    assert Resource.objects.filter(entity_type=EntityType.EVENT).count() == 104
    # With the integration's locks (PostgreSQL), what discovery added today (its daily
    # limits) and whether the events it adds properties to still exist.
    if connection.vendor == "postgresql":
        assert small == large <= 25
    else:  # SQLite's 999-parameter limit splits bulk inserts of many rows
        assert small <= 22 and large <= 37


def test_known_names_are_read_once_per_process(send, integration, plan):
    send.segment({"batch": [track("Order Completed", {"items": 1})]})
    with CaptureQueriesContext(connection) as context:
        send.segment({"batch": [track("Order Completed", {"items": 2})]})
    assert not [q for q in context.captured_queries if 'FROM "catalog_resource"' in q["sql"]]


def test_a_plan_change_through_the_services_applies_to_the_next_batch(
    send, integration, plan, django_capture_on_commit_callbacks
):
    from catalog.services.context import ChangeContext
    from catalog.services.resources import resource_update

    integration.validation_mode = ValidationMode.FLAG
    integration.save()
    send.segment({"batch": [track("Order Completed", {"items": "two"})]})
    assert Violation.objects.get(kind="wrong_type").count == 1
    items = Resource.objects.get(parent=plan, title="items")
    with django_capture_on_commit_callbacks(execute=True):
        resource_update(
            ctx=ChangeContext.for_system(), resource=items, data={"data_type": "string"}
        )
    send.segment({"batch": [track("Order Completed", {"items": "two"})]})
    assert Violation.objects.get(kind="wrong_type").count == 1  # "two" is a string now


def test_the_plan_is_read_again_after_a_while(send, integration, plan, monkeypatch):
    from catalog.services import ingest

    integration.validation_mode = ValidationMode.FLAG
    integration.save()
    send.segment({"batch": [track("Order Completed", {"items": 1})]})
    Resource.objects.filter(parent=plan, title="items").update(data_type="string")  # no service
    send.segment({"batch": [track("Order Completed", {"items": 1})]})
    assert not Violation.objects.filter(kind="wrong_type").exists()  # still the copy read
    later = ingest.time.monotonic() + ingest.PLAN_MAX_AGE + 1
    monkeypatch.setattr(ingest.time, "monotonic", lambda: later)
    send.segment({"batch": [track("Order Completed", {"items": 1})]})
    assert Violation.objects.get(kind="wrong_type").count == 1
