"""The Django admin as a data steward uses it."""

import pytest
from django.urls import reverse

from catalog.models import Event, EventProperty, Resource, Tag
from tests.factories import (
    CollectionFactory,
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    IntegrationFactory,
    TagFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

MODELS = [
    "eventcategory",
    "event",
    "eventproperty",
    "resource",
    "tag",
    "collection",
    "team",
    "integration",
    "user",
    "apikey",
]


@pytest.fixture
def catalog():
    prop = EventPropertyFactory(title="revenue")
    prop.tags.add(TagFactory())
    return prop


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_opens(client, admin_user, catalog, model):
    client.force_login(admin_user)
    response = client.get(reverse(f"admin:catalog_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", ["eventcategory", "event", "eventproperty"])
def test_resource_change_pages_open(client, editor, catalog, model):
    client.force_login(editor)
    obj = {
        "eventproperty": catalog,
        "event": catalog.parent,
        "eventcategory": catalog.parent.parent,
    }
    response = client.get(reverse(f"admin:catalog_{model}_change", args=[obj[model].pk]))
    assert response.status_code == 200
    assert catalog.title.encode() in response.content or model == "eventcategory"


def test_changelist_filters_and_search(client, editor):
    EventFactory(title="Order Completed", pii=True)
    EventFactory(title="Page Viewed", pii=False)
    client.force_login(editor)
    url = reverse("admin:catalog_event_changelist")
    assert b"Page Viewed" not in client.get(url, {"pii__exact": "1"}).content
    assert b"Order Completed" in client.get(url, {"pii__exact": "1"}).content
    found = client.get(url, {"q": "order"}).content
    assert b"Order Completed" in found and b"Page Viewed" not in found


def test_changelist_query_count_does_not_grow_with_rows(
    client, editor, django_assert_max_num_queries
):
    for _ in range(30):
        EventFactory()
    client.force_login(editor)
    with django_assert_max_num_queries(15):
        client.get(reverse("admin:catalog_event_changelist"))


def test_add_an_event_through_the_admin(client, editor):
    category = EventCategoryFactory()
    tag = TagFactory()
    team = TeamFactory()
    client.force_login(editor)
    response = client.post(
        reverse("admin:catalog_event_add"),
        {
            "title": "Checkout Started",
            "parent": category.pk,
            "integration": category.integration.pk,
            "description": "Someone opened the checkout",
            "definition": "# Checkout\n",
            "pii": "on",
            "tags": [tag.pk],
            "teams": [team.pk],
            "owners": [editor.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get(title="Checkout Started")
    assert event.pii and list(event.tags.all()) == [tag] and list(event.owners.all()) == [editor]
    # A new owner follows the event (and may unsubscribe).
    assert list(event.subscribers.all()) == [editor]


def test_add_a_property_from_its_events_page(client, editor):
    event = EventFactory()
    client.force_login(editor)
    page = client.get(reverse("admin:catalog_event_change", args=[event.pk])).content.decode()
    add_url = reverse("admin:catalog_eventproperty_add") + f"?parent={event.pk}"
    assert add_url in page
    form = client.get(add_url).content.decode()
    assert f'value="{event.integration_id}" selected' in form
    response = client.post(
        add_url,
        {
            "title": "cart_value",
            "parent": event.pk,
            "integration": event.integration_id,
            "data_type": "number",
            "required": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    prop = EventProperty.objects.get(parent=event)
    assert (prop.title, prop.data_type, prop.required) == ("cart_value", "number", True)


def test_admin_shows_model_errors(client, editor):
    event = EventFactory()
    client.force_login(editor)
    response = client.post(
        reverse("admin:catalog_event_add"),
        {
            "title": "Wrong parent",
            "parent": event.pk,  # an event is no category
            "integration": event.integration.pk,
            "children-TOTAL_FORMS": "0",
            "children-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert b"errornote" in response.content
    assert not Event.objects.filter(title="Wrong parent").exists()


def test_edit_an_event(client, editor):
    prop = EventPropertyFactory(title="plan")
    event = prop.parent
    client.force_login(editor)
    response = client.post(
        reverse("admin:catalog_event_change", args=[event.pk]),
        {
            "title": event.title,
            "parent": event.parent.pk,
            "description": "Updated",
            "verified": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event.refresh_from_db()
    assert event.description == "Updated" and event.verified
    assert Resource.objects.filter(pk=prop.pk, title="plan").exists()  # children untouched


def test_a_category_with_hundreds_of_events_opens_and_saves(client, editor):
    """Children are links, not inline forms: no TooManyFieldsSent however many there are."""
    category = EventCategoryFactory(title="Checkout")
    events = Event.objects.bulk_create(
        Event(title=f"Event {n:03}", parent=category, integration=category.integration)
        for n in range(300)
    )
    client.force_login(editor)
    url = reverse("admin:catalog_eventcategory_change", args=[category.pk])
    page = client.get(url).content.decode()
    assert "Events in this category" in page
    assert "Event 000" in page and "Event 024" in page and "Event 025" not in page
    assert "300 in all" in page
    full_list = reverse("admin:catalog_event_changelist") + f"?parent__id__exact={category.pk}"
    assert full_list in page
    listed = client.get(full_list).content.decode()
    assert "Event 000" in listed and "300 events" in listed
    response = client.post(
        url, {"title": "Checkout", "description": "Buying things", "published": "on"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    category.refresh_from_db()
    assert category.description == "Buying things"
    assert Event.objects.filter(parent=category).count() == len(events)


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [("mark_verified", "verified", True), ("publish", "published", True)],
)
def test_bulk_actions(client, editor, action, field, value):
    events = [EventFactory(verified=False, published=False) for _ in range(3)]
    client.force_login(editor)
    response = client.post(
        reverse("admin:catalog_event_changelist"),
        {"action": action, "_selected_action": [e.pk for e in events[:2]]},
        follow=True,
    )
    assert b"2 of 2 updated" in response.content
    assert [getattr(Event.objects.get(pk=e.pk), field) for e in events] == [value, value, False]


def test_bulk_unpublish(client, editor):
    event = EventFactory(published=True)
    client.force_login(editor)
    client.post(
        reverse("admin:catalog_eventproperty_changelist"),
        {"action": "unpublish", "_selected_action": []},
    )
    client.post(
        reverse("admin:catalog_event_changelist"),
        {"action": "unpublish", "_selected_action": [event.pk]},
    )
    event.refresh_from_db()
    assert not event.published


def test_delete_through_the_admin_removes_properties(client, editor):
    prop = EventPropertyFactory()
    client.force_login(editor)
    response = client.post(
        reverse("admin:catalog_event_delete", args=[prop.parent.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Resource.objects.filter(pk__in=[prop.pk, prop.parent.pk]).exists()


def test_viewer_staff_can_look_but_not_change(client, viewer, catalog):
    client.force_login(viewer)
    url = reverse("admin:catalog_event_change", args=[catalog.parent.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    client.post(url, {"title": "Hacked", "parent": catalog.parent.parent.pk})
    assert Event.objects.get(pk=catalog.parent.pk).title != "Hacked"
    response = client.post(
        reverse("admin:catalog_event_changelist"),
        {"action": "publish", "_selected_action": [catalog.parent.pk]},
    )
    assert response.status_code in (200, 302, 403)
    assert client.get(reverse("admin:catalog_tag_add")).status_code == 403


def test_editor_cannot_manage_integrations_or_teams(client, editor):
    client.force_login(editor)
    assert client.get(reverse("admin:catalog_integration_add")).status_code == 403
    assert client.get(reverse("admin:catalog_team_add")).status_code == 403
    response = client.post(reverse("admin:catalog_tag_add"), {"title": "checkout"})
    assert response.status_code == 302
    assert Tag.objects.filter(title="checkout").exists()


def test_admin_manages_integrations_with_teams(client, admin_user):
    team = TeamFactory()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:catalog_integration_add"),
        {"name": "Web", "type": "segment", "description": "", "teams": [team.pk]},
    )
    assert response.status_code == 302
    assert admin_user.__class__.objects.count() == 1
    integration = IntegrationFactory._meta.model.objects.get(name="Web")
    assert list(integration.teams.all()) == [team]


def test_parent_autocomplete_offers_the_right_kind(client, editor):
    event = EventFactory(title="Signup Finished")
    client.force_login(editor)
    url = reverse("admin:autocomplete")
    for model_name, expected in [("event", event.parent), ("eventproperty", event)]:
        response = client.get(
            url,
            {"app_label": "catalog", "model_name": model_name, "field_name": "parent", "term": ""},
        )
        assert response.status_code == 200
        ids = [row["id"] for row in response.json()["results"]]
        assert ids == [str(expected.pk)]


def test_all_resources_list_links_to_each_kind(client, editor):
    event = EventFactory()
    client.force_login(editor)
    response = client.get(reverse("admin:catalog_resource_change", args=[event.pk]))
    assert response.status_code == 302
    assert response.url == reverse("admin:catalog_event_change", args=[event.pk])


def test_collections_page(client, editor):
    CollectionFactory(title="Checkout funnel")
    client.force_login(editor)
    assert b"Checkout funnel" in client.get(reverse("admin:catalog_collection_changelist")).content
