"""The API's permission check: every write asks the one policy (`catalog.policy`)."""

from django.core.exceptions import PermissionDenied
from rest_framework import exceptions, permissions

from catalog.models import ApiKey
from catalog.policy import Action, ensure

METHOD_ACTIONS = {"POST": Action.ADD, "PATCH": Action.CHANGE, "DELETE": Action.DELETE}


class PolicyPermission(permissions.BasePermission):
    """Reads for every authenticated user (the querysets limit what each sees); writes as the
    policy allows for the view's model. The services ask the policy again on every write.

    A view whose method means another action than usual says so in `method_actions`, such as
    `{"POST": Action.VIEW}` for a query sent in a body.
    """

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        if getattr(view, request.method.lower(), None) is None:
            return True  # the view doesn't take this method: Django answers 405
        model = getattr(view, "policy_model", None)
        if model is None:
            return False
        try:
            actions = {**METHOD_ACTIONS, **getattr(view, "method_actions", {})}
            action = actions.get(request.method, Action.CHANGE)
            api_key = request.auth if isinstance(request.auth, ApiKey) else None
            ensure(user, action, model, api_key=api_key)
        except PermissionDenied as error:
            raise exceptions.PermissionDenied(str(error)) from error
        return True
