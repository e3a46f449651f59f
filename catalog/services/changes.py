"""What every write records: snapshots, diffs, history rows and the notification outbox.

The resource services call these inside their transaction. A change set is written only when
something really changed; its notifications go to the subscribers of each changed resource and
of its ancestors (and, for a delete, of what the delete removed), once per person, never to the
actor, and delivery is queued only after the transaction commits.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from catalog.models import (
    EDITABLE_FIELDS,
    M2M_FIELDS,
    ChangeSet,
    Collection,
    EmailFrequency,
    Notification,
    Resource,
    ResourceChange,
    Role,
    Tag,
    Team,
    User,
    UserGroup,
)
from catalog.services.context import ChangeContext

#: The model behind each many-to-many field, and how its rows are labelled in a diff.
_M2M_MODELS = {
    "owners": User,
    "owners_groups": UserGroup,
    "subscribers": User,
    "teams": Team,
    "tags": Tag,
    "collections": Collection,
}
#: Changes of these fields alone are history, not news: nobody is emailed about them.
QUIET_FIELDS = frozenset({"subscribers"})

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
    """One resource's part of a change set, before it becomes a `ResourceChange` row."""

    resource_id: object
    entity_type: str
    title: str
    action: str
    diff: dict
    #: The resource itself and the ones whose subscribers hear of the change (its ancestors).
    concerns: list = field(default_factory=list)
    #: Whether a viewer may read of it: the resource, before or after, was published with
    #: every ancestor. Viewers are told only of public changes.
    public: bool = True
    #: The fields viewers may read of a public change; None: all of them.
    public_fields: tuple[str, ...] | None = None


def _labels(changes: Iterable[Change]) -> None:
    """Replace the ids in each diff's parent and M2M values by `{"id", "label"}` pairs.

    One query per kind of related object that appears, whatever the number of changes.
    """
    wanted: dict[type, set] = defaultdict(set)
    for change in changes:
        for name, values in change.diff.items():
            if name == "parent":
                wanted[Resource].update(v for v in values if v)
            elif name in _M2M_MODELS:
                for value in values:
                    wanted[_M2M_MODELS[name]].update(value or ())
    labels: dict[str, str] = {}
    for model, ids in wanted.items():
        if not ids:
            continue
        if model is User:
            rows = model.objects.filter(pk__in=ids).only("username", "first_name", "last_name")
            labels.update((str(row.pk), str(row)) for row in rows)
        else:
            label = "name" if model in (Team, UserGroup) else "title"
            labels.update(
                (str(pk), text)
                for pk, text in model.objects.filter(pk__in=ids).values_list("pk", label)
            )

    def pair(pk):
        return {"id": pk, "label": labels.get(pk, pk)} if pk else None

    for change in changes:
        for name, values in change.diff.items():
            if name == "parent":
                change.diff[name] = [pair(v) for v in values]
            elif name in _M2M_MODELS:
                change.diff[name] = [[pair(pk) for pk in value or ()] for value in values]


#: Bumped (in the shared cache) whenever a change set commits, so that every process's copy of
#: the tracking plan (catalog.services.ingest) knows to read it again.
PLAN_VERSION_KEY = "catalog:plan-version"


def plan_version():
    """The catalog's change counter; None until the first change (or after the cache lost it)."""
    return cache.get(PLAN_VERSION_KEY)


def _bump_plan_version() -> None:
    try:
        cache.incr(PLAN_VERSION_KEY)
    except ValueError:  # not there yet: start it (or count this if another process just did)
        if not cache.add(PLAN_VERSION_KEY, 1, timeout=None):
            cache.incr(PLAN_VERSION_KEY)


def record_changes(
    ctx: ChangeContext,
    changes: list[Change],
    *,
    subscribers: Mapping[object, Iterable],
) -> ChangeSet | None:
    """Write the change set, its resource changes and its outbox rows; queue delivery.

    `subscribers` maps each resource id named in a change's `concerns` to its subscribers'
    ids. Returns None (and writes nothing) when no change holds a difference.
    """
    changes = [c for c in changes if c.diff or c.action != "update"]
    if not changes:
        return None
    _labels(changes)
    change_set = ChangeSet.objects.create(
        source=ctx.source,
        request_id=ctx.request_id,
        actor=ctx.user,
        actor_name=ctx.actor_name[:255],
        api_key=ctx.api_key,
        api_key_name=(ctx.api_key.name if ctx.api_key else "")[:255],
        integration=ctx.integration,
    )
    ResourceChange.objects.bulk_create(
        (
            ResourceChange(
                change_set=change_set,
                resource_id=c.resource_id,
                entity_type=c.entity_type,
                title=c.title[:255],
                action=c.action,
                diff=c.diff,
            )
            for c in changes
        ),
        batch_size=BULK_BATCH_SIZE,
    )
    if ctx.notify:
        _write_outbox(ctx, change_set, changes, subscribers)
    transaction.on_commit(_bump_plan_version)
    return change_set


def _write_outbox(ctx, change_set, changes, subscribers) -> None:
    followed: dict = defaultdict(set)  # user -> followed resources among all changes
    public: dict = defaultdict(set)  # user -> followed resources among public changes
    shown: dict = {}  # what a viewer's email may describe: an id, or an id and its fields
    for change in changes:
        if change.action == "update" and set(change.diff) <= QUIET_FIELDS:
            continue
        if change.public:
            resource_id = str(change.resource_id)
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
        if role != Role.VIEWER:
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
            SELECT %s, u.id,
                   (CASE WHEN u.role = %s THEN f.public ELSE f.followed END)::jsonb,
                   CASE WHEN u.role = %s THEN %s::jsonb END,
                   u.email_frequency = %s, %s, 0, %s, '', %s
            FROM unnest(%s::uuid[], %s::text[], %s::text[]) AS f(user_id, followed, public)
            JOIN {users} u ON u.id = f.user_id
            WHERE u.is_active AND u.email <> '' AND (u.role <> %s OR f.public IS NOT NULL)
            RETURNING digest
        )
        SELECT coalesce(bool_or(NOT digest), false) FROM inserted
    """
    ids = list(audience.followed)
    public = [audience.public.get(pk) for pk in ids]
    with connection.cursor() as cursor:
        cursor.execute(
            statement,
            [
                change_set.pk,
                Role.VIEWER,
                Role.VIEWER,
                json.dumps(audience.shown),
                EmailFrequency.DAILY,
                Notification.Status.PENDING,
                now,
                now,
                ids,
                [json.dumps(sorted(audience.followed[pk])) for pk in ids],
                [json.dumps(sorted(values)) if values else None for values in public],
                Role.VIEWER,
            ],
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
