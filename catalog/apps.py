from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Event Catalog"
    default_auto_field = "django.db.models.BigAutoField"
