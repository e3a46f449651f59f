"""The catalog pages as a person sees them: what each role reads, finds and may change."""

import re

import pytest
from django.urls import reverse

from catalog.models import Resource
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    IntegrationFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    """The page's text without tags and with collapsed spaces, as a reader sees it."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


# Logging in


def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_login_page_has_labelled_fields_and_a_log_in_button(client):
    html = client.get("/login/").content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert '<button type="submit" class="button primary">Log in</button>' in html


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
def test_every_role_can_log_in(client, role):
    UserFactory(username=f"the-{role}", role=role, password="pass-word-123")
    response = client.post(
        "/login/", {"username": f"the-{role}", "password": "pass-word-123"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert f"Log out ({f'the-{role}'})" in text_of(response)


def test_a_wrong_password_is_refused_with_a_message(client, viewer):
    response = client.post("/login/", {"username": "viewer", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in text_of(response)


def test_log_out(viewer_web):
    response = viewer_web.post("/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/login/"
    assert viewer_web.get("/").status_code == 302


# Browsing


def test_home_lists_integrations_categories_and_counts(viewer_web, order_completed):
    EventCategoryFactory(
        title="Secret plans", integration=order_completed.integration, published=False
    )
    EventFactory(parent=order_completed.parent, published=False)
    text = text_of(viewer_web.get("/"))
    assert "Web app" in text
    assert "1 event · 1 category · 2 properties" in text
    assert "Checkout 1 event" in text
    assert "Secret plans" not in text


def test_editors_see_unpublished_counts(editor_web, order_completed):
    EventFactory(parent=order_completed.parent, published=False)
    assert "2 events · 1 category · 2 properties" in text_of(editor_web.get("/"))


def test_home_costs_a_constant_number_of_queries(
    editor_web, order_completed, django_assert_max_num_queries
):
    for _n in range(15):
        EventFactory(parent=EventCategoryFactory(integration=IntegrationFactory()))
    with django_assert_max_num_queries(6):
        assert editor_web.get("/").status_code == 200


def test_events_list_shows_columns_and_badges(editor_web, editor, order_completed):
    tag = TagFactory(title="checkout")
    order_completed.tags.add(tag)
    order_completed.owners.add(editor)
    Resource.objects.filter(pk=order_completed.pk).update(pii=True, verified=True)
    EventFactory(title="Draft Event", parent=order_completed.parent, published=False)
    text = text_of(editor_web.get("/events/"))
    assert "2 events" in text
    assert (
        "Order Completed PII Verified The order was placed and paid. "
        "Checkout Web app editor checkout" in text
    )
    assert "Draft Event Unpublished" in text


# The filters themselves: tests/test_event_filters.py (the page and the API alike).


def test_a_filter_it_cant_read_is_left_out_with_a_warning(viewer_web, order_completed):
    response = viewer_web.get("/events/?pii=maybe")
    assert response.status_code == 200
    text = text_of(response)
    assert (
        "Some filters were not understood and were left out: pii: Must be yes or no "
        "(true or false)." in text
    )
    assert "Order Completed" in text


def test_a_stale_id_matches_nothing_and_stays_shown(viewer_web, order_completed):
    """As in the API, an id that names nothing (a deleted tag) gives no events; the form
    still shows the filter, so the reader sees why the list is empty."""
    response = viewer_web.get("/events/?tag=00000000-0000-0000-0000-000000000000")
    assert response.status_code == 200
    assert "No events match these filters." in text_of(response)
    html = response.content.decode()
    assert re.search(r'<option value="00000000-[0-9-]+" selected>\(not found\)</option>', html)


def test_viewers_have_no_published_filter_and_see_published_events_only(
    viewer_web, order_completed
):
    EventFactory(title="Hidden Event", parent=order_completed.parent, published=False)
    EventFactory(title="Orphan Event", parent=EventCategoryFactory(published=False))
    html = viewer_web.get("/events/").content.decode()
    assert 'name="published"' not in html
    assert "Order Completed" in html
    assert "Hidden Event" not in html
    assert "Orphan Event" not in html
    # As in the API: no unpublished event is visible to a viewer.
    assert "No events match these filters." in text_of(viewer_web.get("/events/?published=no"))


def test_events_list_is_paginated(viewer_web, order_completed):
    for n in range(55):
        EventFactory(title=f"Event {n:02}", parent=order_completed.parent)
    first = text_of(viewer_web.get("/events/"))
    assert "Page 1 of 2" in first
    second = viewer_web.get("/events/?page=2")
    assert "Page 2 of 2" in text_of(second)
    assert "Order Completed" in text_of(second)
    assert viewer_web.get("/events/?page=abc").status_code == 200
    assert viewer_web.get("/events/?page=99999999999999999999").status_code == 200


def test_events_list_costs_a_constant_number_of_queries(
    editor_web, editor, order_completed, django_assert_max_num_queries
):
    tags = [TagFactory() for _ in range(3)]
    for _n in range(40):
        event = EventFactory(parent=EventCategoryFactory(integration=IntegrationFactory()))
        event.tags.add(*tags)
        event.owners.add(editor)
    with django_assert_max_num_queries(10):
        response = editor_web.get("/events/?sort=-updated")
    assert text_of(response).count("editor") >= 40


# Reading one resource


def test_detail_shows_fields_definition_children_and_breadcrumbs(viewer_web, order_completed):
    response = viewer_web.get(reverse("web:resource", args=[order_completed.pk]))
    html = response.content.decode()
    text = text_of(response)
    assert "<h1>Order Completed</h1>" in html
    assert "<h2>When</h2>" in html and "<strong>payment</strong>" in html
    assert re.search(r'<nav aria-label="Breadcrumbs".*Catalog.*Web app.*Checkout', html, re.S)
    assert "revenue number Required No" in text
    assert "email string Optional PII" in text
    assert ">History</a>" in html
    assert ">Subscribe</button>" in html
    assert ">Edit</a>" not in html  # Viewers don't edit.


def test_editors_get_an_edit_link(editor_web, order_completed):
    html = editor_web.get(reverse("web:resource", args=[order_completed.pk])).content.decode()
    assert f'href="/resources/{order_completed.pk}/edit/">Edit</a>' in html


def test_a_definition_cannot_run_script(viewer_web, order_completed):
    Resource.objects.filter(pk=order_completed.pk).update(
        definition="<script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))"
    )
    html = viewer_web.get(reverse("web:resource", args=[order_completed.pk])).content.decode()
    assert "alert(1)" not in html
    assert "onerror" not in html
    # On the script's line the rest is raw HTML, so the link's source shows as text.
    assert not re.search(r"(href|src)=\"?javascript:", html, re.IGNORECASE)
    response = viewer_web.get(reverse("web:resource", args=[order_completed.pk]))
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_unpublished_resources_are_404_for_viewers(viewer_web, editor_web, order_completed):
    hidden = EventFactory(parent=order_completed.parent, published=False)
    child_of_hidden = EventPropertyFactory(parent=hidden)
    for pk in (hidden.pk, child_of_hidden.pk):
        for name in ("web:resource", "web:resource_history"):
            response = viewer_web.get(reverse(name, args=[pk]))
            assert response.status_code == 404
            assert "Page not found" in text_of(response)
        assert editor_web.get(reverse("web:resource", args=[pk])).status_code == 200


def test_detail_costs_a_bounded_number_of_queries(
    editor_web, order_completed, django_assert_max_num_queries
):
    for _n in range(30):
        EventPropertyFactory(parent=order_completed).tags.add(TagFactory())
    # The event's page: 12, plus its followers, daily chart, properties' volumes, and the
    # received events with their PII flags (tests/web/test_event_page.py).
    with django_assert_max_num_queries(17):
        response = editor_web.get(reverse("web:resource", args=[order_completed.pk]))
    assert response.status_code == 200
    category_page = reverse("web:resource", args=[order_completed.parent_id])
    with django_assert_max_num_queries(12):
        assert "Order Completed" in text_of(editor_web.get(category_page))


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_no_page_costs_more_queries_with_more_rows(editor_web, editor, order_completed):
    """Each page's query count is the same for a small and a ten times bigger catalog."""
    from catalog.services.resources import resource_update
    from tests.factories import SYSTEM

    pages = [
        "/",
        "/events/?owner=me",
        "/events/?subscribed=on&sort=-updated",
        reverse("web:resource", args=[order_completed.pk]),
        reverse("web:resource", args=[order_completed.parent_id]),
        reverse("web:resource_history", args=[order_completed.pk]),
        "/search/?q=order",
        "/subscriptions/",
        "/settings/",
        reverse("web:resource_edit", args=[order_completed.pk]),
    ]

    def grow(n):
        for i in range(n):
            event = EventFactory(title=f"Order {n}-{i}", parent=order_completed.parent)
            event.owners.add(editor)
            event.subscribers.add(editor)
            event.tags.add(TagFactory())
            EventPropertyFactory(parent=order_completed).tags.add(TagFactory())
            resource_update(ctx=SYSTEM, resource=order_completed, data={"description": f"v{n}-{i}"})

    grow(2)
    small = {url: _queries(editor_web, url) for url in pages}
    grow(20)
    big = {url: _queries(editor_web, url) for url in pages}
    assert big == small
    assert max(small.values()) <= 17  # the event's page (tests/web/test_event_page.py)


def test_the_500_page_renders_without_a_request_context(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html
    assert "/static/catalog/site.css" in html


def test_search_results_page_lists_links_with_kind_and_parent(viewer_web, order_completed):
    for n in range(25):
        EventPropertyFactory(title=f"order_line_{n:02}", parent=order_completed)
    response = viewer_web.get("/search/", {"q": "order"})
    html = response.content.decode()
    text = text_of(response)
    assert "26 results" in text
    assert 'href="?q=order&amp;page=2"' in html
    both = html + viewer_web.get("/search/", {"q": "order", "page": 2}).content.decode()
    assert f'<a href="/resources/{order_completed.pk}/">Order Completed</a>' in both
    assert "Event property in Checkout \u203a Order Completed · Web app" in text
    assert "Event</span> in Checkout · Web app" in both


def test_search_as_you_type_answers_a_fragment(viewer_web, order_completed):
    response = viewer_web.get("/search/", {"q": "ord", "suggest": "1"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert f'<a href="/resources/{order_completed.pk}/">Order Completed</a>' in html
    assert 'href="/search/?q=ord"' in html


def test_a_capped_search_count_says_so(viewer_web, order_completed, monkeypatch):
    monkeypatch.setattr("catalog.web.views.count_is_capped", lambda count: True)
    text = text_of(viewer_web.get("/search/", {"q": "order"}))
    assert "At least 1000 results: the best 1000 are listed." in text


def test_viewers_do_not_find_unpublished_resources(viewer_web, editor_web, order_completed):
    EventFactory(title="Order Refunded Secretly", parent=order_completed.parent, published=False)
    for client, found in ((viewer_web, False), (editor_web, True)):
        for params in ({"q": "secretly"}, {"q": "secretly", "suggest": "1"}):
            html = client.get("/search/", params, HTTP_HX_REQUEST="true").content.decode()
            assert ("Order Refunded Secretly" in html) is found


def test_the_events_list_offers_the_plan_to_download(viewer_web, order_completed):
    integration = order_completed.integration

    everything = viewer_web.get("/events/").content.decode()
    filtered = viewer_web.get(f"/events/?integration={integration.pk}").content.decode()

    assert "<summary>Export the plan</summary>" in everything
    assert 'href="/api/v1/plan/export?format=csv" download' in everything
    assert "RudderStack YAML (rudder-cli) <span class" in everything  # no link: one integration
    assert "<summary>Export this integration's plan</summary>" in filtered
    for route, query in [
        ("export", "format=rudderstack"),
        ("codegen", "language=typescript"),
        ("codegen", "language=python"),
    ]:
        link = f'href="/api/v1/plan/{route}?{query}&amp;integration={integration.pk}" download'
        assert link in filtered
    # The link gives the viewer the file, with the plan they may read.
    response = viewer_web.get(f"/api/v1/plan/export?format=csv&integration={integration.pk}")
    assert response.status_code == 200
    assert "Order Completed" in response.content.decode("utf-8-sig")


def test_a_resource_links_to_its_integrations_events(viewer_web, order_completed):
    html = viewer_web.get(f"/resources/{order_completed.pk}/").content.decode()

    assert f'<a href="/events/?integration={order_completed.integration_id}"' in html
