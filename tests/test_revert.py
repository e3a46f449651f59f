"""Undo: a change set put back through the services, recorded as a change set of its own."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import (
    ChangeSet,
    CustomProperty,
    CustomPropertyValue,
    EntityType,
    Integration,
    ObjectChange,
    Resource,
    Tag,
    User,
)
from catalog.services.errors import Conflict
from catalog.services.resources import (
    resource_custom_value_set,
    resource_delete,
    resource_update,
    resources_bulk_add_relations,
    resources_bulk_update,
)
from catalog.services.revert import change_set_revert
from catalog.services.workspace import (
    user_update,
    workspace_object_create,
    workspace_object_delete,
    workspace_object_update,
)
from catalog.services.writekeys import write_key_create
from tests.factories import (
    CollectionFactory,
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    IntegrationFactory,
    TagFactory,
    TeamFactory,
    UserFactory,
    acting,
)

pytestmark = pytest.mark.django_db


def last_change_set() -> ChangeSet:
    return ChangeSet.objects.order_by("-created_at", "-id").first()


def test_an_update_is_put_back_and_the_undo_is_recorded(editor):
    tag = TagFactory(title="checkout")
    event = EventFactory(title="Order Completed", description="Old", pii=False)
    event.tags.add(tag)
    resource_update(
        ctx=acting(editor),
        resource=event,
        data={"description": "New", "pii": True, "tags": []},
    )
    original = last_change_set()

    undo = change_set_revert(ctx=acting(editor), change_set=original)

    event.refresh_from_db()
    assert (event.description, event.pii, list(event.tags.all())) == ("Old", False, [tag])
    assert undo.reverts == original and undo.actor == editor
    [change] = undo.changes.all()
    assert change.diff == {
        "description": ["New", "Old"],
        "pii": [True, False],
        "tags": [[], [{"id": str(tag.pk), "label": "checkout"}]],
    }


def test_a_bulk_change_of_200_resources_is_undone_in_a_constant_number_of_statements(editor):
    def run(count):
        events = [EventFactory(verified=False) for _ in range(count)]
        tag = TagFactory()
        ctx = acting(editor)
        resources_bulk_update(ctx=ctx, resources=events, data={"verified": True})
        flags = last_change_set()
        resources_bulk_add_relations(ctx=ctx, resources=events, field="tags", ids=[tag.pk])
        tags = last_change_set()
        with CaptureQueriesContext(connection) as flags_undo:
            change_set_revert(ctx=ctx, change_set=flags)
        with CaptureQueriesContext(connection) as tags_undo:
            change_set_revert(ctx=ctx, change_set=tags)
        assert not Resource.objects.filter(pk__in=[e.pk for e in events], verified=True).exists()
        assert not tag.resources.exists()
        return len(flags_undo), len(tags_undo)

    small = run(5)
    large = run(200)
    if connection.vendor == "postgresql":
        assert large == small
    else:  # SQLite binds at most 999 parameters: the history's INSERT of 200 rows takes two
        assert [b - a for a, b in zip(small, large, strict=True)] == [1, 1]


def test_a_deleted_category_comes_back_with_the_same_ids_and_relations(editor, admin_user):
    owner, follower = UserFactory(), UserFactory()
    tag, team = TagFactory(), TeamFactory()
    collection = CollectionFactory()
    category = EventCategoryFactory(title="Checkout", description="Paying")
    event = EventFactory(parent=category, title="Order Completed", pii=True)
    prop = EventPropertyFactory(parent=event, title="revenue", data_type="number")
    event.owners.add(owner)
    event.tags.add(tag)
    event.teams.add(team)
    event.collections.add(collection)
    event.subscribers.add(follower)
    jira = CustomProperty.objects.create(
        name="Jira ticket", entity_types=["event"], value_type="text"
    )
    resource_custom_value_set(ctx=acting(editor), resource=event, custom_property=jira, value="T-1")
    created = {r.pk: r.created_at for r in Resource.objects.all()}
    resource_delete(ctx=acting(editor), resource=category)
    deleted = last_change_set()
    assert not Resource.objects.exists()

    undo = change_set_revert(ctx=acting(editor), change_set=deleted)

    assert {r.pk for r in Resource.objects.all()} == {category.pk, event.pk, prop.pk}
    event = Resource.objects.get(pk=event.pk)
    assert (event.parent_id, event.title, event.pii) == (category.pk, "Order Completed", True)
    assert Resource.objects.get(pk=prop.pk).data_type == "number"
    assert list(event.owners.all()) == [owner]
    assert list(event.tags.all()) == [tag]
    assert list(event.teams.all()) == [team]
    assert list(event.collections.all()) == [collection]
    assert list(event.subscribers.all()) == [follower]
    assert CustomPropertyValue.objects.get(resource=event).value == "T-1"
    assert {r.pk: r.created_at for r in Resource.objects.all()} == created
    assert sorted(c.action for c in undo.changes.all()) == ["create"] * 3
    # Undoing the undo deletes them again.
    change_set_revert(ctx=acting(editor), change_set=undo)
    assert not Resource.objects.exists()


def test_a_later_change_to_the_same_field_is_a_conflict_unless_forced(editor, admin_user):
    event = EventFactory(description="One")
    resource_update(ctx=acting(editor), resource=event, data={"description": "Two"})
    first = last_change_set()
    resource_update(ctx=acting(admin_user), resource=event, data={"description": "Three"})
    later = last_change_set()

    with pytest.raises(Conflict) as refused:
        change_set_revert(ctx=acting(editor), change_set=first)
    assert refused.value.conflicts == [
        {
            "object_type": "event",
            "object_id": str(event.pk),
            "title": event.title,
            "fields": ["description"],
            "change_set": str(later.pk),
            "actor": str(admin_user),
            "created_at": later.created_at.isoformat(),
        }
    ]
    event.refresh_from_db()
    assert event.description == "Three"

    change_set_revert(ctx=acting(editor), change_set=first, force=True)
    event.refresh_from_db()
    assert event.description == "One"


def test_a_later_change_to_other_fields_is_no_conflict(editor):
    event = EventFactory(description="One", pii=False)
    resource_update(ctx=acting(editor), resource=event, data={"description": "Two"})
    first = last_change_set()
    resource_update(ctx=acting(editor), resource=event, data={"pii": True})
    change_set_revert(ctx=acting(editor), change_set=first)
    event.refresh_from_db()
    assert (event.description, event.pii) == ("One", True)


def test_undoing_an_undo_reapplies_the_original(editor):
    event = EventFactory(description="One")
    resource_update(ctx=acting(editor), resource=event, data={"description": "Two"})
    undo = change_set_revert(ctx=acting(editor), change_set=last_change_set())
    again = change_set_revert(ctx=acting(editor), change_set=undo)
    event.refresh_from_db()
    assert event.description == "Two" and again.reverts == undo


def test_who_may_undo_is_whoever_may_make_the_inverse_change(editor, viewer, admin_user):
    integration = IntegrationFactory(validation_mode="discover")
    workspace_object_update(
        ctx=acting(admin_user), obj=integration, data={"validation_mode": "block"}
    )
    switched = last_change_set()
    with pytest.raises(PermissionDenied):
        change_set_revert(ctx=acting(editor), change_set=switched)
    event = EventFactory(description="One")
    resource_update(ctx=acting(editor), resource=event, data={"description": "Two"})
    with pytest.raises(PermissionDenied):
        change_set_revert(ctx=acting(viewer), change_set=last_change_set())

    change_set_revert(ctx=acting(admin_user), change_set=switched)
    assert Integration.objects.get(pk=integration.pk).validation_mode == "discover"


def test_workspace_objects_are_undone_through_their_services(admin_user):
    tag = workspace_object_create(ctx=acting(admin_user), model=Tag, data={"title": "beta"})
    created = last_change_set()
    event = EventFactory()
    event.tags.add(tag)
    workspace_object_delete(ctx=acting(admin_user), obj=tag)
    deleted = last_change_set()
    assert deleted.changes.get().state["reverse:resources"] == [str(event.pk)]

    change_set_revert(ctx=acting(admin_user), change_set=deleted)
    assert list(Tag.objects.get(pk=tag.pk).resources.all()) == [event]

    with pytest.raises(Conflict):  # deleted and restored since
        change_set_revert(ctx=acting(admin_user), change_set=created)
    change_set_revert(ctx=acting(admin_user), change_set=created, force=True)
    assert not Tag.objects.filter(pk=tag.pk).exists()


def test_a_role_change_is_undone(admin_user):
    person = UserFactory(role="viewer")
    user_update(ctx=acting(admin_user), user=person, data={"role": "admin"})
    promoted = last_change_set()
    assert promoted.changes.get().diff == {
        "role": ["viewer", "admin"],
        "is_staff": [False, True],
    }
    change_set_revert(ctx=acting(admin_user), change_set=promoted)
    assert User.objects.get(pk=person.pk).role == "viewer"


def test_a_write_key_creation_is_undone_by_revoking_it_and_a_revocation_stays(admin_user):
    key, _secret = write_key_create(
        ctx=acting(admin_user), integration=IntegrationFactory(), name="Web"
    )
    created = last_change_set()
    change_set_revert(ctx=acting(admin_user), change_set=created)
    key.refresh_from_db()
    assert key.revoked_at is not None
    with pytest.raises(ValidationError, match="A revoked key stays revoked"):
        change_set_revert(ctx=acting(admin_user), change_set=last_change_set(), force=True)


def test_collection_followers_hear_of_a_change_and_of_its_undo(
    editor, django_capture_on_commit_callbacks
):
    follower = UserFactory(email="f@example.com")
    collection = CollectionFactory(title="Checkout funnel", description="Old")
    collection.subscribers.add(follower)
    with django_capture_on_commit_callbacks(execute=True):
        workspace_object_update(ctx=acting(editor), obj=collection, data={"description": "New"})
    assert [m.to for m in mail.outbox] == [["f@example.com"]]
    assert mail.outbox[0].subject == '[Event Catalog] Collection "Checkout funnel" changed'
    assert f"/admin/catalog/collection/{collection.pk}/change/" in mail.outbox[0].body

    with django_capture_on_commit_callbacks(execute=True):
        change_set_revert(ctx=acting(editor), change_set=last_change_set())
    assert len(mail.outbox) == 2 and "Old" in mail.outbox[1].body


def test_a_restore_refuses_when_the_parent_is_gone(editor):
    category = EventCategoryFactory()
    event = EventFactory(parent=category)
    resource_delete(ctx=acting(editor), resource=event)
    deleted = last_change_set()
    resource_delete(ctx=acting(editor), resource=category)
    with pytest.raises(ValidationError, match="its parent no longer exists"):
        change_set_revert(ctx=acting(editor), change_set=deleted)
    assert not Resource.objects.exists()
    assert ObjectChange.objects.filter(change_set__reverts__isnull=False).count() == 0


def test_nothing_left_to_undo_is_a_conflict(editor):
    event = EventFactory(description="One")
    resource_update(ctx=acting(editor), resource=event, data={"description": "Two"})
    first = last_change_set()
    Resource.objects.filter(pk=event.pk).update(description="One")  # as if put back by hand
    with pytest.raises(Conflict, match="Nothing to undo"):
        change_set_revert(ctx=acting(editor), change_set=first)
    assert EntityType.EVENT in {c.object_type for c in first.changes.all()}


def test_a_collections_follower_unsubscribes_from_its_email(
    editor, client, django_capture_on_commit_callbacks
):
    follower = UserFactory(email="f@example.com")
    collection = CollectionFactory(title="Checkout funnel")
    collection.subscribers.add(follower)
    with django_capture_on_commit_callbacks(execute=True):
        workspace_object_update(ctx=acting(editor), obj=collection, data={"pii": True})
    [message] = mail.outbox
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get(f"/{path}").content.decode()
    assert "Checkout funnel" in page and "(Collection)" in page
    client.post(f"/{path}")
    assert not collection.subscribers.exists()


def test_a_deleted_custom_property_comes_back_with_its_values(admin_user):
    event = EventFactory()
    ctx = acting(admin_user)
    jira = workspace_object_create(
        ctx=ctx,
        model=CustomProperty,
        data={"name": "Jira", "entity_types": ["event"], "value_type": "text"},
    )
    resource_custom_value_set(ctx=ctx, resource=event, custom_property=jira, value="T-7")
    workspace_object_delete(ctx=ctx, obj=jira)
    assert not CustomPropertyValue.objects.exists()

    change_set_revert(ctx=ctx, change_set=last_change_set())

    restored = CustomPropertyValue.objects.get()
    assert (restored.property_id, restored.resource_id, restored.value) == (
        jira.pk,
        event.pk,
        "T-7",
    )


def test_a_users_keys_are_recorded_as_deleted_with_them_and_the_user_comes_back_alone(
    admin_user,
):
    from catalog.models import ApiKey
    from catalog.services.keys import api_key_create

    person = UserFactory(username="dana", role="editor")
    key, _secret = api_key_create(ctx=acting(admin_user), user=person, name="Laptop")
    workspace_object_delete(ctx=acting(admin_user), obj=person)
    deleted = last_change_set()
    assert sorted((c.object_type, c.action) for c in deleted.changes.all()) == [
        ("api_key", "delete"),
        ("user", "delete"),
    ]
    change_set_revert(ctx=acting(admin_user), change_set=deleted)
    assert User.objects.get(pk=person.pk).role == "editor"
    assert not ApiKey.objects.filter(pk=key.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_two_identical_undos_at_once_undo_once(editor):
    """The second waits for the first's row lock, then finds nothing left to undo."""
    from django.db import transaction

    from tests.races import in_thread, wait_until_blocked_or_done

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    event = EventFactory(description="One")
    resource_update(ctx=acting(editor), resource=event, data={"description": "Two"})
    original = last_change_set()
    with transaction.atomic():
        change_set_revert(ctx=acting(editor), change_set=original)
        thread, outcome = in_thread(
            lambda: change_set_revert(ctx=acting(editor), change_set=original),
            expected=Conflict,
        )
        thread.start()
        wait_until_blocked_or_done(thread)
    thread.join()
    [second] = outcome
    assert isinstance(second, Conflict)
    event.refresh_from_db()
    assert event.description == "One"
    assert ChangeSet.objects.filter(reverts=original).count() == 1
