from catalog.models import (
    ChangeSet,
    DailyVolume,
    EntityType,
    LoggedEvent,
    Resource,
    ResourceSeen,
    Violation,
)
from tests.ingest.conftest import track


def test_segment_batch_discovers_events_and_properties(send, integration, mailoutbox):
    response = send.segment(
        {
            "batch": [
                track("Order Completed", {"revenue": 39.95, "currency": "EUR", "items": 3}),
                track("Order Completed", {"revenue": 10, "coupon": None}),
                {"type": "identify", "userId": "u1", "traits": {"email": "a@example.com"}},
            ]
        }
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True}
    event = Resource.objects.get(entity_type=EntityType.EVENT, title="Order Completed")
    assert event.parent.title == "Uncategorized"
    assert (event.verified, event.published) == (False, False)
    props = {p.title: p.data_type for p in Resource.objects.filter(parent=event)}
    assert props == {
        "revenue": "number",
        "currency": "string",
        "items": "integer",
        "coupon": "null",
    }
    assert LoggedEvent.objects.count() == 3
    volumes = {v.resource.title: v.count for v in DailyVolume.objects.select_related("resource")}
    assert volumes["Order Completed"] == 2
    assert volumes["revenue"] == 2
    assert volumes["currency"] == 1
    assert ResourceSeen.objects.filter(resource=event).exists()
    change_set = ChangeSet.objects.get(source="ingest")
    assert change_set.source == "ingest"
    assert change_set.integration == integration
    assert change_set.changes.count() == 6  # category, event, four properties
    assert mailoutbox == []
    assert not Violation.objects.exists()
