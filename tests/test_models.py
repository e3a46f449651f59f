"""Database constraints and model rules of the catalog."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog.models import (
    DataType,
    EntityType,
    Event,
    EventCategory,
    EventProperty,
    Resource,
)
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    EventPropertyFactory,
    IntegrationFactory,
)

pytestmark = pytest.mark.django_db


def _violates(**fields):
    """Saving a row with these fields is refused by the database itself."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Resource.objects.create(**fields)


def test_proxies_set_and_filter_their_kind():
    event = EventFactory()
    prop = EventPropertyFactory(parent=event)
    assert event.entity_type == EntityType.EVENT
    assert prop.entity_type == EntityType.EVENT_PROPERTY
    assert list(Event.objects.all()) == [event]
    assert list(EventProperty.objects.all()) == [prop]
    assert list(EventCategory.objects.all()) == [event.parent]
    assert Resource.objects.count() == 3


def test_ids_are_uuids_accepted_without_dashes():
    event = EventFactory()
    assert Event.objects.get(pk=event.pk.hex) == event


def test_properties_get_defaults_for_their_own_columns():
    prop = EventProperty(title="x")
    assert prop.data_type == DataType.STRING
    assert prop.required is False
    assert Event(title="y").data_type is None


def test_category_titles_are_unique_per_integration():
    category = EventCategoryFactory(title="Checkout")
    _violates(
        entity_type=EntityType.EVENT_CATEGORY, title="Checkout", integration=category.integration
    )
    # Another integration may use the same title.
    EventCategoryFactory(title="Checkout")


def test_event_titles_are_unique_per_category():
    event = EventFactory(title="Order Completed")
    _violates(
        entity_type=EntityType.EVENT,
        title="Order Completed",
        parent=event.parent,
        integration=event.integration,
    )
    EventFactory(title="Order Completed")  # another category


def test_property_titles_are_unique_per_event():
    prop = EventPropertyFactory(title="revenue")
    _violates(
        entity_type=EntityType.EVENT_PROPERTY,
        title="revenue",
        parent=prop.parent,
        integration=prop.integration,
        data_type=DataType.NUMBER,
        required=False,
    )


def test_category_has_no_parent_and_events_need_one():
    category = EventCategoryFactory()
    _violates(
        entity_type=EntityType.EVENT_CATEGORY,
        title="Nested",
        parent=category,
        integration=category.integration,
    )
    _violates(entity_type=EntityType.EVENT, title="Orphan", integration=category.integration)


def test_only_properties_have_property_columns():
    event = EventFactory()
    _violates(
        entity_type=EntityType.EVENT,
        title="Typed",
        parent=event.parent,
        integration=event.integration,
        data_type=DataType.STRING,
    )
    _violates(
        entity_type=EntityType.EVENT_PROPERTY,
        title="untyped",
        parent=event,
        integration=event.integration,
        data_type="color",
        required=False,
    )


def test_unknown_entity_type_and_empty_title_are_refused():
    integration = IntegrationFactory()
    _violates(entity_type="table", title="t", integration=integration)
    _violates(entity_type=EntityType.EVENT_CATEGORY, title="", integration=integration)


def test_deleting_an_event_deletes_its_properties():
    prop = EventPropertyFactory()
    prop.parent.delete()
    assert not Resource.objects.filter(pk=prop.pk).exists()


def test_deleting_a_category_deletes_its_events_and_their_properties():
    prop = EventPropertyFactory()
    prop.parent.parent.delete()
    assert Resource.objects.count() == 0


def test_an_integration_with_resources_cannot_be_deleted():
    event = EventFactory()
    with pytest.raises(Exception, match="protected"):
        event.integration.delete()


@pytest.mark.parametrize(
    ("kind", "parent_kind", "message"),
    [
        (EntityType.EVENT, EntityType.EVENT, "must be an event category"),
        (EntityType.EVENT_PROPERTY, EntityType.EVENT_CATEGORY, "must be an event"),
    ],
)
def test_clean_checks_the_parents_kind(kind, parent_kind, message):
    parent = EventFactory() if parent_kind == EntityType.EVENT else EventCategoryFactory()
    child = Resource(entity_type=kind, title="x", parent=parent, integration=parent.integration)
    if kind == EntityType.EVENT_PROPERTY:
        child.data_type, child.required = DataType.STRING, False
    with pytest.raises(ValidationError, match=message):
        child.full_clean()


def test_clean_checks_the_parents_integration():
    category = EventCategoryFactory()
    event = Event(title="x", parent=category, integration=IntegrationFactory())
    with pytest.raises(ValidationError, match="another integration"):
        event.full_clean()


def test_clean_wants_lists_for_allowed_values_and_examples():
    event = EventFactory()
    prop = EventProperty(
        title="plan", parent=event, integration=event.integration, allowed_values="free"
    )
    with pytest.raises(ValidationError, match="JSON list"):
        prop.full_clean()


def test_the_role_decides_superuser_and_staff():
    from catalog.models import User

    user = User.objects.create_user(username="ana", role="admin")
    assert user.is_superuser and user.is_staff and user.is_catalog_admin
    user.role = "viewer"
    user.save()
    assert not user.is_superuser and not user.is_catalog_admin and not user.can_edit_catalog
    boss = User.objects.create_superuser(username="boss", password="x-very-long-pass")
    assert boss.role == "admin" and boss.is_catalog_admin


def test_titles_sort_by_code_point_on_every_database():
    """The title columns use a byte-wise collation (PostgreSQL "C", SQLite BINARY), so a list
    comes back in the same order whichever database runs the catalog."""
    category = EventCategoryFactory()
    for title in ["éclair", "apple", "Zebra", "_private", "Apple"]:
        EventFactory(title=title, parent=category)
    titles = list(Event.objects.filter(parent=category).order_by("title").values_list("title"))
    assert [t for (t,) in titles] == ["Apple", "Zebra", "_private", "apple", "éclair"]
