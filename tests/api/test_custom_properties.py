"""Custom properties: the workspace's own fields, their values, history and the query."""

import json

import pytest

from catalog.models import CustomPropertyValue, Notification, ObjectChange
from tests.factories import EventFactory, EventPropertyFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/resource/all_v2/custom_properties"


@pytest.fixture
def jira(as_admin):
    response = as_admin.post(
        f"{BASE}/",
        {"name": "Jira ticket", "entity_types": ["event"], "value_type": "url"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_an_admin_defines_custom_properties(as_admin, as_editor, jira):
    assert as_admin.get(f"{BASE}/{jira['id']}").json()["name"] == "Jira ticket"
    assert [p["name"] for p in as_editor.get(BASE).json()["results"]] == ["Jira ticket"]
    renamed = as_admin.patch(f"{BASE}/{jira['id']}", {"name": "Ticket"}, format="json")
    assert renamed.json()["name"] == "Ticket"
    refused = as_editor.post(
        BASE, {"name": "Owner", "entity_types": ["event"], "value_type": "text"}, format="json"
    )
    assert refused.status_code == 403
    bad = as_admin.post(
        BASE, {"name": "X", "entity_types": ["table"], "value_type": "colour"}, format="json"
    )
    assert bad.json() == {
        "entity_types": {"0": ['"table" is not a valid choice.']},
        "value_type": [f"'colour' is not a value type here. Accepted: {ACCEPTED}."],
    }
    assert as_admin.delete(f"{BASE}/{jira['id']}").json() == {"id": jira["id"], "deleted": True}


ACCEPTED = (
    "text, string, str; number, numeric, float, double, decimal; boolean, bool; date; url, link"
)


@pytest.mark.parametrize(
    ("sent", "stored", "value", "wrong"),
    [
        ("string", "text", "T-1", 1),
        ("String", "text", "T-1", True),
        ("str", "text", "T-1", 1),
        ("text", "text", "T-1", 1),
        ("numeric", "number", 2.5, "2.5"),
        ("float", "number", 3, "3"),
        ("DECIMAL", "number", 0.1, True),
        ("bool", "boolean", True, "true"),
        ("date", "date", "2026-01-31", "2026-01-31T12:00:00Z"),
        ("link", "url", "https://example.com/T-1", "T-1"),
    ],
)
def test_value_types_under_the_names_clients_send(as_admin, sent, stored, value, wrong):
    """Secoda's clients send `string` where we say `text`: the answer repeats their name, the
    catalog stores and later answers its own, and values are checked by what it stores."""
    response = as_admin.post(
        BASE, {"name": "Field", "entity_types": ["event"], "value_type": sent}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["value_type"] == sent
    created = response.json()["id"]
    assert as_admin.get(f"{BASE}/{created}").json()["value_type"] == stored
    assert [row["value_type"] for row in as_admin.get(BASE).json()["results"]] == [stored]
    event = EventFactory()
    url = f"{BASE}/{created}/{event.pk}"
    assert as_admin.patch(url, {"value": value}, format="json").status_code == 200
    assert as_admin.patch(url, {"value": wrong}, format="json").status_code == 400


def test_an_update_answers_with_the_name_sent_and_keeps_the_canonical_one(as_admin, jira):
    response = as_admin.patch(f"{BASE}/{jira['id']}", {"value_type": "str"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["value_type"] == "str"
    assert as_admin.get(f"{BASE}/{jira['id']}").json()["value_type"] == "text"
    # A change of the name alone says the type as stored: the client didn't send one.
    renamed = as_admin.patch(f"{BASE}/{jira['id']}", {"name": "Ticket"}, format="json")
    assert renamed.json()["value_type"] == "text"


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        (
            "integer",
            "'integer' is not a value type here (a number property also takes fractions such "
            f"as 2.5; send `number`). Accepted: {ACCEPTED}.",
        ),
        (
            "datetime",
            "'datetime' is not a value type here (a date property holds a day (2026-01-31), no "
            f"time; send `date` or `text`). Accepted: {ACCEPTED}.",
        ),
        ("varchar", f"'varchar' is not a value type here. Accepted: {ACCEPTED}."),
        ("te\x00xt", "Text can't contain NUL characters or unpaired surrogates."),
        ("x" * 5000, f"'this' is not a value type here. Accepted: {ACCEPTED}."),
        (7, f"'this' is not a value type here. Accepted: {ACCEPTED}."),
        (None, "This field may not be null."),
        (["text"], f"'this' is not a value type here. Accepted: {ACCEPTED}."),
    ],
)
def test_a_value_type_with_another_meaning_or_none_is_a_400_listing_ours(as_admin, sent, message):
    response = as_admin.post(
        BASE, {"name": "Field", "entity_types": ["event"], "value_type": sent}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"value_type": [message]}


def test_an_editor_sets_a_value_that_shows_in_the_resource_and_its_history(as_editor, editor, jira):
    event = EventFactory(title="Order Completed")
    follower = UserFactory()
    event.subscribers.add(follower)
    url = f"{BASE}/{jira['id']}/{event.pk}"
    response = as_editor.patch(url, {"value": "https://jira.example.com/T-1"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "id": jira["id"],
        "name": "Jira ticket",
        "resource": str(event.pk),
        "value": "https://jira.example.com/T-1",
    }
    shown = as_editor.get(f"/api/v1/resource/all/{event.pk}").json()
    assert shown["custom_properties"] == [
        {"id": jira["id"], "name": "Jira ticket", "value": "https://jira.example.com/T-1"}
    ]
    change = ObjectChange.objects.get(object_id=event.pk)
    assert change.diff == {"custom: Jira ticket": [None, "https://jira.example.com/T-1"]}
    assert [n.recipient for n in Notification.objects.filter(change_set=change.change_set)] == [
        follower
    ]
    history = as_editor.get(f"/api/v1/event/events/{event.pk}/history").json()["results"]
    assert history[0]["diff"] == change.diff
    # The same value again changes nothing; null clears it.
    as_editor.patch(url, {"value": "https://jira.example.com/T-1"}, format="json")
    assert ObjectChange.objects.filter(object_id=event.pk).count() == 1
    assert as_editor.patch(url, {"value": None}, format="json").json()["value"] is None
    assert not CustomPropertyValue.objects.exists()


@pytest.mark.parametrize(
    ("value_type", "value", "error"),
    [
        ("url", "not a link", "Enter a link such as https://example.com/ticket/1."),
        ("number", "12", "Points takes a number, not '12'."),
        ("number", True, "Points takes a number, not True."),
        ("boolean", "yes", "Points takes true or false, not 'yes'."),
        ("date", "2026-13-01", "Points takes a date such as 2026-01-31, not '2026-13-01'."),
        ("text", 5, "Points takes text, not 5."),
    ],
)
def test_values_are_checked_against_the_type(as_admin, as_editor, value_type, value, error):
    prop = as_admin.post(
        BASE,
        {"name": "Points", "entity_types": ["event"], "value_type": value_type},
        format="json",
    ).json()
    event = EventFactory()
    response = as_editor.patch(f"{BASE}/{prop['id']}/{event.pk}", {"value": value}, format="json")
    assert response.status_code == 400
    assert response.json() == {"value": [error]}


def test_a_property_applies_only_to_its_kinds(as_editor, as_viewer, jira):
    prop = EventPropertyFactory()
    response = as_editor.patch(
        f"{BASE}/{jira['id']}/{prop.pk}", {"value": "https://x.example.com/"}, format="json"
    )
    assert response.json() == {"value": ["Jira ticket applies to: event; not to this resource."]}
    refused = as_viewer.patch(
        f"{BASE}/{jira['id']}/{prop.parent_id}",
        {"value": "https://x.example.com/"},
        format="json",
    )
    assert refused.status_code == 403
    assert as_editor.patch(f"{BASE}/{jira['id']}/nonsense", {"value": 1}).status_code == 404


def test_the_resource_query_filters_on_custom_values(as_editor, jira):
    tracked, other = EventFactory(title="Tracked"), EventFactory(title="Other")
    as_editor.patch(
        f"{BASE}/{jira['id']}/{tracked.pk}",
        {"value": "https://jira.example.com/T-9"},
        format="json",
    )

    def titles(query):
        body = as_editor.get("/api/v1/resource/catalog", {"filter": json.dumps(query)}).json()
        return [r["title"] for r in body["results"]]

    field = "custom:Jira ticket"
    assert titles({"operator": "contains", "field": field, "value": "T-9"}) == ["Tracked"]
    assert titles(
        {"operator": "exact", "field": field, "value": "https://jira.example.com/T-9"}
    ) == ["Tracked"]
    unset = {"operator": "is_set", "field": field, "value": False}
    both = {
        "operator": "and",
        "operands": [unset, {"operator": "exact", "field": "type", "value": "event"}],
    }
    assert titles(both) == ["Other"]
    error = as_editor.get(
        "/api/v1/resource/catalog",
        {"filter": json.dumps({"operator": "exact", "field": "custom:Nope", "value": 1})},
    ).json()
    assert error == {"detail": "Unknown custom property 'Nope'."}
    assert other.pk  # both exist
