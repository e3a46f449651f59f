"""Discovery adds to the catalog within each integration's limits; past them, names are
violations, and the integration's violations say that discovery stopped."""

import datetime as dt

import pytest
from django.utils import timezone

from catalog.models import (
    ChangeSet,
    EntityType,
    Integration,
    ObjectChange,
    Resource,
    Violation,
    ViolationKind,
)
from catalog.services.ingest import forget_plans
from tests.factories import EventCategoryFactory, EventFactory, EventPropertyFactory
from tests.ingest.conftest import track

pytestmark = pytest.mark.django_db


def _limits(integration, **limits) -> None:
    Integration.objects.filter(pk=integration.pk).update(**limits)


def _titles(kind) -> list[str]:
    return sorted(Resource.objects.filter(entity_type=kind).values_list("title", flat=True))


def _violations(kind) -> dict:
    rows = Violation.objects.filter(kind=kind)
    return {(v.event_name, v.property_name): (v.count, v.message) for v in rows}


def test_a_new_integration_has_limits_no_app_reaches(as_admin, integration):
    body = as_admin.get(f"/api/v1/integration/integrations/{integration.pk}").json()
    assert (
        body["max_new_events_per_day"],
        body["max_new_properties_per_day"],
        body["max_properties_per_event"],
    ) == (1000, 10000, 1000)


def test_admins_set_the_limits_and_editors_cant(as_admin, as_editor, integration):
    url = f"/api/v1/integration/integrations/{integration.pk}"
    response = as_admin.patch(url, {"max_new_events_per_day": 50}, format="json")
    assert response.status_code == 200
    assert response.json()["max_new_events_per_day"] == 50
    assert as_editor.patch(url, {"max_new_events_per_day": 5000}, format="json").status_code == 403
    response = as_admin.patch(url, {"max_properties_per_event": -1}, format="json")
    assert response.status_code == 400
    assert "max_properties_per_event" in response.json()


def test_new_events_past_the_daily_limit_are_violations_not_resources(send, integration):
    _limits(integration, max_new_events_per_day=2)
    batch = [track(name) for name in ("One", "Two", "Three", "Four")]
    response = send.segment({"batch": batch})
    assert response.status_code == 200
    assert response.json() == {"success": True}  # accepted and logged, like flag mode
    assert _titles(EntityType.EVENT) == ["One", "Two"]
    unknown = _violations(ViolationKind.UNKNOWN_EVENT)
    assert unknown == {
        (name, ""): (
            1,
            f"Unknown event {name!r}: not added to the catalog, as ingestion already added 2 "
            f"new events to {integration} today (its daily limit).",
        )
        for name in ("Three", "Four")
    }
    assert _violations(ViolationKind.DISCOVERY_LIMIT) == {
        ("", ""): (
            2,
            "Discovery stopped at its limits (2 new events a day): the unknown "
            "events and properties past them were recorded as violations, not added. An admin "
            "can raise the limits on the integration.",
        )
    }
    # Later batches the same day add nothing either; the count of names left out grows.
    send.segment({"batch": [track("Five")]})
    assert _titles(EntityType.EVENT) == ["One", "Two"]
    assert _violations(ViolationKind.DISCOVERY_LIMIT)[("", "")][0] == 3


def test_the_daily_limits_start_again_the_next_day(send, integration):
    _limits(integration, max_new_events_per_day=1)
    send.segment({"batch": [track("One"), track("Two")]})
    assert _titles(EntityType.EVENT) == ["One"]
    yesterday = timezone.now() - dt.timedelta(days=1)
    ChangeSet.objects.update(created_at=yesterday)
    send.segment({"batch": [track("Two")]})
    assert _titles(EntityType.EVENT) == ["One", "Two"]


def test_properties_stop_at_the_daily_limit_and_at_the_limit_per_event(send, integration):
    _limits(integration, max_new_properties_per_day=3, max_properties_per_event=2)
    category = EventCategoryFactory(integration=integration)
    full = EventFactory(parent=category, title="Full")
    EventPropertyFactory(parent=full, title="a")
    EventPropertyFactory(parent=full, title="b")
    batch = [
        track("Full", {"a": 1, "b": 2, "c": 3}),
        track("New", {"x": 1, "y": 2, "z": 3}),
        track("Other", {"q": 1, "r": 2}),
    ]
    assert send.segment({"batch": batch}).status_code == 200
    properties = {
        (p.parent.title, p.title)
        for p in Resource.objects.filter(entity_type=EntityType.EVENT_PROPERTY).select_related(
            "parent"
        )
    }
    # Full had its 2; New gets 2 of 3 (its limit); Other the last 1 of the day's 3.
    assert properties == {("Full", "a"), ("Full", "b"), ("New", "x"), ("New", "y"), ("Other", "q")}
    unknown = _violations(ViolationKind.UNKNOWN_PROPERTY)
    assert unknown[("Full", "c")][1] == (
        "Unknown property 'c' of 'Full': not added to the catalog, as 'Full' has 2 properties "
        "(the integration's limit)."
    )
    assert unknown[("New", "z")][1] == (
        "Unknown property 'z' of 'New': not added to the catalog, as 'New' has 2 properties "
        "(the integration's limit)."
    )
    assert unknown[("Other", "r")][1] == (
        "Unknown property 'r' of 'Other': not added to the catalog, as ingestion already added "
        f"3 new properties to {integration} today (its daily limit)."
    )
    assert set(unknown) == {("Full", "c"), ("New", "z"), ("Other", "r")}
    limit = _violations(ViolationKind.DISCOVERY_LIMIT)[("", "")]
    assert limit[0] == 3
    assert "(2 properties per event; 3 new properties a day)" in limit[1]


def test_an_event_with_thousands_of_properties_gets_the_default_limits(send):
    properties = {f"p{i}": i for i in range(1_200)}
    assert send.segment({"batch": [track("Flood", properties)]}).status_code == 200
    # One batch adds 1,000 names at most: the event and 999 of its properties.
    assert Resource.objects.filter(entity_type=EntityType.EVENT_PROPERTY).count() == 999
    unknown = Violation.objects.filter(kind=ViolationKind.UNKNOWN_PROPERTY)
    assert unknown.count() == 201
    assert unknown.first().message.endswith(
        "not added to the catalog, as this batch already added 1,000 new names, the most one "
        "batch adds (it is added when it comes again)."
    )
    # Sent again (once the plan is read again, as after the commit): one more, then the event
    # has the 1,000 properties an event may have.
    forget_plans()
    assert send.segment({"batch": [track("Flood", properties)]}).status_code == 200
    assert Resource.objects.filter(entity_type=EntityType.EVENT_PROPERTY).count() == 1_000
    assert ObjectChange.objects.filter(object_type=EntityType.EVENT_PROPERTY).count() == 1_000
    assert Violation.objects.get(property_name="p1199").message == (
        "Unknown property 'p1199' of 'Flood': not added to the catalog, as 'Flood' has 1,000 "
        "properties (the integration's limit)."
    )


def test_the_integrations_violations_say_discovery_stopped(send, integration, as_editor):
    _limits(integration, max_new_events_per_day=0)
    send.segment({"batch": [track("Signed Up")]})
    url = f"/api/v1/integration/integrations/{integration.pk}/violations"
    body = as_editor.get(url, {"kind": "discovery_limit"}).json()
    assert [(v["kind"], v["event_name"], v["count"]) for v in body["results"]] == [
        ("discovery_limit", "", 1)
    ]
    assert "(0 new events a day)" in body["results"][0]["message"]


def test_a_propertys_violation_keeps_only_that_property_of_the_event(send, integration):
    _limits(integration, max_new_properties_per_day=0)
    properties = {f"p{i}": i for i in range(2_000)}  # none added: each one a violation
    assert send.segment({"batch": [track("Flood", properties)]}).status_code == 200
    violations = Violation.objects.filter(kind=ViolationKind.UNKNOWN_PROPERTY)
    assert violations.count() == 2_000
    example = violations.get(property_name="p7").example
    assert example["event"] == "Flood" and example["properties"] == {"p7": 7}


def test_past_the_violation_limit_new_violations_are_counted_together(send, integration, settings):
    settings.INGEST_MAX_VIOLATIONS = 5
    integration.validation_mode = "flag"
    integration.save()
    send.segment({"batch": [track(f"Unknown {i}") for i in range(3)]})
    send.segment({"batch": [track(f"Unknown {i}") for i in range(10)]})
    kinds = dict(Violation.objects.values_list("event_name", "count").filter(kind="unknown_event"))
    # Four rows of their own (the fifth place is the shared row's), the first three twice.
    assert kinds == {"Unknown 0": 2, "Unknown 1": 2, "Unknown 2": 2, "Unknown 3": 1}
    shared = Violation.objects.get(kind=ViolationKind.VIOLATION_LIMIT)
    assert shared.count == 6
    assert shared.message == (
        f"{integration} holds 5 distinct violations, the limit: further ones are counted "
        "here together. Delete resolved violations to make room."
    )
    # Known violations still count; new ones go on adding to the shared row.
    send.segment({"batch": [track("Unknown 0"), track("Unknown 99")]})
    assert Violation.objects.get(event_name="Unknown 0").count == 3
    assert Violation.objects.get(kind=ViolationKind.VIOLATION_LIMIT).count == 7
    assert Violation.objects.count() == 5
