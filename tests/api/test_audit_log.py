"""GET /api/v1/changes: the audit log, as each role may read it, its filters and its cost."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import ChangeSet, ChangeSource, Collection, Role, Tag, User
from catalog.services.context import ChangeContext
from catalog.services.resources import resource_create, resource_update, resources_bulk_update
from catalog.services.workspace import (
    user_create,
    user_deactivate,
    workspace_object_create,
    workspace_object_update,
)
from catalog.services.writekeys import write_key_create
from tests.factories import (
    SYSTEM,
    EventCategoryFactory,
    EventFactory,
    IntegrationFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/changes"


def ctx_of(user, request_id="req-1", source=ChangeSource.API) -> ChangeContext:
    return ChangeContext(source=source, user=user, request_id=request_id)


def changes_of(body) -> list[tuple[str, str]]:
    """(object_type, title) of every change listed, newest set first."""
    return [(c["object_type"], c["title"]) for s in body["results"] for c in s["changes"]]


@pytest.fixture
def catalog(admin_user, editor):
    """A mix of changes, each made by a real service: a published event, a draft event, a
    published event under a draft category, a tag, collections, a user and a write key."""
    published = EventCategoryFactory(title="Checkout")
    draft_category = EventCategoryFactory(title="Secret plans", published=False)
    shown = EventFactory(title="Order Completed", parent=published)
    draft = EventFactory(title="Draft Event", parent=published, published=False)
    hidden_by_parent = EventFactory(title="Under a draft", parent=draft_category)
    tag = TagFactory(title="checkout")
    by_editor = ctx_of(editor, "edit-1")
    resource_update(ctx=by_editor, resource=shown, data={"description": "Paid"})
    resource_update(ctx=by_editor, resource=draft, data={"description": "Soon"})
    resource_update(ctx=by_editor, resource=hidden_by_parent, data={"description": "Shh"})
    workspace_object_update(ctx=by_editor, obj=tag, data={"description": "Cart"})
    workspace_object_create(
        ctx=by_editor, model=Collection, data={"title": "Funnel", "published": True}
    )
    workspace_object_create(
        ctx=by_editor, model=Collection, data={"title": "Draft funnel", "published": False}
    )
    by_admin = ctx_of(admin_user, "admin-1", ChangeSource.ADMIN)
    user_create(ctx=by_admin, username="newbie", email="n@example.com")
    write_key_create(ctx=by_admin, integration=shown.integration, name="Web")
    # One call that changes a visible and a draft event: one change set.
    resources_bulk_update(ctx=by_admin, resources=[shown, draft], data={"pii": True})
    return {"shown": shown, "draft": draft, "tag": tag, "category": published}


def test_a_change_set_as_the_audit_log_shows_it(as_admin, editor):
    tag = TagFactory(title="checkout")
    workspace_object_update(ctx=ctx_of(editor, "ci-42"), obj=tag, data={"description": "Cart"})
    body = as_admin.get(URL, {"actor": str(editor.pk)}).json()
    assert body["count"] == 1 and body["total_pages"] == 1
    assert body["meta"]["count_is_exact"] is True
    (result,) = body["results"]
    stored = ChangeSet.objects.get(actor=editor)
    assert result == {
        "id": str(stored.pk),
        "created_at": stored.created_at.isoformat().replace("+00:00", "Z"),
        "actor": {"id": str(editor.pk), "name": str(editor), "api_key": None, "integration": None},
        "source": "api",
        "request_id": "ci-42",
        "reverts": None,
        "changes": [
            {
                "object_type": "tag",
                "object_id": str(tag.pk),
                "title": "checkout",
                "action": "update",
                "diff": {"description": ["", "Cart"]},
            }
        ],
    }
    assert as_admin.get(f"{URL}/{stored.pk}").json() == result
    assert as_admin.get(f"{URL}/{stored.pk.hex}/").json() == result


def test_a_category_is_a_category(as_editor, editor):
    integration = IntegrationFactory()
    category = resource_create(
        ctx=ctx_of(editor),
        entity_type="event_category",
        data={"title": "Checkout", "integration": integration},
    )
    body = as_editor.get(URL, {"object_type": "category"}).json()
    assert [(c["object_type"], c["object_id"]) for s in body["results"] for c in s["changes"]] == [
        ("category", str(category.pk))
    ]
    response = as_editor.get(URL, {"object_type": "event_category"})
    assert response.status_code == 400 and "object_type" in response.json()


def test_admins_see_everything(as_admin, catalog):
    body = as_admin.get(URL, {"page_size": 200}).json()
    kinds = {c["object_type"] for s in body["results"] for c in s["changes"]}
    assert {"event", "tag", "collection", "user", "write_key", "api_key"} <= kinds
    bulk = body["results"][0]
    assert sorted(c["title"] for c in bulk["changes"]) == ["Draft Event", "Order Completed"]


def test_editors_see_the_catalog_not_the_people_or_keys(as_editor, catalog):
    body = as_editor.get(URL, {"page_size": 200}).json()
    bulk = sorted(changes_of(body)[:2])
    assert bulk == [("event", "Draft Event"), ("event", "Order Completed")]
    assert changes_of(body)[2:] == [
        ("collection", "Draft funnel"),
        ("collection", "Funnel"),
        ("tag", "checkout"),
        ("event", "Under a draft"),
        ("event", "Draft Event"),
        ("event", "Order Completed"),
    ]
    assert body["count"] == 7


def test_viewers_see_what_they_may_read_and_only_that(as_viewer, catalog):
    body = as_viewer.get(URL).json()
    assert changes_of(body) == [
        ("event", "Order Completed"),  # the draft event of the same set is left out
        ("collection", "Funnel"),
        ("event", "Order Completed"),
    ]
    assert body["count"] == 3
    draft_set = ChangeSet.objects.get(changes__title="Draft Event", request_id="edit-1")
    assert as_viewer.get(f"{URL}/{draft_set.pk}").status_code == 404
    assert as_viewer.get(URL, {"object_id": str(catalog["draft"].pk)}).json()["count"] == 0
    assert as_viewer.get(URL, {"object_type": "tag"}).json()["count"] == 0


def test_viewers_never_read_a_draft_parents_title(as_viewer, as_editor, editor, catalog):
    secret = EventCategoryFactory(
        title="Secret plans v2", published=False, integration=catalog["category"].integration
    )
    event = catalog["shown"]
    ctx = ctx_of(editor)
    resource_update(ctx=ctx, resource=event, data={"parent": secret})
    resource_update(ctx=ctx, resource=event, data={"parent": catalog["category"]})
    seen = as_viewer.get(URL, {"object_id": str(event.pk)}).json()["results"][0]
    hidden = {"id": str(secret.pk), "label": "(not visible to you)", "hidden": True}
    shown = {"id": str(catalog["category"].pk), "label": "Checkout"}
    assert seen["changes"][0]["diff"] == {"parent": [hidden, shown]}
    assert as_viewer.get(f"{URL}/{seen['id']}").json()["changes"][0]["diff"]["parent"][0] == hidden
    editors = as_editor.get(URL, {"object_id": str(event.pk)}).json()["results"][0]
    assert editors["changes"][0]["diff"]["parent"][0] == {
        "id": str(secret.pk),
        "label": "Secret plans v2",
    }


def test_each_filter(as_admin, admin_user, editor, catalog):
    def titles(**params):
        return changes_of(as_admin.get(URL, {"page_size": 200, **params}).json())

    assert titles(object_id=str(catalog["tag"].pk)) == [("tag", "checkout")]
    assert titles(object_type="write_key") == [("write_key", "Web (" + titles_prefix() + "…)")]
    assert [t for _, t in titles(actor=str(editor.pk), object_type="collection")] == [
        "Draft funnel",
        "Funnel",
    ]
    assert {kind for kind, _ in titles(source="admin")} == {"event", "user", "write_key"}
    # The object filters narrow each set's changes too.
    assert titles(object_id=str(catalog["draft"].pk), source="admin") == [("event", "Draft Event")]
    assert titles(actor=str(User.objects.get(username="newbie").pk)) == []
    now = timezone.now()
    assert titles(since=(now + dt.timedelta(minutes=1)).isoformat()) == []
    assert titles(until=(now - dt.timedelta(days=1)).date().isoformat()) == []
    everything = titles()
    day = now.date()
    assert titles(since=str(day - dt.timedelta(days=1)), until=str(day + dt.timedelta(days=1))) == (
        everything
    )
    ChangeSet.objects.filter(request_id="edit-1").update(created_at=now - dt.timedelta(days=3))
    # The editor's six calls shared a request id.
    assert len(titles(until=(now - dt.timedelta(days=2)).isoformat())) == 6
    assert len(titles(since=(now - dt.timedelta(days=2)).isoformat())) == len(everything) - 6


def titles_prefix() -> str:
    from catalog.models import WriteKey

    return WriteKey.objects.get().prefix


def test_newest_first_and_paged(as_editor, editor):
    tag = TagFactory(title="checkout")
    for n in range(5):
        workspace_object_update(ctx=ctx_of(editor, f"r{n}"), obj=tag, data={"description": str(n)})
    first = as_editor.get(URL, {"page_size": 2}).json()
    assert [s["request_id"] for s in first["results"]] == ["r4", "r3"]
    assert first["count"] == 5 and first["total_pages"] == 3
    assert first["links"]["next"].endswith("page=2&page_size=2")
    last = as_editor.get(URL, {"page_size": 2, "page": 3}).json()
    assert [s["request_id"] for s in last["results"]] == ["r0"]
    assert as_editor.get(URL, {"page_size": 2, "page": 4}).status_code == 404


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-01-01\x00"}, "since"),
        ({"until": "2026-02-30"}, "until"),
        ({"until": "9" * 5000}, "until"),
        ({"since": "9999-12-31T23:00:00-05:00"}, "since"),
        ({"since": "2026-01-01T00:00:00+16:00"}, "since"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
        ({"actor": "not-a-uuid"}, "actor"),
        ({"actor": "1" * 400}, "actor"),
        ({"object_id": "\x00"}, "object_id"),
        ({"object_id": "123456789012345678901234567890123456789"}, "object_id"),
        ({"object_type": "resource"}, "object_type"),
        ({"source": "\x00"}, "source"),
        ({"page": "99999999999999999999"}, "page"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_ugly_parameters_are_a_400_naming_them(as_editor, params, named):
    response = as_editor.get(URL, params)
    assert response.status_code == 400, response.content
    assert named in response.json(), response.json()


@pytest.mark.parametrize(
    "path",
    ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "1" * 300, "%00", "12345678" * 4 + "0"],
)
def test_an_unknown_or_malformed_id_is_a_json_404(as_admin, path):
    response = as_admin.get(f"{URL}/{path}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_editors_get_a_404_for_a_set_of_keys(as_editor, admin_user):
    write_key_create(ctx=ctx_of(admin_user), integration=IntegrationFactory(), name="Web")
    change_set = ChangeSet.objects.get(changes__object_type="write_key")
    assert as_editor.get(f"{URL}/{change_set.pk}").status_code == 404


def test_strangers_and_the_deactivated_are_refused(editor, admin_user):
    assert APIClient().get(URL).status_code == 401
    from tests.conftest import _client_for

    client = _client_for(editor)
    assert client.get(URL).status_code == 200
    user_deactivate(ctx=ctx_of(admin_user), user=editor)
    response = client.get(URL)
    assert response.status_code in (401, 403)
    assert "detail" in response.json()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.EDITOR, Role.VIEWER])
def test_a_page_costs_the_same_queries_whatever_its_size(
    role, django_assert_max_num_queries, editor
):
    from tests.conftest import _client_for

    reader = UserFactory(role=role)
    client = _client_for(reader)
    category = EventCategoryFactory(title="Checkout")
    draft = EventCategoryFactory(title="Draft", published=False, integration=category.integration)
    ctx = ctx_of(editor)

    def grow(n):
        for _ in range(n):
            event = EventFactory(parent=category)
            resource_update(ctx=ctx, resource=event, data={"parent": draft})
            resource_update(ctx=ctx, resource=event, data={"parent": category})
            workspace_object_create(ctx=ctx, model=Tag, data={"title": f"t{Tag.objects.count()}"})

    grow(1)
    client.get(URL)  # the key's last use is recorded at most once a minute
    # Key, page, its changes, and at most two for the labels a viewer may not see.
    with django_assert_max_num_queries(5):
        small = client.get(URL, {"page_size": 200})
    grow(20)
    with django_assert_max_num_queries(5):
        large = client.get(URL, {"page_size": 200})
    assert len(large.json()["results"]) > len(small.json()["results"]) >= 2


def test_the_schema_describes_the_audit_log(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    listing = schema["paths"]["/api/v1/changes"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"object_type", "object_id", "actor", "source", "since", "until", "page"} <= names
    kind = next(p for p in listing["parameters"] if p["name"] == "object_type")
    assert "category" in kind["schema"]["enum"] and "event_category" not in kind["schema"]["enum"]
    assert set(schema["paths"]["/api/v1/changes/{id}"]["get"]["responses"]) >= {"200", "404"}


def test_user_records_do_not_leak_through_a_viewers_filters(as_viewer, admin_user):
    created = user_create(ctx=SYSTEM, username="x", email="x@example.com")
    assert as_viewer.get(URL, {"object_id": str(created.pk)}).json()["count"] == 0
    assert as_viewer.get(URL, {"object_type": "user"}).json()["results"] == []
