"""API errors that DRF leaves to Django, answered as JSON instead."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import exception_handler

NOT_FOUND = {"detail": NotFound.default_detail}


def api_exception_handler(exc, context):
    """DRF's handler, plus a 413 with a JSON body for a body over the upload limit.

    Every Http404 says "Not found.": a malformed id already did, while an unknown one said
    "No Resource matches the given query.", naming a model the client never sees.
    """
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"detail": f"The request body is too large: at most {limit:,} bytes."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = NotFound()
    return exception_handler(exc, context)


@csrf_exempt  # a POST to a wrong URL is a 404, not a CSRF failure page
def not_found(request, *args, **kwargs):
    """The JSON 404 for any path under /api/v1/ no route matches, such as an id with a dot,
    instead of Django's HTML page."""
    return JsonResponse(NOT_FOUND, status=status.HTTP_404_NOT_FOUND)
