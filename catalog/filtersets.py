"""Query-string filters of lists, one FilterSet per list: the API's list endpoints (with the
seed's parameter names) and the catalog pages use the same ones, so a parameter means the same
thing on both."""

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalog.models import Resource, Tag
from catalog.selectors import not_seen_for

#: The longest `not_seen_days`: ten years.
MAX_NOT_SEEN_DAYS = 3650


class EventCategoryFilterSet(django_filters.FilterSet):
    title = django_filters.CharFilter(
        field_name="title", help_text="Only resources with exactly this title."
    )
    integration_id = django_filters.UUIDFilter(
        field_name="integration_id", help_text="Only resources of this integration."
    )

    class Meta:
        model = Resource
        fields = ["title", "integration_id"]


class ResourceFilterSet(EventCategoryFilterSet):
    parent_id = django_filters.UUIDFilter(
        field_name="parent_id", help_text="Only children of this parent."
    )

    class Meta:
        model = Resource
        fields = ["title", "integration_id", "parent_id"]


@extend_schema_field(OpenApiTypes.INT)
class WholeNumberFilter(django_filters.Filter):
    """A whole number in a range; anything else is a 400 naming the parameter."""

    field_class = forms.IntegerField


class EventFilterSet(ResourceFilterSet):
    not_seen_days = WholeNumberFilter(
        method="filter_not_seen_days",
        min_value=1,
        max_value=MAX_NOT_SEEN_DAYS,
        help_text=(
            "Only events not seen for this many days: last seen before now minus N days, or "
            f"never seen (1 to {MAX_NOT_SEEN_DAYS})."
        ),
    )

    class Meta(ResourceFilterSet.Meta):
        fields = [*ResourceFilterSet.Meta.fields, "not_seen_days"]

    def filter_not_seen_days(self, queryset, name, value):
        return not_seen_for(queryset, value)


class TagFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="title", help_text="Only the tag of this name.")
    title = django_filters.CharFilter(field_name="title", help_text="Same as `name`.")

    class Meta:
        model = Tag
        fields = ["name", "title"]
