"""The Django admin, set up for data stewards.

Every add, change, delete and bulk action goes through `catalog.services` with a change
context (source "admin"), so the admin obeys the same rules as the API and its changes appear
in the same history; what a user may see and do is asked of `catalog.policy`.
"""

import contextvars

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import display_for_value
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, prefetch_related_objects
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from catalog.admin_lookups import OwnLookupsOnlyMixin
from catalog.models import (
    DISCOVERY_LIMITS,
    EDITABLE_FIELDS,
    M2M_FIELDS,
    ApiKey,
    ChangeSource,
    Collection,
    CustomProperty,
    EntityType,
    Event,
    EventCategory,
    EventProperty,
    Integration,
    Resource,
    Tag,
    Team,
    User,
    UserGroup,
    Violation,
    WriteKey,
)
from catalog.models.resources import PARENT_TYPE

# The email outbox's admin lives with the rest of the notifications code.
from catalog.notifications import admin as notifications_admin  # noqa: F401
from catalog.notifications.linediff import shared_budget
from catalog.policy import (
    Action,
    collections_visible_to,
    may,
    may_see_email,
    resource_visibility,
    resources_visible_to,
)
from catalog.selectors import custom_values_of, hide_unseen_labels, resource_history
from catalog.services import keys, writekeys
from catalog.services.context import ChangeContext
from catalog.services.errors import InUse
from catalog.services.resources import (
    resource_create,
    resource_update,
    resources_bulk_add_relations,
    resources_bulk_delete,
    resources_bulk_remove_relations,
    resources_bulk_update,
)
from catalog.services.workspace import (
    user_create,
    user_set_password,
    workspace_object_create,
    workspace_object_delete,
    workspace_object_update,
)

# Roles (admin, editor, viewer) decide what a user may do; Django's groups play no part.
admin.site.unregister(Group)


def change_context(request) -> ChangeContext:
    return ChangeContext.for_request(request, ChangeSource.ADMIN)


def is_id_of(model, value: str) -> bool:
    """Whether `value` could be an id of `model` (a tampered form sends "abc" for a UUID, a
    number past 64 bits or a NUL), so that it can be left out instead of failing a query."""
    try:
        pk = model._meta.pk.to_python(value)
    except ValidationError:
        return False
    if isinstance(pk, int):
        return -(2**63) <= pk < 2**63  # what the database's integers hold
    return "\x00" not in str(value)


class KnownValuesOnly:
    """For Django's autocomplete widgets, which look the chosen values up to show them: a
    value that is no id at all (a tampered form) is left out of that look-up, so the form
    shows the field's error instead of failing with a 500."""

    def optgroups(self, name, value, attr=None):
        model = self.field.remote_field.model
        known = [item for item in value if is_id_of(model, item)]
        return super().optgroups(name, known, attr)


class KnownAutocompleteSelect(KnownValuesOnly, AutocompleteSelect):
    """The admin's autocomplete for a foreign key (`autocomplete_fields`)."""


class KnownAutocompleteSelectMultiple(KnownValuesOnly, AutocompleteSelectMultiple):
    """The admin's autocomplete for a many-to-many field (`autocomplete_fields`)."""


class PolicyAdminMixin(OwnLookupsOnlyMixin):
    """Admin permissions from the one policy instead of Django's per-model permission rows.

    Every staff user can look; what they may add, change and delete is the policy's answer
    for the model (editors: catalog resources, tags, collections; admins: everything). Lists
    accept only the filters their pages offer (`OwnLookupsOnlyMixin`).
    """

    def response_action(self, request, queryset):
        # A tampered selection (an id that is no id of this model: "abc" for a UUID) is left
        # out instead of failing the query with a 500; none left is Django's "Items must be
        # selected" message.
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        valid = [pk for pk in selected if is_id_of(self.model, pk)]
        if valid != selected:
            request.POST = request.POST.copy()
            request.POST.setlist(helpers.ACTION_CHECKBOX_NAME, valid)
        return super().response_action(request, queryset)

    def _may(self, request, action, obj=None) -> bool:
        user = request.user
        return user.is_active and user.is_staff and may(user, action, obj or self.model)

    def has_module_permission(self, request):
        return self._may(request, Action.VIEW)

    def has_view_permission(self, request, obj=None):
        return self._may(request, Action.VIEW, obj)

    def has_add_permission(self, request, *args):
        return self._may(request, Action.ADD)

    def has_change_permission(self, request, obj=None):
        return self._may(request, Action.CHANGE, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, Action.DELETE, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Who follows is each person's choice: only admins change it for others (followers
        # are still shown; one follows oneself from the catalog pages).
        follows = any(f.name == "subscribers" for f in self.model._meta.many_to_many)
        if follows and not may(request.user, Action.SUBSCRIBE_OTHERS, self.model):
            readonly.append("subscribers")
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = KnownAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = KnownAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class WorkspaceAdmin(PolicyAdminMixin, admin.ModelAdmin):
    """Saves tags, collections, teams and integrations through the workspace service."""

    def save_model(self, request, obj, form, change):
        editable = type(obj).EDITABLE_FIELDS
        if change:
            data = {k: form.cleaned_data[k] for k in form.changed_data if k in editable}
            workspace_object_update(ctx=change_context(request), obj=obj, data=data)
        else:
            data = {k: v for k, v in form.cleaned_data.items() if k in editable}
            created = workspace_object_create(
                ctx=change_context(request), model=type(obj), data=data
            )
            obj.pk = created.pk
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """The service set the M2M fields already."""

    def delete_model(self, request, obj):
        try:
            workspace_object_delete(ctx=change_context(request), obj=obj)
        except InUse as error:
            raise PermissionDenied(str(error)) from error

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


# --- Catalog resources -------------------------------------------------------------------


class PropertyFieldsMixin:
    """`required` is NULL on non-properties only; on a property's form it is a checkbox."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "required":
            return forms.BooleanField(
                required=False, label="Required", help_text="Every event must send it."
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


def resource_action(action, name: str, description: str):
    """`action` as the admin action `name`, offered only to those the policy lets change
    resources (viewers get no actions)."""
    action.__name__ = name
    return admin.action(description=description, permissions=["change"])(action)


def update_action(name: str, description: str, **data):
    """An action setting the same fields (`verified`, `published`, `pii`) on every selected
    resource."""

    def action(modeladmin, request, queryset):
        modeladmin.bulk_update(request, queryset, **data)

    return resource_action(action, name, description)


mark_verified = update_action("mark_verified", "Mark selected as verified", verified=True)
publish = update_action("publish", "Publish selected", published=True)
unpublish = update_action("unpublish", "Unpublish selected", published=False)
mark_pii = update_action("mark_pii", "Mark selected as PII", pii=True)
mark_not_pii = update_action("mark_not_pii", "Mark selected as not PII", pii=False)


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


# --- Which resource is which: labels and the parent picker -------------------------------

#: What `resource_label` reads: select these with the resources (no query per label).
LABEL_RELATED = ("integration", "parent__parent")
#: Between the integration and the ancestors: a single right-pointing angle quotation mark.
LABEL_SEPARATOR = " \u203a "


def resource_label(resource: Resource) -> str:
    """`Signed Up — Web app > Onboarding` (with LABEL_SEPARATOR for ">"): the title, then the
    integration and the ancestors from the top, so that resources of one title differ."""
    ancestors = []
    node = resource.parent if resource.parent_id else None
    while node is not None:
        ancestors.insert(0, node.title)
        node = node.parent if node.parent_id else None
    return f"{resource.title} — {LABEL_SEPARATOR.join([resource.integration.name, *ancestors])}"


def parent_kind(request) -> str | None:
    """For an autocomplete request on the `parent` of an event or a property: the kind of
    parent it may take (a category, an event); None for any other field or model."""
    if request.GET.get("app_label") != "catalog" or request.GET.get("field_name") != "parent":
        return None
    try:
        model = apps.get_model("catalog", request.GET.get("model_name", ""))
    except LookupError:
        return None
    return PARENT_TYPE.get(getattr(model, "ENTITY_TYPE", None))


class ParentChoiceField(forms.ModelChoiceField):
    """A parent, labelled with its integration and ancestors."""

    def label_from_instance(self, obj):
        return resource_label(obj)


class ParentAutocomplete(KnownAutocompleteSelect):
    """The parent picker: a search box over the right kind of parent, 20 labelled results a
    page, instead of a <select> of every category or event."""

    url_name = "%s:catalog_resource_parent_autocomplete"


class ParentAutocompleteJsonView(AutocompleteJsonView):
    """Answers the parent picker: Django's autocomplete over `ResourceAdmin` (its queryset,
    from the policy; its search, restricted to the right kind), with labels."""

    def process_request(self, request):
        if parent_kind(request) is None:
            raise PermissionDenied
        return super().process_request(request)

    def get_queryset(self):
        return super().get_queryset().select_related(*LABEL_RELATED)

    def serialize_result(self, obj, to_field_name):
        return {"id": str(getattr(obj, to_field_name)), "text": resource_label(obj)}


# --- Bulk actions that ask which: owners, tags -------------------------------------------


def relations_action(name: str, description: str, field: str, *, add: bool):
    """An action that asks which owners, tags, ... on a confirmation page, then adds them to
    (or removes them from) every selected resource."""

    def action(modeladmin, request, queryset):
        return modeladmin.bulk_relations(request, queryset, name, field, add=add)

    return resource_action(action, name, description)


add_owners = relations_action("add_owners", "Add owners…", "owners", add=True)
add_tags = relations_action("add_tags", "Add tags…", "tags", add=True)
remove_tags = relations_action("remove_tags", "Remove tags…", "tags", add=False)


class BulkRelationsForm(forms.Form):
    """The confirmation page of a relations action: which owners, tags, ... to add or remove,
    picked with the admin's autocomplete (there may be many)."""

    def __init__(self, *args, field: str, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        db_field = Resource._meta.get_field(field)
        self.fields[field] = forms.ModelMultipleChoiceField(
            queryset=db_field.related_model._default_manager.all(),
            widget=KnownAutocompleteSelectMultiple(db_field, admin_site),
            label=capfirst(db_field.verbose_name),
        )


class ResourceHistoryMixin:
    """The admin's "History" page of a resource, built from the catalog's own change rows
    (the same the API serves), not from Django's LogEntry."""

    history_per_page = 50

    def history_view(self, request, object_id, extra_context=None):
        resource = self.get_object(request, object_id)
        if resource is None or not self.has_view_permission(request, resource):
            raise PermissionDenied
        paginator = Paginator(resource_history(resource.pk), self.history_per_page)
        page = paginator.get_page(request.GET.get("p"))
        page.object_list = list(page.object_list)
        hide_unseen_labels(resource_visibility(request.user), page.object_list)
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {resource}",
            "subtitle": None,
            "object": resource,
            "opts": self.opts,
            "page": page,
            "changes": page.object_list,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        response = TemplateResponse(request, "admin/catalog/resource_history.html", context)
        with shared_budget():  # for the line diffs of the whole page, rendered now
            return response.render()


class ResourceAdminBase(
    ResourceHistoryMixin, PropertyFieldsMixin, PolicyAdminMixin, admin.ModelAdmin
):
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
            resource_update(ctx=change_context(request), resource=obj, data=data)
        else:
            editable.add("integration")
            data = {k: v for k, v in form.cleaned_data.items() if k in editable}
            created = resource_create(
                ctx=change_context(request), entity_type=self.entity_type, data=data
            )
            # The admin goes on with `obj` (messages, redirect): make it the saved row.
            obj.pk = created.pk
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """The service set the M2M fields already."""

    def delete_model(self, request, obj):
        resources_bulk_delete(ctx=change_context(request), resources=[obj])

    def delete_queryset(self, request, queryset):
        resources_bulk_delete(ctx=change_context(request), resources=queryset)

    def bulk_update(self, request, queryset, **data):
        if not self.has_change_permission(request):
            raise PermissionDenied
        changed = resources_bulk_update(ctx=change_context(request), resources=queryset, data=data)
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
            try:
                changed = service(
                    ctx=change_context(request),
                    resources=queryset,
                    field=field,
                    ids=form.cleaned_data[field],
                )
            except ValidationError as error:
                # A chosen tag or user deleted meanwhile: say so, change nothing.
                self.message_user(request, " ".join(error.messages), messages.ERROR)
                return None
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

    def _changeform_view(self, request, object_id, form_url, extra_context):
        # Service refusals (a duplicate title, a parent of the wrong kind) show on the form.
        try:
            return super()._changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return redirect(request.get_full_path())


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
class ResourceAdmin(ResourceHistoryMixin, PolicyAdminMixin, admin.ModelAdmin):
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
        resources_bulk_delete(ctx=change_context(request), resources=[obj])

    def delete_queryset(self, request, queryset):
        resources_bulk_delete(ctx=change_context(request), resources=queryset)

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


# --- The workspace around the catalog -----------------------------------------------------


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


#: The request of the admin view being served; lets the password form reach the service with
#: a change context (Django builds that form without the request). Per thread and task.
_current_request: contextvars.ContextVar = contextvars.ContextVar("admin_request")


class PasswordChangeThroughService(AdminPasswordChangeForm):
    """The admin's "change password" form, saved by the user service."""

    def save(self, commit=True):
        password = (
            self.cleaned_data["password1"]
            if self.cleaned_data.get("set_usable_password", True)
            else None
        )
        request = _current_request.get()
        self.user = user_set_password(
            ctx=change_context(request), user=self.user, password=password
        )
        return self.user


class UserCreationThroughService(forms.ModelForm):
    """Add a user: username, email, role and a password, saved by the user service."""

    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(
        label="Password confirmation", widget=forms.PasswordInput, strip=False
    )

    class Meta:
        model = User
        fields = ["username", "email", "role"]

    def clean_password2(self):
        first, second = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if first and second and first != second:
            raise ValidationError("The two password fields didn't match.")
        from django.contrib.auth.password_validation import validate_password

        validate_password(second, User(username=self.cleaned_data.get("username", "")))
        return second


@admin.register(User)
class UserAdmin(PolicyAdminMixin, BaseUserAdmin):
    """Users, saved through the user services; the role decides what each may do."""

    add_form = UserCreationThroughService
    change_password_form = PasswordChangeThroughService
    list_display = ["username", "email", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "email"]}),
        (
            "Workspace",
            {
                "fields": ["role", "is_active", "is_staff", "email_frequency"],
                "description": "The role decides what the user may do everywhere. Editors "
                "and admins always have admin access; tick staff to let a viewer look. "
                "A user moved to the viewer role loses admin access.",
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
    readonly_fields = ["last_login", "date_joined"]

    def get_list_display(self, request):
        if may_see_email(request.user, None):
            return self.list_display
        return [name for name in self.list_display if name != "email"]

    def get_search_fields(self, request):
        return ["username", "first_name", "last_name"] + (
            ["email"] if may_see_email(request.user, None) else []
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or may_see_email(request.user, obj):
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "email"]})
            for name, options in fieldsets
        ]

    def save_model(self, request, obj, form, change):
        ctx = change_context(request)
        if change:
            data = {k: form.cleaned_data[k] for k in form.changed_data if k in User.EDITABLE_FIELDS}
            workspace_object_update(ctx=ctx, obj=obj, data=data)
            return
        created = user_create(
            ctx=ctx,
            username=form.cleaned_data["username"],
            email=form.cleaned_data.get("email", ""),
            role=form.cleaned_data["role"],
            password=form.cleaned_data["password2"],
        )
        obj.pk = created.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """Users have no M2M fields on these forms."""

    def delete_model(self, request, obj):
        workspace_object_delete(ctx=change_context(request), obj=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def user_change_password(self, request, id, form_url=""):
        token = _current_request.set(request)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _current_request.reset(token)


@admin.register(ApiKey)
class ApiKeyAdmin(PolicyAdminMixin, admin.ModelAdmin):
    """Keys are created with `manage.py create_api_key` or the API; here they are revoked.

    Admins see every key; others see and revoke only their own.
    """

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not request.user.is_catalog_admin:
            queryset = queryset.filter(user=request.user)
        return queryset

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        # Django offers actions only to those with a change or delete permission; revoking is
        # neither, and every staff user may revoke their own keys.
        return {"revoke": (ApiKeyAdmin.revoke, "revoke", ApiKeyAdmin.revoke.short_description)}

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        ctx = change_context(request)
        revoked = 0
        for key in queryset:
            if not may(request.user, Action.DELETE, key):
                raise PermissionDenied("Only admins can revoke other people's keys.")
            keys.api_key_revoke(ctx=ctx, key=key)
            revoked += 1
        self.message_user(request, f"{revoked} keys revoked.", messages.SUCCESS)


#: Said with a new write key's secret, the only time it is shown.
WRITE_KEY_SHOWN_ONCE = "Copy it now: it won't be shown again."


@admin.register(WriteKey)
class WriteKeyAdmin(PolicyAdminMixin, admin.ModelAdmin):
    """Integrations' write keys, for admins only (the policy's default for them).

    "Add" creates a key through the service and shows its secret once, on the page that
    answers the form; the action "Revoke selected write keys" revokes. Nothing else is editable, and
    revoked keys stay listed.
    """

    list_display = [
        "prefix",
        "integration",
        "name",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "integration"]
    search_fields = ["prefix", "name", "integration__name"]
    list_select_related = ["integration", "created_by"]
    autocomplete_fields = ["integration"]
    actions = ["revoke"]
    #: Shown on a key's page, all read-only.
    record_fields = [
        "integration",
        "name",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]

    def get_fields(self, request, obj=None):
        return ["integration", "name"] if obj is None else self.record_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.record_fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the record stays

    def get_actions(self, request):
        # Django offers actions to those who may change or delete; revoking is neither.
        if not self._may(request, Action.DELETE):
            return {}
        return {"revoke": (WriteKeyAdmin.revoke, "revoke", WriteKeyAdmin.revoke.short_description)}

    def save_model(self, request, obj, form, change):
        key, secret = writekeys.write_key_create(
            ctx=change_context(request),
            integration=form.cleaned_data["integration"],
            name=form.cleaned_data["name"],
        )
        # Django logs the addition with `obj`: make it the row the service created.
        for field in ("id", "prefix", "created_at", "created_by_id"):
            setattr(obj, field, getattr(key, field))
        obj._state.adding = False
        obj.new_secret = secret  # for `response_add`, in memory only

    def save_related(self, request, form, formsets, change):
        """Write keys have no M2M fields."""

    def response_add(self, request, obj, post_url_continue=None):
        """The new key, on the page that answers the form: the one place its secret is shown.
        Not in a message (Django keeps those in a cookie) nor after a redirect (the secret
        would have to be kept somewhere until then)."""
        keys = reverse("admin:catalog_writekey_changelist")
        add = reverse("admin:catalog_writekey_add")
        context = {
            **self.admin_site.each_context(request),
            "title": "Write key created",
            "subtitle": None,
            "opts": self.opts,
            "key": obj,
            "secret": obj.new_secret,
            "shown_once": WRITE_KEY_SHOWN_ONCE,
            "keys_url": f"{keys}?integration__id__exact={obj.integration_id}",
            "add_url": f"{add}?integration={obj.integration_id}",
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/catalog/writekey_created.html", context)

    @admin.action(description="Revoke selected write keys")
    def revoke(self, request, queryset):
        ctx = change_context(request)
        revoked = already = 0
        for key in queryset:
            if key.is_revoked:
                already += 1
                continue
            writekeys.write_key_revoke(ctx=ctx, key=key)
            revoked += 1
        message = f"{revoked} write key{'s' if revoked != 1 else ''} revoked."
        if already:
            message += f" {already} {'was' if already == 1 else 'were'} revoked already."
        self.message_user(request, message, messages.SUCCESS)


@admin.register(Violation)
class ViolationAdmin(PolicyAdminMixin, admin.ModelAdmin):
    """What received events broke in the plan, as the ingestion pipeline counts it: read by
    editors and admins; admins delete the ones that are resolved (the pipeline starts a new
    count if they happen again). Nobody adds or changes them here."""

    list_display = ["event_name", "property_name", "kind", "count", "first_seen_at", "last_seen_at"]
    list_filter = ["integration", "kind"]
    search_fields = ["event_name", "property_name"]
    ordering = ["-last_seen_at", "id"]
    fields = [
        "integration",
        "event",
        "event_name",
        "property_name",
        "kind",
        "count",
        "first_seen_at",
        "last_seen_at",
        "message",
        "example",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Admins clear resolved violations (the policy's rule); no history, no emails: it
        # is housekeeping of tracking data, not a change of the catalog.
        return self._may(request, Action.DELETE, obj)
