"""Who may write what. Services call these, so every write path enforces the same rules."""

from django.core.exceptions import PermissionDenied

from catalog.models import Collection, Integration, Resource, Tag, Team, User


def ensure_can_edit_catalog(actor: User) -> None:
    """Editors and admins edit resources, tags and collections."""
    if not (actor.is_active and actor.can_edit_catalog):
        raise PermissionDenied("Only editors and admins can change the catalog.")


def ensure_is_admin(actor: User) -> None:
    """Only admins manage integrations, teams, users and other people's keys."""
    if not (actor.is_active and actor.is_catalog_admin):
        raise PermissionDenied("Only admins can manage the workspace.")


#: The check each kind of workspace object needs before it is written.
WRITE_RULES = {
    Resource: ensure_can_edit_catalog,
    Tag: ensure_can_edit_catalog,
    Collection: ensure_can_edit_catalog,
    Integration: ensure_is_admin,
    Team: ensure_is_admin,
    User: ensure_is_admin,
}


def ensure_can_write(actor: User, model: type) -> None:
    concrete = model._meta.concrete_model
    WRITE_RULES.get(concrete, ensure_is_admin)(actor)
