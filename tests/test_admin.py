"""The Django admin as a data steward uses it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Event, EventProperty, ObjectChange, Resource, Tag, User
from catalog.selectors import HIDDEN_LABEL
from catalog.services.context import ChangeContext
from catalog.services.keys import api_key_create
from catalog.services.resources import resource_update
from tests.factories import (
    SYSTEM,
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
    "usergroup",
    "customproperty",
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
    response = client.post(
        reverse("admin:catalog_tag_add"), {"title": "checkout", "color": "#149634"}
    )
    assert response.status_code == 302
    assert Tag.objects.filter(title="checkout").exists()


def test_admin_manages_integrations_with_teams(client, admin_user):
    team = TeamFactory()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:catalog_integration_add"),
        {
            "name": "Web",
            "type": "segment",
            "description": "",
            "validation_mode": "discover",
            # As the form offers them: the discovery limits' defaults.
            "max_new_events_per_day": 1000,
            "max_new_properties_per_day": 10000,
            "max_properties_per_event": 1000,
            "teams": [team.pk],
        },
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


# --- history, through the admin ----------------------------------------------------------


def _changes(resource_id):
    return list(ObjectChange.objects.filter(object_id=resource_id).select_related("change_set"))


def test_admin_add_change_delete_and_bulk_are_recorded(client, editor):
    category = EventCategoryFactory()
    client.force_login(editor)
    client.post(
        reverse("admin:catalog_event_add"),
        {"title": "Signed Up", "parent": category.pk, "integration": category.integration.pk},
    )
    event = Event.objects.get(title="Signed Up")
    client.post(
        reverse("admin:catalog_event_change", args=[event.pk]),
        {"title": "Signed Up", "parent": category.pk, "description": "A new account"},
    )
    client.post(
        reverse("admin:catalog_event_changelist"),
        {"action": "mark_verified", "_selected_action": [event.pk]},
    )
    client.post(reverse("admin:catalog_event_delete", args=[event.pk]), {"post": "yes"})
    changes = _changes(event.pk)
    assert [c.action for c in changes] == ["delete", "update", "update", "create"]
    assert {c.change_set.source for c in changes} == {"admin"}
    assert {c.change_set.actor for c in changes} == {editor}
    assert changes[1].diff == {"verified": [False, True]}
    assert changes[2].diff == {"description": ["", "A new account"]}


def test_the_history_page_shows_the_change_rows(client, editor):
    event = EventFactory(title="Order Completed", definition="# Order\n\nSent once.\nPaid.")
    tag = TagFactory(title="checkout")
    client.force_login(editor)
    client.post(
        reverse("admin:catalog_event_change", args=[event.pk]),
        {
            "title": "Order Completed",
            "parent": event.parent.pk,
            "pii": "on",
            "published": "on",
            "tags": [tag.pk],
            "definition": "# Order\n\nSent once per order.\nPaid.",
        },
    )
    page = client.get(reverse("admin:catalog_event_history", args=[event.pk])).content.decode()
    assert "History: Order Completed" in page
    assert str(editor) in page and "via Admin" in page and "Changed" in page
    assert "<td>PII</td><td>No</td><td>Yes</td>" in page
    assert "<td>Tags</td><td>—</td><td>checkout</td>" in page
    # A Markdown definition shows as a line diff, not two walls of text.
    assert "- Sent once.\n+ Sent once per order.\n  Paid." in page
    # The same page under "All resources".
    all_page = client.get(reverse("admin:catalog_resource_history", args=[event.pk]))
    assert "checkout" in all_page.content.decode()


def test_admin_bulk_verify_costs_the_same_for_5_or_20_events(
    client, editor, django_assert_max_num_queries
):
    def run(count):
        events = [EventFactory(verified=False) for _ in range(count)]
        for event in events:
            event.subscribers.add(UserFactory())
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                reverse("admin:catalog_event_changelist"),
                {"action": "mark_verified", "_selected_action": [e.pk for e in events]},
                follow=False,
            )
        assert response.status_code == 302
        assert Event.objects.filter(pk__in=[e.pk for e in events], verified=True).count() == count
        return len(captured.captured_queries)

    client.force_login(editor)
    assert run(5) == run(20)


def test_a_viewer_in_the_admin_sees_what_the_api_shows(client, viewer):
    EventFactory(title="Public")
    draft = EventCategoryFactory(title="Draft", published=False)
    EventFactory(title="Under a draft", parent=draft)
    EventFactory(title="Unpublished", published=False)
    client.force_login(viewer)
    page = client.get(reverse("admin:catalog_event_changelist")).content.decode()
    assert "Public" in page
    assert "Under a draft" not in page and "Unpublished" not in page
    hidden = Event.objects.get(title="Unpublished")
    response = client.get(reverse("admin:catalog_event_change", args=[hidden.pk]))
    assert response.status_code == 302  # "doesn't exist", back to the admin index


def test_editors_see_and_revoke_only_their_own_keys(client, editor, admin_user):
    mine, _ = api_key_create(ctx=SYSTEM, user=editor, name="mine")
    theirs, _ = api_key_create(ctx=SYSTEM, user=admin_user, name="theirs")
    client.force_login(editor)
    page = client.get(reverse("admin:catalog_apikey_changelist")).content.decode()
    assert "mine" in page and "theirs" not in page
    client.post(
        reverse("admin:catalog_apikey_changelist"),
        {"action": "revoke", "_selected_action": [mine.pk, theirs.pk]},
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.is_revoked and not theirs.is_revoked
    client.force_login(admin_user)
    client.post(
        reverse("admin:catalog_apikey_changelist"),
        {"action": "revoke", "_selected_action": [theirs.pk]},
    )
    theirs.refresh_from_db()
    assert theirs.is_revoked


def test_a_demoted_editor_loses_admin_access(client, admin_user, editor):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:catalog_user_change", args=[editor.pk]),
        {
            "username": editor.username,
            "email": editor.email,
            "role": "viewer",
            "is_active": "on",
            "is_staff": "on",  # the form still shows the old tick
            "email_frequency": "immediate",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    editor.refresh_from_db()
    assert (editor.role, editor.is_staff, editor.is_superuser) == ("viewer", False, False)
    client.force_login(editor)
    assert client.get(reverse("admin:index")).status_code == 302  # to the login page


def test_admin_adds_a_user_and_sets_a_password_through_the_services(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:catalog_user_add"),
        {
            "username": "newcomer",
            "email": "new@example.com",
            "role": "editor",
            "password1": "a-long-pass-phrase-1",
            "password2": "a-long-pass-phrase-1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(username="newcomer")
    assert user.role == "editor" and user.is_staff and user.check_password("a-long-pass-phrase-1")
    response = client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "another-pass-phrase-2", "password2": "another-pass-phrase-2"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert user.check_password("another-pass-phrase-2")


def test_editors_cannot_add_users(client, editor):
    client.force_login(editor)
    assert client.get(reverse("admin:catalog_user_add")).status_code == 403


def test_a_viewer_in_the_admin_does_not_see_email_addresses(client, viewer, editor):
    client.force_login(viewer)
    listing = client.get(reverse("admin:catalog_user_changelist")).content.decode()
    assert "editor" in listing and editor.email not in listing
    page = client.get(reverse("admin:catalog_user_change", args=[editor.pk])).content.decode()
    assert editor.email not in page
    assert (
        client.get(reverse("admin:catalog_user_changelist"), {"q": editor.email}).status_code == 200
    )


def test_an_events_page_shows_its_custom_property_values(client, editor):
    from catalog.models import CustomProperty
    from catalog.services.resources import resource_custom_value_set

    event = EventFactory()
    jira = CustomProperty.objects.create(
        name="Jira ticket", entity_types=["event"], value_type="text"
    )
    resource_custom_value_set(ctx=SYSTEM, resource=event, custom_property=jira, value="T-42")
    client.force_login(editor)
    page = client.get(reverse("admin:catalog_event_change", args=[event.pk])).content.decode()
    assert "<div><strong>Jira ticket</strong>: T-42</div>" in page
    history = client.get(reverse("admin:catalog_event_history", args=[event.pk])).content.decode()
    assert "<td>Custom: Jira ticket</td><td>—</td><td>T-42</td>" in history


def test_a_tampered_id_in_an_autocomplete_field_is_a_form_error_not_a_500(client, editor):
    event = EventFactory()
    client.force_login(editor)
    url = reverse("admin:catalog_event_change", args=[event.pk])
    for field, value in [("tags", ["nope"]), ("owners", ["1"]), ("parent", "not-an-id")]:
        data = {"title": event.title, "parent": event.parent_id, field: value}
        response = client.post(url, data)
        assert response.status_code == 200, field
        assert "errornote" in response.content.decode()
    response = client.post(
        reverse("admin:catalog_event_add"),
        {"title": "New", "parent": event.parent_id, "integration": "nope"},
    )
    assert response.status_code == 200 and "errornote" in response.content.decode()
    response = client.post(
        reverse("admin:catalog_collection_add"), {"title": "Funnel", "tags": ["nope"]}
    )
    assert response.status_code == 200 and "errornote" in response.content.decode()
    assert not Event.objects.filter(title="New").exists()
    assert Event.objects.get(pk=event.pk).tags.count() == 0


@pytest.mark.parametrize(
    ("changelist", "action"),
    [
        ("admin:catalog_apikey_changelist", "revoke"),
        ("admin:catalog_tag_changelist", "delete_selected"),
        ("admin:catalog_violation_changelist", "delete_selected"),
        ("admin:catalog_event_changelist", "delete_selected"),
    ],
)
def test_a_tampered_action_selection_is_no_500(client, admin_user, changelist, action):
    client.force_login(admin_user)
    for selection in (["nonsense"], ["1" * 50], ["a\x00b"]):
        response = client.post(
            reverse(changelist), {"action": action, "_selected_action": selection}
        )
        assert response.status_code in (200, 302)


def test_an_editor_sees_who_follows_but_changes_only_through_following(client, editor):
    event, follower = EventFactory(title="Signed Up"), UserFactory(username="fern")
    event.subscribers.add(follower)
    url = reverse("admin:catalog_event_change", args=[event.pk])
    client.force_login(editor)
    page = client.get(url).content.decode()
    assert 'name="subscribers"' not in page and "fern" in page
    response = client.post(
        url,
        {"title": "Signed Up", "parent": event.parent.pk, "subscribers": [editor.pk]},
    )
    assert response.status_code == 302
    assert list(event.subscribers.all()) == [follower]


def test_an_admin_changes_who_follows(client, admin_user):
    event, follower = EventFactory(title="Signed Up"), UserFactory(username="fern")
    url = reverse("admin:catalog_event_change", args=[event.pk])
    client.force_login(admin_user)
    assert 'name="subscribers"' in client.get(url).content.decode()
    data = {"title": "Signed Up", "parent": event.parent.pk, "subscribers": [follower.pk]}
    assert client.post(url, data).status_code == 302
    assert list(event.subscribers.all()) == [follower]


def test_an_integrations_discovery_limits_have_their_own_section(client, admin_user):
    integration = IntegrationFactory()
    client.force_login(admin_user)
    url = reverse("admin:catalog_integration_change", args=[integration.pk])
    page = client.get(url).content.decode()
    assert "Discovery limits" in page
    for name, value in [
        ("max_new_events_per_day", 1000),
        ("max_new_properties_per_day", 10000),
        ("max_properties_per_event", 1000),
    ]:
        assert f'name="{name}" value="{value}"' in page


def test_the_admin_history_hides_what_a_viewer_cant_see(client, viewer, editor):
    event = EventFactory(title="Signed Up")
    secret = CollectionFactory(title="Acquisition target", published=False)
    ctx = ChangeContext(source="api", user=editor)
    resource_update(ctx=ctx, resource=event, data={"collections": [secret]})
    client.force_login(viewer)
    page = client.get(reverse("admin:catalog_event_history", args=[event.pk])).content.decode()
    assert "Acquisition" not in page and HIDDEN_LABEL in page
    client.force_login(editor)
    page = client.get(reverse("admin:catalog_event_history", args=[event.pk])).content.decode()
    assert "Acquisition target" in page
