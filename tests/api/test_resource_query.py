"""The generic resource query: JSON filters and sorts compiled to one ORM query."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Resource
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
URL = "/api/v1/resource/catalog"


@pytest.fixture
def world():
    web, app = IntegrationFactory(name="Web"), IntegrationFactory(name="App")
    checkout = EventCategoryFactory(title="Checkout", integration=web)
    order = EventFactory(title="Order Completed", parent=checkout, pii=True, verified=True)
    viewed = EventFactory(
        title="Product Viewed", parent=checkout, description="A product page was opened"
    )
    signup = EventFactory(title="Signed Up", parent=EventCategoryFactory(integration=app))
    email = EventPropertyFactory(title="email", parent=signup, pii=True)
    revenue = EventPropertyFactory(title="revenue", parent=order, data_type="number")
    owner, tag, team, collection = UserFactory(), TagFactory(), TeamFactory(), CollectionFactory()
    order.owners.add(owner)
    order.tags.add(tag)
    email.tags.add(tag)
    viewed.teams.add(team)
    revenue.collections.add(collection)
    signup.subscribers.add(owner)
    return locals()


def query(client, filter_=None, sort=None, **params):
    if filter_ is not None:
        params["filter"] = filter_ if isinstance(filter_, str) else json.dumps(filter_)
    if sort is not None:
        params["sort"] = sort if isinstance(sort, str) else json.dumps(sort)
    return client.get(URL, params)


def titles(client, filter_=None, sort=None):
    response = query(client, filter_, sort)
    assert response.status_code == 200, response.json()
    return [row["title"] for row in response.json()["results"]]


def exact(field, value):
    return {"operator": "exact", "field": field, "value": value}


def test_the_seeds_own_examples(as_editor, world):
    assert titles(as_editor, exact("type", "event")) == [
        "Order Completed",
        "Product Viewed",
        "Signed Up",
    ]
    assert titles(as_editor, exact("id", str(world["order"].pk))) == ["Order Completed"]


def test_no_filter_returns_every_kind(as_editor, world):
    body = query(as_editor).json()
    assert body["count"] == Resource.objects.count()
    kinds = {row["entity_type"] for row in body["results"]}
    assert kinds == {"event_category", "event", "event_property"}
    prop = next(row for row in body["results"] if row["title"] == "revenue")
    assert prop["data_type"] == "number"
    event = next(row for row in body["results"] if row["title"] == "Signed Up")
    assert "data_type" not in event


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        (exact("entity_type", "event_property"), ["email", "revenue"]),
        ({"operator": "contains", "field": "title", "value": "ORDER"}, ["Order Completed"]),
        ({"operator": "contains", "field": "description", "value": "product"}, ["Product Viewed"]),
        (
            {"operator": "in", "field": "type", "value": ["event_category", "event_property"]},
            None,
        ),
        (exact("pii", True), ["email", "Order Completed"]),
        (exact("verified", "true"), ["Order Completed"]),
        ({"operator": "is_set", "field": "description", "value": True}, ["Product Viewed"]),
        ({"operator": "gte", "field": "title", "value": "S"}, ["Signed Up", "email", "revenue"]),
        ({"operator": "lte", "field": "title", "value": "C"}, ["App Category"]),
    ],
)
def test_field_operators(as_editor, world, filter_, expected):
    world["signup"].parent.title = "App Category"
    world["signup"].parent.save()
    found = titles(as_editor, filter_)
    if expected is None:
        assert set(found) == {"Checkout", "App Category", "email", "revenue"}
    else:
        assert sorted(found) == sorted(expected)


def test_id_fields(as_editor, world):
    web = world["web"]
    assert set(titles(as_editor, exact("integration_id", web.pk.hex))) == {
        "Checkout",
        "Order Completed",
        "Product Viewed",
        "revenue",
    }
    assert titles(as_editor, exact("parent_id", str(world["order"].pk))) == ["revenue"]
    assert titles(as_editor, {"operator": "is_set", "field": "parent_id", "value": False}) == [
        world["signup"].parent.title,
        "Checkout",
    ] or set(titles(as_editor, {"operator": "is_set", "field": "parent_id", "value": False})) == {
        "Checkout",
        world["signup"].parent.title,
    }


@pytest.mark.parametrize(
    ("field", "key", "expected"),
    [
        ("owners", "owner", {"Order Completed"}),
        ("tags", "tag", {"Order Completed", "email"}),
        ("teams", "team", {"Product Viewed"}),
        ("collections", "collection", {"revenue"}),
        ("subscribers", "owner", {"Signed Up"}),
    ],
)
def test_relation_fields(as_editor, world, field, key, expected):
    related = str(world[key].pk)
    for operator, value in [("exact", related), ("contains", related), ("in", [related])]:
        filter_ = {"operator": operator, "field": field, "value": value}
        assert set(titles(as_editor, filter_)) == expected, operator
    is_set = titles(as_editor, {"operator": "is_set", "field": field, "value": True})
    assert set(is_set) == expected


def test_relation_filters_do_not_duplicate_rows(as_editor, world):
    world["order"].tags.add(TagFactory(), TagFactory())
    tag_ids = [str(t.pk) for t in world["order"].tags.all()]
    body = query(as_editor, {"operator": "in", "field": "tags", "value": tag_ids}).json()
    assert [r["title"] for r in body["results"]].count("Order Completed") == 1
    assert body["count"] == len(body["results"])


def test_time_fields(as_editor, world):
    hour_ago = (timezone.now() - timedelta(hours=1)).isoformat()
    in_an_hour = (timezone.now() + timedelta(hours=1)).isoformat()
    found = titles(as_editor, {"operator": "gte", "field": "created_at", "value": hour_ago})
    assert len(found) == Resource.objects.count() == 7
    assert titles(as_editor, {"operator": "gte", "field": "updated_at", "value": in_an_hour}) == []


def test_logical_operators_nest(as_editor, world):
    filter_ = {
        "operator": "and",
        "operands": [
            {
                "operator": "or",
                "operands": [exact("type", "event"), exact("type", "event_property")],
            },
            {"operator": "not", "operands": [exact("pii", True)]},
        ],
    }
    assert set(titles(as_editor, filter_)) == {"Product Viewed", "Signed Up", "revenue"}


def test_sort(as_editor, world):
    events = exact("type", "event")
    assert titles(as_editor, events, {"field": "title", "order": "desc"}) == [
        "Signed Up",
        "Product Viewed",
        "Order Completed",
    ]
    Resource.objects.filter(pk=world["viewed"].pk).update(
        updated_at=timezone.now() + timedelta(days=1)
    )
    newest = titles(
        as_editor, events, {"field": "updated_at", "order": "desc", "tie_breaker": "title"}
    )
    assert newest[0] == "Product Viewed"
    # The tie breaker may also be an object with its own order.
    Resource.objects.filter(entity_type="event").update(updated_at=timezone.now())
    by_title = titles(
        as_editor,
        events,
        {"field": "updated_at", "order": "desc", "tie_breaker": {"field": "title", "order": "asc"}},
    )
    assert by_title == ["Order Completed", "Product Viewed", "Signed Up"]


def test_is_set_with_a_null_value_means_set(as_editor, world):
    filter_ = {"operator": "is_set", "field": "description", "value": None}
    assert titles(as_editor, filter_) == ["Product Viewed"]


def test_query_pages_like_every_list(as_editor, world):
    body = query(as_editor, page_size=3, page=2).json()
    assert (body["meta"]["page"], body["count"], body["total_pages"]) == (2, 7, 3)
    assert len(body["results"]) == 3


@pytest.mark.parametrize(
    ("filter_", "sort", "message"),
    [
        ("{not json", None, "not valid JSON"),
        (None, "[", "not valid JSON"),
        ([1], None, "JSON object"),
        ({"operator": "exact", "field": "colour", "value": "red"}, None, "Unknown field"),
        ({"operator": "like", "field": "title", "value": "x"}, None, "Unknown operator"),
        ({"field": "title", "value": "x"}, None, "Unknown operator"),
        ({"operator": "gte", "field": "pii", "value": True}, None, "does not apply"),
        ({"operator": "exact", "field": "title"}, None, "needs a `value`"),
        (exact("pii", "maybe"), None, "true or false"),
        (exact("type", "table"), None, "must be one of"),
        (exact("integration_id", "nope"), None, "needs an id"),
        (exact("owners", 5), None, "needs an id"),
        ({"operator": "gte", "field": "created_at", "value": "yesterday"}, None, "ISO 8601"),
        ({"operator": "in", "field": "title", "value": "x"}, None, "non-empty list"),
        ({"operator": "in", "field": "title", "value": []}, None, "non-empty list"),
        ({"operator": "is_set", "field": "title", "value": "yes"}, None, "true, false or null"),
        ({"operator": "and", "operands": []}, None, "non-empty list"),
        ({"operator": "and"}, None, "non-empty list"),
        ({"operator": "not", "operands": [exact("pii", True)] * 2}, None, "exactly one"),
        (None, {"field": "colour"}, "Can't sort"),
        (None, {"field": "title", "order": "up"}, "asc or desc"),
        (None, {"field": "title", "tie_breaker": "nope"}, "Can't sort"),
        (None, {"field": "title", "tie_breaker": {"field": "id", "order": "x"}}, "asc or desc"),
        (None, {"field": "title", "tie_breaker": 5}, "field name"),
        (None, {"field": "title", "direction": "asc"}, "Unknown sort keys"),
        (None, "5", "JSON object"),
    ],
)
def test_bad_queries_are_400_and_say_why(as_editor, world, filter_, sort, message):
    response = query(as_editor, filter_, sort)
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_deep_and_wide_filters_are_refused(as_editor, world):
    node = exact("pii", True)
    for _ in range(12):
        node = {"operator": "not", "operands": [node]}
    assert "nested" in query(as_editor, node).json()["detail"]
    wide = {"operator": "or", "operands": [exact("pii", True)] * 150}
    assert "conditions" in query(as_editor, wide).json()["detail"]


def test_results_stop_10000_deep(as_editor, world):
    assert query(as_editor, page=51, page_size=200).status_code == 400
    assert query(as_editor, page=10001).status_code == 400


def test_any_resource_by_id(as_editor, world):
    for key in ("order", "revenue", "checkout"):
        obj = world[key]
        response = as_editor.get(f"/api/v1/resource/all/{obj.pk.hex}")
        assert response.status_code == 200
        assert response.json()["id"] == str(obj.pk)
    assert as_editor.get("/api/v1/resource/all/nope").status_code == 404


def test_query_costs_a_constant_number_of_queries(as_editor, world, django_assert_max_num_queries):
    for i in range(40):
        EventFactory(title=f"Bulk {i}", parent=world["checkout"]).tags.add(world["tag"])
    filter_ = {"operator": "in", "field": "tags", "value": [str(world["tag"].pk)]}
    query(as_editor, filter_)
    with django_assert_max_num_queries(8):
        body = query(as_editor, filter_, page_size=200).json()
    assert body["count"] == 42
