"""Writes to the objects around the catalog: tags, collections, teams, integrations, users.

They have no workflow of their own, so one pair of functions serves them all; the permission
rule per model lives in `catalog.services.permissions`.
"""

from collections.abc import Iterable, Mapping

from django.db import models, transaction

from catalog.models import Role, User
from catalog.services.permissions import ensure_can_write


@transaction.atomic
def workspace_object_save(
    *, actor: User, obj: models.Model, m2m: Mapping[str, Iterable] | None = None
) -> models.Model:
    """Validate and save a tag, collection, team, integration or user, then set its M2M lists."""
    ensure_can_write(actor, type(obj))
    obj.full_clean()
    obj.save()
    for field, values in (m2m or {}).items():
        getattr(obj, field).set(values)
    return obj


@transaction.atomic
def workspace_object_delete(*, actor: User, obj: models.Model) -> None:
    ensure_can_write(actor, type(obj))
    obj.delete()


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str = Role.VIEWER,
    email: str = "",
    password: str | None = None,
    is_staff: bool | None = None,
) -> User:
    """Create a user; without a password the account can only use API keys.

    Editors and admins are always staff (see `User.save`); `is_staff` lets a viewer look
    around the Django admin too.
    """
    user = User(username=username, email=email, role=role, is_staff=bool(is_staff))
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user
