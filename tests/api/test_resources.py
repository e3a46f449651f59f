"""Categories, events and properties: the seed's routes, fields, filters and errors."""

import uuid

import pytest

from catalog.models import Event, EventCategory, EventProperty, Resource
from tests.factories import (
    CollectionFactory,
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    IntegrationFactory,
    TagFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

COMMON_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "entity_type",
    "title",
    "description",
    "definition",
    "pii",
    "verified",
    "published",
    "integration",
    "parent",
    "owners_groups",
    "owners",
    "teams",
    "tags",
    "collections",
    "subscribers",
}
PROPERTY_FIELDS = {"data_type", "required", "allowed_values", "examples"}
#: Events and properties only: what arrives (tests/test_tracking_read.py).
TRACKING_FIELDS = {"first_seen_at", "last_seen_at", "volume_7d", "volume_30d"}
ROUTES = {
    "category": "/api/v1/event/category",
    "event": "/api/v1/event/events",
    "property": "/api/v1/event/event_properties",
}


@pytest.fixture
def prop():
    return EventPropertyFactory(title="revenue", data_type="number")


# --- reading -------------------------------------------------------------------------------


def test_list_has_the_seed_pagination_shape(as_editor, prop):
    body = as_editor.get(ROUTES["property"]).json()
    assert set(body) == {"links", "meta", "count", "total_pages", "results"}
    assert body["links"] == {"next": None, "previous": None}
    assert body["meta"] == {
        "page": 1,
        "previous_page": None,
        "next_page": None,
        "count_is_exact": True,
    }
    assert (body["count"], body["total_pages"]) == (1, 1)


def test_each_kind_lists_only_its_own(as_editor, prop):
    for kind, expected in [
        ("category", prop.parent.parent),
        ("event", prop.parent),
        ("property", prop),
    ]:
        results = as_editor.get(ROUTES[kind]).json()["results"]
        assert [row["id"] for row in results] == [str(expected.pk)], kind


def test_fields_of_each_kind(as_editor, prop):
    owner, tag, team = UserFactory(), TagFactory(), TeamFactory()
    collection, subscriber = CollectionFactory(), UserFactory()
    prop.owners.add(owner)
    prop.tags.add(tag)
    prop.teams.add(team)
    prop.collections.add(collection)
    prop.subscribers.add(subscriber)
    body = as_editor.get(f"{ROUTES['property']}/{prop.pk}").json()
    assert set(body) == COMMON_FIELDS | PROPERTY_FIELDS | TRACKING_FIELDS
    assert body["entity_type"] == "event_property"
    assert body["id"] == str(prop.pk)  # dashed
    assert body["integration"] == str(prop.integration_id)
    assert body["parent"] == str(prop.parent_id)
    assert body["owners"] == [str(owner.pk)]
    assert body["tags"] == [str(tag.pk)]
    assert body["teams"] == [str(team.pk)]
    assert body["collections"] == [str(collection.pk)]
    assert body["subscribers"] == [str(subscriber.pk)]
    assert body["data_type"] == "number"
    event = as_editor.get(f"{ROUTES['event']}/{prop.parent_id}").json()
    assert set(event) == COMMON_FIELDS | TRACKING_FIELDS
    category = as_editor.get(f"{ROUTES['category']}/{prop.parent.parent_id}").json()
    assert set(category) == COMMON_FIELDS
    assert category["parent"] is None


@pytest.mark.parametrize("kind", ["category", "event", "property"])
def test_ids_with_or_without_dashes_and_trailing_slashes(as_editor, prop, kind):
    obj = {"category": prop.parent.parent, "event": prop.parent, "property": prop}[kind]
    for path in (
        f"{ROUTES[kind]}/{obj.pk}",
        f"{ROUTES[kind]}/{obj.pk.hex}",
        f"{ROUTES[kind]}/{obj.pk}/",
    ):
        response = as_editor.get(path)
        assert response.status_code == 200, path
        assert response.json()["id"] == str(obj.pk)
    assert as_editor.get(f"{ROUTES[kind]}/").status_code == 200


@pytest.mark.parametrize("bad_id", ["nope", "12345", str(uuid.uuid4()), "0" * 33])
def test_unknown_or_malformed_ids_are_404(as_editor, prop, bad_id):
    for route in ROUTES.values():
        assert as_editor.get(f"{route}/{bad_id}").status_code == 404
        assert as_editor.patch(f"{route}/{bad_id}", {}, format="json").status_code == 404
        assert as_editor.delete(f"{route}/{bad_id}").status_code == 404


def test_an_id_of_another_kind_is_404(as_editor, prop):
    assert as_editor.get(f"{ROUTES['event']}/{prop.pk}").status_code == 404
    assert as_editor.get(f"{ROUTES['property']}/{prop.parent_id}").status_code == 404


def test_filters_title_integration_and_parent(as_editor):
    integration = IntegrationFactory()
    landing = EventCategoryFactory(title="Landing Page", integration=integration)
    other = EventCategoryFactory(title="Checkout")
    clicked = EventFactory(title="Clicked", parent=landing)
    EventFactory(title="Viewed", parent=landing)
    EventFactory(title="Clicked", parent=other)
    prop_a = EventPropertyFactory(title="button", parent=clicked)
    EventPropertyFactory(title="button")

    def ids(route, **params):
        return {row["id"] for row in as_editor.get(route, params).json()["results"]}

    assert ids(ROUTES["category"], title="Landing Page") == {str(landing.pk)}
    assert ids(ROUTES["event"], title="Clicked") == {
        str(clicked.pk),
        str(Event.objects.get(title="Clicked", parent=other).pk),
    }
    assert ids(ROUTES["event"], integration_id=integration.pk.hex) == {
        str(clicked.pk),
        str(Event.objects.get(title="Viewed").pk),
    }
    assert ids(ROUTES["event"], parent_id=str(landing.pk), title="Clicked") == {str(clicked.pk)}
    assert ids(ROUTES["property"], parent_id=str(clicked.pk)) == {str(prop_a.pk)}
    assert ids(ROUTES["property"], integration_id=str(integration.pk)) == {str(prop_a.pk)}
    assert ids(ROUTES["property"], title="button") == {
        str(pk) for pk in EventProperty.objects.values_list("pk", flat=True)
    }


@pytest.mark.parametrize("param", ["integration_id", "parent_id"])
def test_a_malformed_filter_id_is_400(as_editor, param):
    response = as_editor.get(ROUTES["event"], {param: "not-a-uuid"})
    assert response.status_code == 400
    assert param in response.json()


def test_pages(as_editor):
    category = EventCategoryFactory()
    for i in range(5):
        EventFactory(title=f"Event {i:02}", parent=category)
    first = as_editor.get(ROUTES["event"], {"page_size": 2}).json()
    assert (first["count"], first["total_pages"]) == (5, 3)
    assert first["meta"] == {
        "page": 1,
        "previous_page": None,
        "next_page": 2,
        "count_is_exact": True,
    }
    assert "page=2" in first["links"]["next"]
    second = as_editor.get(ROUTES["event"], {"page_size": 2, "page": 2}).json()
    assert second["meta"] == {
        "page": 2,
        "previous_page": 1,
        "next_page": 3,
        "count_is_exact": True,
    }
    assert [r["title"] for r in second["results"]] == ["Event 02", "Event 03"]
    assert as_editor.get(ROUTES["event"], {"page": 9}).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "x"}, "page"),
        ({"page": "0"}, "page"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"page_size": "many"}, "page_size"),
        ({"page": "51", "page_size": "200"}, "page"),
    ],
)
def test_bad_paging_is_400(as_editor, params, field):
    response = as_editor.get(ROUTES["event"], params)
    assert response.status_code == 400
    assert field in response.json()


def test_default_page_size_is_50_and_200_is_the_most(as_editor):
    category = EventCategoryFactory()
    Event.objects.bulk_create(
        [
            Event(title=f"E{i:03}", parent=category, integration=category.integration)
            for i in range(201)
        ]
    )
    assert len(as_editor.get(ROUTES["event"]).json()["results"]) == 50
    assert len(as_editor.get(ROUTES["event"], {"page_size": 200}).json()["results"]) == 200


@pytest.mark.parametrize("page_size", [1, 200])
@pytest.mark.parametrize("kind", ["category", "event", "property"])
def test_lists_cost_a_constant_number_of_queries(
    as_editor, django_assert_max_num_queries, page_size, kind
):
    integration = IntegrationFactory()
    category = EventCategoryFactory(integration=integration)
    event = EventFactory(parent=category)
    owner, tag = UserFactory(), TagFactory()
    kind_type = {"category": "event_category", "event": "event", "property": "event_property"}
    parent = {"category": None, "event": category, "property": event}[kind]
    created = Resource.objects.bulk_create(
        [
            Resource(
                entity_type=kind_type[kind],
                title=f"A row {i:03}",  # sorts before the fixtures' own rows
                integration=integration,
                parent=parent,
                published=True,
            )
            for i in range(210)
        ]
    )
    Resource.owners.through.objects.bulk_create(
        [Resource.owners.through(resource_id=r.pk, user_id=owner.pk) for r in created]
    )
    Resource.tags.through.objects.bulk_create(
        [Resource.tags.through(resource_id=r.pk, tag_id=tag.pk) for r in created]
    )
    as_editor.get(ROUTES[kind])  # the key's first use writes last_used_at once
    with django_assert_max_num_queries(8):
        response = as_editor.get(ROUTES[kind], {"page_size": page_size})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == page_size
    assert all(row["owners"] == [str(owner.pk)] for row in results)
    assert all(row["tags"] == [str(tag.pk)] for row in results)


def test_detail_costs_a_constant_number_of_queries(as_editor, prop, django_assert_max_num_queries):
    prop.tags.add(TagFactory(), TagFactory())
    as_editor.get(ROUTES["property"])
    with django_assert_max_num_queries(4):
        assert as_editor.get(f"{ROUTES['property']}/{prop.pk}").status_code == 200


# --- creating ------------------------------------------------------------------------------


def test_create_a_category_as_the_seed_does(as_editor):
    integration, team = IntegrationFactory(), TeamFactory()
    response = as_editor.post(
        ROUTES["category"],
        {"title": "Landing Page", "integration": integration.pk.hex, "teams": [team.pk.hex]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["entity_type"] == "event_category"
    assert body["teams"] == [str(team.pk)]
    assert EventCategory.objects.get(pk=body["id"]).integration == integration


def test_create_an_event_with_every_patch_field(as_editor, editor):
    category = EventCategoryFactory()
    tag, team, collection = TagFactory(), TeamFactory(), CollectionFactory()
    response = as_editor.post(
        ROUTES["event"],
        {
            "title": "Order Completed",
            "parent": str(category.pk),
            "integration": str(category.integration_id),
            "description": "An order was paid.",
            "definition": "# Order Completed\n\nSent once per order.",
            "pii": "False",
            "verified": "True",
            "published": True,
            "teams": [str(team.pk)],
            "owners": [str(editor.pk)],
            "collections": [str(collection.pk)],
            "tags": [str(tag.pk)],
            "subscribers": [str(editor.pk)],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["verified"] is True and body["pii"] is False and body["published"] is True
    assert body["definition"].startswith("# Order Completed")
    assert body["subscribers"] == [str(editor.pk)] and body["collections"] == [str(collection.pk)]


def test_an_event_takes_its_categorys_integration_by_default(as_editor):
    category = EventCategoryFactory()
    response = as_editor.post(
        ROUTES["event"], {"title": "Signed Up", "parent": str(category.pk)}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["integration"] == str(category.integration_id)


def test_create_a_property(as_editor, prop):
    response = as_editor.post(
        ROUTES["property"],
        {
            "title": "currency",
            "parent": prop.parent_id.hex,
            "data_type": "string",
            "required": True,
            "allowed_values": ["EUR", "USD"],
            "examples": ["EUR"],
            "pii": False,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["data_type"], body["required"], body["allowed_values"]) == (
        "string",
        True,
        ["EUR", "USD"],
    )


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        ("category", {"integration": "{integration}"}, "title"),
        ("category", {"title": "No integration"}, "integration"),
        ("category", {"title": "x", "integration": str(uuid.uuid4())}, "integration"),
        ("category", {"title": "x", "integration": "garbage"}, "integration"),
        ("event", {"title": "Orphan"}, "parent"),
        ("event", {"title": "x", "parent": "{event}"}, "parent"),
        ("event", {"title": "x", "parent": "{category}", "integration": "{other}"}, "parent"),
        ("event", {"title": "x", "parent": "{category}", "pii": "perhaps"}, "pii"),
        ("event", {"title": "x", "parent": "{category}", "tags": ["{event}"]}, "tags"),
        ("event", {"title": "x", "parent": "{category}", "owners": "{event}"}, "owners"),
        ("event", {"title": "x", "parent": "{category}", "data_type": "string"}, "data_type"),
        ("event", {"title": "Existing", "parent": "{category}"}, "title"),
        ("property", {"title": "p", "parent": "{category}"}, "parent"),
        ("property", {"title": "p", "parent": "{event}", "data_type": "colour"}, "data_type"),
        ("property", {"title": "p", "parent": "{event}", "allowed_values": "a"}, "allowed_values"),
        ("property", {"title": "", "parent": "{event}"}, "title"),
    ],
)
def test_bad_bodies_are_400_with_field_messages(as_editor, kind, body, field):
    event = EventFactory(title="Existing")
    refs = {
        "integration": str(event.integration_id),
        "category": str(event.parent_id),
        "event": str(event.pk),
        "other": str(IntegrationFactory().pk),
    }

    def fill(value):
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value.format(**refs) if isinstance(value, str) else value

    response = as_editor.post(ROUTES[kind], {k: fill(v) for k, v in body.items()}, format="json")
    assert response.status_code == 400, response.json()
    errors = response.json()
    key = "non_field_errors" if field == "__all__" else field
    assert key in errors, errors
    assert Resource.objects.count() == 2


def test_a_body_that_is_not_json_is_400(as_editor):
    response = as_editor.post(ROUTES["event"], "{nope", content_type="application/json")
    assert response.status_code == 400
    response = as_editor.post(ROUTES["event"], [1, 2], format="json")
    assert response.status_code == 400


# --- updating and deleting ----------------------------------------------------------------


def test_patch_every_seed_field(as_editor, prop):
    owner, tag, team = UserFactory(), TagFactory(), TeamFactory()
    collection = CollectionFactory()
    prop.tags.add(TagFactory())
    response = as_editor.patch(
        f"{ROUTES['property']}/{prop.pk.hex}",
        {
            "description": "Revenue in the order's currency.",
            "definition": "\n# Castae illa\n",
            "pii": "True",
            "verified": True,
            "published": False,
            "teams": [str(team.pk)],
            "owners": [str(owner.pk)],
            "collections": [collection.pk.hex],
            "tags": [str(tag.pk)],
            "subscribers": [],
            "required": True,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    prop.refresh_from_db()
    assert prop.description == "Revenue in the order's currency."
    assert prop.pii and prop.verified and not prop.published and prop.required
    assert list(prop.tags.all()) == [tag]  # replaced, not added
    assert list(prop.owners.all()) == [owner]
    assert response.json()["tags"] == [str(tag.pk)]


def test_patch_leaves_other_fields_alone(as_editor, prop):
    prop.description = "Keep me"
    prop.save()
    prop.tags.add(TagFactory())
    as_editor.patch(f"{ROUTES['property']}/{prop.pk}", {"pii": True}, format="json")
    prop.refresh_from_db()
    assert prop.description == "Keep me" and prop.tags.count() == 1


def test_patch_can_rename_and_move_but_not_change_integration(as_editor, prop):
    event = prop.parent
    other = EventCategoryFactory(integration=event.integration)
    response = as_editor.patch(
        f"{ROUTES['event']}/{event.pk}",
        {"title": "Renamed", "parent": str(other.pk), "integration": str(event.integration_id)},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["parent"] == str(other.pk)
    response = as_editor.patch(
        f"{ROUTES['event']}/{event.pk}",
        {"integration": str(IntegrationFactory().pk)},
        format="json",
    )
    assert response.status_code == 400
    assert "integration" in response.json()


def test_patch_errors(as_editor, prop):
    url = f"{ROUTES['event']}/{prop.parent_id}"
    response = as_editor.patch(url, {"verified": "yes please", "colour": "red"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"verified", "colour"}
    assert as_editor.patch(url, {"owners": ["nope"]}, format="json").status_code == 400
    assert as_editor.patch(url, {"teams": None}, format="json").status_code == 400


def test_put_is_not_offered(as_editor, prop):
    assert (
        as_editor.put(f"{ROUTES['event']}/{prop.parent_id}", {}, format="json").status_code == 405
    )


@pytest.mark.parametrize("kind", ["category", "event", "property"])
def test_delete_answers_200_with_a_body(as_editor, prop, kind):
    obj = {"category": prop.parent.parent, "event": prop.parent, "property": prop}[kind]
    response = as_editor.delete(f"{ROUTES[kind]}/{obj.pk}")
    assert response.status_code == 200
    assert response.json() == {"id": str(obj.pk), "deleted": True}
    assert not Resource.objects.filter(pk=obj.pk).exists()
    assert not EventProperty.objects.filter(pk=prop.pk).exists()  # children go too


def test_fields_existing_clients_send_are_accepted(as_editor):
    """Clients written for the seed send `entity_type`, `owners_groups` and null ids."""
    category = EventCategoryFactory()
    response = as_editor.post(
        ROUTES["event"],
        {
            "title": "Clicked",
            "description": "",
            "entity_type": "event",
            "integration": None,
            "parent": str(category.pk),
            "owners_groups": [],
            "teams": [],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["integration"] == str(category.integration_id)
    assert response.json()["owners_groups"] == []
    unknown = str(uuid.uuid4())
    response = as_editor.post(
        ROUTES["event"],
        {"title": "Grouped", "parent": str(category.pk), "owners_groups": [unknown]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "owners_groups": [f'Invalid pk "{unknown}" - object does not exist.']
    }
