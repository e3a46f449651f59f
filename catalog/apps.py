from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Event Catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The email outbox's admin lives with the rest of the notifications code.
        from catalog.notifications import admin  # noqa: F401
