from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Event Catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Ingestion keeps the tracking plan in memory: every committed change makes it stale.
        from catalog.services.changes import catalog_changed
        from catalog.services.ingest import forget_plan

        catalog_changed.connect(forget_plan, dispatch_uid="catalog.forget_plan")
