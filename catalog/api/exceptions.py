"""API errors in one place: the services' refusals, and what DRF leaves to Django, answered
as JSON. Views call services directly and let their refusals reach this handler."""

import logging

from django.conf import settings
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from catalog.services import errors
from catalog.services.errors import InUse

NOT_FOUND = {"detail": NotFound.default_detail}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object is still in use."
    default_code = "conflict"


def _as_api_error(exc: Exception) -> Exception:
    """A service's refusal as the answer it gets: 400 with field messages, 403 with the
    policy's reason, 404 for a row that vanished meanwhile (or an Http404), 409 for one still
    in use or for an undo over later changes; any other exception unchanged."""
    if isinstance(exc, DjangoValidationError):
        detail = as_serializer_error(exc)
        if NON_FIELD_ERRORS in detail:
            detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
        return exceptions.ValidationError(detail)
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, ObjectDoesNotExist | Http404):
        return NotFound()
    if isinstance(exc, InUse):
        return Conflict(str(exc))
    if isinstance(exc, errors.Conflict):  # an undo over later work: say which
        return Conflict({"detail": exc.message, "conflicts": exc.conflicts})
    return exc


def _over_a_limit(exc) -> Response | None:
    """The JSON answer for a request past one of Django's upload limits, which Django would
    answer with an HTML page; None for any other exception."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"detail": f"The request body is too large: at most {limit:,} bytes."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return Response(
            {"detail": f"Too many query parameters or form fields: at most {limit:,}."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return Response(
            {"detail": f"Too many files: at most {limit:,}."}, status=status.HTTP_400_BAD_REQUEST
        )
    return None


def api_exception_handler(exc, context):
    """DRF's handler, plus the services' refusals and JSON bodies for requests past Django's
    upload limits.

    Every Http404 says "Not found.": a malformed id already did, while an unknown one said
    "No Resource matches the given query.", naming a model the client never sees.
    """
    response = _over_a_limit(exc)
    if response is not None:
        # Logged as Django logs these suspicious operations when it answers them itself.
        logging.getLogger(f"django.security.{type(exc).__name__}").error(
            str(exc), extra={"status_code": response.status_code, "request": context["request"]}
        )
        return response
    return exception_handler(_as_api_error(exc), context)


@csrf_exempt  # a POST to a wrong URL is a 404, not a CSRF failure page
def not_found(request, *args, **kwargs):
    """The JSON 404 for any path under /api/v1/ no route matches, such as an id with a dot,
    instead of Django's HTML page."""
    return JsonResponse(NOT_FOUND, status=status.HTTP_404_NOT_FOUND)
