"""Undo: put back what a change set changed, through the same services as any other write.

The undo is a change set of its own (`reverts` names the one it undid), made by the services
that made the original, so the policy decides who may (whoever may make the inverse change),
and the history and the followers' emails follow as for any edit. An update is undone by
writing each field's old value back, a create by deleting what it made, a delete by restoring
what it removed from the state the delete recorded. Undoing an undo re-applies the original.

Bulk changes are undone in bulk: the same flags or the same relation added to 200 resources
go back in one call per distinct old value, so an undo costs a constant number of statements
whatever the number of resources.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from django.core.exceptions import ValidationError

from catalog.models import (
    M2M_FIELDS,
    ApiKey,
    ChangeSet,
    CustomProperty,
    EntityType,
    ObjectChange,
    Resource,
    User,
    WriteKey,
)
from catalog.policy import Action, ensure_for
from catalog.selectors import existing_ids, uuids_in
from catalog.services.changes import MODELS, one_change_set
from catalog.services.context import ChangeContext
from catalog.services.errors import Conflict, atomic_write
from catalog.services.keys import api_key_revoke
from catalog.services.resources import (
    BULK_FIELDS,
    CUSTOM_PREFIX,
    resource_custom_value_set,
    resource_update,
    resources_bulk_add_relations,
    resources_bulk_delete,
    resources_bulk_remove_relations,
    resources_bulk_update,
    resources_restore,
)
from catalog.services.workspace import (
    user_update,
    workspace_object_delete,
    workspace_object_restore,
    workspace_object_update,
)
from catalog.services.writekeys import write_key_revoke

__all__ = ["change_set_revert", "later_conflicts"]

#: Keys, and the service that revokes each: undoing a key's creation revokes it; nothing
#: brings a revoked or deleted key back.
_KEYS = {ApiKey: api_key_revoke, WriteKey: write_key_revoke}
#: Deletes recorded before deletes kept what they removed.
_BEFORE_UNDO = "This delete was recorded before undo existed: it can't come back."


def later_conflicts(change_set: ChangeSet, changes: Iterable[ObjectChange]) -> list[dict]:
    """The later changes to the same fields of the same objects: what an undo would overwrite.

    One entry per object and later change set, naming the fields (all of them when the later
    change created or deleted the object). One query.
    """
    changes = list(changes)
    mine = {change.object_id: change for change in changes}
    last = max(change.id for change in changes)
    later = (
        ObjectChange.objects.filter(object_id__in=list(mine), id__gt=last)
        .exclude(change_set=change_set)
        .select_related("change_set")
        .order_by("id")
    )
    found = []
    for change in later:
        original = mine[change.object_id]
        if change.action == original.action == "update":
            fields = sorted(set(original.diff) & set(change.diff))
        else:  # created or deleted since: every field of either is at stake
            fields = sorted(set(original.diff) | set(change.diff))
        if not fields:
            continue
        found.append(
            {
                "object_type": change.object_type,
                "object_id": str(change.object_id),
                "title": change.title,
                "fields": fields,
                "change_set": str(change.change_set_id),
                "actor": change.change_set.actor_name,
                "created_at": change.change_set.created_at.isoformat(),
            }
        )
    return found


@atomic_write
def change_set_revert(
    *, ctx: ChangeContext, change_set: ChangeSet, force: bool = False
) -> ChangeSet:
    """Undo `change_set`; returns the new change set (its `reverts` is `change_set`).

    Raises Conflict when a later change touched the same fields of the same objects (unless
    `force`), or when there is nothing left to undo; ValidationError when an object can't
    come back as it was (its parent deleted since, its title taken); PermissionDenied when
    the actor may not make the inverse change.
    """
    changes = list(change_set.changes.order_by("id"))
    if not changes:
        raise ValidationError("This change set recorded no change to undo.")
    _ensure_may_undo(ctx, changes)
    if not force and (conflicts := later_conflicts(change_set, changes)):
        fields = sorted({name for conflict in conflicts for name in conflict["fields"]})
        raise Conflict(
            f"Later changes touched the same fields ({', '.join(fields)}); send "
            '{"force": true} to undo anyway and overwrite them.',
            conflicts,
        )
    with one_change_set(replace(ctx, reverts=change_set)) as inner:
        _undo_resources(inner, [c for c in changes if c.object_type in EntityType.values])
        for change in changes:
            if change.object_type not in EntityType.values:
                _undo_object(inner, change)
    undo = inner.collector.change_set
    if undo is None:
        raise Conflict("Nothing to undo: every field already has the value it had before.")
    return undo


#: What undoing each action takes: the inverse action.
_INVERSE = {"create": Action.DELETE, "update": Action.CHANGE, "delete": Action.ADD}


def _ensure_may_undo(ctx: ChangeContext, changes: list[ObjectChange]) -> None:
    """Refuse (403) before anything else is said of the change set (its later changes, the
    titles of objects gone since) to whoever may not make the inverse changes. The services
    ask again; a key is asked about itself (its owner may revoke it)."""
    for kind, action in {(c.object_type, c.action) for c in changes}:
        ensure_for(ctx, _INVERSE[action], MODELS[kind])
    for change in changes:
        model = MODELS[change.object_type]
        if model in _KEYS and (key := model._default_manager.filter(pk=change.object_id).first()):
            ensure_for(ctx, _INVERSE[change.action], key)


def _as_ids(side):
    """One side of a relation's `[old, new]` as ids: an `{id, label}` pair's id, a list of
    them as a list of ids."""
    if isinstance(side, dict):
        return side.get("id")
    if isinstance(side, list):
        return [item.get("id") if isinstance(item, dict) else item for item in side]
    return side


def _old_value(name: str, pair, *, relation: bool = False):
    """The value to write back from a diff's `[old, new]`: ids for relations; any other value
    as it was (an example may be an object with an "id")."""
    old = pair[0] if isinstance(pair, list | tuple) and len(pair) == 2 else None
    return _as_ids(old) if relation else old


def _still_there(model, name: str, ids) -> list:
    """The ids of a many-to-many set's old value whose objects still exist: what was deleted
    since is left out, as a restore leaves it out."""
    return sorted(existing_ids(model._meta.get_field(name).related_model, ids or ()))


def _undo_resources(ctx: ChangeContext, changes: list[ObjectChange]) -> None:
    deleted = {str(c.object_id): c.state for c in changes if c.action == "delete"}
    if deleted:
        if any(state is None for state in deleted.values()):
            raise ValidationError(_BEFORE_UNDO)
        resources_restore(ctx=ctx, states=deleted)
    _undo_resource_updates(ctx, [c for c in changes if c.action == "update"])
    created = [c.object_id for c in changes if c.action == "create"]
    if created:
        resources_bulk_delete(ctx=ctx, resources=created)


def _undo_resource_updates(ctx: ChangeContext, changes: list[ObjectChange]) -> None:
    """Flags in bulk per old value, one relation in bulk per added/removed set, the rest one
    resource at a time (an edit form's change is one resource anyway)."""
    flags: dict[tuple, list] = defaultdict(list)
    relations: dict[tuple, list] = defaultdict(list)
    single = []
    for change in changes:
        names = set(change.diff)
        if names and names <= BULK_FIELDS:
            old = tuple(sorted((name, _old_value(name, change.diff[name])) for name in names))
            flags[old].append(change.object_id)
        elif len(names) == 1 and (name := next(iter(names))) in M2M_FIELDS:
            old, new = (set(_as_ids(side) or ()) for side in change.diff[name])
            relations[(name, frozenset(new - old), frozenset(old - new))].append(change.object_id)
        else:
            single.append(change)
    for old, ids in flags.items():
        resources_bulk_update(ctx=ctx, resources=ids, data=dict(old))
    for (name, added, removed), ids in relations.items():
        if added:
            resources_bulk_remove_relations(ctx=ctx, resources=ids, field=name, ids=added)
        if removed:
            resources_bulk_add_relations(ctx=ctx, resources=ids, field=name, ids=removed)
    if not single:
        return
    rows = Resource.objects.in_bulk([c.object_id for c in single])
    properties = {p.name: p for p in CustomProperty.objects.all()}
    wanted = [
        _old_value("parent", c.diff["parent"], relation=True) for c in single if "parent" in c.diff
    ]
    parents = {str(pk): row for pk, row in Resource.objects.in_bulk(uuids_in(wanted)).items()}
    for change in single:
        resource = rows.get(change.object_id)
        if resource is None:
            raise ValidationError(f"{change.title!r} no longer exists: restore it first.")
        data = {}
        for name, pair in change.diff.items():
            if name.startswith(CUSTOM_PREFIX):
                prop = properties.get(name.removeprefix(CUSTOM_PREFIX))
                if prop is None:
                    raise ValidationError(f"The custom property {name} no longer exists.")
                resource_custom_value_set(
                    ctx=ctx, resource=resource, custom_property=prop, value=_old_value(name, pair)
                )
            elif name == "parent":
                old = _old_value(name, pair, relation=True)
                if old is not None and str(old) not in parents:
                    raise ValidationError(
                        {
                            "parent": f"{change.title!r} can't go back: its former parent no "
                            "longer exists."
                        }
                    )
                data[name] = parents.get(str(old))
            elif name in M2M_FIELDS:
                old = _old_value(name, pair, relation=True)
                data[name] = _still_there(Resource, name, old)
            else:
                data[name] = _old_value(name, pair)
        if data:
            resource_update(ctx=ctx, resource=resource, data=data)


def _undo_object(ctx: ChangeContext, change: ObjectChange) -> None:
    """Undo one workspace object's change (a tag, a user, a key...)."""
    model = MODELS[change.object_type]
    if change.action == "delete" and model in _KEYS:
        return  # a key deleted with its user or integration never comes back: its secret is gone
    if change.action == "delete":
        if change.state is None:
            raise ValidationError(_BEFORE_UNDO)
        workspace_object_restore(ctx=ctx, model=model, pk=change.object_id, state=change.state)
        return
    obj = model._default_manager.filter(pk=change.object_id).first()
    if obj is None:
        raise ValidationError(f"The {model._meta.verbose_name} {change.title} no longer exists.")
    if model in _KEYS:
        if change.action == "create":
            _KEYS[model](ctx=ctx, key=obj)  # its own service: whoever may revoke it
            return
        raise ValidationError(
            f"A revoked key stays revoked: create a new key instead of {change.title}."
        )
    if change.action == "create":
        workspace_object_delete(ctx=ctx, obj=obj)
        return
    data = {}
    for name, pair in change.diff.items():
        model_field = model._meta.get_field(name)
        value = _old_value(name, pair, relation=model_field.is_relation)
        if model_field.many_to_one and value is not None:
            value = model_field.related_model._default_manager.filter(pk=value).first()
        elif model_field.many_to_many:
            value = _still_there(model, name, value)
        data[name] = value
    if isinstance(obj, User):
        user_update(ctx=ctx, user=obj, data=data)
    else:
        workspace_object_update(ctx=ctx, obj=obj, data=data)
