"""handler404: the product's own "not found" answer, never Django's debug page.

The API and the ingestion endpoints answer JSON (`{"detail": "Not found."}`, as DRF's own
404s do), so a client that reads JSON is never handed an HTML page; everything else gets
templates/404.html, with the site's header and a way back to the catalog. `manage.py serve`
turns DEBUG off for its own process so this answer is what a trial user meets (with DEBUG
on, Django answers its technical 404 page instead and never calls a handler).
"""

from django.http import JsonResponse
from django.views import defaults

from catalog.api.exceptions import NOT_FOUND

#: Paths of the JSON APIs: the catalog's REST API, its schema and the ingestion endpoints.
JSON_PREFIXES = ("/api/", "/v1/")


def page_not_found(request, exception=None):
    if request.path.startswith(JSON_PREFIXES) and not request.path.startswith(
        ("/api/docs/", "/api/redoc/")
    ):
        return JsonResponse(NOT_FOUND, status=404)
    return defaults.page_not_found(request, exception)
