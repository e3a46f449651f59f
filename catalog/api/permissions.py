"""Role rules for the API: who may read and who may write each kind of object."""

from rest_framework import permissions


class RolePermission(permissions.BasePermission):
    """Reads for every authenticated user; writes for the role the view names.

    A view sets `write_role` to "editor" (catalog resources, tags, collections) or "admin"
    (integrations, teams, users). The services check the same rule again on every write.
    """

    message = "Your role may not do this."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        write_role = getattr(view, "write_role", "admin")
        if write_role == "any":
            return True
        if write_role == "editor":
            return user.can_edit_catalog
        return user.is_catalog_admin
