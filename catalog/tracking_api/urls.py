"""Ingestion routes, each with or without a trailing slash."""

from django.urls import re_path

from catalog.tracking_api import views
from catalog.tracking_api.formats import SEGMENT_TYPES

app_name = "ingest"

urlpatterns = [
    re_path(r"^v1/batch/?$", views.segment_batch, name="segment-batch"),
    *(
        re_path(rf"^v1/{call}/?$", views.segment_call(call), name=f"segment-{call}")
        for call in SEGMENT_TYPES
    ),
    re_path(r"^v1/event/?$", views.canvas_event, name="canvas-event"),
    re_path(r"^v1/events/?$", views.prime_events, name="prime-events"),
    re_path(
        r"^api/v1/workspaces/(?P<workspace_id>[^/]+)/events/?$",
        views.flameup_events,
        name="flameup-events",
    ),
]
