"""factory_boy factories for the catalog's models."""

import factory
from django.db import transaction
from django.utils import timezone

from catalog.demo import load_demo_catalog
from catalog.models import (
    ChangeAction,
    ChangeSet,
    ChangeSource,
    Collection,
    DataType,
    Event,
    EventCategory,
    EventProperty,
    Integration,
    IntegrationType,
    Notification,
    ObjectChange,
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


def acting(user, source: str = "api", **kwargs) -> ChangeContext:
    """The change context of `user` acting through `source` (the API unless said)."""
    return ChangeContext(source=source, user=user, **kwargs)


# History and the email outbox, as the change pipeline writes them.


class ChangeSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChangeSet

    source = ChangeSource.API
    actor = factory.SubFactory(UserFactory)
    actor_name = factory.LazyAttribute(lambda cs: str(cs.actor) if cs.actor else "System")


class ObjectChangeFactory(factory.django.DjangoModelFactory):
    """A resource change; pass `resource=` to take its id, kind and title."""

    class Meta:
        model = ObjectChange
        exclude = ["resource"]

    resource = None
    change_set = factory.SubFactory(ChangeSetFactory)
    object_id = factory.LazyAttribute(lambda rc: rc.resource.pk)
    object_type = factory.LazyAttribute(lambda rc: rc.resource.entity_type)
    title = factory.LazyAttribute(lambda rc: rc.resource.title)
    action = ChangeAction.UPDATE
    diff = factory.LazyFunction(dict)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    change_set = factory.SubFactory(ChangeSetFactory)
    recipient = factory.SubFactory(UserFactory)
    digest = factory.LazyAttribute(lambda n: n.recipient.email_frequency == "daily")
    next_attempt_at = factory.LazyFunction(timezone.now)
    followed = factory.LazyFunction(list)


def notify_change(resource, recipients, *, diff=None, action=ChangeAction.UPDATE, **change_set):
    """One change of `resource` as the write pipeline records it: a change set, the resource
    change, and a notification per recipient (who follows the resource)."""
    change_set = ChangeSetFactory(**change_set)
    ObjectChangeFactory(change_set=change_set, resource=resource, action=action, diff=diff or {})
    for recipient in recipients:
        NotificationFactory(change_set=change_set, recipient=recipient, followed=[str(resource.pk)])
    return change_set


def fingerprint_of_a_demo_load(fingerprint):
    """`fingerprint()` of the demo catalog loaded into an empty database, which is then rolled
    back: what a second load must give again."""

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            load_demo_catalog()
            first = fingerprint()
            raise Rollback
    except Rollback:
        return first
