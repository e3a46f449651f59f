"""Dates and times in API parameters: one rule for what a database can store.

A UTC offset of 16 hours or more (PostgreSQL refuses it) and a time outside the years 1-9999
in UTC are a 400 naming the value, in the resource query and in the event log alike.
"""

import datetime as dt
import json

import pytest

from catalog.models import Resource
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db


def _catalog_query(client, field: str, operator: str, value: str):
    filter_ = {"operator": operator, "field": field, "value": value}
    return client.get("/api/v1/resource/catalog", {"filter": json.dumps(filter_)})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "2024-01-01T00:00:00+16:00",
            "`created_at`: 2024-01-01T00:00:00+16:00 has a UTC offset of +16:00; an offset is "
            "at most ±15:59 (the world's time zones span -12:00 to +14:00).",
        ),
        (
            "2024-01-01T00:00:00-23:59",
            "`created_at`: 2024-01-01T00:00:00-23:59 has a UTC offset of -23:59; an offset is "
            "at most ±15:59 (the world's time zones span -12:00 to +14:00).",
        ),
        (
            "9999-12-31T23:00:00-05:00",
            "`created_at`: 9999-12-31T23:00:00-05:00 is after the year 9999 in UTC, out of the "
            "range 0001-9999.",
        ),
    ],
)
def test_the_resource_query_refuses_a_time_no_database_stores(as_viewer, value, message):
    response = _catalog_query(as_viewer, "created_at", "gte", value)
    assert response.status_code == 400
    assert response.json() == {"detail": message}


@pytest.mark.parametrize("minutes", [14 * 60, -12 * 60, 15 * 60 + 59])
def test_the_resource_query_compares_times_with_any_real_offset(as_editor, minutes):
    """The event's own creation time, written in another zone (Kiribati's, Baker Island's),
    is the same instant."""
    EventFactory(title="Order Completed")
    created = Resource.objects.get(title="Order Completed").created_at
    zone = dt.timezone(dt.timedelta(minutes=minutes))
    response = _catalog_query(
        as_editor, "created_at", "exact", created.astimezone(zone).isoformat()
    )
    assert response.status_code == 200, response.json()
    assert [row["title"] for row in response.json()["results"]] == ["Order Completed"]


def test_the_event_log_refuses_a_time_no_database_stores(as_editor):
    response = as_editor.get(
        "/api/v1/event/log", {"start": "2026-01-01T00:00:00+16:00", "end": "9999-12-31T20:00-08:00"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "start": [
            "2026-01-01T00:00:00+16:00 has a UTC offset of +16:00; an offset is at most ±15:59 "
            "(the world's time zones span -12:00 to +14:00)."
        ],
        "end": [
            "9999-12-31T20:00-08:00 is after the year 9999 in UTC, out of the range 0001-9999."
        ],
    }
