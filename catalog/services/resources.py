"""Create, update and delete catalog resources (categories, events, properties).

The one write path for resources: the API, the admin, the pages, commands and ingestion call
these functions with a change context and the changes as data. Each call, in one
transaction, asks the policy, locks the rows, takes a snapshot, validates once, saves, and
records the diff, the history rows and the notification outbox (`catalog.services.changes`).
Bulk variants do the same for many resources in a constant number of queries.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from catalog.models import (
    EDITABLE_FIELDS,
    M2M_FIELDS,
    PROPERTY_ONLY_FIELDS,
    CustomProperty,
    CustomPropertyValue,
    EntityType,
    Integration,
    Resource,
    UserGroup,
)
from catalog.models.resources import relation_columns
from catalog.policy import Action, ensure_for, visible_to_viewers
from catalog.selectors import existing_ids, relation_ids_of
from catalog.services.changes import (
    BULK_BATCH_SIZE,
    Change,
    diff,
    record_changes,
    snapshot,
    viewers_of,
)
from catalog.services.context import ChangeContext
from catalog.services.errors import atomic_write
from catalog.services.locks import own_integrations

__all__ = [
    "M2M_FIELDS",
    "PROPERTY_ONLY_FIELDS",
    "resource_create",
    "resource_custom_value_set",
    "resource_delete",
    "resource_update",
    "resources_bulk_add_relations",
    "resources_bulk_create",
    "resources_bulk_delete",
    "resources_bulk_remove_relations",
    "resources_bulk_update",
    "resources_bulk_write",
    "resources_restore",
]

#: Fields a bulk action may set on resources of every kind.
BULK_FIELDS = frozenset({"pii", "verified", "published"})


def _check_fields(entity_type: str, data: Mapping[str, Any], *, creating: bool) -> None:
    allowed = set(EDITABLE_FIELDS[entity_type]) | ({"integration"} if creating else set())
    unknown = sorted(set(data) - allowed)
    if not unknown:
        return
    errors = {}
    for name in unknown:
        if name in PROPERTY_ONLY_FIELDS:
            errors[name] = "Only event properties have this field."
        elif name == "integration":
            errors[name] = "A resource can't move to another integration."
        elif name == "parent":
            errors[name] = "An event category has no parent."
        else:
            errors[name] = "Unknown field."
    raise ValidationError(errors)


def _pks(values: Iterable) -> list[str]:
    return sorted({str(getattr(value, "pk", value)) for value in values or ()})


def lock_resources(pks: Iterable) -> list[Resource]:
    """The rows, locked until the transaction ends, with their parents (not locked)."""
    return list(
        Resource.objects.select_for_update(of=("self",))
        .select_related("parent", "parent__parent")
        .filter(pk__in=list(pks))
        .order_by("pk")
    )


def _validate(resource: Resource, changed: Iterable[str], *, relations_checked: bool) -> None:
    """Validate the changed columns in Python, without queries.

    Foreign keys come as objects from the serializer or form, so they exist; the parent's kind
    and integration are checked only when the parent changed; unique titles and check
    constraints are left to the database, whose refusal becomes a ValidationError.
    """
    changed = set(changed)
    names = {f.name for f in resource._meta.concrete_fields}
    resource.clean_fields(exclude=list(names - changed | {"parent", "integration"}))
    if not relations_checked:
        resource.clean()


def write_m2m(resource_pk, field: str, old: Iterable[str], new: Iterable[str]) -> None:
    through, source, target = relation_columns(field)
    old, new = set(old), set(new)
    if removed := old - new:
        through.objects.filter(**{source: resource_pk, f"{target}__in": removed}).delete()
    if added := new - old:
        through.objects.bulk_create(
            (through(**{f"{source}_id": resource_pk, f"{target}_id": pk}) for pk in added),
            batch_size=BULK_BATCH_SIZE,
        )


def _change(
    resource: Resource,
    action: str,
    changes: dict,
    ancestors,
    *,
    public: bool,
    public_fields: tuple[str, ...] | None = None,
) -> Change:
    """One resource's change, heard by the followers of it and its ancestors (by viewers only
    when `public`, and then of `public_fields` only, if given)."""
    return Change(
        resource.pk,
        resource.entity_type,
        resource.title,
        action,
        changes,
        concerns=[resource.pk, *ancestors],
        public=public,
        public_fields=public_fields,
    )


def _record_one(
    ctx: ChangeContext,
    resource: Resource,
    action: str,
    changes: dict,
    ancestors,
    subscribers,
    *,
    public: bool,
    public_fields: tuple[str, ...] | None = None,
) -> None:
    """Record one resource's change (see `_change`)."""
    change = _change(
        resource, action, changes, ancestors, public=public, public_fields=public_fields
    )
    record_changes(ctx, [change], subscribers=subscribers)


def _subscribers(relations: Mapping) -> dict:
    """Resource id -> its subscribers' ids, from `relation_ids_of`."""
    return {pk: related["subscribers"] for pk, related in relations.items()}


def _group_members(group_ids: Iterable) -> dict[str, set[str]]:
    """Owner group id -> its members' ids, in one query."""
    members: dict[str, set[str]] = defaultdict(set)
    rows = UserGroup.users.through.objects.filter(usergroup_id__in=list(group_ids))
    for group_id, user_id in rows.values_list("usergroup_id", "user_id"):
        members[str(group_id)].add(str(user_id))
    return members


def ensure_may_set_followers(ctx: ChangeContext, before: Iterable, after: Iterable) -> None:
    """Following is each person's own choice: changing who else follows needs an admin.

    Only the followers a caller names count; owners who start following because they became
    owners (`_m2m_after`) are the catalog's doing, not the caller's.
    """
    others = set(_pks(before)) ^ set(_pks(after))
    if ctx.user is not None:
        others.discard(str(ctx.user.pk))
    if others:
        ensure_for(ctx, Action.SUBSCRIBE_OTHERS, Resource)


def _m2m_after(
    data: Mapping[str, Any], before: Mapping[str, list], members: Mapping | None = None
) -> dict[str, list[str]]:
    """The M2M sets after the change. New owners, and the members of new owner groups, become
    subscribers (they may unsubscribe later). `members` (see `_group_members`) saves bulk
    callers a query per resource."""
    after = {name: _pks(data[name]) if name in data else before[name] for name in M2M_FIELDS}
    new_owners = set(after["owners"]) - set(before["owners"])
    new_groups = set(after["owners_groups"]) - set(before["owners_groups"])
    if new_groups:
        if members is None:
            members = _group_members(new_groups)
        for group in new_groups:
            new_owners |= members.get(group, set())
    if new_owners:
        after["subscribers"] = sorted(set(after["subscribers"]) | new_owners)
    return after


@atomic_write
def resource_create(*, ctx: ChangeContext, entity_type: str, data: Mapping[str, Any]) -> Resource:
    """Create a resource of `entity_type` from `data` (integration, parent, fields, M2M sets).

    Raises ValidationError when the data breaks a rule of the catalog (wrong parent kind,
    duplicate title, ...) and PermissionDenied when the actor may not edit the catalog.
    """
    ensure_for(ctx, Action.ADD, Resource)
    if entity_type not in EntityType.values:
        raise ValidationError({"entity_type": f"Unknown entity type {entity_type!r}."})
    _check_fields(entity_type, data, creating=True)
    if "subscribers" in data:
        ensure_may_set_followers(ctx, (), data["subscribers"])
    scalars = {k: v for k, v in data.items() if k not in M2M_FIELDS}
    parent = scalars.get("parent")
    if scalars.get("integration") is None and parent is not None:
        # A child belongs to its parent's integration unless told otherwise.
        scalars["integration"] = parent.integration
    if scalars.get("integration") is None:
        raise ValidationError({"integration": "A category needs an integration."})
    resource = Resource(entity_type=entity_type, **scalars)
    _validate(resource, [f.name for f in Resource._meta.concrete_fields], relations_checked=False)
    resource.save(force_insert=True)

    empty = {name: [] for name in M2M_FIELDS}
    m2m = _m2m_after(data, empty)
    for name, pks in m2m.items():
        write_m2m(resource.pk, name, (), pks)
    resource.relation_ids = {name: list(pks) for name, pks in m2m.items()}

    ancestors = resource.ancestor_ids()
    subscribers = _subscribers(relation_ids_of(ancestors))
    subscribers[resource.pk] = m2m["subscribers"]
    changes = diff({}, snapshot(resource, m2m))
    _record_one(
        ctx,
        resource,
        "create",
        changes,
        ancestors,
        subscribers,
        public=visible_to_viewers(resource),
    )
    return resource


#: The order in which a bulk create stores kinds, so parents exist before their children.
_LEVELS = (EntityType.EVENT_CATEGORY, EntityType.EVENT, EntityType.EVENT_PROPERTY)


_CONCRETE_FIELDS = [f.name for f in Resource._meta.concrete_fields]


def _new_resource(entity_type: str, data: Mapping[str, Any], earlier: list[Resource]) -> Resource:
    """An unsaved, validated resource for a bulk create: `parent` is an object or the index
    of one of the `earlier` items; the integration is the parent's unless given; M2M lists
    in `data` are left to the caller."""
    if entity_type not in _LEVELS:
        raise ValidationError({"entity_type": f"Unknown entity type {entity_type!r}."})
    _check_fields(entity_type, data, creating=True)
    scalars = {k: v for k, v in data.items() if k not in M2M_FIELDS}
    if isinstance(scalars.get("parent"), int):
        index = scalars["parent"]
        if not 0 <= index < len(earlier):
            raise ValidationError({"parent": "A parent must come before its children."})
        scalars["parent"] = earlier[index]
    if scalars.get("integration") is None and scalars.get("parent") is not None:
        scalars["integration"] = scalars["parent"].integration
    resource = Resource(entity_type=entity_type, **scalars)
    _validate(resource, _CONCRETE_FIELDS, relations_checked=False)
    return resource


@atomic_write
def resources_bulk_create(
    *, ctx: ChangeContext, items: Iterable[tuple[str, Mapping[str, Any]]]
) -> tuple[list[Resource], int]:
    """Create many resources at once, skipping those whose title their parent already has.

    For ingestion discovery, where concurrent batches may discover the same event: a title
    taken meanwhile is not an error, the existing row stands in for it (and becomes the
    parent of the children given with it). `items` are (kind, fields) pairs; the fields hold
    `integration` and `parent` as objects, or `parent` as the index of an earlier item, which
    is created first. No many-to-many fields. A constant number of queries however many
    items, and one change set for all that were created. Returns the resources of all items,
    in order (new or existing), and how many were new.
    """
    ensure_for(ctx, Action.ADD, Resource)
    rows: list[Resource] = []
    for entity_type, data in items:
        if set(data) & set(M2M_FIELDS):
            raise ValidationError("Bulk creation takes no many-to-many fields.")
        rows.append(_new_resource(entity_type, data, rows))
    stand_ins: dict = {}  # our id -> the row that was there first
    created: list[Resource] = []
    for level in _LEVELS:
        batch = [r for r in rows if r.entity_type == level]
        if not batch:
            continue
        for r in batch:
            if r.parent_id in stand_ins:
                r.parent = stand_ins[r.parent_id]
        # In one order for every caller: two discovering the same titles at once then wait
        # for each other instead of deadlocking on the unique index.
        batch.sort(key=lambda r: (str(r.parent_id), r.title))
        # ON CONFLICT DO NOTHING: our ids are new, so a row stored under our id is one we made.
        Resource.objects.bulk_create(batch, ignore_conflicts=True, batch_size=BULK_BATCH_SIZE)
        made = set(
            Resource.objects.filter(pk__in=[r.pk for r in batch]).values_list("pk", flat=True)
        )
        created += [r for r in batch if r.pk in made]
        lost = [r for r in batch if r.pk not in made]
        if not lost:
            continue
        # The rows that were there first: a superset by parents and titles (one short
        # statement, where an OR per row grew past SQLite's expression depth), keyed exactly.
        candidates = Resource.objects.filter(
            entity_type=level,
            integration_id__in={r.integration_id for r in lost},
            title__in={r.title for r in lost},
        )
        parents = {r.parent_id for r in lost}
        if level != EntityType.EVENT_CATEGORY:
            candidates = candidates.filter(parent_id__in=parents)
        existing = {
            (found.integration_id, found.parent_id, found.title): found for found in candidates
        }
        for r in lost:
            found = existing.get((r.integration_id, r.parent_id, r.title))
            if found is None:  # lost to a constraint that isn't the title's: a real error
                raise ValidationError({"title": f"{r.title!r} could not be created."})
            stand_ins[r.pk] = found
    changes = [
        _change(
            r,
            "create",
            diff({}, snapshot(r, {})),
            r.ancestor_ids(),
            public=False,
        )
        for r in created
    ]
    record_changes(ctx, changes, subscribers={})
    return [stand_ins.get(r.pk, r) for r in rows], len(created)


@atomic_write
def resource_update(*, ctx: ChangeContext, resource: Resource, data: Mapping[str, Any]) -> Resource:
    """Change the given fields of `resource`; lists of M2M values replace the current sets.

    Only `resource`'s id is used: the row is read again, locked, so a caller can't smuggle in
    changes made to its instance. A resource's kind and integration never change; an event may
    move to another category of its integration, and a property to another event.
    """
    ensure_for(ctx, Action.CHANGE, Resource)
    rows = lock_resources([resource.pk])
    if not rows:
        raise Resource.DoesNotExist("The resource no longer exists.")
    current = rows[0]
    _check_fields(current.entity_type, data, creating=False)
    ancestors = current.ancestor_ids()
    relations = relation_ids_of([current.pk, *ancestors])
    before = snapshot(current, relations[current.pk])
    if "subscribers" in data:
        ensure_may_set_followers(ctx, before["subscribers"], data["subscribers"])
    was_visible = visible_to_viewers(current)

    scalars = {k: v for k, v in data.items() if k not in M2M_FIELDS}
    for name, value in scalars.items():
        setattr(current, name, value)
    m2m_before = {name: before[name] for name in M2M_FIELDS}
    m2m = _m2m_after(data, m2m_before)
    after = snapshot(current, m2m)
    changes = diff(before, after)
    if not changes:
        current.relation_ids = relations[current.pk]
        return current

    changed_columns = [name for name in scalars if name in changes]
    _validate(current, changed_columns, relations_checked="parent" not in changes)
    current.updated_at = timezone.now()
    current.save(update_fields=[*changed_columns, "updated_at"])
    for name in M2M_FIELDS:
        if name in changes:
            write_m2m(current.pk, name, m2m_before[name], m2m[name])
    current.relation_ids = m2m

    if "parent" in changes:
        # Subscribers of the new parent and its category hear of the move too.
        new_ancestors = Resource.objects.select_related("parent").get(pk=current.pk).ancestor_ids()
        relations.update(relation_ids_of(set(new_ancestors) - set(relations)))
        ancestors = list(dict.fromkeys([*ancestors, *new_ancestors]))
    subscribers = _subscribers(relations)
    subscribers[current.pk] = m2m["subscribers"]
    viewers = viewers_of(was_visible, visible_to_viewers(current), changes)
    _record_one(ctx, current, "update", changes, ancestors, subscribers, **viewers)
    return current


@atomic_write
def resources_bulk_update(
    *, ctx: ChangeContext, resources: Iterable, data: Mapping[str, Any]
) -> int:
    """Set the same plain fields (`verified`, `published`, `pii`) on many resources at once.

    For admin bulk actions: a constant number of queries however many rows, one change set
    for all of them. Returns how many resources changed.
    """
    ensure_for(ctx, Action.CHANGE, Resource)
    unknown = sorted(set(data) - BULK_FIELDS)
    if unknown:
        raise ValidationError({name: "Can't be changed in bulk." for name in unknown})
    rows = lock_resources(_pks(resources))
    changed = [r for r in rows if any(getattr(r, k) != v for k, v in data.items())]
    if not changed:
        return 0
    ancestors = {r.pk: r.ancestor_ids() for r in changed}
    relations = relation_ids_of(
        [*(r.pk for r in changed), *(pk for ids in ancestors.values() for pk in ids)]
    )
    changes = []
    for resource in changed:
        before = {k: getattr(resource, k) for k in data}
        was_visible = visible_to_viewers(resource)
        for name, value in data.items():
            setattr(resource, name, value)
        _validate(resource, data, relations_checked=True)
        fields = diff(before, data)
        viewers = viewers_of(was_visible, visible_to_viewers(resource), fields)
        changes.append(_change(resource, "update", fields, ancestors[resource.pk], **viewers))
    Resource.objects.filter(pk__in=[r.pk for r in changed]).update(
        **data, updated_at=timezone.now()
    )
    record_changes(
        ctx,
        changes,
        subscribers=_subscribers(relations),
    )
    return len(changed)


def _bulk_m2m(pairs: Mapping[str, list], replaced: Mapping[str, list]) -> None:
    """Write many resources' relation sets: for each field, the resources in `replaced[field]`
    lose every row of it, then the (resource, target) `pairs[field]` are inserted."""
    for name in M2M_FIELDS:
        through, source, target = relation_columns(name)
        if replaced.get(name):
            through.objects.filter(**{f"{source}__in": replaced[name]}).delete()
        if pairs.get(name):
            through.objects.bulk_create(
                (through(**{f"{source}_id": r, f"{target}_id": t}) for r, t in pairs[name]),
                batch_size=BULK_BATCH_SIZE,
            )


@atomic_write
def resources_bulk_write(
    *,
    ctx: ChangeContext,
    creates: Iterable[tuple[str, Mapping[str, Any]]] = (),
    updates: Iterable[tuple[Any, Mapping[str, Any]]] = (),
) -> tuple[list[Resource], int]:
    """Create and change many resources, each with its own fields, in one change set.

    For plan imports: `creates` are (kind, fields) pairs, each with its own relations (lists
    of ids) and `parent` as an object or as the index of an earlier item; `updates` are
    (resource id, fields) pairs, whose relation lists replace the current sets (and whose
    `parent` may also be the index of a create). Unlike
    `resources_bulk_create` a title that is taken is an error. New owners follow, as in
    `resource_update`. A constant number of queries however many items (a few per kind of
    change). Returns the created resources, in order, and how many existing ones changed.
    """
    creates, updates = list(creates), list(updates)
    if creates:
        ensure_for(ctx, Action.ADD, Resource)
    if updates:
        ensure_for(ctx, Action.CHANGE, Resource)
    now = timezone.now()
    created: list[Resource] = []
    m2m_of: dict = {}
    empty = {name: [] for name in M2M_FIELDS}
    for entity_type, data in creates:
        resource = _new_resource(entity_type, data, created)
        created.append(resource)
        m2m_of[resource.pk] = _m2m_after(data, empty)
    if "subscribers" in {k for _, data in [*creates, *updates] for k in data}:
        ensure_for(ctx, Action.SUBSCRIBE_OTHERS, Resource)

    rows = lock_resources(pk for pk, _ in updates)
    wanted = {str(pk): data for pk, data in updates}
    new_parents = {
        getattr(data["parent"], "pk", data["parent"])
        for data in wanted.values()
        if data.get("parent") is not None and not isinstance(data["parent"], int)
    }
    parents = {
        p.pk: p for p in Resource.objects.select_related("parent").filter(pk__in=new_parents)
    }
    ancestors = {r.pk: r.ancestor_ids() for r in rows}
    for r in created:
        ancestors[r.pk] = r.ancestor_ids()
    relations = relation_ids_of(
        [*(r.pk for r in rows), *(pk for ids in ancestors.values() for pk in ids), *parents]
    )
    changes: list[Change] = []
    for resource in created:
        m2m = m2m_of[resource.pk]
        public = visible_to_viewers(resource)
        after = snapshot(resource, m2m)
        changes.append(
            _change(resource, "create", diff({}, after), ancestors[resource.pk], public=public)
        )
        relations[resource.pk] = m2m

    changed_columns: dict[tuple, list[Resource]] = defaultdict(list)
    pairs: dict[str, list] = defaultdict(list)
    replaced: dict[str, list] = defaultdict(list)
    for resource in rows:
        data = wanted[str(resource.pk)]
        _check_fields(resource.entity_type, data, creating=False)
        before = snapshot(resource, relations[resource.pk])
        was_visible = visible_to_viewers(resource)
        scalars = {k: v for k, v in data.items() if k not in M2M_FIELDS}
        parent = scalars.get("parent")
        if isinstance(parent, int):  # a resource this call creates
            scalars["parent"] = created[parent]
        elif parent is not None:
            scalars["parent"] = parents[getattr(parent, "pk", parent)]
        for name, value in scalars.items():
            setattr(resource, name, value)
        m2m_before = {name: before[name] for name in M2M_FIELDS}
        m2m = _m2m_after(data, m2m_before)
        fields_changed = diff(before, snapshot(resource, m2m))
        if not fields_changed:
            continue
        columns = tuple(sorted(name for name in scalars if name in fields_changed))
        _validate(resource, columns, relations_checked="parent" not in fields_changed)
        resource.updated_at = now
        changed_columns[columns].append(resource)
        for name in M2M_FIELDS:
            if name in fields_changed:
                replaced[name].append(resource.pk)
                pairs[name] += [(resource.pk, pk) for pk in m2m[name]]
        concerns = ancestors[resource.pk]
        if "parent" in fields_changed:
            concerns = [*concerns, *resource.ancestor_ids()]
        viewers = viewers_of(was_visible, visible_to_viewers(resource), fields_changed)
        changes.append(_change(resource, "update", fields_changed, concerns, **viewers))
        relations[resource.pk]["subscribers"] = m2m["subscribers"]

    for level in _LEVELS:
        batch = [r for r in created if r.entity_type == level]
        Resource.objects.bulk_create(batch, batch_size=BULK_BATCH_SIZE)
    for r in created:
        for name, ids in m2m_of[r.pk].items():
            pairs[name] += [(r.pk, pk) for pk in ids]
    for columns, changed in changed_columns.items():
        Resource.objects.bulk_update(changed, [*columns, "updated_at"], batch_size=BULK_BATCH_SIZE)
    _bulk_m2m(pairs, replaced)
    record_changes(ctx, changes, subscribers=_subscribers(relations))
    return created, sum(len(c) for c in changed_columns.values())


def _bulk_relations(
    ctx: ChangeContext, resources: Iterable, field: str, ids: Iterable, *, add: bool
) -> int:
    """Add `ids` to (or remove them from) the `field` set of every resource, in one change set.

    Only what changes is written: the through rows to add, or those to delete; a resource
    that already had (or lacked) all of them records nothing. New owners follow as in
    `resource_update`. A constant number of queries, however many resources.
    """
    ensure_for(ctx, Action.CHANGE, Resource)
    if field not in M2M_FIELDS:
        raise ValidationError({field: "Not a relation of resources."})
    wanted = set(_pks(ids))
    if not wanted:
        return 0
    if field == "subscribers":
        ensure_may_set_followers(ctx, (), wanted)
    if add:
        model = Resource._meta.get_field(field).related_model
        found = {str(pk) for pk in model.objects.filter(pk__in=wanted).values_list("pk", flat=True)}
        if missing := sorted(wanted - found):
            raise ValidationError({field: f"Unknown {field}: {', '.join(missing)}."})
    rows = lock_resources(_pks(resources))
    if not rows:
        return 0
    ancestors = {r.pk: r.ancestor_ids() for r in rows}
    relations = relation_ids_of(
        [*(r.pk for r in rows), *(pk for ids in ancestors.values() for pk in ids)]
    )
    members = _group_members(wanted) if add and field == "owners_groups" else None
    changes, added, removed = [], defaultdict(list), []
    for resource in rows:
        before = snapshot(resource, relations[resource.pk])
        m2m_before = {name: before[name] for name in M2M_FIELDS}
        current = set(m2m_before[field])
        data = {field: current | wanted if add else current - wanted}
        m2m = _m2m_after(data, m2m_before, members)
        changed = diff(m2m_before, m2m)
        if not changed:
            continue
        if add:
            for name in changed:
                new = set(m2m[name]) - set(m2m_before[name])
                added[name].extend((resource.pk, pk) for pk in new)
        else:
            removed.append(resource.pk)
        relations[resource.pk]["subscribers"] = m2m["subscribers"]
        public = visible_to_viewers(resource)
        changes.append(_change(resource, "update", changed, ancestors[resource.pk], public=public))
    if not changes:
        return 0
    for name, pairs in added.items():
        through, source, target = relation_columns(name)
        through.objects.bulk_create(
            (
                through(**{f"{source}_id": resource_pk, f"{target}_id": pk})
                for resource_pk, pk in pairs
            ),
            batch_size=BULK_BATCH_SIZE,
        )
    if removed:
        through, source, target = relation_columns(field)
        through.objects.filter(**{f"{source}__in": removed, f"{target}__in": wanted}).delete()
    Resource.objects.filter(pk__in=[c.object_id for c in changes]).update(updated_at=timezone.now())
    record_changes(ctx, changes, subscribers=_subscribers(relations))
    return len(changes)


@atomic_write
def resources_bulk_add_relations(
    *, ctx: ChangeContext, resources: Iterable, field: str, ids: Iterable
) -> int:
    """Add the same owners, tags, teams, ... (`ids`, objects or primary keys) to many resources.

    For admin bulk actions ("Add owners…"): unlike `resource_update`, the sets are not
    replaced; each resource keeps what it had. Returns how many resources changed.
    """
    return _bulk_relations(ctx, resources, field, ids, add=True)


@atomic_write
def resources_bulk_remove_relations(
    *, ctx: ChangeContext, resources: Iterable, field: str, ids: Iterable
) -> int:
    """Remove the same owners, tags, ... (`ids`) from many resources, where present.

    Returns how many resources changed.
    """
    return _bulk_relations(ctx, resources, field, ids, add=False)


@atomic_write
def resources_bulk_delete(*, ctx: ChangeContext, resources: Iterable) -> int:
    """Delete resources and everything under them, in one change set.

    The history keeps a delete for each removed resource (descendants included), and the
    subscribers of each, and of the ancestors, are told once.
    """
    ensure_for(ctx, Action.DELETE, Resource)
    pks = _pks(resources)
    # Ingestion batches of these integrations finish first, and the next ones wait for this
    # delete (see catalog.services.locks): none writes a volume for a deleted resource.
    own_integrations(Resource.objects.filter(pk__in=pks).values_list("integration_id", flat=True))
    rows = lock_resources(pks)
    if not rows:
        return 0
    pks = [r.pk for r in rows]
    descendants = list(
        Resource.objects.filter(Q(parent_id__in=pks) | Q(parent__parent_id__in=pks))
        .exclude(pk__in=pks)
        .select_related("parent", "parent__parent")
    )
    removed = [*rows, *descendants]
    ancestors = {r.pk: r.ancestor_ids() for r in removed}
    relations = relation_ids_of(
        [*(r.pk for r in removed), *(pk for ids in ancestors.values() for pk in ids)]
    )
    custom = defaultdict(dict)
    values = CustomPropertyValue.objects.filter(resource_id__in=[r.pk for r in removed])
    for resource_id, property_id, value in values.values_list(
        "resource_id", "property_id", "value"
    ):
        custom[resource_id][str(property_id)] = value
    changes = []
    for r in removed:
        before = snapshot(r, relations[r.pk])
        change = _change(
            r, "delete", diff(before, {}), ancestors[r.pk], public=visible_to_viewers(r)
        )
        change.state = {**_restorable(r), **before, "custom_values": custom[r.pk]}
        changes.append(change)
    Resource.objects.filter(pk__in=pks).delete()
    record_changes(
        ctx,
        changes,
        subscribers=_subscribers(relations),
    )
    return len(rows)


def _restorable(resource: Resource) -> dict:
    """What a delete's `state` keeps beyond the editable fields, to put the row back as it was."""
    return {
        "entity_type": resource.entity_type,
        "integration": str(resource.integration_id),
        "parent": str(resource.parent_id) if resource.parent_id else None,
        "created_at": resource.created_at.isoformat(),
    }


def resource_delete(*, ctx: ChangeContext, resource: Resource) -> None:
    """Delete `resource` and everything under it (a category's events, an event's properties)."""
    resources_bulk_delete(ctx=ctx, resources=[resource])


@atomic_write
def resources_restore(*, ctx: ChangeContext, states: Mapping) -> int:
    """Put deleted resources back as a delete recorded them (`ObjectChange.state`): the same
    ids, fields, parents, relations, followers and custom values, and creation times.

    `states` maps each resource id to its state. Relations to what no longer exists (a tag
    deleted since) are left out; a parent or integration that no longer exists, or a title
    taken since, refuses the whole restore with a message saying which. A constant number of
    queries however many resources.
    """
    ensure_for(ctx, Action.ADD, Resource)
    if not states:
        return 0
    states = {str(pk): state for pk, state in states.items()}
    if taken := Resource.objects.filter(pk__in=list(states)).values_list("title", flat=True):
        raise ValidationError(f"{', '.join(sorted(taken))} exists already: nothing to restore.")
    fields = [f.name for f in Resource._meta.concrete_fields]
    rows = []
    for pk, state in states.items():
        scalars = {
            name: state.get(name)
            for name in EDITABLE_FIELDS[state["entity_type"]]
            if name not in M2M_FIELDS and name != "parent"
        }
        resource = Resource(
            id=pk,
            entity_type=state["entity_type"],
            integration_id=state["integration"],
            parent_id=state.get("parent"),
            **{k: v for k, v in scalars.items() if v is not None or k in PROPERTY_ONLY_FIELDS},
        )
        _validate(resource, fields, relations_checked=True)
        rows.append(resource)
    _ensure_exist(rows, states)
    order = {level: index for index, level in enumerate(_LEVELS)}
    rows.sort(key=lambda r: order[r.entity_type])
    Resource.objects.bulk_create(rows, batch_size=BULK_BATCH_SIZE)
    for row in rows:
        row.created_at = dt.datetime.fromisoformat(states[str(row.pk)]["created_at"])
    Resource.objects.bulk_update(rows, ["created_at"], batch_size=BULK_BATCH_SIZE)

    wanted = {name: set() for name in M2M_FIELDS}
    for state in states.values():
        for name in M2M_FIELDS:
            wanted[name].update(state.get(name) or ())
    existing = {
        name: existing_ids(Resource._meta.get_field(name).related_model, ids)
        for name, ids in wanted.items()
    }
    m2m = {
        pk: {
            name: sorted(set(state.get(name) or ()) & existing.get(name, set()))
            for name in M2M_FIELDS
        }
        for pk, state in states.items()
    }
    for name in M2M_FIELDS:
        through, source, target = relation_columns(name)
        through.objects.bulk_create(
            (
                through(**{f"{source}_id": pk, f"{target}_id": related})
                for pk, sets in m2m.items()
                for related in sets[name]
            ),
            batch_size=BULK_BATCH_SIZE,
        )
    values = {str(pk): state.get("custom_values") or {} for pk, state in states.items()}
    properties = existing_ids(CustomProperty, {p for v in values.values() for p in v})
    CustomPropertyValue.objects.bulk_create(
        (
            CustomPropertyValue(resource_id=pk, property_id=prop, value=value)
            for pk, custom in values.items()
            for prop, value in custom.items()
            if prop in properties
        ),
        batch_size=BULK_BATCH_SIZE,
    )
    restored = lock_resources(list(states))
    ancestors = {r.pk: r.ancestor_ids() for r in restored}
    outside = {pk for ids in ancestors.values() for pk in ids} - {r.pk for r in restored}
    subscribers = _subscribers(relation_ids_of(outside))
    changes = []
    for r in restored:
        sets = m2m[str(r.pk)]
        subscribers[r.pk] = sets["subscribers"]
        changes.append(
            _change(
                r,
                "create",
                diff({}, snapshot(r, sets)),
                ancestors[r.pk],
                public=visible_to_viewers(r),
            )
        )
    record_changes(ctx, changes, subscribers=subscribers)
    return len(restored)


def _ensure_exist(rows: list[Resource], states: Mapping) -> None:
    """Refuse a restore whose parents or integrations are gone (one query each)."""
    found = existing_ids(Resource, {r.parent_id for r in rows if r.parent_id})
    for r in rows:
        if r.parent_id and str(r.parent_id) not in states and str(r.parent_id) not in found:
            raise ValidationError(
                {"parent": f"{r.title!r} can't come back: its parent no longer exists."}
            )
    known = existing_ids(Integration, {r.integration_id for r in rows})
    if missing := [r.title for r in rows if str(r.integration_id) not in known]:
        raise ValidationError(
            {"integration": f"{', '.join(missing)} can't come back: the integration is gone."}
        )


#: How a custom property's changes are named in a diff (next to the built-in fields).
CUSTOM_PREFIX = "custom: "


@atomic_write
def resource_custom_value_set(
    *, ctx: ChangeContext, resource: Resource, custom_property: CustomProperty, value: Any
) -> Any:
    """Set (or, with None, clear) a custom property's value on a resource; returns the value
    as stored. Recorded in the history, and its followers are told, like any other field."""
    ensure_for(ctx, Action.CHANGE, Resource)
    rows = lock_resources([resource.pk])
    if not rows:
        raise Resource.DoesNotExist("The resource no longer exists.")
    current = rows[0]
    if current.entity_type not in custom_property.entity_types:
        kinds = ", ".join(EntityType(kind).label.lower() for kind in custom_property.entity_types)
        raise ValidationError(
            {"value": f"{custom_property.name} applies to: {kinds}; not to this resource."}
        )
    try:
        cleaned = None if value is None else custom_property.clean_value(value)
    except ValidationError as error:
        raise ValidationError({"value": error.messages}) from error
    stored = CustomPropertyValue.objects.filter(resource=current, property=custom_property)
    old = next(iter(stored.values_list("value", flat=True)), None)
    if old == cleaned:
        return cleaned
    if cleaned is None:
        stored.delete()
    else:
        CustomPropertyValue.objects.update_or_create(
            resource=current, property=custom_property, defaults={"value": cleaned}
        )
    current.updated_at = timezone.now()
    current.save(update_fields=["updated_at"])
    ancestors = current.ancestor_ids()
    _record_one(
        ctx,
        current,
        "update",
        {f"{CUSTOM_PREFIX}{custom_property.name}": [old, cleaned]},
        ancestors,
        _subscribers(relation_ids_of([current.pk, *ancestors])),
        public=visible_to_viewers(current),
    )
    return cleaned
