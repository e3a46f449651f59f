"""Writes to the objects around the catalog: tags, collections, teams, groups, integrations,
custom properties and users.

They have no workflow of their own, so one set of functions serves them all. Like the resource
services they take a change context and the changes as data (never an instance the caller has
already changed), ask the policy, lock the row, validate once, and record the change set
(`catalog.services.changes`): who changed which fields, from what to what. A delete records the
object whole, its relations included, so that it can be undone. What each model lets a caller
change is its `EDITABLE_FIELDS`.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, Q

from catalog.models import (
    CustomProperty,
    CustomPropertyValue,
    Integration,
    Resource,
    Role,
    User,
)
from catalog.policy import Action, ensure_for
from catalog.selectors import existing_ids
from catalog.services.changes import (
    CUSTOM_VALUES,
    object_snapshot,
    one_change_set,
    record_object_change,
    whole_state,
)
from catalog.services.context import ChangeContext
from catalog.services.errors import InUse, atomic_write
from catalog.services.resources import ensure_may_set_followers

T = models.Model


def _apply(obj: models.Model, data: Mapping[str, Any]) -> dict[str, Any]:
    """Set the plain fields on `obj`; return the M2M ones, to set after saving."""
    allowed = type(obj).EDITABLE_FIELDS
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError({name: "Unknown field." for name in unknown})
    many = {field.name for field in obj._meta.many_to_many}
    for name, value in data.items():
        if name not in many:
            setattr(obj, name, value)
    return {name: value for name, value in data.items() if name in many}


def _lock_admins(user_pk) -> None:
    """Lock the user and every active admin, in one order for every caller.

    Two admins demoting each other at once would each see the other still an admin and both
    succeed; holding these locks makes the second wait for the first to commit, and then see
    that it is the last admin. One statement in id order, so two such changes can't deadlock.
    """
    admins = Q(role=Role.ADMIN, is_active=True) | Q(pk=user_pk)
    list(User.objects.select_for_update().filter(admins).order_by("pk").values_list("pk"))


def _keep_an_admin(user: User, *, removing: bool = False) -> None:
    """Refuse the change that would leave the workspace without an active admin (the caller
    holds `_lock_admins`)."""
    if not removing and user.is_active and user.role == Role.ADMIN:
        return
    others = User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk)
    if not others.exists():
        raise ValidationError(
            "The workspace needs at least one active admin: make someone else an admin first."
        )


@atomic_write
def _save(obj: models.Model, data: Mapping[str, Any], **clean_kwargs) -> models.Model:
    m2m = _apply(obj, data)
    if isinstance(obj, User) and not obj._state.adding:
        _keep_an_admin(obj)
    obj.full_clean(**clean_kwargs)
    obj.save()
    for name, values in m2m.items():
        getattr(obj, name).set(values)
    return obj


def _check_followers(ctx: ChangeContext, obj: models.Model, data: Mapping[str, Any]) -> None:
    """A collection's followers are each person's choice, as a resource's are."""
    if "subscribers" in data:
        before = [] if obj._state.adding else obj.subscribers.values_list("pk", flat=True)
        ensure_may_set_followers(ctx, before, data["subscribers"])


def workspace_object_create(*, ctx: ChangeContext, model: type[T], data: Mapping[str, Any]) -> T:
    """Create a tag, collection, team, group, integration or custom property from `data`."""
    ensure_for(ctx, Action.ADD, model)
    obj = model()
    _check_followers(ctx, obj, data)
    with transaction.atomic():
        obj = _save(obj, data)
        record_object_change(ctx, obj, "create", {}, object_snapshot(obj))
    return obj


def workspace_object_restore(*, ctx: ChangeContext, model: type[T], pk, state: Mapping) -> T:
    """Put a deleted tag, collection, team, group, integration, custom property or user back
    as its delete recorded it (`whole_state`): the same id, fields and relations, those to
    objects deleted since left out. A restored user has no password until one is set."""
    ensure_for(ctx, Action.ADD, model)
    if model._default_manager.filter(pk=pk).exists():
        raise ValidationError(f"The {model._meta.verbose_name} exists already: nothing to restore.")
    obj = model(pk=pk)
    many, reverse = {}, {}
    values = state.get(CUSTOM_VALUES) if isinstance(obj, CustomProperty) else None
    for name, value in state.items():
        if name == CUSTOM_VALUES and values is not None:
            continue
        if name.startswith("reverse:"):
            reverse[name.removeprefix("reverse:")] = value
            continue
        model_field = model._meta.get_field(name)
        if model_field.many_to_many:
            many[name] = value
        elif model_field.many_to_one:
            setattr(obj, model_field.attname, value)
        else:
            setattr(obj, name, value)
    if isinstance(obj, User):
        obj.set_unusable_password()
    with transaction.atomic():
        obj.full_clean(exclude=["password"] if isinstance(obj, User) else None)
        obj.save(force_insert=True)
        for name, ids in [*many.items(), *reverse.items()]:
            manager = getattr(obj, name)
            manager.set(existing_ids(manager.model, ids))
        if values:
            _restore_values(obj, values)
        record_object_change(ctx, obj, "create", {}, object_snapshot(obj))
    return obj


def _restore_values(prop: CustomProperty, values: Mapping[str, Any]) -> None:
    """A restored custom property's values, on the resources that still exist."""
    present = existing_ids(Resource, values)
    CustomPropertyValue.objects.bulk_create(
        CustomPropertyValue(resource_id=pk, property=prop, value=values[pk]) for pk in present
    )


def _update(
    ctx: ChangeContext,
    obj: T,
    data: Mapping[str, Any],
    memberships: Mapping[str, Iterable | None] | None = None,
) -> T:
    """Lock, change, record: `workspace_object_update` and `user_update` in one change set."""
    ensure_for(ctx, Action.CHANGE, obj)
    with transaction.atomic():
        if isinstance(obj, User):
            _lock_admins(obj.pk)
        current = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        _check_followers(ctx, current, data)
        before = object_snapshot(current)
        exclude = ["password"] if isinstance(current, User) else None
        current = _save(current, data, exclude=exclude)
        if memberships:
            _set_memberships(current, memberships)
        record_object_change(ctx, current, "update", before, object_snapshot(current))
        return current


def workspace_object_update(*, ctx: ChangeContext, obj: T, data: Mapping[str, Any]) -> T:
    """Change the given fields of a tag, collection, team, group, integration, custom
    property or user.

    Only `obj`'s id is used: the row is read again and locked.
    """
    return _update(ctx, obj, data)


def workspace_object_delete(*, ctx: ChangeContext, obj: models.Model) -> None:
    """Delete a tag, collection, team, group, integration, custom property or user; refused
    (InUse) while catalog resources still depend on it."""
    ensure_for(ctx, Action.DELETE, obj)
    try:
        with transaction.atomic():
            if isinstance(obj, User):
                _lock_admins(obj.pk)
                _keep_an_admin(obj, removing=True)
            current = type(obj)._default_manager.select_for_update().filter(pk=obj.pk).first()
            if current is None:
                return
            state = whole_state(current)
            # A user's API keys and an integration's write keys go with it: recorded too.
            keys = [(key, object_snapshot(key)) for key in _keys_of(current)]
            type(obj)._default_manager.filter(pk=obj.pk).delete()
            with one_change_set(ctx) as inner:
                record_object_change(inner, current, "delete", state, {}, state=state)
                for key, snapshot in keys:
                    record_object_change(inner, key, "delete", snapshot, {}, state=snapshot)
    except ProtectedError as error:
        raise InUse(
            f"The {obj._meta.verbose_name} {obj} is still used by catalog resources; delete "
            "or move those first."
        ) from error


def _keys_of(obj: models.Model) -> list:
    if isinstance(obj, User):
        return list(obj.api_keys.all())
    if isinstance(obj, Integration):
        return list(obj.write_keys.all())
    return []


@atomic_write
def workspace_objects_delete(*, ctx: ChangeContext, objs: Iterable[models.Model]) -> int:
    """Delete several workspace objects (an admin's bulk delete) in one change set, so that
    one undo brings them all back; all or nothing. Returns how many were deleted."""
    objs = list(objs)
    with one_change_set(ctx) as inner:
        for obj in objs:
            workspace_object_delete(ctx=inner, obj=obj)
    return len(objs)


def user_create(
    *,
    ctx: ChangeContext,
    username: str,
    role: str = Role.VIEWER,
    email: str = "",
    password: str | None = None,
    is_staff: bool | None = None,
    teams: Iterable | None = None,
    user_groups: Iterable | None = None,
    **data: Any,
) -> User:
    """Create a user; without a password the account can only use API keys.

    Editors and admins are always staff (see `User.save`); `is_staff` lets a viewer look
    around the Django admin too. `teams` and `user_groups` make the user a member of those.
    """
    ensure_for(ctx, Action.ADD, User)
    user = User(username=username, email=email, role=role, is_staff=bool(is_staff))
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        user = _save(user, data, exclude=["password"])
        _set_memberships(user, {"teams": teams, "user_groups": user_groups})
        record_object_change(ctx, user, "create", {}, object_snapshot(user))
    return user


def _set_memberships(user: User, memberships: Mapping[str, Iterable | None]) -> None:
    """Teams and groups are set from the user's side of their members lists."""
    for name, values in memberships.items():
        if values is not None:
            getattr(user, name).set(values)


def user_update(*, ctx: ChangeContext, user: User, data: Mapping[str, Any]) -> User:
    """Change a user's fields (`User.EDITABLE_FIELDS`) and, with `teams` or `user_groups`,
    what they are a member of."""
    data = dict(data)
    memberships = {name: data.pop(name, None) for name in ("teams", "user_groups")}
    return _update(ctx, user, data, memberships)


def user_deactivate(*, ctx: ChangeContext, user: User) -> User:
    """Take a user out of the workspace without deleting them: they can't log in or use
    their keys, lists leave them out, and the history they made keeps their name."""
    return workspace_object_update(ctx=ctx, obj=user, data={"is_active": False})


#: What users may change about themselves (their role and staff flag are the admins' call).
PROFILE_FIELDS = ("first_name", "last_name", "email_frequency")


def user_update_profile(*, ctx: ChangeContext, user: User, data: Mapping[str, Any]) -> User:
    """Change one's own name or how one is emailed (each change, or a daily digest)."""
    if ctx.user is None or ctx.user.pk != user.pk:
        ensure_for(ctx, Action.CHANGE, user)
    unknown = sorted(set(data) - set(PROFILE_FIELDS))
    if unknown:
        raise ValidationError({name: "You can't change this here." for name in unknown})
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        before = object_snapshot(current, relations=False)
        for name, value in data.items():
            setattr(current, name, value)
        current.full_clean(exclude=["password"], validate_unique=False)
        current.save(update_fields=[*data])
        after = object_snapshot(current, relations=False)
        record_object_change(ctx, current, "update", before, after)
    return current


def user_set_password(*, ctx: ChangeContext, user: User, password: str | None) -> User:
    """Set (or, with None, disable) a user's password: admins for anyone, users for
    themselves."""
    if ctx.user is None or ctx.user.pk != user.pk:
        ensure_for(ctx, Action.CHANGE, user)
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        if password:
            current.set_password(password)
        else:
            current.set_unusable_password()
        current.save(update_fields=["password"])
    return current
