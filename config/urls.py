from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from catalog.notifications.views import unsubscribe
from catalog.views import healthcheck
from catalog.web.forms import AdminLoginForm, LoginForm

# A database outage raised outside a view is a 503 too (catalog.database_errors).
handler500 = "catalog.database_errors.server_error"
# The product's 404 page, JSON under /api/ and /v1/ (catalog.not_found).
handler404 = "catalog.not_found.page_not_found"

admin.site.site_header = "Event Catalog"
admin.site.site_title = "Event Catalog"
admin.site.index_title = "Catalog administration"
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("healthcheck", healthcheck, name="healthcheck"),
    path("healthcheck/", healthcheck),
    path("unsubscribe/<str:token>", unsubscribe, name="unsubscribe"),
    path("admin/", admin.site.urls),
    # Before the API: /api/v1/workspaces/<id>/events is an ingestion endpoint.
    path("", include("catalog.tracking_api.urls")),
    path("api/v1/", include("catalog.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("catalog.web.urls")),
]
