"""Following is each person's choice: editors follow and unfollow themselves, admins anyone."""

import pytest

from catalog.models import ObjectChange
from tests.factories import CollectionFactory, EventCategoryFactory, EventFactory, UserFactory

pytestmark = pytest.mark.django_db

REFUSED = (
    "Only admins can make other people follow or stop following; you can follow or unfollow "
    "yourself."
)


def _followers(resource) -> set[str]:
    return {str(pk) for pk in resource.subscribers.values_list("pk", flat=True)}


def test_an_editor_cant_make_someone_else_follow_an_event(as_editor):
    event, someone = EventFactory(), UserFactory()
    response = as_editor.patch(
        f"/api/v1/event/events/{event.pk}", {"subscribers": [str(someone.pk)]}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": REFUSED}
    assert _followers(event) == set()
    assert not ObjectChange.objects.filter(object_id=event.pk).exists()


def test_an_editor_cant_unsubscribe_someone_else(as_editor, editor):
    event, someone = EventFactory(), UserFactory()
    event.subscribers.add(someone, editor)
    response = as_editor.patch(
        f"/api/v1/event/events/{event.pk}", {"subscribers": [str(editor.pk)]}, format="json"
    )
    assert response.status_code == 403
    assert _followers(event) == {str(someone.pk), str(editor.pk)}


def test_an_editor_may_follow_and_unfollow_themselves_by_patch(as_editor, editor):
    event, someone = EventFactory(), UserFactory()
    event.subscribers.add(someone)
    url = f"/api/v1/event/events/{event.pk}"
    both = [str(someone.pk), str(editor.pk)]
    assert as_editor.patch(url, {"subscribers": both}, format="json").status_code == 200
    assert _followers(event) == set(both)
    only_someone = {"subscribers": [str(someone.pk)]}
    assert as_editor.patch(url, only_someone, format="json").status_code == 200
    assert _followers(event) == {str(someone.pk)}
    # Sending the list as it is changes nothing, whoever is on it.
    assert as_editor.patch(url, only_someone, format="json").status_code == 200


def test_new_owners_still_follow_what_an_editor_gives_them(as_editor):
    event, owner = EventFactory(), UserFactory()
    response = as_editor.patch(
        f"/api/v1/event/events/{event.pk}", {"owners": [str(owner.pk)]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["subscribers"] == [str(owner.pk)]


def test_an_editor_cant_create_a_resource_with_other_followers(as_editor, editor):
    category, someone = EventCategoryFactory(), UserFactory()
    body = {"title": "Signed Up", "parent": str(category.pk), "subscribers": [str(someone.pk)]}
    response = as_editor.post("/api/v1/event/events", body, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": REFUSED}
    body["subscribers"] = [str(editor.pk)]
    response = as_editor.post("/api/v1/event/events", body, format="json")
    assert response.status_code == 201
    assert response.json()["subscribers"] == [str(editor.pk)]


def test_an_admin_may_change_anyones_following(as_admin):
    event, someone = EventFactory(), UserFactory()
    response = as_admin.patch(
        f"/api/v1/event/events/{event.pk}", {"subscribers": [str(someone.pk)]}, format="json"
    )
    assert response.status_code == 200
    assert _followers(event) == {str(someone.pk)}


def test_the_same_holds_for_collections(as_editor, as_admin, editor):
    collection, someone = CollectionFactory(), UserFactory()
    url = f"/api/v1/collection/collections/{collection.pk}"
    response = as_editor.patch(url, {"subscribers": [str(someone.pk)]}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": REFUSED}
    assert as_editor.patch(url, {"subscribers": [str(editor.pk)]}, format="json").status_code == 200
    assert as_admin.patch(url, {"subscribers": [str(someone.pk)]}, format="json").status_code == 200
    assert _followers(collection) == {str(someone.pk)}
    response = as_editor.post(
        "/api/v1/collection/collections",
        {"title": "Checkout", "subscribers": [str(someone.pk)]},
        format="json",
    )
    assert response.status_code == 403
