"""What every write records: snapshots, diffs, history rows and the notification outbox.

Every service calls these inside its transaction, for resources and for every object around
them (tags, collections, users, keys...). A change set is written only when something really
changed; its notifications go to the followers of each changed object and of its ancestors
(and, for a delete, of what the delete removed), once per person, never to the actor, and
delivery is queued only after the transaction commits. Who follows what is not an edit: it is
never in a diff (but a delete's `state` keeps it, so an undo puts the followers back).
"""

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models, transaction
from django.dispatch import Signal
from django.utils import timezone

from catalog.models import (
    EDITABLE_FIELDS,
    M2M_FIELDS,
    ApiKey,
    ChangeSet,
    Collection,
    CustomProperty,
    EmailFrequency,
    Integration,
    Notification,
    ObjectChange,
    ObjectType,
    Resource,
    Tag,
    Team,
    User,
    UserGroup,
    WriteKey,
)
from catalog.policy import ROLES_SEEING_DRAFTS, sees_drafts
from catalog.services.context import ChangeContext

#: The model of each kind of object a change may be about.
MODELS: dict[str, type[models.Model]] = {
    ObjectType.EVENT_CATEGORY: Resource,
    ObjectType.EVENT: Resource,
    ObjectType.EVENT_PROPERTY: Resource,
    ObjectType.INTEGRATION: Integration,
    ObjectType.COLLECTION: Collection,
    ObjectType.TAG: Tag,
    ObjectType.TEAM: Team,
    ObjectType.USER_GROUP: UserGroup,
    ObjectType.USER: User,
    ObjectType.CUSTOM_PROPERTY: CustomProperty,
    ObjectType.API_KEY: ApiKey,
    ObjectType.WRITE_KEY: WriteKey,
}
_TYPES = {model: kind for kind, model in MODELS.items() if model is not Resource}

#: What a change records of each workspace object (resources: `EDITABLE_FIELDS`). Never a
#: secret: keys are recorded by name, prefix, owner and revocation; users without password.
RECORDED_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Tag: Tag.EDITABLE_FIELDS,
    Collection: Collection.EDITABLE_FIELDS,
    Team: Team.EDITABLE_FIELDS,
    UserGroup: UserGroup.EDITABLE_FIELDS,
    Integration: Integration.EDITABLE_FIELDS,
    CustomProperty: CustomProperty.EDITABLE_FIELDS,
    User: (*User.EDITABLE_FIELDS, "teams", "user_groups"),
    ApiKey: ("name", "prefix", "user", "revoked_at"),
    WriteKey: ("name", "prefix", "integration", "revoked_at"),
}

#: Who follows an object is each person's own business, not an edit of the object: never in
#: a diff, so following is neither in a history nor "a change" anywhere.
UNRECORDED_FIELDS = frozenset({"subscribers"})


def object_type_of(obj: models.Model) -> str:
    """The `ObjectType` of a resource or workspace object."""
    if isinstance(obj, Resource):
        return obj.entity_type
    return _TYPES[type(obj)._meta.concrete_model]


#: Rows per INSERT of the write path's bulk inserts. A statement takes at most 65,535
#: parameters when they are bound on the server (DATABASE_PREPARED_STATEMENTS), which an
#: admin edit of 10,000 resources at once would pass in one INSERT of its history.
BULK_BATCH_SIZE = 1000


def snapshot(resource: Resource, relation_ids: Mapping[str, list]) -> dict:
    """The editable state of `resource` as JSON-ready values: ids for the parent and M2M."""
    state = {}
    for name in EDITABLE_FIELDS[resource.entity_type]:
        if name == "parent":
            state[name] = str(resource.parent_id) if resource.parent_id else None
        elif name in M2M_FIELDS:
            state[name] = sorted(str(pk) for pk in relation_ids.get(name, ()))
        else:
            state[name] = getattr(resource, name)
    return state


def _jsonable(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def object_snapshot(obj: models.Model, *, relations: bool = True) -> dict:
    """The recorded state of a workspace object (`RECORDED_FIELDS`): foreign keys and each
    many-to-many set as ids. One query per many-to-many field; `relations=False` skips them
    (a key has none)."""
    state = {}
    model = type(obj)._meta.concrete_model
    for name in RECORDED_FIELDS[model]:
        model_field = model._meta.get_field(name)
        if model_field.many_to_many:
            if relations and obj.pk is not None and not obj._state.adding:
                state[name] = sorted(
                    str(pk) for pk in getattr(obj, name).values_list("pk", flat=True)
                )
            else:
                state[name] = []
        elif model_field.many_to_one:
            pk = getattr(obj, model_field.attname)
            state[name] = str(pk) if pk is not None else None
        else:
            state[name] = _jsonable(getattr(obj, name))
    return state


def diff(before: Mapping, after: Mapping) -> dict:
    """`{field: [old, new]}` for each field whose value differs; missing means empty."""
    changed = {}
    for name in after.keys() | before.keys():
        old, new = before.get(name), after.get(name)
        if old != new and not (_empty(old) and _empty(new)):
            changed[name] = [old, new]
    return changed


def _empty(value) -> bool:
    return value is None or value == "" or value == []


@dataclass
class Change:
    """One object's part of a change set, before it becomes an `ObjectChange` row."""

    object_id: object
    object_type: str
    title: str
    action: str
    diff: dict
    #: The object itself and the ones whose followers hear of the change (its ancestors).
    concerns: list = field(default_factory=list)
    #: Whether a viewer may read of it: the resource, before or after, was published with
    #: every ancestor. Viewers are told only of public changes.
    public: bool = True
    #: The fields viewers may read of a public change; None: all of them.
    public_fields: tuple[str, ...] | None = None
    #: What a delete removed, whole (followers and custom values too), to restore it.
    state: dict | None = None


def viewers_of(was_visible: bool, visible: bool, changes: Mapping) -> dict:
    """What viewers may read of an update (`Change.public` and `Change.public_fields`).

    All of it while they can see the resource before and after. When it appears or
    disappears for them, only that it was published or unpublished: the rest was, or is
    now, a draft's (an unpublish that also rewrote the definition must not mail viewers the
    new definition). Nothing when they see it neither before nor after, or when it went out
    of their sight some other way (a move under an unpublished category: its title is a
    draft's too).
    """
    if was_visible and visible:
        return {"public": True}
    if was_visible != visible and "published" in changes:
        return {"public": True, "public_fields": ("published",)}
    return {"public": False}


def record_object_change(
    ctx: ChangeContext,
    obj: models.Model,
    action: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    state: dict | None = None,
) -> None:
    """Record one workspace object's change (snapshots from `object_snapshot`).

    A collection's followers hear of it as a resource's do, viewers only while it is
    published; the other objects have no followers.
    """
    changes = diff(before, after)
    followers: dict = {}
    viewers: dict = {"public": False}
    if isinstance(obj, Collection):
        followers[obj.pk] = (after or before).get("subscribers", [])
        viewers = viewers_of(bool(before.get("published")), bool(after.get("published")), changes)
    change = Change(
        obj.pk,
        object_type_of(obj),
        label_of(obj),
        action,
        changes,
        concerns=[obj.pk],
        state=state,
        **viewers,
    )
    record_changes(ctx, [change], subscribers=followers)


def label_of(obj: models.Model) -> str:
    """How the history names an object: a key by its name and prefix, never its secret."""
    prefix = getattr(obj, "prefix", None)
    if prefix is not None:
        return f"{obj.name or 'Key'} ({prefix}…)"
    return str(obj)


def whole_state(obj: models.Model) -> dict:
    """Everything a delete removes of `obj`: its recorded fields, its followers, and the
    other side of every many-to-many relation (the resources a tag was on, the teams a user
    was in) and a custom property's values, so that undoing the delete puts it all back."""
    state = object_snapshot(obj)
    for relation in obj._meta.related_objects:
        if relation.many_to_many:
            accessor = relation.get_accessor_name()
            pks = getattr(obj, accessor).values_list("pk", flat=True)
            state[f"reverse:{accessor}"] = sorted(str(pk) for pk in pks)
    if isinstance(obj, CustomProperty):
        values = obj.values.values_list("resource_id", "value")
        state[CUSTOM_VALUES] = {str(resource_id): value for resource_id, value in values}
    return state


#: Where a custom property's delete keeps the values it removed, by resource id.
CUSTOM_VALUES = "values"


def _related_model(object_type: str, name: str) -> tuple[type[models.Model] | None, bool]:
    """The model a diff's field points to (a parent, a many-to-many set), or None; and
    whether the field is a set."""
    model = MODELS.get(object_type)
    if model is None:
        return None, False
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a custom property's value ("custom: Jira"), or a field gone
        return None, False
    if model_field.is_relation and (model_field.many_to_many or model_field.many_to_one):
        return model_field.related_model, bool(model_field.many_to_many)
    return None, False


def _ids(value) -> list:
    """The ids a diff value holds that still need a label (not yet `{id, label}` pairs)."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str) and item]


_LABEL_FIELD = {Team: "name", UserGroup: "name", Integration: "name"}


def _labels(changes: Iterable[Change]) -> None:
    """Replace the ids in each diff's relations (a parent, an owner, a set of tags...) by
    `{"id", "label"}` pairs; values already labelled stay as they are.

    One query per kind of related object that appears, whatever the number of changes.
    """
    related: dict[tuple[str, str], tuple] = {}
    wanted: dict[type, set] = defaultdict(set)
    for change in changes:
        for name, values in change.diff.items():
            key = (change.object_type, name)
            if key not in related:
                related[key] = _related_model(*key)
            model = related[key][0]
            if model is not None:
                for value in values:
                    wanted[model].update(_ids(value))
    labels: dict[str, str] = {}
    for model, ids in wanted.items():
        if not ids:
            continue
        if model is User:
            rows = model.objects.filter(pk__in=ids).only("username", "first_name", "last_name")
            labels.update((str(row.pk), str(row)) for row in rows)
        else:
            label = _LABEL_FIELD.get(model, "title")
            labels.update(
                (str(pk), text)
                for pk, text in model.objects.filter(pk__in=ids).values_list("pk", label)
            )

    def pair(pk):
        if not isinstance(pk, str):
            return pk  # labelled already, or None
        return {"id": pk, "label": labels.get(pk, pk)} if pk else None

    for change in changes:
        for name, values in change.diff.items():
            model, many = related[(change.object_type, name)]
            if model is None:
                continue
            change.diff[name] = [
                [pair(pk) for pk in value or ()] if many else pair(value) for value in values
            ]


@dataclass
class Collector:
    """Changes gathered from several service calls, to be recorded as one change set (an undo
    that puts back a dozen objects through their own services is one change)."""

    changes: list = field(default_factory=list)
    subscribers: dict = field(default_factory=dict)
    #: What `one_change_set` recorded once its block ended (None: nothing changed).
    change_set: ChangeSet | None = None


@contextmanager
def one_change_set(ctx: ChangeContext) -> Iterator[ChangeContext]:
    """A context for several service calls that records what they all change as one change
    set, written when the block ends (with `ctx`, its `reverts` included); the change set is
    then the yielded context's `collector.change_set`. The caller holds the transaction."""
    collector = Collector()
    yield replace(ctx, collector=collector)
    collector.change_set = record_changes(ctx, collector.changes, subscribers=collector.subscribers)


#: Sent once a change set has committed, with its id: the hook for whatever keeps a copy of
#: the catalog, such as ingestion's tracking plan (connected in `CatalogConfig.ready`).
catalog_changed = Signal()


def _announce(change_set_id) -> None:
    catalog_changed.send(sender=ChangeSet, change_set_id=change_set_id)


def record_changes(
    ctx: ChangeContext,
    changes: list[Change],
    *,
    subscribers: Mapping[object, Iterable],
) -> ChangeSet | None:
    """Write the change set, its object changes and its outbox rows; queue delivery.

    `subscribers` maps each resource id named in a change's `concerns` to its subscribers'
    ids. Returns None (and writes nothing) when no change holds a difference.
    """
    for change in changes:
        for name in UNRECORDED_FIELDS & change.diff.keys():
            del change.diff[name]
    changes = [c for c in changes if c.diff or c.action != "update"]
    if not changes:
        return None
    _labels(changes)
    if ctx.collector is not None:
        ctx.collector.changes.extend(changes)
        for pk, users in subscribers.items():
            ctx.collector.subscribers.setdefault(pk, set()).update(users)
        return None
    change_set = ChangeSet.objects.create(
        source=ctx.source,
        request_id=ctx.request_id,
        actor=ctx.user,
        actor_name=ctx.actor_name[:255],
        api_key=ctx.api_key,
        api_key_name=(ctx.api_key.name if ctx.api_key else "")[:255],
        integration=ctx.integration,
        reverts=ctx.reverts,
    )
    ObjectChange.objects.bulk_create(
        (
            ObjectChange(
                change_set=change_set,
                object_id=c.object_id,
                object_type=c.object_type,
                title=c.title[:255],
                action=c.action,
                diff=c.diff,
                state=c.state,
            )
            for c in changes
        ),
        batch_size=BULK_BATCH_SIZE,
    )
    if ctx.notify:
        _write_outbox(ctx, change_set, changes, subscribers)
    transaction.on_commit(partial(_announce, change_set.pk))
    return change_set


def _write_outbox(ctx, change_set, changes, subscribers) -> None:
    followed: dict = defaultdict(set)  # user -> followed resources among all changes
    public: dict = defaultdict(set)  # user -> followed resources among public changes
    shown: dict = {}  # what a viewer's email may describe: an id, or an id and its fields
    for change in changes:
        if change.public:
            resource_id = str(change.object_id)
            fields = change.public_fields
            shown[resource_id] = (
                resource_id if fields is None else {"id": resource_id, "fields": list(fields)}
            )
        for resource_id in change.concerns:
            for user_id in subscribers.get(resource_id, ()):
                followed[str(user_id)].add(str(resource_id))
                if change.public:
                    public[str(user_id)].add(str(resource_id))
    if ctx.user is not None:
        followed.pop(str(ctx.user.pk), None)
    if not followed:
        return
    insert = _insert_outbox_postgresql if connection.vendor == "postgresql" else _insert_outbox
    audience = Audience(followed, public, [shown[pk] for pk in sorted(shown)])
    if insert(change_set, audience, timezone.now()):
        transaction.on_commit(partial(_enqueue_delivery, str(change_set.pk)))


@dataclass
class Audience:
    """Who hears of a change set: editors and admins of everything they follow, viewers only
    of what they may see (`public`), in emails that describe only `shown`."""

    followed: Mapping[str, set]
    public: Mapping[str, set]
    #: Resource ids whose whole change viewers may read, or `{"id", "fields"}` for those
    #: of which they may read only these fields.
    shown: list

    def row(self, user_id: str, role: str) -> tuple[list, list | None] | None:
        """(followed, shown) of this recipient's outbox row, or None: nothing for them."""
        if sees_drafts(role):
            return sorted(self.followed[user_id]), None
        if not self.public.get(user_id):
            return None
        return sorted(self.public[user_id]), self.shown


def _insert_outbox(change_set, audience: Audience, now) -> bool:
    """One outbox row per active recipient with an address; True when any is immediate."""
    recipients = (
        User.objects.filter(pk__in=audience.followed, is_active=True)
        .exclude(email="")
        .values_list("pk", "email_frequency", "role")
    )
    rows = []
    for pk, frequency, role in recipients:
        row = audience.row(str(pk), role)
        if row is None:
            continue
        rows.append(
            Notification(
                change_set=change_set,
                recipient_id=pk,
                followed=row[0],
                shown=row[1],
                digest=frequency == EmailFrequency.DAILY,
                next_attempt_at=now,
            )
        )
    Notification.objects.bulk_create(rows, batch_size=BULK_BATCH_SIZE)
    return any(not row.digest for row in rows)


def _insert_outbox_postgresql(change_set, audience: Audience, now) -> bool:
    """The same rows in one `INSERT ... SELECT` that picks the recipients itself.

    A resource with a thousand subscribers would otherwise cost a thousand model instances
    and ten thousand bound parameters; here it is three arrays, and the request's cost stays
    nearly flat in the number of subscribers.
    """
    table = Notification._meta.db_table
    users = User._meta.db_table
    statement = f"""
        WITH inserted AS (
            INSERT INTO {table} (change_set_id, recipient_id, followed, shown, digest, status,
                                 attempts, next_attempt_at, last_error, created_at)
            SELECT %(change_set)s, u.id,
                   (CASE WHEN u.role = ANY(%(drafts)s) THEN f.followed ELSE f.public END)::jsonb,
                   CASE WHEN u.role = ANY(%(drafts)s) THEN NULL ELSE %(shown)s::jsonb END,
                   u.email_frequency = %(daily)s, %(pending)s, 0, %(now)s, '', %(now)s
            FROM unnest(%(ids)s::uuid[], %(followed)s::text[], %(public)s::text[])
                 AS f(user_id, followed, public)
            JOIN {users} u ON u.id = f.user_id
            WHERE u.is_active AND u.email <> ''
              AND (u.role = ANY(%(drafts)s) OR f.public IS NOT NULL)
            RETURNING digest
        )
        SELECT coalesce(bool_or(NOT digest), false) FROM inserted
    """
    ids = list(audience.followed)
    public = [audience.public.get(pk) for pk in ids]
    with connection.cursor() as cursor:
        cursor.execute(
            statement,
            {
                "change_set": change_set.pk,
                # Who reads drafts is the policy's rule, the same as `Audience.row`'s.
                "drafts": [str(role) for role in ROLES_SEEING_DRAFTS],
                "shown": json.dumps(audience.shown),
                "daily": EmailFrequency.DAILY,
                "pending": Notification.Status.PENDING,
                "now": now,
                "ids": ids,
                "followed": [json.dumps(sorted(audience.followed[pk])) for pk in ids],
                "public": [json.dumps(sorted(values)) if values else None for values in public],
            },
        )
        return cursor.fetchone()[0]


def _enqueue_delivery(change_set_id: str) -> None:
    """Wake the sender once the change has committed; never fail the request for it.

    The change and its outbox rows are committed by now: if the task can't be queued (the
    database backend's INSERT fails, say), the client must still hear that the write
    succeeded, and `manage.py send_notifications` sends the rows later.
    """
    import logging

    # Imported here: the task module imports the email templates' machinery, which the write
    # path only needs once something is to be sent.
    from catalog.notifications.tasks import deliver_notifications

    try:
        deliver_notifications.enqueue(change_set_id=change_set_id)
    except Exception:
        logging.getLogger(__name__).exception(
            "Could not queue the delivery of change set %s; its notifications stay in the "
            "outbox for `manage.py send_notifications`.",
            change_set_id,
        )
