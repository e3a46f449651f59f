"""Query-string filters of the list endpoints, as the seed names them."""

import django_filters

from catalog.models import Resource, Tag


class EventCategoryFilter(django_filters.FilterSet):
    title = django_filters.CharFilter(
        field_name="title", help_text="Only resources with exactly this title."
    )
    integration_id = django_filters.UUIDFilter(
        field_name="integration_id", help_text="Only resources of this integration."
    )

    class Meta:
        model = Resource
        fields = ["title", "integration_id"]


class ResourceFilter(EventCategoryFilter):
    parent_id = django_filters.UUIDFilter(
        field_name="parent_id", help_text="Only children of this parent."
    )

    class Meta:
        model = Resource
        fields = ["title", "integration_id", "parent_id"]


class TagFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="title", help_text="Only the tag of this name.")
    title = django_filters.CharFilter(field_name="title", help_text="Same as `name`.")

    class Meta:
        model = Tag
        fields = ["name", "title"]
