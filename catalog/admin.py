"""The Django admin, set up for data stewards.

Every save and delete goes through `catalog.services`, so the admin obeys the same rules
(roles, parent kinds, unique titles) as the API and, later, records history the same way.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect

from catalog.models import (
    ApiKey,
    Collection,
    EntityType,
    Event,
    EventCategory,
    EventProperty,
    Integration,
    Resource,
    Tag,
    Team,
    User,
)
from catalog.models.resources import PARENT_TYPE
from catalog.services import keys
from catalog.services.resources import (
    M2M_FIELDS,
    SCALAR_FIELDS,
    resource_create,
    resource_delete,
    resource_update,
    resources_bulk_update,
)
from catalog.services.workspace import workspace_object_delete, workspace_object_save


class RoleAdminMixin:
    """Admin permissions from the workspace role instead of per-model permission rows.

    Every staff user can look; editors change catalog objects; admins change everything.
    """

    editors_may_write = False

    def _may_write(self, request) -> bool:
        user = request.user
        return user.is_active and (
            user.is_catalog_admin or (self.editors_may_write and user.can_edit_catalog)
        )

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request, *args):
        return self._may_write(request)

    def has_change_permission(self, request, obj=None):
        return self._may_write(request)

    def has_delete_permission(self, request, obj=None):
        return self._may_write(request)


class WorkspaceAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Saves tags, collections, teams and integrations through the workspace service."""

    def save_model(self, request, obj, form, change):
        many = {field.name for field in obj._meta.many_to_many}
        m2m = {name: value for name, value in form.cleaned_data.items() if name in many}
        workspace_object_save(actor=request.user, obj=obj, m2m=m2m)

    def save_related(self, request, form, formsets, change):
        # The service already set the M2M fields; only inlines are left.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        workspace_object_delete(actor=request.user, obj=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            workspace_object_delete(actor=request.user, obj=obj)


# --- Catalog resources -------------------------------------------------------------------


class PropertyFieldsMixin:
    """`required` is NULL on non-properties only; on a property's form it is a checkbox."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "required":
            return forms.BooleanField(
                required=False, label="Required", help_text="Every event must send it."
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class ResourceChildInline(PropertyFieldsMixin, RoleAdminMixin, admin.TabularInline):
    """Children of a resource, edited in place; saved by ResourceAdminBase.save_formset."""

    model = Resource
    fk_name = "parent"
    extra = 0
    show_change_link = True
    editors_may_write = True
    fields = ["title", "description", "pii", "verified", "published"]


class EventInline(ResourceChildInline):
    model = Event
    verbose_name_plural = "events in this category"


class EventPropertyInline(ResourceChildInline):
    model = EventProperty
    fields = ["title", "data_type", "required", "description", "pii", "verified", "published"]
    verbose_name_plural = "properties of this event"


@admin.action(description="Mark selected as verified")
def mark_verified(modeladmin, request, queryset):
    modeladmin.bulk_update(request, queryset, verified=True)


@admin.action(description="Publish selected")
def publish(modeladmin, request, queryset):
    modeladmin.bulk_update(request, queryset, published=True)


@admin.action(description="Unpublish selected")
def unpublish(modeladmin, request, queryset):
    modeladmin.bulk_update(request, queryset, published=False)


class ResourceAdminBase(PropertyFieldsMixin, RoleAdminMixin, admin.ModelAdmin):
    """What the three resource kinds share in the admin."""

    editors_may_write = True
    entity_type: str = ""
    list_display = ["title", "integration", "pii", "verified", "published", "updated_at"]
    list_filter = [
        "integration",
        "pii",
        "verified",
        "published",
        ("tags", admin.RelatedOnlyFieldListFilter),
        ("owners", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["integration"]
    search_fields = ["title", "description"]
    autocomplete_fields = ["integration", *M2M_FIELDS]
    readonly_fields = ["id", "created_at", "updated_at"]
    actions = [mark_verified, publish, unpublish]
    list_per_page = 50
    show_full_result_count = False
    common_fieldsets = [
        ("Documentation", {"fields": ["description", "definition"]}),
        ("Governance", {"fields": ["pii", "verified", "published"]}),
        ("People and labels", {"fields": list(M2M_FIELDS)}),
        ("Record", {"fields": ["id", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # A resource never changes integration once created (its children follow it).
        if obj is not None:
            return [*self.readonly_fields, "integration"]
        return self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = Resource.objects.of_type(PARENT_TYPE[self.entity_type])
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        writable = {*SCALAR_FIELDS, "parent", *M2M_FIELDS}
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data if name in writable}
            resource_update(resource=obj, actor=request.user, data=data)
        else:
            writable.add("integration")
            data = {name: value for name, value in form.cleaned_data.items() if name in writable}
            created = resource_create(actor=request.user, entity_type=self.entity_type, data=data)
            # The admin goes on with `obj` (messages, redirect, inlines): make it the saved row.
            obj.pk = created.pk
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # The service set the M2M fields already; save the inline children through it too.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        children = formset.save(commit=False)
        for child in formset.deleted_objects:
            resource_delete(resource=child, actor=request.user)
        for child in children:
            fields = {name: getattr(child, name) for name in formset.form.base_fields}
            if child._state.adding:
                resource_create(
                    actor=request.user,
                    entity_type=child.ENTITY_TYPE,
                    data={**fields, "parent": form.instance},
                )
            else:
                resource_update(resource=child, actor=request.user, data=fields)

    def delete_model(self, request, obj):
        resource_delete(resource=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            resource_delete(resource=obj, actor=request.user)

    def bulk_update(self, request, queryset, **data):
        if not self._may_write(request):
            raise PermissionDenied
        changed = resources_bulk_update(resources=queryset, actor=request.user, data=data)
        self.message_user(request, f"{changed} of {queryset.count()} updated.", messages.SUCCESS)


@admin.register(EventCategory)
class EventCategoryAdmin(ResourceAdminBase):
    entity_type = EntityType.EVENT_CATEGORY
    list_display = ["title", "integration", "event_count", "verified", "published", "updated_at"]
    fieldsets = [(None, {"fields": ["title", "integration"]}), *ResourceAdminBase.common_fieldsets]
    inlines = [EventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(event_count=Count("children"))

    @admin.display(description="events", ordering="event_count")
    def event_count(self, obj):
        return obj.event_count


@admin.register(Event)
class EventAdmin(ResourceAdminBase):
    entity_type = EntityType.EVENT
    list_display = [
        "title",
        "category",
        "integration",
        "pii",
        "verified",
        "published",
        "updated_at",
    ]
    list_select_related = ["integration", "parent"]
    fieldsets = [
        (None, {"fields": ["title", "parent", "integration"]}),
        *ResourceAdminBase.common_fieldsets,
    ]
    autocomplete_fields = [*ResourceAdminBase.autocomplete_fields, "parent"]
    inlines = [EventPropertyInline]

    @admin.display(description="category", ordering="parent__title")
    def category(self, obj):
        return obj.parent


@admin.register(EventProperty)
class EventPropertyAdmin(ResourceAdminBase):
    entity_type = EntityType.EVENT_PROPERTY
    list_display = [
        "title",
        "event",
        "data_type",
        "required",
        "integration",
        "pii",
        "verified",
        "published",
    ]
    list_filter = ["data_type", "required", *ResourceAdminBase.list_filter]
    list_select_related = ["integration", "parent"]
    fieldsets = [
        (None, {"fields": ["title", "parent", "integration"]}),
        ("Values", {"fields": ["data_type", "required", "allowed_values", "examples"]}),
        *ResourceAdminBase.common_fieldsets,
    ]
    autocomplete_fields = [*ResourceAdminBase.autocomplete_fields, "parent"]

    @admin.display(description="event", ordering="parent__title")
    def event(self, obj):
        return obj.parent


#: For the `parent` autocomplete: which kind of parent each kind of resource takes.
PARENT_KIND_BY_MODEL = {
    "event": EntityType.EVENT_CATEGORY,
    "eventproperty": EntityType.EVENT,
}


@admin.register(Resource)
class ResourceAdmin(RoleAdminMixin, admin.ModelAdmin):
    """All resources in one list (search across kinds); editing happens in each kind's admin.

    It also answers the `parent` autocomplete of events and properties, offering only parents
    of the right kind.
    """

    list_display = ["title", "entity_type", "integration", "parent", "published", "updated_at"]
    list_filter = ["entity_type", "integration", "pii", "verified", "published"]
    list_select_related = ["integration", "parent"]
    search_fields = ["title", "description"]
    show_full_result_count = False

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting a category or event lists its children as plain resources; editors may.
        return request.user.is_active and request.user.can_edit_catalog

    def change_view(self, request, object_id, form_url="", extra_context=None):
        resource = self.get_object(request, object_id)
        if resource is None:
            return super().change_view(request, object_id, form_url, extra_context)
        model_name = {
            EntityType.EVENT_CATEGORY: "eventcategory",
            EntityType.EVENT: "event",
            EntityType.EVENT_PROPERTY: "eventproperty",
        }[resource.entity_type]
        return redirect(f"admin:catalog_{model_name}_change", resource.pk)

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("field_name") == "parent":
            kind = PARENT_KIND_BY_MODEL.get(request.GET.get("model_name", ""))
            if kind:
                queryset = queryset.filter(entity_type=kind)
        return queryset, may_have_duplicates


# --- The workspace around the catalog -----------------------------------------------------


@admin.register(Tag)
class TagAdmin(WorkspaceAdmin):
    editors_may_write = True
    list_display = ["title", "description"]
    search_fields = ["title"]


@admin.register(Collection)
class CollectionAdmin(WorkspaceAdmin):
    editors_may_write = True
    list_display = ["title", "description"]
    search_fields = ["title", "description"]


@admin.register(Team)
class TeamAdmin(WorkspaceAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]
    autocomplete_fields = ["members"]


@admin.register(Integration)
class IntegrationAdmin(WorkspaceAdmin):
    list_display = ["name", "type", "description"]
    list_filter = ["type"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["teams"]


@admin.register(User)
class UserAdmin(RoleAdminMixin, BaseUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "email"]}),
        (
            "Workspace",
            {
                "fields": ["role", "is_active", "is_staff"],
                "description": "The role decides what the user may do everywhere. Editors "
                "and admins always have admin access; tick staff to let a viewer look.",
            },
        ),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "email", "role", "password1", "password2"],
            },
        ),
    ]


@admin.register(ApiKey)
class ApiKeyAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Keys are created with `manage.py create_api_key` or the API; here they are revoked."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request, *args):
        return False

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for key in queryset:
            keys.api_key_revoke(key=key)
        self.message_user(request, "Keys revoked.", messages.SUCCESS)
