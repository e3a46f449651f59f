"""Each wire format, end to end through its endpoint: what the sender sees and what is stored."""

import pytest

from catalog.models import EntityType, LoggedEvent, Resource
from tests.factories import EventFactory, EventPropertyFactory, IntegrationFactory
from tests.ingest.conftest import track


def test_segment_single_calls_are_logged_and_only_track_feeds_the_catalog(send):
    calls = {
        "/v1/track": {"event": "Signed Up", "userId": "u1", "properties": {"plan": "pro"}},
        "/v1/identify": {"userId": "u1", "traits": {"email": "a@example.com"}},
        "/v1/page": {"anonymousId": "a1", "name": "Home", "properties": {"path": "/"}},
        "/v1/screen": {"userId": "u1", "name": "Settings"},
        "/v1/group": {"userId": "u1", "groupId": "g1", "traits": {"name": "ACME"}},
        "/v1/alias": {"userId": "u1", "previousId": "a1"},
    }
    for path, body in calls.items():
        response = send.segment(body, path=path)
        assert response.status_code == 200, (path, response.content)
        assert response.json() == {"success": True}
    logged = {row.type: row for row in LoggedEvent.objects.all()}
    assert set(logged) == {"track", "identify", "page", "screen", "group", "alias"}
    assert logged["identify"].properties == {"email": "a@example.com"}
    assert logged["group"].properties == {"name": "ACME", "groupId": "g1"}
    assert logged["alias"].properties == {"previousId": "a1"}
    assert logged["page"].name == "Home"
    assert logged["page"].anonymous_id == "a1"
    titles = set(
        Resource.objects.filter(entity_type=EntityType.EVENT).values_list("title", flat=True)
    )
    assert titles == {"Signed Up"}


def test_segment_key_in_body_and_gzip(send, client):
    body = {"writeKey": send.secret, "batch": [track("Viewed")]}
    response = send.post("/v1/batch", body, gzipped=True)
    assert response.status_code == 200, response.content
    assert LoggedEvent.objects.get().name == "Viewed"


def test_segment_batch_accepts_good_events_and_reports_bad_ones(send):
    response = send.segment(
        {
            "batch": [
                track("Good"),
                {"type": "track", "userId": "u1"},
                track("Bad time", timestamp="yesterday"),
                {"type": "teleport", "userId": "u1"},
                "not an object",
                {"type": "track", "event": "No user"},
            ]
        }
    )
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["rejected"] == [
        {"index": 1, "event": "", "errors": ["event: this field is required."]},
        {
            "index": 2,
            "event": "Bad time",
            "errors": ["timestamp: not an ISO 8601 date and time, such as 2024-12-25T10:00:00Z."],
        },
        {
            "index": 3,
            "event": "",
            "errors": [
                "type: must be one of track, identify, page, screen, group, alias.",
                "event: this field is required.",
            ],
        },
        {"index": 4, "event": "", "errors": ["Each event must be a JSON object."]},
        {"index": 5, "event": "No user", "errors": ["userId or anonymousId is required."]},
    ]
    assert list(LoggedEvent.objects.values_list("name", flat=True)) == ["Good"]


def test_segment_batch_of_only_bad_events_is_a_400(send):
    response = send.segment({"batch": [{"type": "track", "userId": "u1"}]})
    assert response.status_code == 400
    assert response.json()["error"] == "No event was accepted."
    assert not LoggedEvent.objects.exists()


def test_canvas_single_event(send):
    body = {
        "version": 1,
        "type": "event",
        "event": "Purchased an Item",
        "properties": {"revenue": "39.95", "shippingMethod": "2-day"},
        "timestamp": "2012-12-02T00:30:08.276Z",
    }
    response = send.canvas(body)
    assert response.status_code == 200, response.content
    row = LoggedEvent.objects.get()
    assert response.json() == {"success": True, "event_id": str(row.id)}
    assert row.format == "canvas"
    assert row.sent_at.isoformat() == "2012-12-02T00:30:08.276000+00:00"
    assert row.properties == {"revenue": "39.95", "shippingMethod": "2-day"}
    prop = Resource.objects.get(title="revenue")
    assert prop.data_type == "string"


def test_canvas_errors_name_the_field(send):
    response = send.canvas({"type": "pageview", "properties": []})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        'type: must be "event".',
        "event: this field is required.",
        "properties: must be an object.",
    ]
    assert send.canvas({"event": "X"}, secret="wk_nope_nope").status_code == 401


def test_prime_batch(send, integration):
    events = [
        {
            "eventType": "view",
            "sessionId": "s-1",
            "properties": {"page": "home"},
            "scope": str(integration.pk),
            "timeStamp": "2021-10-15T18:49:00+07:00",
            "source": {"itemId": "_", "itemType": "_"},
            "target": {"itemId": "_", "itemType": "_"},
        },
        {"eventType": "view", "sessionId": "s-2", "scope": "someone-else"},
    ]
    response = send.prime({"events": events})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "updated": 1,
        "rejected": [
            {
                "index": 1,
                "event": "view",
                "errors": ["scope: must be the same as the X-Client-ID header."],
            }
        ],
    }
    row = LoggedEvent.objects.get()
    assert (row.format, row.anonymous_id, row.name) == ("prime", "s-1", "view")
    assert row.sent_at.isoformat() == "2021-10-15T11:49:00+00:00"


def test_prime_client_id_must_be_the_keys_integration(send):
    other = IntegrationFactory(name="Other")
    response = send.prime({"events": [{"eventType": "view"}]}, client_id=str(other.pk))
    assert response.status_code == 401
    assert response.json()["error"] == "This write key belongs to another integration."
    response = send.post("/v1/events", {"events": []}, HTTP_X_CLIENT_ACCESS_TOKEN=send.secret)
    assert response.status_code == 401


def test_flameup_track_event(send, integration):
    response = send.flameup({"userId": "u-7", "event": "Level Up", "properties": {"level": 3}})
    assert response.status_code == 200, response.content
    row = LoggedEvent.objects.get()
    assert response.json() == {"success": True, "event_id": str(row.id)}
    assert row.sent_at is not None  # defaults to now
    assert (row.user_id, row.name, row.properties) == ("u-7", "Level Up", {"level": 3})


def test_flameup_needs_user_and_event(send):
    response = send.flameup({"properties": {}})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "event: this field is required.",
        "userId: this field is required.",
    ]


@pytest.mark.parametrize("workspace", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_flameup_wrong_workspace(send, workspace):
    response = send.flameup({"userId": "u", "event": "E"}, workspace=workspace)
    assert response.status_code in (401, 404)
    assert response.json()["success"] is False


def test_known_event_is_matched_by_name_in_its_integration(send, integration):
    event = EventFactory(title="Order Completed", parent__integration=integration)
    EventPropertyFactory(title="revenue", parent=event, data_type="number")
    other = EventFactory(title="Order Completed")  # another integration's
    send.segment({"batch": [track("Order Completed", {"revenue": 5})]})
    assert Resource.objects.filter(title="Order Completed").count() == 2
    assert event.daily_volumes.get().count == 1
    assert not other.daily_volumes.exists()
