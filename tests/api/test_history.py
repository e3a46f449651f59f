"""GET .../{id}/history and the cost and safety of writes through the API."""

import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from catalog.models import Event, Notification
from catalog.services.keys import api_key_create
from tests.factories import (
    SYSTEM,
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")


def test_history_of_an_event_newest_first(as_editor, editor):
    event = EventFactory(title="Order Completed", description="Old")
    tag = TagFactory(title="checkout")
    url = f"/api/v1/event/events/{event.pk}"
    as_editor.patch(url, {"description": "New"}, format="json")
    as_editor.patch(
        url, {"tags": [str(tag.pk)], "pii": True}, format="json", HTTP_X_REQUEST_ID="ci-42"
    )
    body = as_editor.get(f"{url}/history").json()
    assert body["count"] == 2 and body["total_pages"] == 1
    newest, oldest = body["results"]
    assert newest["diff"] == {
        "pii": [False, True],
        "tags": [[], [{"id": str(tag.pk), "label": "checkout"}]],
    }
    assert oldest["diff"] == {"description": ["Old", "New"]}
    assert newest["request_id"] == "ci-42" and newest["source"] == "api"
    assert newest["action"] == "update" and newest["title"] == "Order Completed"
    assert newest["resource"] == str(event.pk) and newest["entity_type"] == "event"
    assert newest["actor"] == {
        "id": str(editor.pk),
        "name": str(editor),
        "api_key": None,
        "integration": None,
    }
    assert newest["created_at"] >= oldest["created_at"]


def test_history_names_the_api_key_used(editor):
    _, secret = api_key_create(ctx=SYSTEM, user=editor, name="CI checks")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    prop = EventPropertyFactory()
    client.patch(f"/api/v1/event/event_properties/{prop.pk}", {"required": True}, format="json")
    change = client.get(f"/api/v1/event/event_properties/{prop.pk}/history/").json()["results"][0]
    assert change["actor"]["api_key"] == "CI checks"
    assert change["diff"] == {"required": [False, True]}


def test_history_of_a_category_records_its_creation(as_editor):
    category = as_editor.post(
        "/api/v1/event/category",
        {"title": "Checkout", "integration": str(EventCategoryFactory().integration_id)},
        format="json",
    ).json()
    history = as_editor.get(f"/api/v1/event/category/{category['id']}/history").json()
    assert [c["action"] for c in history["results"]] == ["create"]
    assert history["results"][0]["diff"]["title"] == [None, "Checkout"]


def test_history_is_paginated_like_every_list(as_editor):
    event = EventFactory()
    for n in range(3):
        as_editor.patch(f"/api/v1/event/events/{event.pk}", {"description": str(n)}, format="json")
    body = as_editor.get(f"/api/v1/event/events/{event.pk}/history", {"page_size": 2}).json()
    assert body["count"] == 3 and body["total_pages"] == 2
    assert [c["diff"]["description"][1] for c in body["results"]] == ["2", "1"]
    assert body["links"]["next"].endswith("page=2&page_size=2")


def test_history_follows_the_resources_visibility(as_viewer, as_editor):
    event = EventFactory(published=False)
    as_editor.patch(f"/api/v1/event/events/{event.pk}", {"pii": True}, format="json")
    assert as_viewer.get(f"/api/v1/event/events/{event.pk}/history").status_code == 404
    as_editor.patch(f"/api/v1/event/events/{event.pk}", {"published": True}, format="json")
    assert as_viewer.get(f"/api/v1/event/events/{event.pk}/history").json()["count"] == 2
    # The kind is part of the route: an event is no category.
    assert as_editor.get(f"/api/v1/event/category/{event.pk}/history").status_code == 404


def test_a_patch_with_200_subscribers_writes_200_outbox_rows(as_editor, editor):
    event = EventFactory()
    event.subscribers.add(editor, *[UserFactory() for _ in range(200)])
    response = as_editor.patch(
        f"/api/v1/event/events/{event.pk}", {"description": "Paid"}, format="json"
    )
    assert response.status_code == 200
    assert Notification.objects.filter(change_set__changes__object_id=event.pk).count() == 200


@pytest.mark.django_db(transaction=True)
def test_a_patch_of_one_field_costs_at_most_10_statements(as_editor, settings):
    """Key lookup, the visible row, the locked row, M2M ids, UPDATE, change set, resource
    change, recipients, outbox rows: history and outbox included. Delivery is the task's.
    Transaction control (BEGIN and COMMIT, which SQLite's driver logs) is not counted."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    event = EventFactory()
    event.subscribers.add(*[UserFactory() for _ in range(20)])
    url = f"/api/v1/event/events/{event.pk}"
    as_editor.get(url)  # the key's last use is recorded at most once a minute
    with CaptureQueriesContext(connection) as captured:
        response = as_editor.patch(url, {"description": "Paid"}, format="json")
    assert response.status_code == 200 and response.json()["description"] == "Paid"
    statements = [q for q in captured if not q["sql"].startswith(TRANSACTION_CONTROL)]
    assert len(statements) <= 10, "\n".join(q["sql"][:90] for q in captured)
    assert Notification.objects.count() == 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_creates_give_one_201_and_one_400(editor):
    """Two requests create the same title under one category at the same moment: the database
    refuses one, and the client is told which field, never a 500."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    category = EventCategoryFactory()
    _, secret = api_key_create(ctx=SYSTEM, user=editor)
    barrier = threading.Barrier(2)
    answers = []

    def create():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        barrier.wait()
        try:
            response = client.post(
                "/api/v1/event/events",
                {"title": "Order Completed", "parent": str(category.pk)},
                format="json",
            )
            answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(code for code, _ in answers) == [201, 400]
    refused = next(body for code, body in answers if code == 400)
    assert refused == {"title": ["The parent already has a child with this title."]}
    assert Event.objects.filter(title="Order Completed").count() == 1
