"""Timestamps no database can store are refused one event at a time, never with a 500.

PostgreSQL refuses a UTC offset of 16 hours or more, and a time past the year 9999 (or before
the year 1) in UTC can't be read back: such an event is rejected with a message naming the
value, and the rest of its batch is accepted, on every database.
"""

import datetime as dt

import pytest

from catalog.models import LoggedEvent
from tests.ingest.conftest import track

OFFSET_16 = (
    "timestamp: 2024-01-01T00:00:00+16:00 has a UTC offset of +16:00; an offset is at most "
    "±15:59 (the world's time zones span -12:00 to +14:00)."
)


def test_a_batch_keeps_its_good_events_and_names_each_unstorable_timestamp(send):
    response = send.segment(
        {
            "batch": [
                track("Before", timestamp="2024-01-01T00:00:00+14:00"),
                track("East", timestamp="2024-01-01T00:00:00+16:00"),
                track("West", timestamp="2024-01-01T00:00:00-1630"),
                track("Late", timestamp="9999-12-31T23:00:00-05:00"),
                track("Early", timestamp="0001-01-01T00:30:00+01:00"),
                track("After", timestamp="2024-01-01T00:00:00+15:59"),
            ]
        }
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "success": True,
        "rejected": [
            {"index": 1, "event": "East", "errors": [OFFSET_16]},
            {
                "index": 2,
                "event": "West",
                "errors": [
                    "timestamp: 2024-01-01T00:00:00-1630 has a UTC offset of -16:30; an offset "
                    "is at most ±15:59 (the world's time zones span -12:00 to +14:00)."
                ],
            },
            {
                "index": 3,
                "event": "Late",
                "errors": [
                    "timestamp: 9999-12-31T23:00:00-05:00 is after the year 9999 in UTC, out of "
                    "the range 0001-9999."
                ],
            },
            {
                "index": 4,
                "event": "Early",
                "errors": [
                    "timestamp: 0001-01-01T00:30:00+01:00 is before the year 1 in UTC, out of "
                    "the range 0001-9999."
                ],
            },
        ],
    }
    stored = dict(LoggedEvent.objects.values_list("name", "sent_at"))
    assert stored == {
        "Before": dt.datetime(2023, 12, 31, 10, 0, tzinfo=dt.UTC),
        "After": dt.datetime(2023, 12, 31, 8, 1, tzinfo=dt.UTC),
    }


def test_a_single_event_with_an_unstorable_timestamp_is_a_400(send):
    response = send.canvas(
        {"type": "event", "event": "Signed Up", "timestamp": "2024-01-01T00:00:00+16:00"}
    )
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": OFFSET_16, "errors": [OFFSET_16]}
    assert not LoggedEvent.objects.exists()


@pytest.mark.parametrize(
    "timestamp",
    ["2024-01-01T00:00:00+24:00", "2024-02-30T00:00:00Z", "99999-01-01T00:00:00Z", "1" * 10_000],
)
def test_impossible_timestamps_are_not_iso_8601(send, timestamp):
    response = send.prime({"events": [{"eventType": "Viewed", "timeStamp": timestamp}]})
    assert response.status_code == 400
    assert response.json()["rejected"] == [
        {
            "index": 0,
            "event": "Viewed",
            "errors": ["timeStamp: not an ISO 8601 date and time, such as 2024-12-25T10:00:00Z."],
        }
    ]
