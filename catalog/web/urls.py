"""The catalog pages' routes (namespace `web`)."""

from django.urls import path

from . import bulk, collections, eventlog, integrations, pickers, views, violations

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("events/", views.events, name="events"),
    path("events/bulk/", bulk.events_bulk, name="events_bulk"),
    path("events/bulk/<uuid:change_set>/", bulk.events_bulk_done, name="events_bulk_done"),
    path("search/", views.search, name="search"),
    path("resources/<uuid:pk>/", views.resource_detail, name="resource"),
    path("resources/<uuid:pk>/history/", views.resource_history_view, name="resource_history"),
    path(
        "resources/<uuid:pk>/history/<uuid:change_set>/revert/",
        views.change_set_revert_view,
        name="change_set_revert",
    ),
    path("resources/<uuid:pk>/edit/", views.resource_edit, name="resource_edit"),
    path("resources/<uuid:pk>/subscribe/", views.resource_subscribe, name="resource_subscribe"),
    path("pickers/<str:kind>/", pickers.picker, name="picker"),
    path("preview/", views.markdown_preview, name="markdown_preview"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("settings/", views.user_settings, name="settings"),
    path("settings/keys/<uuid:pk>/revoke/", views.api_key_revoke_view, name="api_key_revoke"),
    path("integrations/", integrations.integrations, name="integrations"),
    path("integrations/<uuid:pk>/", integrations.integration_detail, name="integration"),
    path(
        "integrations/<uuid:pk>/write-keys/",
        integrations.write_key_create_view,
        name="write_key_create",
    ),
    path(
        "integrations/<uuid:pk>/write-keys/<uuid:key_pk>/revoke/",
        integrations.write_key_revoke_view,
        name="write_key_revoke",
    ),
    path("collections/", collections.collections, name="collections"),
    path("collections/<uuid:pk>/", collections.collection_detail, name="collection"),
    path("collections/<uuid:pk>/follow/", collections.collection_follow, name="collection_follow"),
    path("violations/", violations.violations, name="violations"),
    path(
        "violations/<int:pk>/resolve/",
        violations.violation_resolve_view,
        name="violation_resolve",
    ),
    path("event-log/", eventlog.event_log, name="event_log"),
]
