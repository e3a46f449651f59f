"""The count of a list (catalog/api/pagination.py): exact up to the deepest reachable row,
an estimate past it that `meta.count_is_exact` flags, and no count query when the page tells it.

The depth is lowered to 20 rows here, so the lists stay small.
"""

import json

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from catalog.api import pagination
from catalog.models import Event, Resource
from tests.api.conftest import DETAIL_QUERIES
from tests.factories import EventCategoryFactory, TagFactory

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")

DEPTH = 20
EVENTS = "/api/v1/event/events"
QUERY = "/api/v1/resource/catalog"


@pytest.fixture(autouse=True)
def _shallow(monkeypatch):
    monkeypatch.setattr(pagination, "MAX_RESULT_DEPTH", DEPTH)


@pytest.fixture
def client(as_editor):
    as_editor.get(EVENTS, {"page_size": 5})  # the key's first use writes last_used_at once
    return as_editor


def events(n: int, *, tag=None) -> list[Event]:
    """`n` published events of one category, titled in order; tagged `tag` if given."""
    category = EventCategoryFactory()
    made = Event.objects.bulk_create(
        [
            Event(title=f"E{i:04}", parent=category, integration=category.integration)
            for i in range(n)
        ]
    )
    if tag is not None:
        through = Resource.tags.through
        through.objects.bulk_create([through(resource_id=e.pk, tag_id=tag.pk) for e in made])
    return made


def has_tag(tag) -> dict:
    return {"filter": json.dumps({"operator": "contains", "field": "tags", "value": str(tag.pk)})}


def get(client, url, **params) -> dict:
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return response.json()


def count_queries(client, url, **params) -> list[str]:
    """The SQL of the count queries one request runs."""
    with CaptureQueriesContext(connection) as captured:
        get(client, url, **params)
    return [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]


# --- exact up to the depth ----------------------------------------------------------------


@pytest.mark.parametrize("n", [6, DEPTH])
def test_the_count_is_exact_up_to_the_depth(client, n):
    events(n)
    body = get(client, EVENTS, page_size=5)
    assert (body["count"], body["total_pages"]) == (n, -(-n // 5))
    assert body["meta"] == {
        "page": 1,
        "previous_page": None,
        "next_page": 2,
        "count_is_exact": True,
    }


def test_the_count_counts_at_most_one_row_past_the_depth_unordered(client):
    events(DEPTH + 5)
    [sql] = count_queries(client, EVENTS, page_size=5)
    assert f"LIMIT {DEPTH + 1}" in sql
    assert "ORDER BY" not in sql.upper()


def test_a_page_past_the_end_is_still_404(client):
    events(7)
    response = client.get(EVENTS, {"page_size": 5, "page": 3})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}
    assert get(client, EVENTS, page_size=5, page=2)["count"] == 7


def test_an_empty_list_is_one_empty_page(client):
    body = get(client, EVENTS, page_size=5)
    assert (body["count"], body["total_pages"], body["results"]) == (0, 1, [])
    assert body["meta"]["count_is_exact"] is True
    assert client.get(EVENTS, {"page_size": 5, "page": 2}).status_code == 404


# --- past the depth -------------------------------------------------------------------------


def test_past_the_depth_the_count_is_flagged(client):
    events(DEPTH + 25)
    body = get(client, EVENTS, page_size=5)
    assert body["meta"]["count_is_exact"] is False
    assert body["count"] >= DEPTH + 1
    if connection.vendor == "sqlite":  # no estimate there: the lower bound
        assert body["count"] == DEPTH + 1
    # Only the pages that can be asked for: 20 rows deep.
    assert body["total_pages"] == DEPTH // 5
    assert body["meta"]["next_page"] == 2


def test_the_last_reachable_page_is_served_and_offers_no_next(client):
    events(DEPTH + 25)
    body = get(client, EVENTS, page_size=5, page=DEPTH // 5)
    assert [row["title"] for row in body["results"]] == [f"E{i:04}" for i in range(15, 20)]
    assert body["meta"]["next_page"] is None and body["links"]["next"] is None
    assert body["meta"]["previous_page"] == DEPTH // 5 - 1
    assert body["meta"]["count_is_exact"] is False
    too_deep = client.get(EVENTS, {"page_size": 5, "page": DEPTH // 5 + 1})
    assert too_deep.status_code == 400
    assert too_deep.json() == {
        "page": ["Results can be paged at most 20 deep; narrow the filter instead."]
    }


def test_a_page_size_that_does_not_divide_the_depth_stops_at_its_last_whole_page(client):
    events(DEPTH + 25)
    body = get(client, EVENTS, page_size=3, page=DEPTH // 3)
    assert body["total_pages"] == DEPTH // 3
    assert len(body["results"]) == 3 and body["meta"]["next_page"] is None


def test_an_exact_count_at_the_depth_offers_no_unreachable_page(client):
    events(DEPTH)
    body = get(client, EVENTS, page_size=3)
    # 20 rows are 7 pages of 3, but page 7 ends 21 deep: it can't be asked for.
    assert (body["count"], body["total_pages"]) == (DEPTH, DEPTH // 3)
    assert body["meta"]["count_is_exact"] is True


# --- no count when the page tells it --------------------------------------------------------


def test_a_short_first_page_costs_no_count(client, django_assert_num_queries):
    events(4)
    with django_assert_num_queries(2 + DETAIL_QUERIES):  # key, page
        body = get(client, EVENTS, page_size=5)
    assert (body["count"], body["total_pages"], body["meta"]["count_is_exact"]) == (4, 1, True)
    events(1)
    with django_assert_num_queries(3 + DETAIL_QUERIES):  # a full page: and the count
        body = get(client, EVENTS, page_size=5)
    assert (body["count"], body["total_pages"]) == (5, 1)


def test_a_short_last_page_costs_no_count_either(client):
    events(12)
    assert count_queries(client, EVENTS, page_size=5, page=3) == []
    body = get(client, EVENTS, page_size=5, page=3)
    assert (body["count"], body["total_pages"], len(body["results"])) == (12, 3, 2)
    assert body["meta"]["next_page"] is None and body["meta"]["previous_page"] == 2


# --- the resource query, filtered by a tag ------------------------------------------------


def test_a_tag_filter_past_the_depth_is_flagged(client):
    tag = TagFactory()
    events(DEPTH + 10, tag=tag)
    events(30)  # untagged: not counted
    body = get(client, QUERY, **has_tag(tag), page_size=5)
    assert body["meta"]["count_is_exact"] is False
    assert body["count"] >= DEPTH + 1
    assert body["total_pages"] == DEPTH // 5
    last = get(client, QUERY, **has_tag(tag), page_size=5, page=DEPTH // 5)
    assert len(last["results"]) == 5 and last["meta"]["next_page"] is None


def test_a_tag_filter_below_the_depth_is_exact(client):
    tag = TagFactory()
    events(DEPTH - 3, tag=tag)
    events(30)
    body = get(client, QUERY, **has_tag(tag), page_size=5)
    assert (body["count"], body["total_pages"]) == (DEPTH - 3, 4)
    assert body["meta"]["count_is_exact"] is True
    assert all(row["tags"] == [str(tag.pk)] for row in body["results"])


def test_the_resource_query_short_page_costs_no_count(client):
    tag = TagFactory()
    events(3, tag=tag)
    assert count_queries(client, QUERY, **has_tag(tag), page_size=5) == []
    assert get(client, QUERY, **has_tag(tag), page_size=5)["count"] == 3


# --- the estimate (PostgreSQL) --------------------------------------------------------------


@on_postgresql
def test_past_the_depth_the_count_is_the_planners_estimate(client):
    tag = TagFactory()
    events(300, tag=tag)
    events(300)
    with connection.cursor() as cursor:  # up-to-date statistics, as autovacuum keeps them
        cursor.execute("ANALYZE catalog_resource")
        cursor.execute("ANALYZE catalog_resource_tags")
    body = get(client, EVENTS, page_size=5)
    assert body["meta"]["count_is_exact"] is False
    assert 300 <= body["count"] <= 1_200  # the 600 events, as the planner guesses them
    assert body["total_pages"] == DEPTH // 5
    tagged = get(client, QUERY, **has_tag(tag), page_size=5)
    assert tagged["meta"]["count_is_exact"] is False
    assert 150 <= tagged["count"] <= 600  # the 300 tagged ones


@on_postgresql
def test_an_estimate_below_the_depth_is_raised_to_one_past_it(client, monkeypatch):
    events(DEPTH + 5)
    monkeypatch.setattr(pagination, "planned_rows", lambda queryset: 3)
    body = get(client, EVENTS, page_size=5)
    assert (body["count"], body["meta"]["count_is_exact"]) == (DEPTH + 1, False)


@on_postgresql
def test_a_failed_explain_gives_the_lower_bound_and_spoils_nothing(client, monkeypatch):
    events(DEPTH + 5)

    def explain(self, *, format=None, **options):
        with connection.cursor() as cursor:  # a real error, inside the test's transaction
            cursor.execute("EXPLAIN (FORMAT JSON) SELECT * FROM no_such_table")

    monkeypatch.setattr(QuerySet, "explain", explain)
    body = get(client, EVENTS, page_size=5)
    # The queries after the EXPLAIN (the relation ids, tracking) still ran.
    assert (body["count"], body["meta"]["count_is_exact"]) == (DEPTH + 1, False)
    assert len(body["results"]) == 5
