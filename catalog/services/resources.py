"""Create, update and delete catalog resources (categories, events, properties).

Every write path calls these functions, so validation, permissions and (later) history and
notifications happen once, in one transaction, whoever writes.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from catalog.models import EntityType, Resource, User
from catalog.services.permissions import ensure_can_edit_catalog

#: Plain columns a caller may set; `integration` and `parent` are handled on their own.
SCALAR_FIELDS = frozenset(
    {
        "title",
        "description",
        "definition",
        "pii",
        "verified",
        "published",
        "data_type",
        "required",
        "allowed_values",
        "examples",
    }
)
#: Many-to-many fields; a given list replaces the whole set.
M2M_FIELDS = ("owners", "teams", "tags", "collections", "subscribers")
PROPERTY_ONLY_FIELDS = frozenset({"data_type", "required", "allowed_values", "examples"})


def _split(data: Mapping[str, Any], *, allowed: frozenset[str]) -> tuple[dict, dict]:
    unknown = set(data) - allowed - set(M2M_FIELDS)
    if unknown:
        raise TypeError(f"Unknown resource fields: {', '.join(sorted(unknown))}")
    scalars = {k: v for k, v in data.items() if k not in M2M_FIELDS}
    m2m = {k: v for k, v in data.items() if k in M2M_FIELDS}
    return scalars, m2m


def _check_kind_fields(entity_type: str, scalars: Mapping[str, Any]) -> None:
    if entity_type != EntityType.EVENT_PROPERTY:
        misplaced = sorted(PROPERTY_ONLY_FIELDS & set(scalars))
        if misplaced:
            raise ValidationError(
                {field: "Only event properties have this field." for field in misplaced}
            )


def _save(resource: Resource, m2m: Mapping[str, Iterable]) -> Resource:
    resource.full_clean()
    resource.save()
    for field, values in m2m.items():
        getattr(resource, field).set(values)
    return resource


@transaction.atomic
def resource_create(*, actor: User, entity_type: str, data: Mapping[str, Any]) -> Resource:
    """Create a resource of `entity_type` from `data` (integration, parent, fields, M2M sets).

    Raises ValidationError when the data breaks a rule of the catalog (wrong parent kind,
    duplicate title, ...) and PermissionDenied when the actor may not edit the catalog.
    """
    ensure_can_edit_catalog(actor)
    if entity_type not in EntityType.values:
        raise ValidationError({"entity_type": f"Unknown entity type {entity_type!r}."})
    scalars, m2m = _split(data, allowed=SCALAR_FIELDS | {"integration", "parent"})
    _check_kind_fields(entity_type, scalars)
    parent = scalars.get("parent")
    if "integration" not in scalars and parent is not None:
        # A child belongs to its parent's integration unless told otherwise.
        scalars["integration"] = parent.integration
    resource = Resource(entity_type=entity_type, **scalars)
    return _save(resource, m2m)


@transaction.atomic
def resource_update(*, resource: Resource, actor: User, data: Mapping[str, Any]) -> Resource:
    """Change the given fields of `resource`; lists of M2M values replace the current sets.

    A resource's kind and integration never change; an event may move to another category of
    its integration, and a property to another event.
    """
    ensure_can_edit_catalog(actor)
    scalars, m2m = _split(data, allowed=SCALAR_FIELDS | {"parent"})
    _check_kind_fields(resource.entity_type, scalars)
    for field, value in scalars.items():
        setattr(resource, field, value)
    return _save(resource, m2m)


@transaction.atomic
def resources_bulk_update(
    *, resources: Iterable[Resource], actor: User, data: Mapping[str, Any]
) -> int:
    """Apply the same change to many resources (admin bulk actions); returns how many changed.

    Each resource goes through `resource_update`, so every one is validated on its own. Only
    plain fields (`verified`, `published`, ...) can be changed in bulk.
    """
    ensure_can_edit_catalog(actor)
    count = 0
    for resource in resources:
        if any(getattr(resource, field) != value for field, value in data.items()):
            resource_update(resource=resource, actor=actor, data=data)
            count += 1
    return count


@transaction.atomic
def resource_delete(*, resource: Resource, actor: User) -> None:
    """Delete `resource` and everything under it (a category's events, an event's properties)."""
    ensure_can_edit_catalog(actor)
    resource.delete()
