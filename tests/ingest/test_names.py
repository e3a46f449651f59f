"""Event and property names are matched and discovered in the form the catalog keeps titles in
(catalog.models.titles): a tracker's stray space or look-alike is not a second event."""

import pytest

from catalog.models import EntityType, Resource
from tests.factories import EventCategoryFactory, EventFactory, EventPropertyFactory
from tests.ingest.conftest import track

CONTROL = "Titles and names can't contain control characters or text-direction controls"

pytestmark = pytest.mark.django_db


def test_names_are_matched_in_their_normal_form(send, integration):
    category = EventCategoryFactory(integration=integration)
    event = EventFactory(parent=category, title="Signed In")
    EventPropertyFactory(parent=event, title="plan", data_type="string")
    response = send.segment(
        {"batch": [track("Signed In ", {"plan ": "pro"}), track("Signed\u00a0In")]}
    )
    assert response.status_code == 200, response.json()
    # No second event, no second property: the look-alikes are the same.
    assert Resource.objects.filter(entity_type=EntityType.EVENT).count() == 1
    assert Resource.objects.filter(entity_type=EntityType.EVENT_PROPERTY).count() == 1
    assert event.daily_volumes.get().count == 2


def test_names_no_title_may_hold_are_refused(send):
    batch = [track("Signed\u202eIn"), track("Signed Up", {"pl\x1ban": 1}), track("Fine")]
    response = send.segment({"batch": batch})
    assert response.status_code == 200
    assert response.json()["rejected"] == [
        {"index": 0, "event": "", "errors": [f"event: {CONTROL} (found U+202E)."]},
        {
            "index": 1,
            "event": "Signed Up",
            "errors": [f"properties: property 'pl\\x1ban': {CONTROL} (found U+001B)."],
        },
    ]
    titles = set(
        Resource.objects.filter(entity_type=EntityType.EVENT).values_list("title", flat=True)
    )
    assert titles == {"Fine"}
