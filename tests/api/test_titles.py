"""Titles and names sent to the API are kept in one form (catalog.models.titles)."""

import pytest

from catalog.models import EntityType, Resource, Tag
from tests.factories import EventCategoryFactory, EventFactory, TeamFactory
from tests.test_titles import CONTROL, INVISIBLE

pytestmark = pytest.mark.django_db


def test_the_api_stores_the_normal_form_and_sees_look_alikes_as_duplicates(as_editor):
    category = EventCategoryFactory()
    url = "/api/v1/event/events"
    response = as_editor.post(
        url, {"title": "\u00a0Signed\u200b In ", "parent": str(category.pk)}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["title"] == "Signed In"
    again = as_editor.post(url, {"title": "Signed  In", "parent": str(category.pk)}, format="json")
    assert again.status_code == 400
    assert again.json() == {"title": ["The parent already has a child with this title."]}
    assert Resource.objects.filter(entity_type=EntityType.EVENT).count() == 1


@pytest.mark.parametrize(
    ("title", "message"),
    [("Sign\u202eed In", f"{CONTROL} (found U+202E)."), ("\u200b", INVISIBLE)],
)
def test_the_api_refuses_what_no_title_may_hold(as_editor, title, message):
    category = EventCategoryFactory()
    response = as_editor.post(
        "/api/v1/event/events", {"title": title, "parent": str(category.pk)}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"title": [message]}
    event = EventFactory(title="Signed In")
    response = as_editor.patch(f"/api/v1/event/events/{event.pk}", {"title": title}, format="json")
    assert response.status_code == 400
    assert response.json() == {"title": [message]}


def test_tags_teams_and_integrations_names_are_normalised_too(as_admin):
    response = as_admin.post("/api/v1/tag", {"name": "checkout\u200b "}, format="json")
    assert response.status_code == 201, response.json()
    assert Tag.objects.get().title == "checkout"
    response = as_admin.post("/api/v1/tag", {"name": "checkout"}, format="json")
    assert response.status_code == 400
    team = TeamFactory(name="Growth")
    url = f"/api/v1/team/teams/{team.pk}"
    response = as_admin.patch(url, {"name": "Gro\u202ewth"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": [f"{CONTROL} (found U+202E)."]}
