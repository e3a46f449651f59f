"""Routes existing catalog clients call: users, /auth/teams, integration credentials,
POST /event/property, POST /resource/catalog, PATCH and DELETE /resource/all/{id}."""

import json

import pytest

from catalog.models import (
    ChangeSet,
    EventProperty,
    Notification,
    ObjectChange,
    Resource,
    User,
    UserGroup,
)
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    TagFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# --- users -----------------------------------------------------------------------------------


def test_an_admin_adds_changes_and_removes_a_user(as_admin, admin_user):
    team = TeamFactory(name="Growth")
    created = as_admin.post(
        "/api/v1/user/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "role": "Editor",
            "teams": [str(team.pk)],
            "user_groups": [],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    user = User.objects.get(pk=body["id"])
    assert body == {
        "id": str(user.pk),
        "username": "ada",  # never the address: viewers see usernames
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "role": "editor",
        "is_active": True,
        "teams": [str(team.pk)],
        "user_groups": [],
    }
    assert user.is_staff and not user.has_usable_password()

    changed = as_admin.patch(
        f"/api/v1/user/{user.pk}", {"role": "VIEWER", "teams": []}, format="json"
    )
    assert changed.json()["role"] == "viewer" and changed.json()["teams"] == []
    user.refresh_from_db()
    assert not user.is_staff  # moved to viewer: no admin access

    removed = as_admin.delete(f"/api/v1/user/{user.pk}")
    assert removed.json() == {"id": str(user.pk), "deleted": True}
    user.refresh_from_db()
    assert not user.is_active  # deactivated, not deleted: the history keeps the name
    assert as_admin.get(f"/api/v1/user/{user.pk}").status_code == 404
    listed = [u["id"] for u in as_admin.get("/api/v1/user").json()["results"]]
    assert str(user.pk) not in listed and str(admin_user.pk) in listed


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"email": "x@example.com", "role": "Owner"},
            {"role": ["Must be Admin, Editor or Viewer."]},
        ),
        (
            {"email": "x@example.com", "role": "Guest"},
            {"role": ["Guest users are not supported; a viewer reads published resources only."]},
        ),
        (
            {"email": "not an address", "role": "viewer"},
            {"email": ["Enter a valid email address."]},
        ),
        (
            {"email": "TAKEN@example.com", "role": "viewer"},
            {"email": ["A user with this email address already exists."]},
        ),
        (
            {"email": "x@example.com", "role": "viewer", "user_groups": ["g1"]},
            {"user_groups": ["Must be a valid UUID."]},
        ),
    ],
)
def test_bad_user_bodies_are_400(as_admin, body, errors):
    UserFactory(username="taken", email="taken@example.com")
    response = as_admin.post("/api/v1/user", body, format="json")
    assert response.status_code == 400
    assert response.json() == errors


def test_only_admins_manage_users(as_editor, as_viewer, viewer):
    body = {"email": "x@example.com", "role": "viewer"}
    for client in (as_editor, as_viewer):
        response = client.post("/api/v1/user", body, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "Only admins can manage the workspace."}
        assert client.delete(f"/api/v1/user/{viewer.pk}").status_code == 403
    assert User.objects.get(pk=viewer.pk).is_active


def test_the_user_routes_of_their_own_still_answer(as_viewer, viewer):
    assert as_viewer.get("/api/v1/user/me").json()["id"] == str(viewer.pk)
    assert as_viewer.get("/api/v1/user/users").json()["count"] == 1
    assert as_viewer.get("/api/v1/user/api_keys").status_code == 200
    assert as_viewer.get("/api/v1/user/nonsense").json() == {"detail": "Not found."}


# --- teams and integrations ------------------------------------------------------------------


def test_teams_under_auth_teams(as_admin, editor):
    created = as_admin.post(
        "/api/v1/auth/teams/",
        {"name": "Data", "description": "The data team", "members": [str(editor.pk)]},
        format="json",
    ).json()
    assert created["members"] == [str(editor.pk)]
    assert as_admin.get(f"/api/v1/auth/teams/{created['id']}").json()["name"] == "Data"
    assert as_admin.get("/api/v1/team/teams").json()["count"] == 1  # the old route too
    deleted = as_admin.delete(f"/api/v1/auth/teams/{created['id']}")
    assert deleted.json() == {"id": created["id"], "deleted": True}


def test_integration_credentials_must_be_empty(as_admin):
    ok = as_admin.post(
        "/api/v1/integration/integrations",
        {"name": "Web", "type": "segment", "teams": [], "credentials": {}},
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["teams"] == []
    assert "credentials" not in ok.json()
    refused = as_admin.post(
        "/api/v1/integration/integrations",
        {"name": "Warehouse", "type": "custom", "credentials": {"password": "x"}},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "credentials": [
            "Event Catalog connects to no source with credentials: trackers send events to it "
            "instead. Leave `credentials` out or send {}."
        ]
    }


# --- resources -------------------------------------------------------------------------------


def test_post_event_property_with_the_clients_names(as_editor):
    event = EventFactory()
    response = as_editor.post(
        "/api/v1/event/property",
        {
            "type": "string",
            "enum": ["free", "pro"],
            "is_required": True,
            "title": "plan",
            "description": "The plan",
            "integration": None,
            "entity_type": "",
            "definition": "",
            "parent": str(event.pk),
            "owners_groups": [],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["data_type"], body["required"], body["allowed_values"]) == (
        "string",
        True,
        ["free", "pro"],
    )
    assert body["integration"] == str(event.integration_id)
    assert EventProperty.objects.get(pk=body["id"]).parent_id == event.pk


def test_post_event_property_refuses_a_bad_type(as_editor):
    response = as_editor.post(
        "/api/v1/event/property",
        {"type": "text", "title": "x", "parent": str(EventFactory().pk)},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"type": ['"text" is not a valid choice.']}


def test_post_resource_catalog_creates_each_kind(as_editor):
    category = EventCategoryFactory()
    event = as_editor.post(
        "/api/v1/resource/catalog",
        {"entity_type": "event", "title": "Signed Up", "parent": str(category.pk), "pii": True},
        format="json",
    )
    assert event.status_code == 201, event.json()
    assert event.json()["entity_type"] == "event" and event.json()["pii"] is True
    prop = as_editor.post(
        "/api/v1/resource/catalog",
        {
            "entity_type": "event_property",
            "title": "method",
            "parent": event.json()["id"],
            "data_type": "string",
        },
        format="json",
    )
    assert prop.status_code == 201 and prop.json()["data_type"] == "string"
    refused = as_editor.post(
        "/api/v1/resource/catalog", {"entity_type": "glossary", "title": "x"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "entity_type": ["Must be one of event_category, event, event_property."]
    }


def test_patch_and_delete_any_resource_by_id(as_editor, as_viewer):
    event = EventFactory(description="Old")
    url = f"/api/v1/resource/all/{event.pk}"
    assert as_viewer.patch(url, {"description": "x"}, format="json").status_code == 403
    changed = as_editor.patch(url, {"description": "New", "verified": True}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["description"], changed.json()["verified"]) == ("New", True)
    change = ObjectChange.objects.get(object_id=event.pk)
    assert change.diff == {"description": ["Old", "New"], "verified": [False, True]}
    # A category has no parent, and the answer says so.
    category_url = f"/api/v1/resource/all/{event.parent_id}"
    refused = as_editor.patch(category_url, {"data_type": "string"}, format="json")
    assert refused.json() == {"data_type": ["Unknown field."]}
    removed = as_editor.delete(url)
    assert removed.json() == {"id": str(event.pk), "deleted": True}
    assert as_editor.get(url).status_code == 404
    assert not Resource.objects.filter(pk=event.pk).exists()


# --- tags ------------------------------------------------------------------------------------


def test_tags_under_tag_with_a_name_and_a_color(as_editor):
    created = as_editor.post(
        "/api/v1/tag/",
        {"name": "checkout", "description": "Buying", "color": "#149634"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["name"], body["title"], body["color"]) == ("checkout", "checkout", "#149634")
    tag_url = f"/api/v1/tag/{body['id']}"
    assert as_editor.get(tag_url).json()["description"] == "Buying"
    renamed = as_editor.patch(tag_url, {"name": "purchase", "color": "#AA0000"}, format="json")
    assert (renamed.json()["name"], renamed.json()["color"]) == ("purchase", "#AA0000")
    assert as_editor.get("/api/v1/tag", {"name": "purchase"}).json()["count"] == 1
    assert as_editor.get("/api/v1/tag/tags", {"title": "purchase"}).json()["count"] == 1
    # Older clients still send `title`.
    older = as_editor.post("/api/v1/tag/tags", {"title": "legacy"}, format="json").json()
    assert (older["name"], older["color"]) == ("legacy", "#149634")
    assert as_editor.delete(tag_url).json() == {"id": body["id"], "deleted": True}


HEX = "Enter a color as #RRGGBB, such as #149634."


@pytest.mark.parametrize(
    ("color", "errors"),
    [
        ("green", [HEX]),
        ("#12345", [HEX]),
        ("#GGGGGG", [HEX]),
        ("#1234567", [HEX, "Ensure this field has no more than 7 characters."]),
        ("", ["This field may not be blank."]),
    ],
)
def test_a_tag_color_must_be_hex(as_editor, color, errors):
    response = as_editor.post("/api/v1/tag", {"name": "x", "color": color}, format="json")
    assert response.status_code == 400
    assert response.json() == {"color": errors}


# --- groups ----------------------------------------------------------------------------------


def test_an_admin_manages_groups_and_editors_cannot(as_admin, as_editor, editor):
    created = as_admin.post(
        "/api/v1/auth/group/",
        {
            "name": "Analytics",
            "description": "Owns tracking",
            "icon": "💼",
            "users": [str(editor.pk)],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    group = created.json()
    assert (group["name"], group["icon"], group["users"]) == ("Analytics", "💼", [str(editor.pk)])
    url = f"/api/v1/auth/group/{group['id']}"
    assert as_editor.get(url).json()["name"] == "Analytics"  # everyone reads
    refused = as_editor.patch(url, {"name": "Mine"}, format="json")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only admins can manage the workspace."}
    assert as_admin.patch(url, {"users": []}, format="json").json()["users"] == []
    assert as_admin.delete(url).json() == {"id": group["id"], "deleted": True}


def test_a_user_joins_groups_through_the_user_routes(as_admin):
    group = as_admin.post("/api/v1/auth/group", {"name": "Data"}, format="json").json()
    user = as_admin.post(
        "/api/v1/user",
        {"email": "grace@example.com", "role": "viewer", "user_groups": [group["id"]]},
        format="json",
    ).json()
    assert user["user_groups"] == [group["id"]]
    assert as_admin.get(f"/api/v1/auth/group/{group['id']}").json()["users"] == [user["id"]]
    left = as_admin.patch(f"/api/v1/user/{user['id']}", {"user_groups": []}, format="json")
    assert left.json()["user_groups"] == []


def test_owner_groups_members_follow_the_resource_and_hear_of_changes(as_admin, as_editor):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    group = UserGroup.objects.create(name="Checkout team")
    group.users.add(alice, bob)
    event = EventFactory(title="Order Completed")
    url = f"/api/v1/event/events/{event.pk}"
    body = as_editor.patch(url, {"owners_groups": [str(group.pk)]}, format="json").json()
    assert body["owners_groups"] == [str(group.pk)]
    assert set(body["subscribers"]) == {str(alice.pk), str(bob.pk)}  # they may unsubscribe
    change = ObjectChange.objects.get(object_id=event.pk)
    assert change.diff["owners_groups"] == [[], [{"id": str(group.pk), "label": "Checkout team"}]]
    as_editor.patch(url, {"description": "Paid"}, format="json")
    latest = ChangeSet.objects.order_by("-created_at").first()
    recipients = {n.recipient.username for n in Notification.objects.filter(change_set=latest)}
    assert recipients == {"alice", "bob"}
    query = {"operator": "contains", "field": "owners_groups", "value": str(group.pk)}
    found = as_editor.get("/api/v1/resource/catalog", {"filter": json.dumps(query)}).json()
    assert [r["id"] for r in found["results"]] == [str(event.pk)]


# --- collections -----------------------------------------------------------------------------


def test_a_collection_takes_the_clients_full_body(as_editor, editor):
    tag, team = TagFactory(title="checkout"), TeamFactory()
    group = UserGroup.objects.create(name="Analytics")
    outer = as_editor.post("/api/v1/collection/collections", {"title": "Funnels"}, format="json")
    integration = EventFactory().integration
    body = {
        "icon": "🗂",
        "title": "Checkout funnel",
        "description": "Events of the checkout",
        "entity_type": "collection",
        "integration": str(integration.pk),
        "definition": "# Checkout\\n",
        "parent": outer.json()["id"],
        "pii": True,
        "verified": True,
        "published": False,
        "teams": [str(team.pk)],
        "owners": [str(editor.pk)],
        "owners_groups": [str(group.pk)],
        "collections": [outer.json()["id"]],
        "tags": [str(tag.pk)],
        "subscribers": [str(editor.pk)],
    }
    response = as_editor.post("/api/v1/collection/collections/", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    for field, value in body.items():
        assert created[field] == value, field
    read = as_editor.get(f"/api/v1/collection/collections/{created['id']}").json()
    assert read == created
    refused = as_editor.patch(
        f"/api/v1/collection/collections/{created['id']}", {"parent": created["id"]}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json() == {"parent": ["A collection can't be its own parent."]}


# --- who may write ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("post", "/api/v1/user", {"email": "x@example.com", "role": "viewer"}),
        ("post", "/api/v1/auth/teams", {"name": "T"}),
        ("post", "/api/v1/auth/group", {"name": "G"}),
        ("post", "/api/v1/tag", {"name": "t"}),
        ("post", "/api/v1/collection/collections", {"title": "C"}),
        ("post", "/api/v1/event/property", {"title": "p", "type": "string"}),
        ("post", "/api/v1/resource/catalog", {"entity_type": "event", "title": "E"}),
        (
            "post",
            "/api/v1/resource/all_v2/custom_properties",
            {"name": "P", "entity_types": ["event"], "value_type": "text"},
        ),
    ],
)
def test_a_viewer_writes_none_of_it(as_viewer, method, route, body):
    response = getattr(as_viewer, method)(route, body, format="json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Only ")


@pytest.mark.parametrize("route", ["/api/v1/user", "/api/v1/auth/teams", "/api/v1/auth/group"])
def test_an_editor_manages_no_users_teams_or_groups(as_editor, route):
    body = {"email": "x@example.com", "role": "viewer", "name": "N"}
    if route != "/api/v1/user":
        body = {"name": "N"}
    response = as_editor.post(route, body, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only admins can manage the workspace."}


def test_a_username_never_shows_the_email_address(as_admin, as_viewer):
    UserFactory(username="secret.person")
    made = as_admin.post(
        "/api/v1/user", {"email": "secret.person@corp.example", "role": "viewer"}, format="json"
    ).json()
    assert made["username"] == "secret.person-2"
    seen = as_viewer.get(f"/api/v1/user/{made['id']}").json()
    assert seen["email"] is None and "@" not in seen["username"]


def test_the_resource_query_opens_in_the_browser_and_answers_options(client, editor):
    client.force_login(editor)
    page = client.get("/api/v1/resource/catalog", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    options = client.options("/api/v1/resource/catalog")
    assert options.status_code == 200 and options.json()["name"] == "Resource Query"


def test_what_resource_all_answers_can_be_sent_back(as_editor):
    event = EventFactory(title="Before")
    url = f"/api/v1/resource/all/{event.pk}"
    body = as_editor.get(url).json()
    assert body["custom_properties"] == []
    response = as_editor.patch(url, {**body, "title": "After"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "After"


def test_collections_can_not_loop_and_viewers_see_published_ones(as_editor, as_viewer):
    def make(title, **body):
        return as_editor.post(
            "/api/v1/collection/collections", {"title": title, **body}, format="json"
        ).json()

    outer = make("Outer")
    inner = make("Inner", parent=outer["id"])
    loop = as_editor.patch(
        f"/api/v1/collection/collections/{outer['id']}", {"parent": inner["id"]}, format="json"
    )
    assert loop.status_code == 400
    assert loop.json() == {
        "parent": ["That parent is inside this collection: it would make a loop."]
    }
    draft = make("Draft", published=False)
    titles = [c["title"] for c in as_viewer.get("/api/v1/collection/collections").json()["results"]]
    assert titles == ["Inner", "Outer"]
    assert as_viewer.get(f"/api/v1/collection/collections/{draft['id']}").status_code == 404
    assert as_editor.get(f"/api/v1/collection/collections/{draft['id']}").status_code == 200


def test_the_last_admin_can_not_be_removed_or_demoted(as_admin, admin_user):
    refused = as_admin.delete(f"/api/v1/user/{admin_user.pk}")
    assert refused.status_code == 400
    assert refused.json() == {
        "non_field_errors": [
            "The workspace needs at least one active admin: make someone else an admin first."
        ]
    }
    demoted = as_admin.patch(f"/api/v1/user/{admin_user.pk}", {"role": "editor"}, format="json")
    assert demoted.status_code == 400
    other = UserFactory(username="second-admin", role="admin")
    assert as_admin.delete(f"/api/v1/user/{other.pk}").status_code == 200


def test_a_custom_propertys_type_can_not_change_under_its_values(as_admin, as_editor):
    prop = as_admin.post(
        "/api/v1/resource/all_v2/custom_properties",
        {"name": "Points", "entity_types": ["event"], "value_type": "text"},
        format="json",
    ).json()
    event = EventFactory()
    url = f"/api/v1/resource/all_v2/custom_properties/{prop['id']}"
    as_editor.patch(f"{url}/{event.pk}", {"value": "x"}, format="json")
    retyped = as_admin.patch(url, {"value_type": "number"}, format="json")
    assert retyped.json() == {
        "value_type": ["Resources have values of this property; clear them first."]
    }
    narrowed = as_admin.patch(url, {"entity_types": ["event_category"]}, format="json")
    assert narrowed.json() == {
        "entity_types": ["Resources of a kind you removed have values; clear them first."]
    }
    as_editor.patch(f"{url}/{event.pk}", {"value": None}, format="json")
    assert as_admin.patch(url, {"value_type": "number"}, format="json").status_code == 200
