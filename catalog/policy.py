"""Who may do what, and which resources an actor sees: the one policy every layer asks.

The API, the admin, the catalog pages and the services all ask these functions, so a rule is
written once. Roles: admins manage everything; editors change catalog resources, tags and
collections; viewers read published resources only. An API key acts with its user's role but
can't mint API keys; the system (a command run by an operator) may do anything.
"""

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q

from catalog.models import (
    ApiKey,
    ChangeSet,
    Collection,
    CustomProperty,
    EntityType,
    Integration,
    LoggedEvent,
    Notification,
    ObjectChange,
    ObjectType,
    PlanImport,
    Resource,
    Role,
    Tag,
    Team,
    User,
    UserGroup,
    Violation,
)
from catalog.models.resources import ResourceQuerySet


class Action(StrEnum):
    VIEW = "view"
    ADD = "add"
    CHANGE = "change"
    DELETE = "delete"
    #: Follow or stop following a resource oneself.
    SUBSCRIBE = "subscribe"
    #: Make other people follow a resource or a collection, or stop them following it.
    SUBSCRIBE_OTHERS = "subscribe_others"


#: Models any editor may write; everything else not listed below needs an admin.
EDITOR_MODELS = (Resource, Tag, Collection)
#: Models every active user may read.
READABLE_MODELS = (
    Resource,
    Tag,
    Collection,
    Team,
    UserGroup,
    Integration,
    User,
    ObjectChange,
    CustomProperty,
)
#: What trackers sent: editors and admins may read it (payloads may hold personal data), and
#: only the ingestion pipeline writes it. Write keys are admins' only (the default).
TRACKING_MODELS = (LoggedEvent, Violation)


def _model(target) -> type[Model]:
    model = target if isinstance(target, type) else type(target)
    return model._meta.concrete_model


def _active(user: User | None) -> bool:
    return user is not None and user.is_active


def may(
    user: User | None, action: Action, target, *, api_key: ApiKey | None = None, system=False
) -> bool:
    """May `user` (through `api_key`, if any) do `action` on `target` (an object or a model)?"""
    if system:
        return True
    if not _active(user):
        return False
    model = _model(target)
    instance = None if isinstance(target, type) else target
    if model is ApiKey:
        if action == Action.ADD:
            # A leaked key must not be able to mint new ones: keys are made in a logged-in
            # session, the admin or a command.
            return api_key is None
        if instance is not None and instance.user_id != user.pk:
            return user.is_catalog_admin
        return True
    if model in TRACKING_MODELS:
        if action == Action.DELETE and model is Violation:
            # Clearing a resolved violation is housekeeping (a new count starts if it recurs).
            return user.is_catalog_admin
        if action == Action.CHANGE and model is Violation:
            # Marking a violation resolved (`catalog.services.violations`): stewards' work.
            return user.can_edit_catalog
        return action == Action.VIEW and user.can_edit_catalog
    if action == Action.VIEW:
        if model is Resource and instance is not None:
            return resources_visible_to(user).filter(pk=instance.pk).exists()
        return model in READABLE_MODELS or user.is_catalog_admin
    if action == Action.SUBSCRIBE:
        return model is Resource
    if action == Action.SUBSCRIBE_OTHERS:
        # Following is each person's choice: an editor may assign owners (who then follow),
        # but only an admin may sign others up for emails or take them off a list.
        return user.is_catalog_admin
    if model in EDITOR_MODELS:
        return user.can_edit_catalog
    return user.is_catalog_admin


def ensure(
    user: User | None, action: Action, target, *, api_key: ApiKey | None = None, system=False
) -> None:
    """Raise PermissionDenied with a message a person understands unless `may` allows it."""
    if may(user, action, target, api_key=api_key, system=system):
        return
    model = _model(target)
    if model is ApiKey and action == Action.ADD:
        raise PermissionDenied(
            "An API key can't create API keys; create them while logged in, in the admin or "
            "with `manage.py create_api_key`."
        )
    if model is ApiKey:
        raise PermissionDenied("Only admins can manage other people's API keys.")
    if action == Action.SUBSCRIBE_OTHERS:
        raise PermissionDenied(
            "Only admins can make other people follow or stop following; you can follow or "
            "unfollow yourself."
        )
    if model in EDITOR_MODELS:
        raise PermissionDenied("Only editors and admins can change the catalog.")
    if model in (ChangeSet, Notification):
        raise PermissionDenied("Only admins can do this.")
    if model in TRACKING_MODELS:
        if action == Action.VIEW:
            raise PermissionDenied("Only editors and admins can read what trackers sent.")
        if action == Action.CHANGE and model is Violation:
            raise PermissionDenied("Only editors and admins can resolve violations.")
        raise PermissionDenied("Only the ingestion pipeline records what trackers sent.")
    raise PermissionDenied("Only admins can manage the workspace.")


def _is_write_key(ctx) -> bool:
    return ctx.integration is not None and ctx.user is None and not ctx.is_system


def may_for(ctx, action: Action, target) -> bool:
    """`may` for a service's change context (see `catalog.services.context`).

    An integration's write key only sends events: ingestion may add the events and properties
    it discovers to the catalog, and nothing else (it can't read, change or delete).
    """
    if _is_write_key(ctx):
        return action == Action.ADD and _model(target) is Resource
    return may(ctx.user, action, target, api_key=ctx.api_key, system=ctx.is_system)


def ensure_for(ctx, action: Action, target) -> None:
    """`ensure` for a service's change context (see `catalog.services.context`)."""
    if _is_write_key(ctx):
        if not may_for(ctx, action, target):
            raise PermissionDenied("A write key can only send events.")
        return
    ensure(ctx.user, action, target, api_key=ctx.api_key, system=ctx.is_system)


class Visibility(StrEnum):
    """Which resources a reader may read: all that `resources_visible_to` depends on."""

    NOTHING = "nothing"  # no user, or a deactivated one
    EVERYTHING = "everything"  # editors and admins
    PUBLISHED = "published"  # viewers: published, under published ancestors


#: The roles that read drafts (unpublished resources, or under unpublished ancestors); the
#: others read what is published only. The rule every reader asks: the querysets below, the
#: loaded rows (`visible_to_viewers`), and the email outbox (in Python and in SQL).
ROLES_SEEING_DRAFTS = (Role.ADMIN, Role.EDITOR)


def sees_drafts(role: str) -> bool:
    return role in ROLES_SEEING_DRAFTS


def resource_visibility(user: User | None) -> Visibility:
    """What `user` may read of the catalog; a key under which a compiled lookup of visible
    resources can be kept (see `catalog.selectors.visible_resource`)."""
    if user is None or not user.is_active:
        return Visibility.NOTHING
    return Visibility.EVERYTHING if sees_drafts(user.role) else Visibility.PUBLISHED


def visible_to_viewers(resource: Resource) -> bool:
    """`resources_visible_as(Visibility.PUBLISHED)` for a loaded row: it is published, and
    so is every ancestor (loaded with it, see `Resource.ancestors`)."""
    return resource.published and all(node.published for node in resource.ancestors())


def resources_visible_to(user: User | None, entity_type: str | None = None) -> ResourceQuerySet:
    """Every resource `user` may read: all for editors and admins; for viewers, a resource
    only when it and every ancestor (an event's category, a property's event and category)
    are published."""
    return resources_visible_as(resource_visibility(user), entity_type)


def resources_visible_as(
    visibility: Visibility, entity_type: str | None = None
) -> ResourceQuerySet:
    """The resources (of `entity_type`, if given) a reader with `visibility` may read."""
    queryset = Resource.objects.all()
    if entity_type is not None:
        queryset = queryset.of_type(entity_type)
    if visibility == Visibility.NOTHING:
        return queryset.none()
    if visibility == Visibility.EVERYTHING:
        return queryset
    # For one kind the ancestors' kinds are known: inner joins that the planner drives from the
    # few published categories (their kind is redundant but lets it use the kind's index),
    # instead of outer joins and ORs over every row (events for a viewer: 600 ms -> 120 ms of
    # COUNT at 100,000 events, bench/pages.py).
    if entity_type == EntityType.EVENT_CATEGORY:
        return queryset.filter(published=True)
    if entity_type == EntityType.EVENT:
        return queryset.filter(
            published=True,
            parent__published=True,
            parent__entity_type=EntityType.EVENT_CATEGORY,
        )
    if entity_type == EntityType.EVENT_PROPERTY:
        return queryset.filter(
            published=True,
            parent__published=True,
            parent__entity_type=EntityType.EVENT,
            parent__parent__published=True,
            parent__parent__entity_type=EntityType.EVENT_CATEGORY,
        )
    return queryset.filter(
        Q(published=True),
        Q(parent__isnull=True) | Q(parent__published=True),
        Q(parent__parent__isnull=True) | Q(parent__parent__published=True),
    )


def collections_visible_to(user: User | None):
    """Collections `user` may read: all for editors and admins, published ones for viewers."""
    return collections_visible_as(resource_visibility(user))


def collections_visible_as(visibility: Visibility):
    """The collections a reader with `visibility` may read."""
    queryset = Collection.objects.all()
    if visibility == Visibility.NOTHING:
        return queryset.none()
    return queryset if visibility == Visibility.EVERYTHING else queryset.filter(published=True)


#: The kinds of change an editor reads in the audit log: the catalog they edit.
EDITOR_AUDITED_TYPES = (
    ObjectType.EVENT_CATEGORY,
    ObjectType.EVENT,
    ObjectType.EVENT_PROPERTY,
    ObjectType.COLLECTION,
    ObjectType.TAG,
)
RESOURCE_TYPES = (ObjectType.EVENT_CATEGORY, ObjectType.EVENT, ObjectType.EVENT_PROPERTY)


def changes_visible_to(user: User | None):
    """The recorded changes `user` may read in the audit log: all of them for admins; the
    catalog's (resources, collections, tags) for editors; for viewers, those of the resources
    and collections they may read today (a change made while a resource was a draft included,
    as its own history shows it), never of people, keys or the workspace's set-up."""
    changes = ObjectChange.objects.all()
    visibility = resource_visibility(user)
    if visibility == Visibility.NOTHING:
        return changes.none()
    if user.is_catalog_admin:
        return changes
    if visibility == Visibility.EVERYTHING:
        return changes.filter(object_type__in=EDITOR_AUDITED_TYPES)
    return changes.filter(
        Q(
            object_type__in=RESOURCE_TYPES,
            object_id__in=resources_visible_as(visibility).values("pk"),
        )
        | Q(
            object_type=ObjectType.COLLECTION,
            object_id__in=collections_visible_as(visibility).values("pk"),
        )
    )


def may_see_email(viewer: User | None, user: User | None) -> bool:
    """Email addresses are for editors, admins and their owners, not for every viewer
    (`user` None: anyone's address)."""
    if not _active(viewer):
        return False
    return viewer.can_edit_catalog or (user is not None and viewer.pk == user.pk)


def plan_imports_visible_to(user: User | None):
    """The background plan imports `user` may follow: their own; admins', everyone's."""
    if user is None or not user.is_active:
        return PlanImport.objects.none()
    if user.role == Role.ADMIN:
        return PlanImport.objects.all()
    return PlanImport.objects.filter(requested_by=user)
