"""Definitions and descriptions have a stored limit: the API answers a 400 naming the field
and the limit, for resources, tags, collections and teams, and its schema states it."""

import pytest

from catalog.markdown import MAX_LENGTH
from catalog.models import Resource, Tag
from catalog.models.text import DEFINITION_MAX_LENGTH, DESCRIPTION_MAX_LENGTH
from tests.factories import EventCategoryFactory, EventFactory, TagFactory

pytestmark = pytest.mark.django_db

TOO_LONG_DEFINITION = "A definition can be at most 100,000 characters long; this one has 100,001."
TOO_LONG_DESCRIPTION = "A description can be at most 10,000 characters long; this one has 10,001."


def test_the_limits():
    assert DEFINITION_MAX_LENGTH == MAX_LENGTH == 100_000
    assert DESCRIPTION_MAX_LENGTH == 10_000


def test_the_api_refuses_a_definition_over_the_limit_naming_the_field(as_editor):
    event = EventFactory()
    url = f"/api/v1/event/events/{event.pk}"

    response = as_editor.patch(url, {"definition": "x" * 100_001}, format="json")

    assert response.status_code == 400
    assert response.json() == {"definition": [TOO_LONG_DEFINITION]}
    event.refresh_from_db()
    assert event.definition == ""
    at_the_limit = as_editor.patch(url, {"definition": "x" * 100_000}, format="json")
    assert at_the_limit.status_code == 200
    assert len(at_the_limit.json()["definition"]) == 100_000


def test_the_api_refuses_a_new_resource_with_a_long_description(as_editor):
    category = EventCategoryFactory()

    response = as_editor.post(
        "/api/v1/event/events",
        {
            "title": "Signed Up",
            "parent": str(category.pk),
            "integration": str(category.integration_id),
            "description": "x" * 10_001,
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"description": [TOO_LONG_DESCRIPTION]}
    assert not Resource.objects.filter(title="Signed Up").exists()


def test_tags_collections_and_teams_have_the_limit_too(as_admin):
    tag = as_admin.post(
        "/api/v1/tag/tags", {"name": "gdpr", "description": "x" * 10_001}, format="json"
    )
    collection = as_admin.post(
        "/api/v1/collection/collections",
        {"title": "Checkout", "definition": "x" * 100_001},
        format="json",
    )
    team = as_admin.post(
        "/api/v1/team/teams", {"name": "Growth", "description": "x" * 10_001}, format="json"
    )

    assert (tag.status_code, tag.json()) == (400, {"description": [TOO_LONG_DESCRIPTION]})
    assert (collection.status_code, collection.json()) == (
        400,
        {"definition": [TOO_LONG_DEFINITION]},
    )
    assert (team.status_code, team.json()) == (400, {"description": [TOO_LONG_DESCRIPTION]})


def test_the_api_schema_states_the_limits(as_viewer):
    schema = as_viewer.get("/api/schema/", {"format": "json"}).json()
    event = schema["components"]["schemas"]["Event"]["properties"]

    assert event["definition"]["maxLength"] == 100_000
    assert event["description"]["maxLength"] == 10_000


def test_the_workspace_services_refuse_it_too(as_admin):
    tag = TagFactory()

    response = as_admin.patch(
        f"/api/v1/tag/tags/{tag.pk}", {"description": "x" * 10_001}, format="json"
    )

    assert (response.status_code, response.json()) == (400, {"description": [TOO_LONG_DESCRIPTION]})
    assert Tag.objects.get(pk=tag.pk).description == ""
