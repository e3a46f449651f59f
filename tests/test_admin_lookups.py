"""The admin's lists accept the filters their pages offer, and nothing else; bad values in
them leave the list unfiltered, with a message, and never fail."""

import html
import re
from collections import deque
from urllib.parse import parse_qsl

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from catalog.admin.lookups import FILTERS_LEFT_OUT
from catalog.models import CustomProperty, UserGroup, Violation
from catalog.services.keys import api_key_create
from catalog.services.writekeys import write_key_create
from tests.factories import (
    SYSTEM,
    CollectionFactory,
    EventPropertyFactory,
    TagFactory,
    TeamFactory,
    notify_change,
)

pytestmark = pytest.mark.django_db

BAD_REQUEST = "The request could not be understood."


@pytest.fixture
def workspace(admin_user, editor):
    """A little of everything, so that every filter has choices and every list has rows."""
    prop = EventPropertyFactory(title="revenue", pii=True)
    event = prop.parent
    event.tags.add(TagFactory(title="checkout"))
    event.owners.add(editor)
    event.collections.add(CollectionFactory(title="Funnel"))
    TeamFactory(name="Growth").members.add(editor)
    UserGroup.objects.create(name="Analysts").users.add(editor)
    CustomProperty.objects.create(name="Jira ticket", entity_types=["event"], value_type="text")
    write_key_create(ctx=SYSTEM, integration=event.integration, name="web")
    api_key_create(ctx=SYSTEM, user=editor, name="laptop")
    now = timezone.now()
    Violation.objects.create(
        integration=event.integration,
        event=event,
        event_name=event.title,
        kind="unknown_property",
        count=1,
        first_seen_at=now,
        last_seen_at=now,
    )
    notify_change(event, [editor], actor=admin_user)
    return event


def changelists() -> list[str]:
    return sorted(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        for model in admin.site._registry
    )


def links_on(page: str) -> list[str]:
    """The query strings of the links a list renders to itself: filters, date hierarchy,
    sorting, pages, "Show counts"."""
    return [html.unescape(href) for href in re.findall(r'href="(\?[^"]*)"', page)]


def shape(query: str) -> frozenset:
    return frozenset(name for name, _ in parse_qsl(query.lstrip("?"), keep_blank_values=True))


@pytest.mark.parametrize("changelist", changelists())
def test_every_link_a_list_renders_works(client, admin_user, workspace, changelist):
    """Follows every filter, date-hierarchy, sorting and paging link of the list (one link per
    set of parameters), as its page renders them: each opens the list, filtered."""
    client.force_login(admin_user)
    url = reverse(changelist)
    seen, queue, followed = set(), deque(["?_facets=True", ""]), 0
    while queue:
        query = queue.popleft()
        if shape(query) in seen:
            continue
        seen.add(shape(query))
        response = client.get(url + query)
        followed += 1
        assert response.status_code == 200, (query, response.status_code)
        page = response.content.decode()
        assert FILTERS_LEFT_OUT not in page, query
        queue.extend(links_on(page))
    assert followed > 2


@pytest.mark.parametrize("role", ["admin_user", "viewer"])
def test_the_filter_links_work_for_every_role(request, client, workspace, role):
    client.force_login(request.getfixturevalue(role))
    url = reverse("admin:catalog_event_changelist")
    page = client.get(url).content.decode()
    filters = [query for query in links_on(page) if "__" in query]
    assert filters
    for query in filters:
        response = client.get(url + query)
        assert response.status_code == 200, query
        assert FILTERS_LEFT_OUT not in response.content.decode()


def test_the_links_between_admin_pages_work(client, admin_user, workspace):
    """ "See all events" of a category, "See all properties" of an event, "See all" write keys
    of an integration: lists filtered by a lookup that no filter of theirs offers."""
    other = EventPropertyFactory(title="currency")
    write_key_create(ctx=SYSTEM, integration=other.integration, name="elsewhere")
    client.force_login(admin_user)
    links = [
        ("eventcategory", workspace.parent_id, workspace.title, other.parent.title),
        ("event", workspace.pk, "revenue", "currency"),
        ("integration", workspace.integration_id, "web", "elsewhere"),
    ]
    for model, pk, listed, not_listed in links:
        page = client.get(reverse(f"admin:catalog_{model}_change", args=[pk])).content.decode()
        see_all = html.unescape(re.search(r'href="([^"]+)">See all', page).group(1))
        response = client.get(see_all)
        assert response.status_code == 200, see_all
        listing = response.content.decode()
        assert listed in listing and not_listed not in listing, see_all


@pytest.mark.parametrize(
    ("changelist", "query"),
    [
        # A regular expression of the attacker's choice, run by the database.
        ("admin:catalog_event_changelist", {"title__regex": "^(a+)+$"}),
        ("admin:catalog_resource_changelist", {"description__iregex": "(x+x+)+y"}),
        ("admin:catalog_event_changelist", {"title__regex": "("}),
        # An email address, one letter at a time, on a page that doesn't show it.
        ("admin:catalog_user_changelist", {"email__startswith": "e"}),
        ("admin:catalog_user_changelist", {"email": "editor@example.com"}),
        ("admin:catalog_event_changelist", {"owners__email__startswith": "e"}),
        ("admin:catalog_apikey_changelist", {"user__email__contains": "@"}),
        ("admin:catalog_notification_changelist", {"recipient__email__startswith": "e"}),
        # Dates no list of them offers.
        ("admin:catalog_event_changelist", {"created_at__year": "9" * 30}),
        ("admin:catalog_writekey_changelist", {"created_at__gte": "2020-01-01"}),
        # Lookups on fields the page has no filter for.
        ("admin:catalog_tag_changelist", {"id__exact": "9" * 30}),
        ("admin:catalog_writekey_changelist", {"key_hash__startswith": "a"}),
        ("admin:catalog_event_changelist", {"unknown_field": "1"}),
    ],
)
def test_a_list_refuses_a_lookup_its_page_does_not_offer(client, admin_user, changelist, query):
    client.force_login(admin_user)
    response = client.get(reverse(changelist), query)
    assert response.status_code == 400
    assert BAD_REQUEST in response.content.decode()


def test_a_viewer_cannot_find_an_email_address_through_a_list(client, viewer, editor):
    client.force_login(viewer)
    url = reverse("admin:catalog_user_changelist")
    for query in ({"email__startswith": "edi"}, {"email__contains": "@"}, {"q": "example.com"}):
        response = client.get(url, query)
        page = response.content.decode()
        assert editor.email not in page
        assert response.status_code == 400 or "0 users" in page, query


@pytest.mark.parametrize(
    ("changelist", "query"),
    [
        # PostgreSQL refuses a NUL in text: a 500 before.
        ("admin:catalog_eventproperty_changelist", {"data_type__exact": "a\x00"}),
        ("admin:catalog_event_changelist", {"pii__exact": "\x00"}),
        ("admin:catalog_event_changelist", {"q": "revenue\x00"}),
        ("admin:catalog_event_changelist", {"o": "1\x00"}),
        ("admin:catalog_notification_changelist", {"q": "\x00"}),
        # Not an id.
        ("admin:catalog_event_changelist", {"parent__id__exact": "not-an-id"}),
        ("admin:catalog_event_changelist", {"integration__id__exact": "\x00"}),
        # The date hierarchy: years Python's dates don't reach, months and days that aren't.
        ("admin:catalog_notification_changelist", {"created_at__year": "9" * 30}),
        ("admin:catalog_notification_changelist", {"created_at__year": "-5"}),
        ("admin:catalog_notification_changelist", {"created_at__year": "0"}),
        ("admin:catalog_notification_changelist", {"created_at__year": "9999"}),
        ("admin:catalog_notification_changelist", {"created_at__year": "²⁰²⁴"}),
        (
            "admin:catalog_notification_changelist",
            {"created_at__year": "9999", "created_at__month": "12", "created_at__day": "31"},
        ),
        (
            "admin:catalog_notification_changelist",
            {"created_at__year": "2024", "created_at__month": "99"},
        ),
        (
            "admin:catalog_notification_changelist",
            {"created_at__year": "2024", "created_at__month": "2", "created_at__day": "30"},
        ),
        (
            "admin:catalog_notification_changelist",
            {"created_at__year": "2024", "created_at__day": "1" * 50},
        ),
    ],
)
def test_a_bad_value_leaves_the_list_unfiltered_with_a_message(
    client, admin_user, workspace, changelist, query
):
    client.force_login(admin_user)
    response = client.get(reverse(changelist), query, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse(changelist) + "?e=1", 302)]
    assert FILTERS_LEFT_OUT in response.content.decode()


def test_the_date_hierarchy_filters_by_a_good_date(client, admin_user, workspace):
    client.force_login(admin_user)
    today = timezone.now()
    url = reverse("admin:catalog_notification_changelist")
    query = {"created_at__year": today.year, "created_at__month": today.month}
    page = client.get(url, query).content.decode()
    assert "1 notification" in page and FILTERS_LEFT_OUT not in page
    page = client.get(url, {"created_at__year": today.year - 1}).content.decode()
    assert "0 notifications" in page


@pytest.mark.parametrize(
    "view", ["admin:autocomplete", "admin:catalog_resource_parent_autocomplete"]
)
def test_an_autocomplete_term_with_a_nul_finds_nothing(client, editor, workspace, view):
    client.force_login(editor)
    field = "parent" if "parent" in view else "tags"
    query = {"app_label": "catalog", "model_name": "event", "field_name": field}
    response = client.get(reverse(view), {**query, "term": "Cat\x00"})
    assert response.status_code == 200
    assert response.json() == {"results": [], "pagination": {"more": False}}
    found = client.get(reverse(view), {**query, "term": "check" if field == "tags" else "Cat"})
    assert found.json()["results"]  # the same search without the NUL finds it


@pytest.mark.parametrize("parent", ["not-an-id", "\x00", "9" * 40])
def test_an_add_form_ignores_a_parent_that_is_no_id(client, editor, parent):
    client.force_login(editor)
    response = client.get(reverse("admin:catalog_eventproperty_add"), {"parent": parent})
    assert response.status_code == 200
    assert "Add event property" in response.content.decode()
