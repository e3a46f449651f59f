"""Catalog resources in the admin: categories, events, properties, and the list of all
resources (which also answers the parent picker)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, prefetch_related_objects
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from catalog.models import (
    EDITABLE_FIELDS,
    M2M_FIELDS,
    EntityType,
    Event,
    EventCategory,
    EventProperty,
    Resource,
)
from catalog.models.resources import PARENT_TYPE
from catalog.policy import collections_visible_to, resources_visible_to
from catalog.selectors import custom_values_of
from catalog.services.resources import (
    resource_create,
    resource_update,
    resources_bulk_add_relations,
    resources_bulk_delete,
    resources_bulk_remove_relations,
    resources_bulk_update,
)

from .actions import (
    BulkRelationsForm,
    add_owners,
    add_tags,
    mark_not_pii,
    mark_pii,
    mark_verified,
    publish,
    remove_tags,
    unpublish,
)
from .base import HistoryMixin, PolicyAdminMixin, is_id_of
from .parents import (
    LABEL_RELATED,
    ParentAutocomplete,
    ParentAutocompleteJsonView,
    ParentChoiceField,
    parent_kind,
    resource_label,
)


class PropertyFieldsMixin:
    """`required` is NULL on non-properties only; on a property's form it is a checkbox."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "required":
            return forms.BooleanField(
                required=False, label="Required", help_text="Every event must send it."
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


#: The admin URL name of each kind.
ADMIN_MODEL_NAME = {
    EntityType.EVENT_CATEGORY: "eventcategory",
    EntityType.EVENT: "event",
    EntityType.EVENT_PROPERTY: "eventproperty",
}
#: The kind of each kind's children, and the read-only field that lists them.
CHILD_KIND = {
    EntityType.EVENT_CATEGORY: (EntityType.EVENT, "events"),
    EntityType.EVENT: (EntityType.EVENT_PROPERTY, "properties"),
}
#: How many children a resource's page lists before linking to the full, paginated list.
CHILDREN_SHOWN = 25


class ResourceAdminBase(HistoryMixin, PropertyFieldsMixin, PolicyAdminMixin, admin.ModelAdmin):
    """What the three resource kinds share in the admin."""

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
    readonly_fields = ["id", "created_at", "updated_at", "events", "properties", "custom_values"]
    actions = [
        mark_verified,
        publish,
        unpublish,
        mark_pii,
        mark_not_pii,
        add_owners,
        add_tags,
        remove_tags,
    ]
    #: How many of the selected resources a confirmation page names.
    bulk_listed = 100
    list_per_page = 50
    show_full_result_count = False
    common_fieldsets = [
        ("Documentation", {"fields": ["description", "definition"]}),
        ("Governance", {"fields": ["pii", "verified", "published"]}),
        ("People and labels", {"fields": list(M2M_FIELDS)}),
        ("Custom properties", {"fields": ["custom_values"]}),
        ("Record", {"fields": ["id", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        # The same resources the API shows this user (viewers: published ones only).
        return resources_visible_to(request.user, self.entity_type).select_related(
            *self.list_select_related
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        # A resource never changes integration once created (its children follow it).
        return [*readonly, "integration"] if obj is not None else readonly

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and obj.entity_type in CHILD_KIND:
            field = CHILD_KIND[obj.entity_type][1]
            title = {"events": "Events in this category", "properties": "Properties of this event"}
            fieldsets.insert(1, (title[field], {"fields": [field]}))
        return fieldsets

    def get_changeform_initial_data(self, request):
        # "Add property" on an event's page links here with ?parent=<id>.
        initial = super().get_changeform_initial_data(request)
        parent_id = initial.get("parent")
        if not (parent_id and is_id_of(Resource, parent_id)):
            return initial
        parent = Resource.objects.filter(pk=parent_id).first()
        if parent is not None:
            initial["integration"] = parent.integration_id
        return initial

    def get_object(self, request, object_id, from_field=None):
        """The resource, with what its page shows of its relations for this user: the children
        and collections the user may see (a viewer: published ones, nothing about the rest)."""
        resource = super().get_object(request, object_id, from_field)
        if resource is None:
            return None
        visible = Prefetch("collections", queryset=collections_visible_to(request.user))
        prefetch_related_objects([resource], visible)
        if resource.entity_type in CHILD_KIND:
            kind, _ = CHILD_KIND[resource.entity_type]
            children = resources_visible_to(request.user, kind).filter(parent=resource.pk)
            resource.visible_children = children
            resource.may_add_children = self.has_add_permission(request)
        return resource

    def _children(self, obj):
        """Links to the first children the user may see and to the full, paginated list (no
        inline forms: a category with hundreds of events must still open and save)."""
        children = getattr(obj, "visible_children", None)
        if children is None:
            return "—"
        kind, _ = CHILD_KIND[obj.entity_type]
        name = ADMIN_MODEL_NAME[kind]
        children = children.order_by("title", "id")
        total = children.count()
        shown = children[:CHILDREN_SHOWN]
        links = format_html_join(
            "",
            '<li><a href="{}">{}</a></li>',
            ((reverse(f"admin:catalog_{name}_change", args=[c.pk]), c.title) for c in shown),
        )
        full_list = reverse(f"admin:catalog_{name}_changelist") + f"?parent__id__exact={obj.pk}"
        noun = EntityType(kind).label.lower()
        add = ""
        if obj.may_add_children:
            url = reverse(f"admin:catalog_{name}_add") + f"?parent={obj.pk}"
            add = format_html(' · <a href="{}">Add {}</a>', url, noun)
        return format_html(
            '<ul style="margin: 0; padding-left: 1.2em">{}</ul>'
            '<p>{} in all. <a href="{}">See all {}</a>{}</p>',
            links or mark_safe("<li>None yet.</li>"),
            total,
            full_list,
            f"{noun}s" if not noun.endswith("y") else f"{noun[:-1]}ies",
            add,
        )

    @admin.display(description="Values")
    def custom_values(self, obj):
        """The workspace's own fields; set through the API
        (PATCH /api/v1/resource/all_v2/custom_properties/{property}/{resource})."""
        if obj is None or obj.pk is None:
            return "—"
        values = custom_values_of(obj.pk)
        if not values:
            return "None set."
        return format_html_join(
            "", "<div><strong>{}</strong>: {}</div>", ((v["name"], v["value"]) for v in values)
        )

    @admin.display(description="Events")
    def events(self, obj):
        return self._children(obj)

    @admin.display(description="Properties")
    def properties(self, obj):
        return self._children(obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            # Only parents of the right kind are offered, and only they validate if posted.
            kind = PARENT_TYPE[self.entity_type]
            kwargs["queryset"] = resources_visible_to(request.user, kind).select_related(
                *LABEL_RELATED
            )
            kwargs["form_class"] = ParentChoiceField
            kwargs["widget"] = ParentAutocomplete(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        editable = set(EDITABLE_FIELDS[self.entity_type])
        if change:
            data = {k: form.cleaned_data[k] for k in form.changed_data if k in editable}
            self.run_service(request, resource_update, resource=obj, data=data)
        else:
            editable.add("integration")
            data = {k: v for k, v in form.cleaned_data.items() if k in editable}
            created = self.run_service(
                request, resource_create, entity_type=self.entity_type, data=data
            )
            # The admin goes on with `obj` (messages, redirect): make it the saved row.
            obj.pk = created.pk
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """The service set the M2M fields already."""

    def delete_model(self, request, obj):
        self.run_service(request, resources_bulk_delete, resources=[obj])

    def delete_queryset(self, request, queryset):
        self.run_service(request, resources_bulk_delete, resources=queryset)

    def bulk_update(self, request, queryset, **data):
        if not self.has_change_permission(request):
            raise PermissionDenied
        changed = self.run_service(request, resources_bulk_update, resources=queryset, data=data)
        self.message_user(request, f"{changed} of {queryset.count()} updated.", messages.SUCCESS)

    def bulk_relations(self, request, queryset, action: str, field: str, *, add: bool):
        """First a confirmation page asking which (the selection travels in hidden fields,
        as the changelist posted it), then, on "Apply", one bulk change through the service."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        data = request.POST if "apply" in request.POST else None
        form = BulkRelationsForm(data, field=field, admin_site=self.admin_site)
        if form.is_valid():
            service = resources_bulk_add_relations if add else resources_bulk_remove_relations
            # A chosen tag or user deleted meanwhile is refused: a message, nothing changed.
            changed = self.run_service(
                request, service, resources=queryset, field=field, ids=form.cleaned_data[field]
            )
            message = f"{changed} of {queryset.count()} updated."
            self.message_user(request, message, messages.SUCCESS)
            return None
        listed = list(queryset.select_related(*LABEL_RELATED)[: self.bulk_listed])
        total = queryset.count() if len(listed) == self.bulk_listed else len(listed)
        name = form.fields[field].label.lower()
        noun = self.opts.verbose_name if total == 1 else self.opts.verbose_name_plural
        context = {
            **self.admin_site.each_context(request),
            "title": f"{'Add' if add else 'Remove'} {name} {'to' if add else 'from'} "
            f"{total} {noun}",
            "subtitle": None,
            "opts": self.opts,
            "media": self.media + form.media,
            "form": form,
            "labels": [resource_label(resource) for resource in listed],
            "more": total - len(listed),
            "action": action,
            "select_across": request.POST.get("select_across", "0"),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": request.get_full_path(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/catalog/bulk_relations.html", context)


@admin.register(EventCategory)
class EventCategoryAdmin(ResourceAdminBase):
    entity_type = EntityType.EVENT_CATEGORY
    list_display = ["title", "integration", "event_count", "verified", "published", "updated_at"]
    fieldsets = [(None, {"fields": ["title", "integration"]}), *ResourceAdminBase.common_fieldsets]

    def get_queryset(self, request):
        # Only the events the user may see count (a viewer: published ones).
        events = resources_visible_to(request.user, EntityType.EVENT)
        return (
            super()
            .get_queryset(request)
            .annotate(event_count=Count("children", filter=Q(children__in=events)))
        )

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
    #: A category's page links to its events.
    linked_lookups = ("parent__id__exact",)

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
    #: An event's page links to its properties.
    linked_lookups = ("parent__id__exact",)

    @admin.display(description="event", ordering="parent__title")
    def event(self, obj):
        return obj.parent


@admin.register(Resource)
class ResourceAdmin(HistoryMixin, PolicyAdminMixin, admin.ModelAdmin):
    """All resources in one list (search across kinds); editing happens in each kind's admin.

    It also answers the parent picker of events and properties (`ParentAutocompleteJsonView`,
    and Django's own autocomplete view), offering only parents of the right kind.
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

    def get_queryset(self, request):
        return resources_visible_to(request.user).select_related(*self.list_select_related)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        resource = self.get_object(request, object_id)
        if resource is None:
            return super().change_view(request, object_id, form_url, extra_context)
        model_name = ADMIN_MODEL_NAME[resource.entity_type]
        return redirect(f"admin:catalog_{model_name}_change", resource.pk)

    def delete_model(self, request, obj):
        self.run_service(request, resources_bulk_delete, resources=[obj])

    def delete_queryset(self, request, queryset):
        self.run_service(request, resources_bulk_delete, resources=queryset)

    def get_urls(self):
        picker = ParentAutocompleteJsonView.as_view(admin_site=self.admin_site)
        return [
            path(
                "parent-autocomplete/",
                self.admin_site.admin_view(picker),
                name="catalog_resource_parent_autocomplete",
            ),
            *super().get_urls(),
        ]

    def get_search_fields(self, request):
        if request.GET.get("field_name") == "parent":
            # The parent picker finds what its labels show: "web onboarding signed".
            return ["title", "parent__title", "integration__name"]
        return super().get_search_fields(request)

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("field_name") == "parent":
            kind = parent_kind(request)
            queryset = queryset.filter(entity_type=kind) if kind else queryset.none()
        return queryset, may_have_duplicates
