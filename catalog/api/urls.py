"""Routes of /api/v1/, each with or without a trailing slash, as the seed's clients expect."""

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from catalog.api import audit, plan, views
from catalog.api.eventlog import EventLogView
from catalog.api.exceptions import not_found
from catalog.api.revert import ChangeSetRevertView
from catalog.api.violations import ViolationResolveView


class OptionalSlashRouter(SimpleRouter):
    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("event/category", views.EventCategoryViewSet, basename="event-category")
router.register("event/events", views.EventViewSet, basename="event")
router.register("event/event_properties", views.EventPropertyViewSet, basename="event-property")
router.register("integration/integrations", views.IntegrationViewSet, basename="integration")
router.register("tag/tags", views.TagViewSet, basename="tag")
router.register("tag", views.TagViewSet, basename="tag-short")
router.register("collection/collections", views.CollectionViewSet, basename="collection")
router.register("team/teams", views.TeamViewSet, basename="team")
router.register("auth/teams", views.TeamViewSet, basename="auth-team")
router.register("auth/group", views.UserGroupViewSet, basename="user-group")
router.register(
    "resource/all_v2/custom_properties", views.CustomPropertyViewSet, basename="custom-property"
)
router.register("user/users", views.UserViewSet, basename="user")
router.register("user/api_keys", views.ApiKeyViewSet, basename="api-key")
# Last of the user routes: its ids are UUIDs only, so it never takes "me" or "users".
router.register("user", views.UserViewSet, basename="workspace-user")

urlpatterns = [
    re_path(r"^user/me/?$", views.MeView.as_view(), name="user-me"),
    re_path(r"^resource/catalog/?$", views.ResourceQueryView.as_view(), name="resource-catalog"),
    re_path(
        r"^resource/catalog/query/?$",
        views.ResourceQueryPostView.as_view(),
        name="resource-catalog-query",
    ),
    re_path(
        r"^resource/all_v2/custom_properties/(?P<property_id>[^/]+)/(?P<resource_id>[^/]+)/?$",
        views.CustomValueView.as_view(),
        name="custom-property-value",
    ),
    re_path(
        r"^event/property/?$", views.EventPropertyCreateView.as_view(), name="event-property-create"
    ),
    re_path(
        r"^resource/all/(?P<pk>[^/.]+)/?$",
        views.ResourceDetailView.as_view(),
        name="resource-detail",
    ),
    re_path(r"^event/log/?$", EventLogView.as_view(), name="event-log"),
    re_path(
        r"^changes/(?P<pk>[^/.]+)/revert/?$",
        ChangeSetRevertView.as_view(),
        name="change-set-revert",
    ),
    re_path(
        r"^violations/(?P<pk>[^/.]+)/resolve/?$",
        ViolationResolveView.as_view(),
        name="violation-resolve",
    ),
    re_path(r"^changes/?$", audit.ChangeSetListView.as_view(), name="change-set-list"),
    re_path(
        r"^changes/(?P<id>[^/.]+)/?$", audit.ChangeSetDetailView.as_view(), name="change-set-detail"
    ),
    re_path(r"^plan/export/?$", plan.PlanExportView.as_view(), name="plan-export"),
    re_path(r"^plan/import/?$", plan.PlanImportView.as_view(), name="plan-import"),
    re_path(
        r"^plan/imports/(?P<pk>[^/.]+)/?$",
        plan.PlanImportDetailView.as_view(),
        name="plan-import-detail",
    ),
    re_path(r"^plan/codegen/?$", plan.PlanCodegenView.as_view(), name="plan-codegen"),
    re_path(r"^plan/check/?$", plan.PlanCheckView.as_view(), name="plan-check"),
    path("", include(router.urls)),
    # Last: anything else under /api/v1/ (an id with a dot, a typo) is a JSON 404.
    re_path(r"^.*$", not_found),
]
