"""The service layer: the one write path of the catalog."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from catalog.models import EntityType, Resource, Tag, Team
from catalog.services.context import ChangeContext
from catalog.services.resources import (
    resource_create,
    resource_delete,
    resource_update,
    resources_bulk_update,
)
from catalog.services.workspace import (
    user_create,
    workspace_object_create,
    workspace_object_delete,
)
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    IntegrationFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def acting(user) -> ChangeContext:
    return ChangeContext(source="command", user=user)


def test_create_event_with_m2m(editor):
    category = EventCategoryFactory()
    tag = TagFactory()
    event = resource_create(
        ctx=acting(editor),
        entity_type=EntityType.EVENT,
        data={"title": "Order Completed", "parent": category, "tags": [tag], "owners": [editor]},
    )
    assert event.integration == category.integration  # inherited from the parent
    assert list(event.tags.all()) == [tag]
    assert list(event.owners.all()) == [editor]


def test_create_property_with_its_own_fields(editor):
    event = EventFactory()
    prop = resource_create(
        ctx=acting(editor),
        entity_type=EntityType.EVENT_PROPERTY,
        data={
            "title": "plan",
            "parent": event,
            "data_type": "string",
            "required": True,
            "allowed_values": ["free", "pro"],
        },
    )
    prop.refresh_from_db()
    assert (prop.data_type, prop.required, prop.allowed_values) == ("string", True, ["free", "pro"])


def test_create_refuses_a_parent_of_the_wrong_kind(editor):
    event = EventFactory()
    with pytest.raises(ValidationError) as error:
        resource_create(
            ctx=acting(editor), entity_type=EntityType.EVENT, data={"title": "x", "parent": event}
        )
    assert "parent" in error.value.message_dict


def test_create_refuses_a_parent_in_another_integration(editor):
    category = EventCategoryFactory()
    with pytest.raises(ValidationError, match="another integration"):
        resource_create(
            ctx=acting(editor),
            entity_type=EntityType.EVENT,
            data={"title": "x", "parent": category, "integration": IntegrationFactory()},
        )


def test_create_refuses_a_duplicate_title(editor):
    event = EventFactory(title="Signed Up")
    with pytest.raises(ValidationError, match="already has a child"):
        resource_create(
            ctx=acting(editor),
            entity_type=EntityType.EVENT,
            data={"title": "Signed Up", "parent": event.parent},
        )


def test_create_refuses_property_fields_on_an_event(editor):
    with pytest.raises(ValidationError) as error:
        resource_create(
            ctx=acting(editor),
            entity_type=EntityType.EVENT,
            data={"title": "x", "parent": EventCategoryFactory(), "data_type": "string"},
        )
    assert "data_type" in error.value.message_dict


def test_create_refuses_unknown_kinds_and_fields(editor):
    category = EventCategoryFactory()
    with pytest.raises(ValidationError):
        resource_create(ctx=acting(editor), entity_type="table", data={"title": "x"})
    with pytest.raises(ValidationError, match="colour"):
        resource_create(
            ctx=acting(editor),
            entity_type=EntityType.EVENT,
            data={"title": "x", "parent": category, "colour": "red"},
        )


def test_viewers_cannot_write(viewer):
    event = EventFactory()
    with pytest.raises(PermissionDenied):
        resource_update(resource=event, ctx=acting(viewer), data={"verified": True})
    with pytest.raises(PermissionDenied):
        resource_delete(resource=event, ctx=acting(viewer))
    with pytest.raises(PermissionDenied):
        resource_create(
            ctx=acting(viewer),
            entity_type=EntityType.EVENT,
            data={"title": "x", "parent": event.parent},
        )


def test_update_sets_fields_and_replaces_m2m_sets(editor):
    event = EventFactory()
    old, new = TagFactory(), TagFactory()
    event.tags.add(old)
    resource_update(
        resource=event,
        ctx=acting(editor),
        data={"description": "When an order is paid", "pii": True, "tags": [new]},
    )
    event.refresh_from_db()
    assert event.description == "When an order is paid"
    assert event.pii is True
    assert list(event.tags.all()) == [new]


def test_update_can_move_an_event_within_its_integration(editor):
    event = EventFactory()
    other = EventCategoryFactory(integration=event.integration)
    resource_update(resource=event, ctx=acting(editor), data={"parent": other})
    event.refresh_from_db()
    assert event.parent == other
    with pytest.raises(ValidationError, match="another integration"):
        resource_update(resource=event, ctx=acting(editor), data={"parent": EventCategoryFactory()})


def test_update_refuses_the_integration(editor):
    event = EventFactory()
    with pytest.raises(ValidationError, match="another integration"):
        resource_update(
            resource=event, ctx=acting(editor), data={"integration": IntegrationFactory()}
        )


def test_failed_update_leaves_nothing_behind(editor):
    event = EventFactory(title="A")
    EventFactory(title="B", parent=event.parent)
    tag = TagFactory()
    with pytest.raises(ValidationError):
        resource_update(resource=event, ctx=acting(editor), data={"title": "B", "tags": [tag]})
    assert not event.tags.exists()


def test_bulk_update_counts_only_changed_rows(editor):
    done = EventFactory(verified=True)
    todo = EventFactory(verified=False)
    changed = resources_bulk_update(
        resources=Resource.objects.filter(pk__in=[done.pk, todo.pk]),
        ctx=acting(editor),
        data={"verified": True},
    )
    assert changed == 1
    todo.refresh_from_db()
    assert todo.verified


def test_delete_removes_children(editor):
    prop = EventPropertyFactory()
    resource_delete(resource=prop.parent, ctx=acting(editor))
    assert not Resource.objects.filter(pk=prop.pk).exists()


def test_editors_manage_tags_but_not_teams(editor, admin_user):
    tag = workspace_object_create(ctx=acting(editor), model=Tag, data={"title": "checkout"})
    assert Tag.objects.filter(pk=tag.pk).exists()
    with pytest.raises(PermissionDenied):
        workspace_object_create(ctx=acting(editor), model=Team, data={"name": "Growth"})
    team = workspace_object_create(
        ctx=acting(admin_user), model=Team, data={"name": "Growth", "members": [editor]}
    )
    assert list(team.members.all()) == [editor]
    workspace_object_delete(ctx=acting(editor), obj=tag)
    assert not Tag.objects.exists()


def test_workspace_objects_are_validated(editor):
    TagFactory(title="pii")
    with pytest.raises(ValidationError):
        workspace_object_create(ctx=acting(editor), model=Tag, data={"title": "pii"})


def test_user_create_gives_staff_to_editors_and_admins():
    system = ChangeContext.for_system()
    editor = user_create(ctx=system, username="ed", role="editor")
    viewer = user_create(ctx=system, username="vi", role="viewer")
    admin = user_create(ctx=system, username="ad", role="admin", password="s3cret-pass-word")
    assert editor.is_staff and not editor.is_superuser and not editor.has_usable_password()
    assert not viewer.is_staff
    assert admin.is_superuser and admin.check_password("s3cret-pass-word")
    with pytest.raises(ValidationError):
        user_create(ctx=system, username="bad", role="owner")


def test_inactive_editor_cannot_write():
    user = UserFactory(role="editor", is_active=False)
    with pytest.raises(PermissionDenied):
        resource_update(resource=EventFactory(), ctx=acting(user), data={"pii": True})
