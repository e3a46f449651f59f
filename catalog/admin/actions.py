"""The resource admins' bulk actions: set a flag on every selected resource, or add and
remove owners and tags after a confirmation page."""

from django import forms
from django.contrib import admin
from django.utils.text import capfirst

from catalog.models import Resource

from .base import KnownAutocompleteSelectMultiple


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
