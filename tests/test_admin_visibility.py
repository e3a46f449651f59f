"""A viewer with admin access sees in the admin what the catalog shows them, and no more:
published resources and collections (with every parent published), and no one's email
address but their own."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    CollectionFactory,
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def category():
    """A published category with two published events and an unpublished one."""
    category = EventCategoryFactory(title="Checkout")
    EventFactory(parent=category, title="Cart Viewed")
    EventFactory(parent=category, title="Order Completed")
    EventFactory(parent=category, title="Secret Launch", published=False)
    return category


def page_of(client, model: str, obj) -> str:
    response = client.get(reverse(f"admin:catalog_{model}_change", args=[obj.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_category_page_lists_and_counts_only_the_events_a_viewer_may_see(
    client, viewer, category
):
    client.force_login(viewer)
    page = page_of(client, "eventcategory", category)
    assert "Cart Viewed" in page and "Order Completed" in page
    assert "Secret Launch" not in page
    assert "2 in all." in page
    assert "Add event" not in page  # a viewer can't add one


def test_an_editor_sees_every_event_of_a_category(client, editor, category):
    client.force_login(editor)
    page = page_of(client, "eventcategory", category)
    assert "Secret Launch" in page and "3 in all." in page and "Add event" in page


def event_counts(page: str) -> list[str]:
    return re.findall(r'<td class="field-event_count">(\d+)</td>', page)


def test_the_category_list_counts_only_the_events_a_viewer_may_see(
    client, viewer, editor, category
):
    url = reverse("admin:catalog_eventcategory_changelist")
    client.force_login(viewer)
    assert event_counts(client.get(url).content.decode()) == ["2"]
    client.force_login(editor)
    assert event_counts(client.get(url).content.decode()) == ["3"]


def test_an_event_page_lists_only_the_properties_a_viewer_may_see(client, viewer):
    event = EventFactory(title="Order Completed")
    EventPropertyFactory(parent=event, title="revenue")
    EventPropertyFactory(parent=event, title="internal_margin", published=False)
    client.force_login(viewer)
    page = page_of(client, "event", event)
    assert "revenue" in page and "internal_margin" not in page and "1 in all." in page


def test_a_viewer_sees_only_published_collections_around_a_resource(client, viewer, editor):
    event = EventFactory(title="Order Completed")
    event.collections.add(
        CollectionFactory(title="Checkout funnel"),
        CollectionFactory(title="Internal roadmap", published=False),
    )
    member = CollectionFactory(
        title="Payments", parent=CollectionFactory(title="Secret plans", published=False)
    )
    member.collections.add(CollectionFactory(title="Hidden group", published=False))
    client.force_login(viewer)
    page = page_of(client, "event", event)
    assert "Checkout funnel" in page and "Internal roadmap" not in page
    page = page_of(client, "collection", member)
    assert "Payments" in page
    assert "Secret plans" not in page and "Hidden group" not in page
    client.force_login(editor)
    assert "Internal roadmap" in page_of(client, "event", event)
    page = page_of(client, "collection", member)
    assert "Secret plans" in page and "Hidden group" in page


def test_a_category_page_costs_the_same_for_few_or_many_events(client, viewer, category):
    client.force_login(viewer)
    url = reverse("admin:catalog_eventcategory_change", args=[category.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for index in range(30):
        EventFactory(parent=category, title=f"Hidden {index}", published=index % 2 == 0)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert "17 in all." in page and "Hidden 1<" not in page
    assert len(many) == len(few)


def test_a_viewer_cannot_find_email_addresses_in_the_admin(client, viewer):
    owner = UserFactory(username="dana", email="dana.secret@example.com")
    event = EventFactory(title="Order Completed")
    event.owners.add(owner)
    client.force_login(viewer)
    pages = [
        client.get(reverse("admin:catalog_user_changelist")),
        client.get(reverse("admin:catalog_user_change", args=[owner.pk])),
        client.get(reverse("admin:catalog_event_change", args=[event.pk])),
        client.get(reverse("admin:catalog_event_changelist")),
    ]
    for response in pages:
        assert response.status_code == 200
        assert "dana.secret" not in response.content.decode()
    # Searching for it finds no one: not in the list, not in the owners' autocomplete.
    found = client.get(reverse("admin:catalog_user_changelist"), {"q": "dana.secret"})
    assert "0 users" in found.content.decode()
    autocomplete = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "catalog", "model_name": "event", "field_name": "owners", "term": "secret@"},
    )
    assert autocomplete.json()["results"] == []
    # Nor filtering by it, directly or through the resources it owns.
    for url, lookup in [
        ("admin:catalog_user_changelist", "email__startswith"),
        ("admin:catalog_user_changelist", "email__regex"),
        ("admin:catalog_event_changelist", "owners__email__startswith"),
        ("admin:catalog_event_changelist", "subscribers__email__startswith"),
    ]:
        response = client.get(reverse(url), {lookup: "dana"})
        assert response.status_code == 400, lookup
        assert "dana.secret" not in response.content.decode()


def test_an_editor_still_finds_a_user_by_email(client, editor):
    UserFactory(username="dana", email="dana.secret@example.com")
    client.force_login(editor)
    page = client.get(reverse("admin:catalog_user_changelist"), {"q": "dana.secret"})
    assert "dana.secret@example.com" in page.content.decode()


def test_the_category_list_costs_the_same_for_few_or_many_categories(client, viewer, category):
    client.force_login(viewer)
    url = reverse("admin:catalog_eventcategory_changelist")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for index in range(20):
        EventFactory(parent=EventCategoryFactory(title=f"More {index}"), title=f"Hidden {index}")
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert event_counts(page) == ["2"] + ["1"] * 20
    assert len(many) == len(few)
