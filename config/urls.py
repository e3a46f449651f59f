from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from catalog.views import healthcheck

admin.site.site_header = "Event Catalog"
admin.site.site_title = "Event Catalog"
admin.site.index_title = "Catalog administration"

urlpatterns = [
    path("healthcheck", healthcheck, name="healthcheck"),
    path("healthcheck/", healthcheck),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
