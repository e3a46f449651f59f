"""A steward deletes a category or event while its events arrive, on PostgreSQL.

Neither side fails: the delete waits for the batches in flight, a batch waits for a delete in
flight and then treats the deleted event as unknown. Each test holds one side's transaction
open in the test's thread while the other runs in a thread of its own, and lets go once that
thread waits for a lock. SQLite runs one writer at a time: there is no race there.
"""

import pytest
from django.db import connection, transaction
from django.test import Client

from catalog.models import DailyVolume, Resource, ResourceSeen, Violation, ViolationKind
from catalog.services.context import ChangeContext
from catalog.services.ingest import TrackedEvent, ingest
from catalog.services.resources import resource_delete
from tests.factories import SYSTEM, EventCategoryFactory, EventFactory, EventPropertyFactory
from tests.ingest.conftest import Sender, track
from tests.races import in_thread, wait_until_blocked_or_done

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serialises writers; races need PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def plan(integration):
    event = EventFactory(parent=EventCategoryFactory(integration=integration), title="Signed In")
    EventPropertyFactory(parent=event, title="plan")
    return event


def _race_a_batch_with_a_delete(integration, write_key, plan):
    """Send a batch of a known event and another while its category's delete commits."""
    sender = Sender(Client(), write_key, integration)
    # Today's volumes exist, and this process has read the plan: the next batch won't read it.
    assert sender.segment({"batch": [track("Signed In", {"plan": "pro"})]}).status_code == 200
    thread, outcome = in_thread(
        lambda: Sender(Client(), write_key, integration).segment(
            {"batch": [track("Signed In", {"plan": "pro"}), track("Other")]}
        )
    )
    with transaction.atomic():
        resource_delete(ctx=SYSTEM, resource=plan.parent)
        thread.start()
        wait_until_blocked_or_done(thread)
    thread.join(30)
    return outcome[0]


def test_a_batch_that_meets_a_delete_counts_the_deleted_event_as_unknown(
    integration, write_key, plan
):
    integration.validation_mode = "flag"
    integration.save()
    response = _race_a_batch_with_a_delete(integration, write_key, plan)
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True}
    assert not Resource.objects.exists()
    assert not DailyVolume.objects.exists() and not ResourceSeen.objects.exists()
    unknown = Violation.objects.get(kind=ViolationKind.UNKNOWN_EVENT, event_name="Signed In")
    assert unknown.message == "Unknown event 'Signed In': it was deleted from the catalog."
    assert unknown.event_id is None


def test_in_discover_mode_a_just_deleted_event_is_discovered_again(integration, write_key, plan):
    response = _race_a_batch_with_a_delete(integration, write_key, plan)
    assert response.status_code == 200, response.content
    assert not Resource.objects.filter(pk__in=[plan.pk, plan.parent_id]).exists()
    again = Resource.objects.get(title="Signed In")
    assert (again.parent.title, again.children.get().title) == ("Uncategorized", "plan")
    assert DailyVolume.objects.get(resource=again).count == 1
    assert set(Resource.objects.values_list("title", flat=True)) == {
        "Uncategorized",
        "Signed In",
        "plan",
        "Other",
    }


def test_a_delete_waits_for_the_batch_in_flight(integration, plan):
    prop = plan.children.get()
    thread, outcome = in_thread(lambda: resource_delete(ctx=SYSTEM, resource=plan.parent))
    with transaction.atomic():
        result = ingest(
            ctx=ChangeContext.for_write_key(integration),
            events=[TrackedEvent(format="segment", name="Signed In", properties={"plan": "a"})],
        )
        assert result.accepted == 1
        assert set(DailyVolume.objects.values_list("resource_id", flat=True)) == {
            plan.pk,
            prop.pk,
        }
        thread.start()
        wait_until_blocked_or_done(thread)
    thread.join(30)

    assert outcome == [None]
    assert not Resource.objects.exists()
    assert not DailyVolume.objects.exists() and not ResourceSeen.objects.exists()
