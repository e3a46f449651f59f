"""The events list's filters mean the same on the catalog page and in the API: one FilterSet
(catalog/filtersets.py) reads them for both, so the same query string shows the same events."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.filtersets import EventFilterSet
from catalog.models import Resource
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    IntegrationFactory,
    TagFactory,
    UserFactory,
)
from tests.web.conftest import _client as _web_client

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/event/events"
PAGE = "/events/"
LEFT_OUT = "Some filters were not understood and were left out"


@pytest.fixture
def editor_web(editor):
    return _web_client(editor)


@pytest.fixture
def catalog(editor):
    """Four events that each filter tells apart; the editor owns one and follows one."""
    other = UserFactory(username="someone")
    money = TagFactory(title="money")
    checkout = EventCategoryFactory(title="Checkout", integration=IntegrationFactory(name="Web"))
    order = EventFactory(title="Order Completed", parent=checkout)
    order.tags.add(money)
    order.owners.add(other)
    signed_up = EventFactory(
        title="Signed Up",
        pii=True,
        parent=EventCategoryFactory(title="Account", integration=IntegrationFactory(name="App")),
    )
    signed_up.owners.add(editor)
    viewed = EventFactory(title="Page Viewed", parent=checkout, verified=True, published=False)
    viewed.subscribers.add(editor)
    EventFactory(title="Cart Viewed", parent=checkout)
    Resource.objects.filter(pk=viewed.pk).update(updated_at="2100-01-01T00:00:00Z")
    return {
        "tag": money.pk,
        "other": other.pk,
        "web": checkout.integration_id,
        "app": signed_up.integration_id,
        "checkout": checkout.pk,
    }


def page_titles(client, query: str) -> list[str]:
    response = client.get(f"{PAGE}?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert LEFT_OUT not in html
    return [unescape(title) for title in re.findall(r'class="strong">([^<]+)</a>', html)]


def api_titles(client, query: str) -> list[str]:
    response = client.get(f"{EVENTS}?{query}")
    assert response.status_code == 200, response.json()
    return [row["title"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Cart Viewed", "Order Completed", "Page Viewed", "Signed Up"]),
        ("pii=yes", ["Signed Up"]),
        ("pii=true", ["Signed Up"]),
        ("pii=False", ["Cart Viewed", "Order Completed", "Page Viewed"]),
        ("verified=yes", ["Page Viewed"]),
        ("published=no", ["Page Viewed"]),
        ("tag={tag}", ["Order Completed"]),
        ("owner=me", ["Signed Up"]),
        ("owner=ME", ["Signed Up"]),
        ("owner={other}", ["Order Completed"]),
        ("subscribed=on", ["Page Viewed"]),
        ("subscribed=true", ["Page Viewed"]),
        ("subscribed=no", ["Cart Viewed", "Order Completed", "Signed Up"]),
        ("integration={app}", ["Signed Up"]),
        ("integration_id={app}", ["Signed Up"]),
        ("category={checkout}", ["Cart Viewed", "Order Completed", "Page Viewed"]),
        ("parent_id={checkout}&verified=no", ["Cart Viewed", "Order Completed"]),
        ("integration={web}&tag={tag}&pii=no", ["Order Completed"]),
        ("title=Signed%20Up", ["Signed Up"]),
        ("not_seen_days=3650&pii=yes", ["Signed Up"]),  # never seen: stale for any N
        ("sort=-updated&category={checkout}", ["Page Viewed", "Cart Viewed", "Order Completed"]),
        ("tag=00000000-0000-0000-0000-000000000000", []),  # an id that names nothing
        ("pii=yes&pii=no", ["Cart Viewed", "Order Completed", "Page Viewed"]),  # the last wins
        (  # what the page's form sends: every field, most of them empty
            "integration=&category=&tag=&owner=&pii=&verified=&published=no&not_seen_days=&sort=",
            ["Page Viewed"],
        ),
    ],
)
def test_a_filter_shows_the_same_events_on_the_page_and_in_the_api(
    editor_web, as_editor, catalog, query, expected
):
    query = query.format(**catalog)
    assert page_titles(editor_web, query) == expected
    assert api_titles(as_editor, query) == expected


NOT_A_UUID = "Enter a valid UUID."
NOT_YES_NO = "Must be yes or no (true or false)."
BIG = "9" * 5000
SORT_CHOICES = (
    "Must be one of title, -title, -updated, -last_seen, last_seen, -volume_30d, volume_30d."
)


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"tag": "\x00"}, {"tag": [NOT_A_UUID]}),
        ({"owner": BIG}, {"owner": [NOT_A_UUID]}),
        ({"integration": "1"}, {"integration": [NOT_A_UUID]}),
        ({"category": "c1dd3ce9-e290-4d31-85a7-e57c81aee63"}, {"category": [NOT_A_UUID]}),
        ({"pii": "maybe"}, {"pii": [NOT_YES_NO]}),
        ({"subscribed": "\x00"}, {"subscribed": [NOT_YES_NO]}),
        (
            {"not_seen_days": BIG},
            {"not_seen_days": ["Enter a whole number of days (1 to 3650) or never."]},
        ),
        (
            {"not_seen_days": "0"},
            {"not_seen_days": ["Ensure this value is greater than or equal to 1."]},
        ),
        ({"sort": "\x00" + BIG}, {"sort": [SORT_CHOICES]}),
        (
            {"pii": "maybe", "tag": "x"},
            {"tag": [NOT_A_UUID], "pii": [NOT_YES_NO]},
        ),
    ],
)
def test_bad_filters_are_a_400_in_the_api_and_left_out_on_the_page_in_the_same_words(
    editor_web, as_editor, catalog, params, errors
):
    response = as_editor.get(EVENTS, params)
    assert response.status_code == 400
    assert response.json() == errors
    response = editor_web.get(PAGE, params)
    assert response.status_code == 200
    html = unescape(response.content.decode())
    reasons = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
    assert f"{LEFT_OUT}: {reasons}" in html
    assert "Cart Viewed" in html  # the other filters apply; here none is left


def test_a_bad_filter_leaves_the_good_ones_applied(editor_web, catalog):
    response = editor_web.get(PAGE, {"pii": "yes", "tag": "nope"})
    html = response.content.decode()
    assert f"{LEFT_OUT}: tag: {NOT_A_UUID}" in html
    assert re.findall(r'class="strong">([^<]+)</a>', html) == ["Signed Up"]


def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(PAGE, params).status_code == 200
    return len(captured.captured_queries)


def test_every_filter_at_once_costs_a_constant_number_of_queries(
    editor_web, editor, catalog, django_assert_max_num_queries
):
    every = {
        "integration": catalog["web"],
        "category": catalog["checkout"],
        "tag": catalog["tag"],
        "owner": "me",
        "pii": "no",
        "verified": "no",
        "published": "yes",
        "subscribed": "no",
        "not_seen_days": "30",
        "sort": "-updated",
        "title": "Order Completed",
    }
    before = _queries(editor_web, every)
    for n in range(30):
        event = EventFactory(
            title=f"Order {n}", parent=Resource.objects.get(pk=catalog["checkout"])
        )
        event.owners.add(editor)
        event.tags.add(TagFactory())
    assert _queries(editor_web, every) == before
    with django_assert_max_num_queries(10):
        editor_web.get(PAGE, every)


def test_the_api_documents_every_filter_of_the_page(as_editor):
    schema = as_editor.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    parameters = schema["paths"][EVENTS]["get"]["parameters"]
    assert set(EventFilterSet.base_filters) <= {parameter["name"] for parameter in parameters}


def test_the_page_form_shows_the_filters_applied(editor_web, catalog):
    html = editor_web.get(
        PAGE, {"published": "false", "sort": "-updated", "owner": "me", "subscribed": "on"}
    ).content.decode()
    assert re.search(r'name="published"[^>]*>.*?<option value="no" selected>', html, re.S)
    assert '<option value="-updated" selected>' in html
    assert '<option value="me" selected>Me</option>' in html
    assert re.search(r'<input type="checkbox" name="subscribed"[^>]*checked', html)
