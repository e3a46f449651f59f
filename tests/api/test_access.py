"""Authentication, the role matrix, and what a viewer may never see."""

import json

import pytest
from rest_framework.test import APIClient

from catalog.services.keys import api_key_create, api_key_revoke
from tests.factories import (
    SYSTEM,
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

CATALOG_ROUTES = [
    "/api/v1/event/category",
    "/api/v1/event/events",
    "/api/v1/event/event_properties",
    "/api/v1/resource/catalog",
    "/api/v1/integration/integrations",
    "/api/v1/tag/tags",
    "/api/v1/collection/collections",
    "/api/v1/team/teams",
    "/api/v1/user/users",
    "/api/v1/user/me",
    "/api/v1/user/api_keys",
]


@pytest.mark.parametrize("route", CATALOG_ROUTES)
def test_no_key_is_401(anonymous, route):
    response = anonymous.get(route)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer wrong", "Bearer ec_0000_secret", "Bearer", "Bearer a b", "Token abc", "Bearer \xff"],
)
def test_a_wrong_key_is_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/event/events").status_code == 401


def test_a_revoked_key_is_401(editor):
    key, secret = api_key_create(ctx=SYSTEM, user=editor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/event/events").status_code == 200
    api_key_revoke(ctx=SYSTEM, key=key)
    assert client.get("/api/v1/event/events").status_code == 401


def test_the_browser_session_works_too(client, editor):
    client.force_login(editor)
    assert client.get("/api/v1/event/events").status_code == 200


# --- the role matrix -----------------------------------------------------------------------

WRITES = {
    "category": (
        "/api/v1/event/category",
        lambda e: {"title": "New", "integration": str(e.integration_id)},
    ),
    "event": ("/api/v1/event/events", lambda e: {"title": "New", "parent": str(e.parent_id)}),
    "property": ("/api/v1/event/event_properties", lambda e: {"title": "new", "parent": str(e.pk)}),
    "tag": ("/api/v1/tag/tags", lambda e: {"title": "new-tag"}),
    "collection": ("/api/v1/collection/collections", lambda e: {"title": "New"}),
    "team": ("/api/v1/team/teams", lambda e: {"name": "New team"}),
    "integration": (
        "/api/v1/integration/integrations",
        lambda e: {"name": "New", "type": "custom"},
    ),
}
MAY_CREATE = {
    "admin": set(WRITES),
    "editor": {"category", "event", "property", "tag", "collection"},
    "viewer": set(),
}


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
@pytest.mark.parametrize("what", list(WRITES))
def test_who_may_create(request, role, what):
    client = request.getfixturevalue(f"as_{role}")
    event = EventFactory()
    route, body = WRITES[what]
    response = client.post(route, body(event), format="json")
    expected = 201 if what in MAY_CREATE[role] else 403
    assert response.status_code == expected, response.json()


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
def test_who_may_change_and_delete_resources(request, role):
    client = request.getfixturevalue(f"as_{role}")
    event = EventFactory()
    url = f"/api/v1/event/events/{event.pk}"
    may = role != "viewer"
    assert client.patch(url, {"pii": True}, format="json").status_code == (200 if may else 403)
    assert client.delete(url).status_code == (200 if may else 403)


def test_editors_cannot_change_integrations(as_editor, as_admin):
    event = EventFactory()
    url = f"/api/v1/integration/integrations/{event.integration_id}"
    assert as_editor.get(url).status_code == 200
    assert as_editor.patch(url, {"description": "x"}, format="json").status_code == 403
    assert as_admin.patch(url, {"description": "x"}, format="json").status_code == 200
    # An integration with resources can't go; the answer says why.
    response = as_admin.delete(url)
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"The integration {event.integration.name} is still used by catalog "
        "resources; delete or move those first."
    }


# --- viewers never see unpublished resources -----------------------------------------------


@pytest.fixture
def hidden():
    """A published event with one published and one unpublished property, and a hidden event."""
    shown = EventFactory(title="Shown", published=True)
    EventPropertyFactory(title="public", parent=shown, published=True)
    secret_prop = EventPropertyFactory(title="secret", parent=shown, published=False)
    secret_event = EventFactory(title="Secret", parent=shown.parent, published=False)
    return {"event": secret_event, "property": secret_prop, "shown": shown}


def test_viewer_lists_and_counts_only_published(as_viewer, as_editor, hidden):
    for route, visible in [
        ("/api/v1/event/events", {"Shown"}),
        ("/api/v1/event/event_properties", {"public"}),
    ]:
        body = as_viewer.get(route).json()
        assert {row["title"] for row in body["results"]} == visible
        assert body["count"] == len(visible)
        assert as_editor.get(route).json()["count"] == len(visible) + 1


def test_viewer_cannot_fetch_unpublished_by_id(as_viewer, hidden):
    assert as_viewer.get(f"/api/v1/event/events/{hidden['event'].pk}").status_code == 404
    assert (
        as_viewer.get(f"/api/v1/event/event_properties/{hidden['property'].pk}").status_code == 404
    )
    assert as_viewer.get(f"/api/v1/resource/all/{hidden['event'].pk}").status_code == 404
    assert as_viewer.get(f"/api/v1/event/events/{hidden['shown'].pk}").status_code == 200


def test_viewer_query_never_returns_unpublished(as_viewer, hidden):
    for query in [
        None,
        {"operator": "exact", "field": "published", "value": False},
        {"operator": "exact", "field": "id", "value": str(hidden["event"].pk)},
        {"operator": "contains", "field": "title", "value": "secret"},
    ]:
        params = {"filter": json.dumps(query)} if query else {}
        body = as_viewer.get("/api/v1/resource/catalog", params).json()
        assert all(row["published"] for row in body["results"]), query
        assert body["count"] == len(body["results"])
        assert str(hidden["event"].pk) not in {row["id"] for row in body["results"]}


def test_viewer_filters_do_not_reveal_unpublished(as_viewer, hidden):
    body = as_viewer.get("/api/v1/event/events", {"title": "Secret"}).json()
    assert body["count"] == 0 and body["results"] == []


def test_users_and_me(as_viewer, viewer, editor):
    me = as_viewer.get("/api/v1/user/me").json()
    assert me["id"] == str(viewer.pk) and me["role"] == "viewer"
    users = as_viewer.get("/api/v1/user/users").json()["results"]
    assert {u["username"] for u in users} == {"viewer", "editor"}
    assert as_viewer.get(f"/api/v1/user/users/{editor.pk.hex}").json()["username"] == "editor"
    assert as_viewer.post("/api/v1/user/users", {"username": "x"}, format="json").status_code in (
        403,
        405,
    )


def test_tags_are_readable_by_everyone(as_viewer):
    TagFactory(title="checkout")
    body = as_viewer.get("/api/v1/tag/tags", {"title": "checkout"}).json()
    assert [t["title"] for t in body["results"]] == ["checkout"]


def test_categories_for_viewers(as_viewer):
    EventCategoryFactory(title="Public", published=True)
    EventCategoryFactory(title="Draft", published=False)
    titles = [c["title"] for c in as_viewer.get("/api/v1/event/category").json()["results"]]
    assert titles == ["Public"]


def test_viewer_sees_nothing_under_an_unpublished_ancestor(as_viewer):
    """A published event under an unpublished category is hidden, and so are its properties:
    in lists, by id, by parent_id and in the resource query."""
    draft = EventCategoryFactory(title="Draft", published=False)
    event = EventFactory(title="Under draft", parent=draft, published=True)
    prop = EventPropertyFactory(title="under_draft", parent=event, published=True)
    assert as_viewer.get("/api/v1/event/events").json()["results"] == []
    assert as_viewer.get("/api/v1/event/event_properties").json()["count"] == 0
    for url in (
        f"/api/v1/event/events/{event.pk}",
        f"/api/v1/event/event_properties/{prop.pk}",
        f"/api/v1/resource/all/{prop.pk}",
        f"/api/v1/event/events/{event.pk}/history",
    ):
        response = as_viewer.get(url)
        assert response.status_code == 404, url
        assert response.json() == {"detail": "Not found."}
    by_parent = as_viewer.get("/api/v1/event/events", {"parent_id": str(draft.pk)}).json()
    assert by_parent["count"] == 0
    query = {"operator": "exact", "field": "parent_id", "value": str(event.pk)}
    body = as_viewer.get("/api/v1/resource/catalog", {"filter": json.dumps(query)}).json()
    assert body["results"] == []


def test_viewers_do_not_see_other_peoples_email_addresses(as_viewer, as_editor, viewer, editor):
    users = {u["username"]: u for u in as_viewer.get("/api/v1/user/users").json()["results"]}
    assert users["editor"]["email"] is None
    assert users["viewer"]["email"] == viewer.email  # their own
    assert as_viewer.get(f"/api/v1/user/users/{editor.pk}").json()["email"] is None
    assert as_viewer.get("/api/v1/user/me").json()["email"] == viewer.email
    seen_by_editor = as_editor.get(f"/api/v1/user/users/{viewer.pk}").json()
    assert seen_by_editor["email"] == viewer.email


def test_everyone_may_switch_to_a_daily_digest(as_viewer, viewer):
    response = as_viewer.patch("/api/v1/user/me", {"email_frequency": "daily"}, format="json")
    assert response.status_code == 200
    assert response.json()["email_frequency"] == "daily"
    viewer.refresh_from_db()
    assert viewer.email_frequency == "daily"
    # The role is read-only here (sent back as read, it is ignored, like every read-only field).
    ignored = as_viewer.patch("/api/v1/user/me", {"role": "admin"}, format="json")
    assert ignored.json()["role"] == "viewer"
    viewer.refresh_from_db()
    assert viewer.role == "viewer"
    bad = as_viewer.patch("/api/v1/user/me", {"email_frequency": "hourly"}, format="json")
    assert bad.json() == {"email_frequency": ['"hourly" is not a valid choice.']}


def test_viewers_cannot_probe_email_addresses_with_the_filter(as_viewer, as_editor, editor):
    refused = as_viewer.get("/api/v1/user/users", {"email": editor.email})
    assert refused.status_code == 400
    assert refused.json() == {"email": ["Only editors and admins can filter by email."]}
    found = as_editor.get("/api/v1/user/users", {"email": editor.email}).json()["results"]
    assert [u["username"] for u in found] == ["editor"]
