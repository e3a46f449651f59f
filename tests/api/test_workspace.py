"""Tags, collections, teams, integrations, users and API keys over the API."""

import pytest
from rest_framework.test import APIClient

from catalog.models import ApiKey, Collection, Integration, Tag, Team
from catalog.services.keys import api_key_authenticate
from tests.factories import (
    SYSTEM,
    CollectionFactory,
    EventFactory,
    IntegrationFactory,
    TagFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("route", "model", "body", "change"),
    [
        ("/api/v1/tag/tags", Tag, {"title": "checkout"}, {"description": "Checkout flow"}),
        (
            "/api/v1/collection/collections",
            Collection,
            {"title": "Funnel", "description": "Steps"},
            {"title": "Funnel v2"},
        ),
        ("/api/v1/team/teams", Team, {"name": "Growth"}, {"description": "Growth team"}),
        (
            "/api/v1/integration/integrations",
            Integration,
            {"name": "Web", "type": "segment"},
            {"description": "The web app"},
        ),
    ],
)
def test_create_read_update_delete(as_admin, route, model, body, change):
    created = as_admin.post(route, body, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert as_admin.get(f"{route}/{pk}").json()["id"] == pk
    assert as_admin.get(route).json()["count"] == 1
    updated = as_admin.patch(f"{route}/{pk.replace('-', '')}/", change, format="json")
    assert updated.status_code == 200, updated.json()
    for field, value in change.items():
        assert updated.json()[field] == value
    assert as_admin.delete(f"{route}/{pk}").json() == {"id": pk, "deleted": True}
    assert not model.objects.exists()


def test_duplicate_and_bad_bodies_are_400(as_editor, as_admin):
    TagFactory(title="checkout")
    response = as_editor.post("/api/v1/tag/tags", {"title": "checkout"}, format="json")
    assert response.status_code == 400 and "title" in response.json()
    response = as_editor.post("/api/v1/tag/tags", {"title": "x", "colour": "red"}, format="json")
    assert response.status_code == 400 and "colour" in response.json()
    response = as_admin.post(
        "/api/v1/integration/integrations", {"name": "X", "type": "carrier-pigeon"}, format="json"
    )
    assert response.status_code == 400 and "type" in response.json()
    response = as_admin.post(
        "/api/v1/team/teams", {"name": "T", "members": ["not-an-id"]}, format="json"
    )
    assert response.status_code == 400 and "members" in response.json()


def test_filters(as_viewer):
    CollectionFactory(title="Checkout funnel")
    CollectionFactory(title="Onboarding")
    TeamFactory(name="Growth")
    IntegrationFactory(name="Web", type="segment")
    IntegrationFactory(name="iOS", type="amplitude")

    def names(route, key, **params):
        return [row[key] for row in as_viewer.get(route, params).json()["results"]]

    assert names("/api/v1/collection/collections", "title", title="Onboarding") == ["Onboarding"]
    assert names("/api/v1/team/teams", "name", name="Growth") == ["Growth"]
    assert names("/api/v1/integration/integrations", "name", type="amplitude") == ["iOS"]
    assert names("/api/v1/user/users", "username", role="viewer") == ["viewer"]


def test_integration_and_team_relations(as_admin, editor):
    team = TeamFactory()
    response = as_admin.post(
        "/api/v1/integration/integrations",
        {"name": "Backend", "type": "custom", "teams": [team.pk.hex]},
        format="json",
    )
    assert response.json()["teams"] == [str(team.pk)]
    response = as_admin.patch(
        f"/api/v1/team/teams/{team.pk}", {"members": [str(editor.pk)]}, format="json"
    )
    assert response.json()["members"] == [str(editor.pk)]
    me = as_admin.get(f"/api/v1/user/users/{editor.pk}").json()
    assert me["teams"] == [str(team.pk)]


def test_integration_validation_mode(as_admin):
    response = as_admin.post(
        "/api/v1/integration/integrations", {"name": "Web", "type": "segment"}, format="json"
    )
    assert response.json()["validation_mode"] == "discover"
    url = f"/api/v1/integration/integrations/{response.json()['id']}"
    response = as_admin.patch(url, {"validation_mode": "block"}, format="json")
    assert response.json()["validation_mode"] == "block"
    assert Integration.objects.get().validation_mode == "block"
    response = as_admin.patch(url, {"validation_mode": "strict"}, format="json")
    assert response.status_code == 400
    assert response.json()["validation_mode"] == ['"strict" is not a valid choice.']


@pytest.mark.parametrize(
    ("route", "queries"),
    [
        ("/api/v1/tag/tags", 6),
        # Key, count, page and one prefetch per many-to-many field (six).
        ("/api/v1/collection/collections", 9),
        ("/api/v1/team/teams", 6),
        ("/api/v1/integration/integrations", 6),
        ("/api/v1/user/users", 6),
    ],
)
def test_lists_cost_a_constant_number_of_queries(
    as_admin, django_assert_max_num_queries, route, queries
):
    team, tag = TeamFactory(), TagFactory()
    for _ in range(30):
        TagFactory()
        CollectionFactory().tags.add(tag)
        TeamFactory().members.add(UserFactory())
        IntegrationFactory().teams.add(team)
    as_admin.get(route)
    with django_assert_max_num_queries(queries):
        response = as_admin.get(route, {"page_size": 200})
    assert response.json()["count"] >= 30


def test_inactive_users_are_hidden_and_a_new_user_needs_an_email_and_a_role(as_admin):
    UserFactory(username="gone", is_active=False)
    names = [u["username"] for u in as_admin.get("/api/v1/user/users").json()["results"]]
    assert "gone" not in names
    response = as_admin.post("/api/v1/user/users", {"username": "x"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "email": ["This field is required."],
        "role": ["This field is required."],
    }


# --- API keys -------------------------------------------------------------------------------


@pytest.fixture
def viewer_session(viewer):
    """A viewer logged in with a browser session: keys are made there, not with a key."""
    client = APIClient()
    client.force_login(viewer)
    return client


def test_key_lifecycle(viewer_session, viewer):
    as_viewer = viewer_session
    created = as_viewer.post("/api/v1/user/api_keys", {"name": "notebook"}, format="json")
    assert created.status_code == 201
    body = created.json()
    secret = body["key"]
    assert api_key_authenticate(secret).user == viewer
    listed = as_viewer.get("/api/v1/user/api_keys").json()["results"]
    assert "notebook" in [k["name"] for k in listed]
    assert all("key" not in k and "key_hash" not in k for k in listed)  # shown once only
    assert as_viewer.get(f"/api/v1/user/api_keys/{body['id']}").json()["prefix"] == body["prefix"]
    revoked = as_viewer.delete(f"/api/v1/user/api_keys/{body['id']}")
    assert revoked.json() == {"id": body["id"], "deleted": True}
    assert api_key_authenticate(secret) is None
    assert ApiKey.objects.get(pk=body["id"]).revoked_at is not None


def test_keys_of_other_users_are_404(as_viewer, editor):
    from catalog.services.keys import api_key_create

    key, _ = api_key_create(ctx=SYSTEM, user=editor)
    assert as_viewer.get(f"/api/v1/user/api_keys/{key.pk}").status_code == 404
    assert as_viewer.delete(f"/api/v1/user/api_keys/{key.pk}").status_code == 404
    assert as_viewer.delete("/api/v1/user/api_keys/nonsense").status_code == 404


def test_an_api_key_cannot_create_api_keys(as_editor, editor):
    response = as_editor.post("/api/v1/user/api_keys", {"name": "leaked"}, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "An API key can't create API keys; create them while logged in, in the "
        "admin or with `manage.py create_api_key`."
    }
    assert not editor.api_keys.filter(name="leaked").exists()


def test_a_key_created_by_a_viewer_stays_a_viewer(viewer_session):
    secret = viewer_session.post("/api/v1/user/api_keys", {}, format="json").json()["key"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    event = EventFactory()
    assert (
        client.patch(f"/api/v1/event/events/{event.pk}", {"pii": True}, format="json").status_code
        == 403
    )


# --- schema and docs ------------------------------------------------------------------------


def test_openapi_schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in [
        "/api/v1/event/category",
        "/api/v1/event/category/{id}",
        "/api/v1/event/events",
        "/api/v1/event/events/{id}",
        "/api/v1/event/event_properties",
        "/api/v1/event/event_properties/{id}",
        "/api/v1/resource/catalog",
        "/api/v1/resource/all/{id}",
        "/api/v1/user/api_keys",
    ]:
        assert path in paths, path
    assert paths["/api/v1/event/events"]["get"]["deprecated"] is True
    params = {p["name"] for p in paths["/api/v1/event/events"]["get"]["parameters"]}
    assert {"integration_id", "parent_id", "title", "page", "page_size"} <= params
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            assert operation.get("description"), f"{method} {path} has no description"
            assert "401" in operation["responses"], f"{method} {path} documents no 401"
            # JSON only: generated clients break on the same body offered as form/multipart.
            # A file to import is the one other body: bytes, as they are.
            body = operation.get("requestBody", {}).get("content", {"application/json": {}})
            assert list(body) in (["application/json"], ["application/octet-stream"]), (
                f"{method} {path}: {list(body)}"
            )
    assert "ApiKey" in schema["components"]["securitySchemes"]
    # Every component says what it is for a reader of the API docs; enums list their values'
    # meanings. Implementation notes (a mixin's docstring, say) don't belong there.
    for name, component in schema["components"]["schemas"].items():
        description = component.get("description", "")
        assert description.strip(), f"{name} has no description"
        for internal in ("Refuse", "internal", "silent no-op", "the view reads"):
            assert internal not in description, f"{name}: {description}"
        for value in component.get("enum", []):
            assert f"* `{value}` - " in description, f"{name} doesn't describe {value!r}"


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_are_served_offline(client, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower()
