"""`POST /api/v1/resource/catalog/query`: the resource query with its filter in a JSON body.

A GET's request line holds at most 8,190 bytes at the web server, about 180 ids in an `in`
list, while a filter may hold 1,000 values and 100 conditions: those go in a body.
"""

import json
import uuid

import pytest
from rest_framework.test import APIClient

from tests.factories import EventCategoryFactory, EventFactory, IntegrationFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/resource/catalog/query"


@pytest.fixture
def events():
    category = EventCategoryFactory(
        title="Checkout", integration=IntegrationFactory(), published=True
    )
    return {
        title: EventFactory(title=title, parent=category, published=published)
        for title, published in [
            ("Cart Viewed", True),
            ("Order Completed", True),
            ("Draft Event", False),
        ]
    }


def _ids_filter(ids) -> dict:
    return {"operator": "in", "field": "id", "value": [str(pk) for pk in ids]}


def test_a_viewer_queries_a_thousand_ids(as_viewer, events):
    strangers = [uuid.uuid4() for _ in range(997)]
    ids = [*strangers[:500], *(event.pk for event in events.values()), *strangers[500:]]
    body = {"filter": _ids_filter(ids), "sort": {"field": "title", "order": "desc"}}
    response = as_viewer.post(URL, body, format="json")
    assert response.status_code == 200, response.json()
    page = response.json()
    # Viewers see what is published; the query is a read like the GET.
    assert [row["title"] for row in page["results"]] == ["Order Completed", "Cart Viewed"]
    assert page["count"] == 2 and page["total_pages"] == 1


def test_it_answers_what_the_get_answers(as_editor, events):
    filter_ = {
        "operator": "and",
        "operands": [
            {"operator": "exact", "field": "type", "value": "event"},
            {"operator": "contains", "field": "title", "value": "e"},
        ],
    }
    sort = {"field": "updated_at", "order": "desc", "tie_breaker": "title"}
    got = as_editor.get(
        "/api/v1/resource/catalog", {"filter": json.dumps(filter_), "sort": json.dumps(sort)}
    )
    posted = as_editor.post(URL, {"filter": filter_, "sort": sort}, format="json")
    assert posted.status_code == 200
    assert posted.json()["results"] == got.json()["results"]
    assert len(got.json()["results"]) == 3
    # The filter and sort as JSON text, as the query string holds them, in a form or in JSON.
    as_text = {"filter": json.dumps(filter_), "sort": json.dumps(sort)}
    assert as_editor.post(URL, as_text).json()["results"] == got.json()["results"]
    assert as_editor.post(URL, as_text, format="json").json()["results"] == got.json()["results"]


def test_pages_go_in_the_query_string_as_in_the_links(as_editor, events):
    body = {"filter": {"operator": "exact", "field": "type", "value": "event"}}
    response = as_editor.post(f"{URL}?page=2&page_size=1", body, format="json")
    page = response.json()
    assert [row["title"] for row in page["results"]] == ["Draft Event"]
    assert page["links"] == {
        "next": f"http://testserver{URL}?page=3&page_size=1",
        "previous": f"http://testserver{URL}?page_size=1",
    }
    assert page["count"] == 3


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"filter": None, "page": 2},
            "Unknown keys: page. The body takes `filter` and `sort`; `page` and `page_size` go "
            "in the query string, as in `links.next`.",
        ),
        (["filter"], 'The body is a JSON object: {"filter", "sort"}.'),
        (
            {"filter": _ids_filter(uuid.uuid4() for _ in range(1001))},
            "`in` takes at most 1000 values.",
        ),
        (
            {
                "filter": {
                    "operator": "or",
                    "operands": [{"operator": "exact", "field": "pii", "value": True}] * 100,
                }
            },
            "The filter has more than 100 conditions.",
        ),
        (
            {"filter": "{not json"},
            "`filter` is not valid JSON: Expecting property name "
            "enclosed in double quotes: line 1 column 2 (char 1).",
        ),
        (
            {"sort": {"field": "colour"}},
            "Can't sort by 'colour'. Sortable fields: created_at, "
            "entity_type, id, pii, published, title, type, updated_at, verified.",
        ),
    ],
)
def test_a_bad_body_is_a_400_saying_why(as_viewer, body, detail):
    response = as_viewer.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": detail}


def test_text_no_database_can_compare_is_refused_under_its_key(as_viewer):
    body = {"filter": {"operator": "exact", "field": "title", "value": "a\x00b"}}
    response = as_viewer.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "filter": ["Text can't contain NUL characters or unpaired surrogates."]
    }


def test_it_needs_a_key_or_a_session_with_its_csrf_token(viewer, events):
    response = APIClient().post(URL, {}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(viewer)
    response = browser.post(URL, {}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")
    browser.get("/settings/")  # a page with a form hands out the token
    token = browser.cookies["csrftoken"].value
    response = browser.post(URL, {}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert response.json()["count"] == 3  # the category and its two published events


def test_only_post(as_viewer):
    response = as_viewer.get(URL)
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "GET" not allowed.'}


def test_the_schema_documents_it(as_viewer):
    schema = as_viewer.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/resource/catalog/query"]["post"]
    assert set(schema["paths"]["/api/v1/resource/catalog/query"]) == {"post"}
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ResourceQueryRequest"}
    assert set(schema["components"]["schemas"]["ResourceQueryRequest"]["properties"]) == {
        "filter",
        "sort",
    }
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/PaginatedAnyResourceList"}
    assert {p["name"] for p in operation["parameters"]} == {"page", "page_size"}
