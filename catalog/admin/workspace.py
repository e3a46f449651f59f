"""The workspace around the catalog: tags, collections, teams, custom properties, user groups
and integrations, saved through the workspace service."""

from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.db.models import Prefetch, prefetch_related_objects
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from catalog.models import (
    DISCOVERY_LIMITS,
    Collection,
    CustomProperty,
    Integration,
    Tag,
    Team,
    UserGroup,
    WriteKey,
)
from catalog.policy import Action, collections_visible_to, may
from catalog.services.workspace import (
    workspace_object_create,
    workspace_object_delete,
    workspace_object_update,
    workspace_objects_delete,
)

from .base import HistoryMixin, PolicyAdminMixin


class WorkspaceDeleteMixin:
    """Deletes through the workspace service, which refuses what is still in use (and the
    last admin); a bulk delete is all or nothing, so a refusal keeps every selected one."""

    def delete_model(self, request, obj):
        self.run_service(request, workspace_object_delete, obj=obj)

    def delete_queryset(self, request, queryset):
        self.run_service(request, workspace_objects_delete, objs=list(queryset))


class WorkspaceAdmin(HistoryMixin, WorkspaceDeleteMixin, PolicyAdminMixin, admin.ModelAdmin):
    """Saves tags, collections, teams and integrations through the workspace service."""

    def save_model(self, request, obj, form, change):
        editable = type(obj).EDITABLE_FIELDS
        if change:
            data = {k: form.cleaned_data[k] for k in form.changed_data if k in editable}
            self.run_service(request, workspace_object_update, obj=obj, data=data)
        else:
            data = {k: v for k, v in form.cleaned_data.items() if k in editable}
            created = self.run_service(request, workspace_object_create, model=type(obj), data=data)
            obj.pk = created.pk
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """The service set the M2M fields already."""


@admin.register(Tag)
class TagAdmin(WorkspaceAdmin):
    list_display = ["title", "description", "color"]
    search_fields = ["title"]


@admin.register(Collection)
class CollectionAdmin(WorkspaceAdmin):
    list_display = ["title", "icon", "description", "published"]

    def get_queryset(self, request):
        return collections_visible_to(request.user)

    def get_object(self, request, object_id, from_field=None):
        """The collection, showing only the collections the user may see around it (its
        page is read-only for viewers: a parent they may not see shows as none)."""
        collection = super().get_object(request, object_id, from_field)
        if collection is None:
            return None
        visible = collections_visible_to(request.user)
        prefetch_related_objects([collection], Prefetch("collections", queryset=visible))
        if collection.parent_id and not visible.filter(pk=collection.parent_id).exists():
            collection.parent = None
        return collection

    list_filter = ["published", "verified", "pii"]
    search_fields = ["title", "description"]
    autocomplete_fields = [
        "integration",
        "parent",
        *(field.name for field in Collection._meta.many_to_many),
    ]


@admin.register(Team)
class TeamAdmin(WorkspaceAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]
    autocomplete_fields = ["members"]


@admin.register(CustomProperty)
class CustomPropertyAdmin(WorkspaceAdmin):
    list_display = ["name", "value_type", "entity_types"]
    list_filter = ["value_type"]
    search_fields = ["name"]


@admin.register(UserGroup)
class UserGroupAdmin(WorkspaceAdmin):
    list_display = ["name", "icon", "description"]
    search_fields = ["name"]
    autocomplete_fields = ["users"]


#: How many of an integration's write keys its page lists (the rest: "See all").
WRITE_KEYS_SHOWN = 20


@admin.register(Integration)
class IntegrationAdmin(WorkspaceAdmin):
    list_display = ["name", "type", "validation_mode", "description"]
    list_filter = ["type", "validation_mode"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["teams"]

    def _shows_write_keys(self, request, obj) -> bool:
        """Admins see an integration's write keys on its page; editors don't."""
        return obj is not None and may(request.user, Action.VIEW, WriteKey)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "write_key_list"] if self._shows_write_keys(request, obj) else readonly

    def get_fieldsets(self, request, obj=None):
        limits = [name for name in Integration.EDITABLE_FIELDS if name in DISCOVERY_LIMITS]
        fieldsets = [
            (None, {"fields": [n for n in Integration.EDITABLE_FIELDS if n not in limits]}),
            (
                "Discovery limits",
                {
                    "fields": limits,
                    "description": "In discover mode, what ingestion may add to the catalog. "
                    "Names past a limit are recorded as violations instead, and the "
                    "integration's violations say that discovery stopped.",
                },
            ),
        ]
        if self._shows_write_keys(request, obj):
            fieldsets.append(("Write keys", {"fields": ["write_key_list"]}))
        return fieldsets

    @admin.display(description="Keys")
    def write_key_list(self, obj):
        """The newest keys, active and revoked, with links to all of them and to a new one
        (read-only: no inline forms, a key is created and revoked on its own admin pages)."""
        write_keys = obj.write_keys.order_by("-created_at", "-pk")
        total = write_keys.count()
        rows = format_html_join(
            "",
            "<tr><td><code>{}…</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    key.prefix,
                    key.name or "—",
                    display_for_value(key.created_at, "—"),
                    display_for_value(key.last_used_at, "Never"),
                    display_for_value(key.revoked_at, "Active"),
                )
                for key in write_keys[:WRITE_KEYS_SHOWN]
            ),
        )
        header = mark_safe(
            "<thead><tr><th>Prefix</th><th>Name</th><th>Created</th><th>Last used</th>"
            "<th>Revoked</th></tr></thead>"
        )
        table = format_html("<table>{}<tbody>{}</tbody></table>", header, rows) if total else ""
        return format_html(
            '{}<p>{} in all. <a href="{}">See all</a> · <a href="{}">Create a write key</a></p>',
            table or mark_safe("<p>No write keys yet.</p>"),
            total,
            reverse("admin:catalog_writekey_changelist") + f"?integration__id__exact={obj.pk}",
            reverse("admin:catalog_writekey_add") + f"?integration={obj.pk}",
        )
