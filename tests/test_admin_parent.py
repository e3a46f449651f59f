"""The parent picker of events and properties in the admin: the right kind, told apart."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.admin.resources import EventPropertyAdmin
from catalog.models import Event, EventCategory, EventProperty
from tests.factories import (
    CollectionFactory,
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    IntegrationFactory,
)

pytestmark = pytest.mark.django_db

PICKER = reverse("admin:catalog_resource_parent_autocomplete")


def shown(text: str) -> str:
    """A label as the admin shows it: `>` stands for the single right-pointing quotation mark."""
    return text.replace(" > ", " \u203a ")


@pytest.fixture
def twins():
    """ "Signed Up" twice: in the "Onboarding" category of two integrations."""
    found = {}
    for name in ["Web app", "iOS app"]:
        onboarding = EventCategoryFactory(
            title="Onboarding", integration=IntegrationFactory(name=name)
        )
        signed_up = EventFactory(title="Signed Up", parent=onboarding)
        found[name] = EventPropertyFactory(title="plan", parent=signed_up)
    return found


def pick(client, model_name, term="", url=PICKER, **params):
    query = {"app_label": "catalog", "model_name": model_name, "field_name": "parent"}
    return client.get(url, {**query, "term": term, **params})


def offered(client, model_name, term=""):
    response = pick(client, model_name, term)
    assert response.status_code == 200
    return sorted(row["text"] for row in response.json()["results"])


def test_an_event_is_offered_categories_labelled_with_their_integration(client, editor, twins):
    client.force_login(editor)

    assert offered(client, "event") == ["Onboarding — Web app", "Onboarding — iOS app"]


def test_a_property_is_offered_events_labelled_with_integration_and_category(client, editor, twins):
    client.force_login(editor)

    assert offered(client, "eventproperty") == [
        shown("Signed Up — Web app > Onboarding"),
        shown("Signed Up — iOS app > Onboarding"),
    ]
    results = pick(client, "eventproperty").json()["results"]
    assert {row["id"] for row in results} == {str(p.parent_id) for p in twins.values()}


def test_the_picker_finds_what_its_labels_show(client, editor, twins):
    EventFactory(title="Signed Out", parent=twins["Web app"].parent.parent)
    client.force_login(editor)

    assert offered(client, "eventproperty", "web signed") == [
        shown("Signed Out — Web app > Onboarding"),
        shown("Signed Up — Web app > Onboarding"),
    ]
    assert offered(client, "eventproperty", "ios onboarding up") == [
        shown("Signed Up — iOS app > Onboarding")
    ]
    assert offered(client, "event", "ios") == ["Onboarding — iOS app"]


def test_the_picker_answers_only_for_the_parent_of_an_event_or_a_property(client, editor):
    CollectionFactory(title="Checkout funnel")
    client.force_login(editor)

    for model_name in ["eventcategory", "resource", "collection", "nothing"]:
        assert pick(client, model_name).status_code == 403
    assert pick(client, "event", field_name="owners").status_code == 403


def test_djangos_own_autocomplete_offers_the_same_kinds(client, editor, twins):
    """The generic endpoint stays reachable; it restricts the kind just the same."""
    client.force_login(editor)
    generic = reverse("admin:autocomplete")

    for model_name, model in [("event", EventCategory), ("eventproperty", Event)]:
        results = pick(client, model_name, url=generic).json()["results"]
        assert {row["id"] for row in results} == {
            str(pk) for pk in model.objects.values_list("pk", flat=True)
        }
    assert pick(client, "resource", url=generic).json()["results"] == []


def test_a_viewer_is_offered_only_what_the_policy_lets_them_see(client, viewer, twins):
    EventCategoryFactory(title="Draft", published=False, integration=twins["Web app"].integration)
    client.force_login(viewer)

    assert offered(client, "event") == ["Onboarding — Web app", "Onboarding — iOS app"]
    client.logout()
    assert pick(client, "event").status_code == 302  # to the login page


def test_the_picker_costs_the_same_for_3_or_15_candidates(client, editor):
    client.force_login(editor)

    def run(count):
        integration = IntegrationFactory()
        for n in range(count):
            category = EventCategoryFactory(title=f"Category {count}-{n}", integration=integration)
            EventFactory(title=f"Event {count}-{n}", parent=category)
        with CaptureQueriesContext(connection) as captured:
            response = pick(client, "eventproperty", f"Event {count}-")
        assert len(response.json()["results"]) == count
        return len(captured.captured_queries)

    assert run(3) == run(15)


def test_the_form_uses_the_picker_and_shows_the_parent_labelled(client, editor, twins):
    prop = twins["Web app"]
    client.force_login(editor)

    page = client.get(reverse("admin:catalog_eventproperty_change", args=[prop.pk]))
    html = page.content.decode()
    assert f'data-ajax--url="{PICKER}"' in html
    label = shown("Signed Up — Web app > Onboarding")
    selected = f'<option value="{prop.parent_id}" selected>{label}</option>'
    assert selected in html
    assert html.count("Signed Up — ") == 1  # the chosen parent only, not every event

    event = prop.parent
    page = client.get(reverse("admin:catalog_event_change", args=[event.pk])).content.decode()
    assert f'<option value="{event.parent_id}" selected>Onboarding — Web app</option>' in page


def test_the_choices_cost_one_query_whatever_their_number(rf, editor, django_assert_num_queries):
    for _ in range(10):
        EventFactory()
    request = rf.get("/")
    request.user = editor
    model_admin = EventPropertyAdmin(EventProperty, admin.site)
    field = model_admin.get_form(request)().fields["parent"]

    with django_assert_num_queries(1):
        labels = [label for value, label in field.choices if value]
    assert len(labels) == 10
    assert all(" — Integration " in label and shown(" > Category ") in label for label in labels)


def test_a_parent_of_the_wrong_kind_is_refused(client, editor, twins):
    prop = twins["Web app"]
    event, category = prop.parent, prop.parent.parent
    client.force_login(editor)

    cases = [
        ("event", {"title": "Wrong", "parent": event.pk}),  # an event is no category
        ("event", {"title": "Wrong", "parent": prop.pk}),
        ("eventproperty", {"title": "Wrong", "parent": category.pk, "data_type": "string"}),
        ("eventproperty", {"title": "Wrong", "parent": prop.pk, "data_type": "string"}),
    ]
    for model_name, data in cases:
        response = client.post(
            reverse(f"admin:catalog_{model_name}_add"),
            {**data, "integration": category.integration_id},
        )
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    assert not Event.objects.filter(title="Wrong").exists()
    assert not EventProperty.objects.filter(title="Wrong").exists()

    # Moving an event under a property is refused on the change form just the same.
    response = client.post(
        reverse("admin:catalog_event_change", args=[event.pk]),
        {"title": event.title, "parent": prop.pk},
    )
    assert "Select a valid choice" in response.content.decode()
    event.refresh_from_db()
    assert event.parent_id == category.pk


def test_a_category_takes_no_parent_even_if_one_is_posted(client, editor, twins):
    category = twins["Web app"].parent.parent
    other = twins["iOS app"].parent.parent
    client.force_login(editor)

    response = client.post(
        reverse("admin:catalog_eventcategory_change", args=[category.pk]),
        {"title": category.title, "parent": other.pk, "description": "Sign-up flow"},
    )

    assert response.status_code == 302
    category.refresh_from_db()
    assert category.parent_id is None and category.description == "Sign-up flow"
