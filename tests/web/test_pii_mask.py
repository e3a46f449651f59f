"""Payloads on the pages hide the values of PII-flagged properties."""

import pytest
from django.utils import timezone

from catalog.models import LoggedEvent
from catalog.selectors import PII_MASK, mask_pii
from tests.factories import EventFactory, EventPropertyFactory


def _logged(integration, name, properties):
    return LoggedEvent(
        integration=integration,
        name=name,
        received_at=timezone.now(),
        properties=properties,
        format="segment",
    )


@pytest.mark.django_db
def test_pii_values_are_masked_per_integration_and_event(django_assert_num_queries):
    event = EventFactory(title="Signed Up")
    EventPropertyFactory(parent=event, title="email", pii=True)
    EventPropertyFactory(parent=event, title="plan", pii=False)
    other = EventFactory(title="Signed Up")  # another integration: email is not PII there
    EventPropertyFactory(parent=other, title="email", pii=False)
    EventFactory(title="Card Saved", parent__integration=event.integration, pii=True)
    rows = [
        _logged(event.integration, "Signed Up", {"email": "a@b.c", "plan": "pro"}),
        _logged(other.integration, "Signed Up", {"email": "a@b.c"}),
        _logged(event.integration, "Card Saved", {"last4": "4242"}),
        _logged(event.integration, "", {"email": "x", "plan": "pro"}),  # identify: traits
        _logged(other.integration, "", {"email": "x"}),
    ]
    with django_assert_num_queries(3):
        mask_pii(rows)
    assert rows[0].shown_properties == {"email": PII_MASK, "plan": "pro"}
    assert rows[1].shown_properties == {"email": "a@b.c"}
    assert rows[2].shown_properties == {"last4": PII_MASK}
    # A call without an event (identify) masks a trait flagged PII anywhere in its integration.
    assert rows[3].shown_properties == {"email": PII_MASK, "plan": "pro"}
    assert rows[4].shown_properties == {"email": "x"}
    assert rows[0].properties["email"] == "a@b.c"  # the row itself is untouched
