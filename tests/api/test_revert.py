"""POST /api/v1/changes/{id}/revert: undo over the API, its refusals and conflicts."""

import pytest

from catalog.models import ChangeSet, Integration, Resource, User
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    IntegrationFactory,
)

pytestmark = pytest.mark.django_db


def url(change_set) -> str:
    return f"/api/v1/changes/{getattr(change_set, 'pk', change_set)}/revert"


def newest() -> ChangeSet:
    return ChangeSet.objects.order_by("-created_at", "-id").first()


def test_an_editor_undoes_an_update_and_gets_the_new_change_set(as_editor, editor):
    event = EventFactory(title="Order Completed", description="Old")
    as_editor.patch(f"/api/v1/event/events/{event.pk}", {"description": "New"}, format="json")
    original = newest()

    response = as_editor.post(url(original), {}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reverts"] == str(original.pk)
    assert body["actor"] == {
        "id": str(editor.pk),
        "name": str(editor),
        "api_key": body["actor"]["api_key"],
        "integration": None,
    }
    assert body["changes"] == [
        {
            "object_type": "event",
            "object_id": str(event.pk),
            "title": "Order Completed",
            "action": "update",
            "diff": {"description": ["New", "Old"]},
        }
    ]
    event.refresh_from_db()
    assert event.description == "Old"
    history = as_editor.get(f"/api/v1/event/events/{event.pk}/history").json()["results"]
    assert [h["diff"] for h in history] == [
        {"description": ["New", "Old"]},
        {"description": ["Old", "New"]},
    ]


def test_a_later_change_answers_409_naming_fields_and_change_set_and_force_undoes(
    as_editor, as_admin
):
    event = EventFactory(description="One")
    as_editor.patch(f"/api/v1/event/events/{event.pk}", {"description": "Two"}, format="json")
    first = newest()
    as_admin.patch(f"/api/v1/event/events/{event.pk}", {"description": "Three"}, format="json")
    later = newest()

    response = as_editor.post(url(first), {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert "Later changes touched the same fields (description)" in body["detail"]
    assert [(c["fields"], c["change_set"]) for c in body["conflicts"]] == [
        (["description"], str(later.pk))
    ]

    forced = as_editor.post(url(first), {"force": True}, format="json")
    assert forced.status_code == 201
    event.refresh_from_db()
    assert event.description == "One"


def test_a_deleted_category_comes_back_over_the_api(as_editor):
    category = EventCategoryFactory(title="Checkout")
    event = EventFactory(parent=category)
    prop = EventPropertyFactory(parent=event)
    assert as_editor.delete(f"/api/v1/event/category/{category.pk}").status_code == 200
    response = as_editor.post(url(newest()), format="json")
    assert response.status_code == 201
    assert {c["object_type"] for c in response.json()["changes"]} == {
        "category",
        "event",
        "event_property",
    }
    assert set(Resource.objects.values_list("pk", flat=True)) == {category.pk, event.pk, prop.pk}


@pytest.mark.parametrize("given", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_change_sets_are_404(as_editor, given):
    response = as_editor.post(url(given), {}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("force", ["maybe", 7, None, [True]])
def test_a_force_that_is_no_boolean_is_400(as_editor, force):
    event = EventFactory(description="One")
    as_editor.patch(f"/api/v1/event/events/{event.pk}", {"description": "Two"}, format="json")
    response = as_editor.post(url(newest()), {"force": force}, format="json")
    assert response.status_code == 400
    assert "force" in response.json()


def test_an_editor_may_not_undo_an_admins_switch_to_block_mode(as_editor, as_admin):
    integration = IntegrationFactory(validation_mode="discover")
    as_admin.patch(
        f"/api/v1/integration/integrations/{integration.pk}",
        {"validation_mode": "block"},
        format="json",
    )
    switched = newest()
    assert switched.changes.get().diff == {"validation_mode": ["discover", "block"]}

    # Editors don't see integrations' changes in the audit log: for them it isn't there.
    refused = as_editor.post(url(switched), {}, format="json")
    assert refused.status_code == 404
    assert refused.json() == {"detail": "Not found."}
    assert Integration.objects.get(pk=integration.pk).validation_mode == "block"

    assert as_admin.post(url(switched), {}, format="json").status_code == 201
    assert Integration.objects.get(pk=integration.pk).validation_mode == "discover"


def test_viewers_and_anonymous_callers_cannot_undo(as_viewer, as_editor, client):
    event = EventFactory(description="One")
    as_editor.patch(f"/api/v1/event/events/{event.pk}", {"description": "Two"}, format="json")
    assert as_viewer.post(url(newest()), {}, format="json").status_code == 403
    assert client.post(url(newest()), {}, content_type="application/json").status_code in (401, 403)
    event.refresh_from_db()
    assert event.description == "Two"


def test_an_undo_revokes_no_key_its_caller_may_not_revoke(as_editor, as_viewer, admin_user, editor):
    """Undoing a key's creation revokes it: only whoever may revoke that key may do so (over
    the API the change set isn't even there for them; the service refuses too)."""
    from django.core.exceptions import PermissionDenied

    from catalog.models import ApiKey, WriteKey
    from catalog.services.context import ChangeContext
    from catalog.services.keys import api_key_create
    from catalog.services.revert import change_set_revert
    from catalog.services.writekeys import write_key_create

    by_admin = ChangeContext(source="web", user=admin_user)
    api_key_create(ctx=by_admin, user=admin_user, name="Admin's CI")
    api_key_created = newest()
    write_key_create(ctx=by_admin, integration=IntegrationFactory(), name="Web")
    write_key_created = newest()

    for client, change_set in [
        (as_editor, api_key_created),
        (as_viewer, api_key_created),
        (as_editor, write_key_created),
        (as_viewer, write_key_created),
    ]:
        refused = client.post(url(change_set), {}, format="json")
        assert refused.status_code == 404, refused.json()
        with pytest.raises(PermissionDenied):
            change_set_revert(ctx=ChangeContext(source="api", user=editor), change_set=change_set)
    assert ApiKey.objects.get(name="Admin's CI").revoked_at is None
    assert WriteKey.objects.get(name="Web").revoked_at is None


def test_a_refused_undo_says_nothing_of_later_changes_it_may_not_see(as_editor, as_admin):
    """An editor's undo of a role change is a 404 over the API (and a 403 from the service),
    never a 409 that names the user, the fields and who changed them since."""
    from tests.factories import UserFactory

    person = UserFactory(username="grace", role="viewer")
    as_admin.patch(f"/api/v1/user/{person.pk}", {"role": "Editor"}, format="json")
    promoted = newest()
    as_admin.patch(f"/api/v1/user/{person.pk}", {"role": "Admin"}, format="json")

    refused = as_editor.post(url(promoted), {}, format="json")

    assert refused.status_code == 404
    assert refused.json() == {"detail": "Not found."}
    from django.core.exceptions import PermissionDenied

    from catalog.services.context import ChangeContext
    from catalog.services.revert import change_set_revert

    editor = User.objects.get(username="editor")
    with pytest.raises(PermissionDenied):  # not a Conflict naming the later change
        change_set_revert(ctx=ChangeContext(source="api", user=editor), change_set=promoted)


@pytest.mark.django_db(transaction=True)
def test_an_undo_leaves_out_relations_to_what_was_deleted_since(as_editor):
    """As a restore does: the tag (or collection) deleted since stays gone, the rest comes
    back, instead of a 400 that names no field."""
    from catalog.models import Collection
    from tests.factories import CollectionFactory, TagFactory

    beta, kept = TagFactory(title="beta"), TagFactory(title="kept")
    event = EventFactory(description="One")
    event.tags.set([beta, kept])
    as_editor.patch(
        f"/api/v1/event/events/{event.pk}", {"tags": [], "description": "Two"}, format="json"
    )
    untagged = newest()
    funnel, parent = CollectionFactory(description="One"), CollectionFactory()
    funnel.collections.set([parent])
    as_editor.patch(
        f"/api/v1/collection/collections/{funnel.pk}",
        {"collections": [], "description": "Two"},
        format="json",
    )
    unlinked = newest()
    as_editor.delete(f"/api/v1/tag/{beta.pk}")
    as_editor.delete(f"/api/v1/collection/collections/{parent.pk}")

    for change_set in (untagged, unlinked):
        response = as_editor.post(url(change_set), {}, format="json")
        assert response.status_code == 201, response.json()

    event.refresh_from_db()
    assert (event.description, list(event.tags.all())) == ("One", [kept])
    funnel = Collection.objects.get(pk=funnel.pk)
    assert (funnel.description, list(funnel.collections.all())) == ("One", [])


def test_an_undo_puts_back_examples_and_allowed_values_that_are_objects(as_editor):
    """Only relations hold `{id, label}` pairs: an example that is an object stays one."""
    prop = EventPropertyFactory(
        data_type="object",
        examples=[{"id": 7, "plan": "pro"}, {"plan": "team"}],
        allowed_values=[{"id": 1}],
    )
    as_editor.patch(
        f"/api/v1/event/event_properties/{prop.pk}",
        {"examples": [{"plan": "free"}], "allowed_values": [{"id": 2}]},
        format="json",
    )

    response = as_editor.post(url(newest()), {}, format="json")

    assert response.status_code == 201, response.json()
    body = as_editor.get(f"/api/v1/event/event_properties/{prop.pk}").json()
    assert body["examples"] == [{"id": 7, "plan": "pro"}, {"plan": "team"}]
    assert body["allowed_values"] == [{"id": 1}]


def test_undoing_a_move_whose_old_category_is_gone_says_so(as_editor):
    old = EventCategoryFactory(title="Checkout")
    new = EventCategoryFactory(title="Orders", integration=old.integration)
    event = EventFactory(parent=old, integration=old.integration, title="Order Completed")
    as_editor.patch(f"/api/v1/event/events/{event.pk}", {"parent": str(new.pk)}, format="json")
    moved = newest()
    as_editor.delete(f"/api/v1/event/category/{old.pk}")

    response = as_editor.post(url(moved), {}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "parent": ["'Order Completed' can't go back: its former parent no longer exists."]
    }
    assert Resource.objects.get(pk=event.pk).parent_id == new.pk
