"""API errors that DRF leaves to Django, answered as JSON instead."""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import exception_handler

NOT_FOUND = {"detail": NotFound.default_detail}


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
    """DRF's handler, plus JSON bodies for requests past Django's upload limits.

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
    if isinstance(exc, Http404):
        exc = NotFound()
    return exception_handler(exc, context)


@csrf_exempt  # a POST to a wrong URL is a 404, not a CSRF failure page
def not_found(request, *args, **kwargs):
    """The JSON 404 for any path under /api/v1/ no route matches, such as an id with a dot,
    instead of Django's HTML page."""
    return JsonResponse(NOT_FOUND, status=status.HTTP_404_NOT_FOUND)
