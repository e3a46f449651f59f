"""Hostile or odd input is a clear 4xx, never a 500."""

import json

import pytest

from tests.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "params",
    [
        {"title": "nul\x00byte"},
        {"parent_id": "\x00"},
        {"page": "99999999999999999999999"},
        {"page_size": "1e3"},
        {"page": "-1"},
    ],
)
def test_odd_list_parameters(as_editor, params):
    EventFactory()
    response = as_editor.get("/api/v1/event/events", params)
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "filter_",
    [
        json.dumps({"operator": "contains", "field": "title", "value": "nul\x00"}),
        json.dumps({"operator": "exact", "field": "title", "value": 10**400}),
        json.dumps({"operator": "exact", "field": "title", "value": ["a"]}),
        json.dumps({"operator": "exact", "field": "created_at", "value": "2026-13-45T99:00:00Z"}),
        "[" * 100_000 + "]" * 100_000,
        "NaN",
        json.dumps({"operator": "in", "field": "id", "value": ["x"] * 2000}),
    ],
)
def test_odd_filters(as_editor, filter_):
    EventFactory()
    response = as_editor.get("/api/v1/resource/catalog", {"filter": filter_})
    assert response.status_code == 400, response.content[:300]


@pytest.mark.parametrize(
    "body",
    [
        {"title": "nul\x00", "parent": "{category}"},
        {"title": "x" * 300, "parent": "{category}"},
        {"title": "ok", "parent": "{category}", "description": "nul\x00"},
        {"title": "ok", "parent": ["{category}"]},
        {"title": {"a": 1}, "parent": "{category}"},
        {"title": "ok", "parent": "{category}", "tags": "not-a-list"},
        {"title": "ok", "parent": "{category}", "pii": None},
    ],
)
def test_odd_bodies(as_editor, body):
    event = EventFactory()
    filled = json.loads(json.dumps(body).replace("{category}", str(event.parent_id)))
    response = as_editor.post("/api/v1/event/events", filled, format="json")
    assert response.status_code == 400, response.content[:300]


def test_odd_property_values(as_editor):
    event = EventFactory()
    response = as_editor.post(
        "/api/v1/event/event_properties",
        {"title": "p", "parent": str(event.pk), "examples": ["nul\x00"]},
        format="json",
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["examples"][0]
    response = as_editor.post(
        "/api/v1/event/event_properties",
        {"title": "q", "parent": str(event.pk), "data_type": None, "required": None},
        format="json",
    )
    assert response.status_code == 400


def test_a_body_over_the_upload_limit_is_413_with_json(as_editor, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    event = EventFactory()
    response = as_editor.patch(
        f"/api/v1/event/events/{event.pk}", {"description": "a" * 20_000}, format="json"
    )
    assert response.status_code == 413
    assert "at most 10,000 bytes" in response.json()["detail"]
