"""Which resource is which: labels with the integration and ancestors, and the parent picker
of events and properties."""

from django import forms
from django.apps import apps
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied

from catalog.models import Resource
from catalog.models.resources import PARENT_TYPE

from .base import KnownAutocompleteSelect

#: What `resource_label` reads: select these with the resources (no query per label).
LABEL_RELATED = ("integration", "parent__parent")
#: Between the integration and the ancestors: a single right-pointing angle quotation mark.
LABEL_SEPARATOR = " \u203a "


def resource_label(resource: Resource) -> str:
    """`Signed Up — Web app > Onboarding` (with LABEL_SEPARATOR for ">"): the title, then the
    integration and the ancestors from the top, so that resources of one title differ."""
    ancestors = [node.title for node in reversed(resource.ancestors())]
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
