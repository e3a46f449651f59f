"""Public clients written for the seed's API run unchanged against a live server.

`pysecoda` (a Python wrapper) and `secoda-analysis-mcp` (a read-only MCP server) only get
their base URL swapped. They talk HTTP to a real server thread, so the data must be committed:
these tests use `transactional_db`.
"""

import json

import pytest
from pysecoda.api_client import APIClient as PySecodaClient
from pysecoda.endpoints.collections import CollectionsEndpoint
from pysecoda.endpoints.events import EventsEndpoint
from pysecoda.endpoints.integrations import IntegrationsEndpoint
from secoda_analysis_mcp.tools import collections as mcp_collections
from secoda_analysis_mcp.tools import resources as mcp_resources

from catalog.models import Role
from catalog.services.keys import api_key_create
from tests.factories import SYSTEM, CollectionFactory, EventPropertyFactory, UserFactory


@pytest.fixture
def server(live_server, transactional_db):
    editor = UserFactory(username="tooling", role=Role.EDITOR)
    _, secret = api_key_create(ctx=SYSTEM, user=editor)
    prop = EventPropertyFactory(title="revenue", data_type="number")
    collection = CollectionFactory(title="Checkout funnel")
    prop.parent.collections.add(collection)
    return {
        "base": f"{live_server.url}/api/v1",
        "key": secret,
        "prop": prop,
        "event": prop.parent,
        "category": prop.parent.parent,
        "collection": collection,
    }


@pytest.fixture
def pysecoda(server):
    return PySecodaClient(server["base"], server["key"])


def test_pysecoda_reads_the_catalog(server, pysecoda):
    events = EventsEndpoint(pysecoda)
    categories = events.get_event_categories()
    assert [c["id"] for c in categories] == [str(server["category"].pk)]
    category = events.get_event_category_by_id(str(server["category"].pk))
    assert category["title"] == server["category"].title
    assert [e["id"] for e in events.get_events()] == [str(server["event"].pk)]
    assert events.get_event_by_id(str(server["event"].pk))[0]["title"] == server["event"].title
    props = events.get_event_properties()
    assert [(p["title"], p["data_type"]) for p in props] == [("revenue", "number")]

    integrations = IntegrationsEndpoint(pysecoda).get_integrations()
    assert [i["id"] for i in integrations] == [str(server["event"].integration_id)]
    collections = CollectionsEndpoint(pysecoda)
    assert [c["title"] for c in collections.get_collections()] == ["Checkout funnel"]
    found = collections.get_collection_by_id(str(server["collection"].pk))
    assert found["title"] == "Checkout funnel"


def test_pysecoda_writes_the_catalog(server, pysecoda):
    events = EventsEndpoint(pysecoda)
    category = events.create_event_category(
        "Landing Page", integration=str(server["event"].integration_id)
    )
    event = events.create_event(
        title="Hero Clicked",
        description="The hero banner was clicked.",
        entity_type="event",
        parent=category["id"],
        pii=False,
        verified=True,
    )
    assert event["integration"] == str(server["event"].integration_id)
    # pysecoda defines update_event/delete_event twice; the survivors target properties.
    prop = events.update_event(str(server["prop"].pk), pii=True, tags=[])
    assert prop["pii"] is True
    updated = pysecoda.patch(f"/event/events/{event['id']}", data={"verified": False})
    assert updated["verified"] is False
    deleted = pysecoda.delete(f"/event/events/{event['id']}")
    assert deleted == {"id": event["id"], "deleted": True}


def test_mcp_read_tools(server, monkeypatch):
    for module in (mcp_resources, mcp_collections):
        monkeypatch.setattr(module, "API_URL", server["base"] + "/")
        monkeypatch.setattr(module, "API_TOKEN", server["key"])

    listed = json.loads(
        mcp_resources.list_resources(
            filter={
                "operator": "and",
                "operands": [
                    {"operator": "exact", "field": "type", "value": "event_property"},
                    {"operator": "contains", "field": "title", "value": "rev"},
                    {"operator": "is_set", "field": "parent_id", "value": None},
                ],
            },
            sort={
                "field": "updated_at",
                "order": "desc",
                "tie_breaker": {"field": "created_at", "order": "desc"},
            },
        )
    )
    assert [r["id"] for r in listed["results"]] == [str(server["prop"].pk)]
    resource = json.loads(mcp_resources.get_resource(str(server["event"].pk)))
    assert resource["title"] == server["event"].title
    missing = json.loads(mcp_resources.get_resource("00000000000000000000000000000000"))
    assert "not found" in missing["error"]
    bad = json.loads(
        mcp_resources.list_resources(
            filter={"operator": "exact", "field": "native_type", "value": "table"}
        )
    )
    assert "Unknown field" in bad["error"]

    collections = json.loads(mcp_collections.list_collections(title="Checkout funnel"))
    assert [c["id"] for c in collections["results"]] == [str(server["collection"].pk)]
    one = json.loads(mcp_collections.get_collection(str(server["collection"].pk)))
    assert one["title"] == "Checkout funnel"


@pytest.fixture
def secoda(server, monkeypatch):
    """pysecoda's own client, pointed at the live server through its region table, as an
    existing user would after changing the base URL; as an admin, to manage users."""
    import pysecoda.pysecoda as module

    admin = UserFactory(username="workspace-admin", role=Role.ADMIN)
    _, secret = api_key_create(ctx=SYSTEM, user=admin)
    monkeypatch.setitem(module.REGION_URL, "EVENT_CATALOG", server["base"] + "/")
    return module.PySecoda(secret, region="EVENT_CATALOG")


def test_pysecoda_manages_users_and_teams(secoda):
    team = secoda.teams.create_team("Growth", "Owns the funnel")
    assert secoda.teams.get_team_by_id(team["id"])["name"] == "Growth"
    user = secoda.users.create_user("Ada", "Lovelace", "ada@example.com", "Editor", [team["id"]])
    assert (user["email"], user["role"], user["teams"]) == (
        "ada@example.com",
        "editor",
        [team["id"]],
    )
    assert "ada@example.com" in [u["email"] for u in secoda.users.get_users()]
    assert secoda.users.get_user_by_id(user["id"])["last_name"] == "Lovelace"
    assert secoda.users.update_user(user["id"], role="Viewer")["role"] == "viewer"
    assert secoda.teams.update_team(team["id"], members=[user["id"]])["members"] == [user["id"]]
    assert secoda.users.delete_user(user["id"]) == {"id": user["id"], "deleted": True}
    assert "ada@example.com" not in [u["email"] for u in secoda.users.get_users()]
    assert secoda.teams.delete_team(team["id"]) == {"id": team["id"], "deleted": True}
    assert [t["id"] for t in secoda.teams.get_teams()] == []


def test_pysecoda_creates_integrations_properties_and_resources(server, secoda):
    integration = secoda.integrations.create_integration("Backend", "custom")
    assert integration["teams"] == []
    assert secoda.integrations.get_integration(integration["id"])["name"] == "Backend"

    prop = secoda.events.create_event_property(
        "number", "discount", "Money off", parent=str(server["event"].pk)
    )
    assert (prop["data_type"], prop["required"], prop["allowed_values"]) == ("number", False, None)
    assert prop["integration"] == str(server["event"].integration_id)

    event = secoda.resources.create_resource(
        "Checkout Started",
        "The checkout opened",
        entity_type="event",
        parent=str(server["category"].pk),
    )
    assert (event["entity_type"], event["published"]) == ("event", True)
    assert secoda.resources.get_resource_by_id(event["id"])["title"] == "Checkout Started"
    updated = secoda.resources.update_resource(event["id"], pii=True, tags=[])
    assert updated["pii"] is True
    assert secoda.resources.delete_resource(event["id"]) == {"id": event["id"], "deleted": True}
    assert secoda.integrations.delete_integration(integration["id"]) == {
        "id": integration["id"],
        "deleted": True,
    }


def test_pysecoda_manages_tags(secoda):
    tag = secoda.tags.create_tag("checkout", "Buying things")
    assert (tag["name"], tag["color"]) == ("checkout", "#149634")
    assert secoda.tags.get_tag_by_id(tag["id"])["description"] == "Buying things"
    assert "checkout" in [t["name"] for t in secoda.tags.get_tags()]
    assert secoda.tags.update_tag(tag["id"], color="#000000")["color"] == "#000000"
    assert secoda.tags.delete_tag(tag["id"]) == {"id": tag["id"], "deleted": True}


def test_pysecoda_manages_groups(secoda):
    user = secoda.users.create_user("Grace", "Hopper", "grace@example.com", "Viewer")
    group = secoda.groups.create_group("Analytics", "Owns tracking", users=[user["id"]])
    assert (group["name"], group["icon"], group["users"]) == ("Analytics", "💼", [user["id"]])
    assert secoda.groups.get_group_by_id(group["id"])["description"] == "Owns tracking"
    assert [g["name"] for g in secoda.groups.get_groups()] == ["Analytics"]
    assert secoda.users.get_user_by_id(user["id"])["user_groups"] == [group["id"]]
    assert secoda.groups.update_group(group["id"], icon="📊")["icon"] == "📊"
    assert secoda.groups.delete_group(group["id"]) == {"id": group["id"], "deleted": True}


def test_pysecoda_manages_collections(server, secoda):
    collection = secoda.collections.create_collection(
        "Onboarding", "Sign-up events", tags=[], owners=[], published=True
    )
    assert (collection["title"], collection["icon"], collection["published"]) == (
        "Onboarding",
        "🗂",
        True,
    )
    found = secoda.collections.get_collection_by_id(collection["id"])
    assert found["description"] == "Sign-up events"
    changed = secoda.collections.update_collection(collection["id"], verified=True)
    assert changed["verified"] is True
    assert secoda.collections.delete_collection(collection["id"]) == {
        "id": collection["id"],
        "deleted": True,
    }


def test_pysecoda_manages_custom_properties(server, secoda):
    made = secoda.custom_properties.create_custom_property("Platform", ["event"], "text")
    assert (made["name"], made["entity_types"], made["value_type"]) == (
        "Platform",
        ["event"],
        "text",
    )
    assert [p["name"] for p in secoda.custom_properties.get_custom_properties()["results"]] == [
        "Platform"
    ]
    assert secoda.custom_properties.get_custom_property(made["id"])["value_type"] == "text"
    event_id = str(server["event"].pk)
    value = secoda.custom_properties.update_entity_custom_property_value(
        event_id, made["id"], "iOS"
    )
    assert value["value"] == "iOS"
    shown = secoda.resources.get_resource_by_id(event_id)["custom_properties"]
    assert shown == [{"id": made["id"], "name": "Platform", "value": "iOS"}]
    renamed = secoda.custom_properties.update_custom_property(made["id"], name="Platforms")
    assert renamed["name"] == "Platforms"
    assert secoda.custom_properties.delete_custom_property(made["id"]) == {
        "id": made["id"],
        "deleted": True,
    }


def test_pysecoda_creates_a_custom_property_of_its_type_string(server, secoda):
    """Secoda's documentation sends `value_type: "string"`; the catalog stores it as text."""
    made = secoda.custom_properties.create_custom_property("Platform", ["event"], "string")
    assert made["value_type"] == "string"
    assert secoda.custom_properties.get_custom_property(made["id"])["value_type"] == "text"
    changed = secoda.custom_properties.update_custom_property(made["id"], value_type="bool")
    assert changed["value_type"] == "bool"
