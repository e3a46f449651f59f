"""factory_boy factories for the catalog's models."""

import factory

from catalog.models import (
    Collection,
    DataType,
    Event,
    EventCategory,
    EventProperty,
    Integration,
    IntegrationType,
    Role,
    Tag,
    Team,
    User,
)
from catalog.services.context import ChangeContext


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.EDITOR
    is_staff = factory.LazyAttribute(lambda u: u.role in (Role.ADMIN, Role.EDITOR))
    is_superuser = factory.LazyAttribute(lambda u: u.role == Role.ADMIN)
    password = factory.django.Password("pass-word-123")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    title = factory.Sequence(lambda n: f"tag-{n}")


class CollectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collection

    title = factory.Sequence(lambda n: f"Collection {n}")


class IntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Integration

    name = factory.Sequence(lambda n: f"Integration {n}")
    type = IntegrationType.SEGMENT


class EventCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventCategory

    title = factory.Sequence(lambda n: f"Category {n}")
    integration = factory.SubFactory(IntegrationFactory)
    published = True


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    title = factory.Sequence(lambda n: f"Event {n}")
    parent = factory.SubFactory(EventCategoryFactory)
    integration = factory.SelfAttribute("parent.integration")
    published = True


class EventPropertyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventProperty

    title = factory.Sequence(lambda n: f"property_{n}")
    parent = factory.SubFactory(EventFactory)
    integration = factory.SelfAttribute("parent.integration")
    data_type = DataType.STRING
    required = False
    published = True


#: The change context of an operator's command: for set-up steps that aren't under test.
SYSTEM = ChangeContext.for_system()
