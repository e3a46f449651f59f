"""Query-string filters of lists, one FilterSet per list: the API's list endpoints (with the
seed's parameter names) and the catalog pages use the same ones, so a parameter means the same
thing on both."""

import django_filters
from django import forms
from django.db.models import Q
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


#: What a yes-or-no filter accepts, any case: the pages send yes/no (and a checkbox "on"),
#: API clients true/false.
YES = frozenset({"yes", "true", "1", "on"})
NO = frozenset({"no", "false", "0", "off"})


class YesNoField(forms.Field):
    """True, False or None (not asked); any other text is an error, never "not asked"."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().lower()
        if text in YES:
            return True
        if text in NO:
            return False
        raise forms.ValidationError("Must be yes or no (true or false).", code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class YesNoFilter(django_filters.Filter):
    field_class = YesNoField


#: `owner=me`: the events the caller owns.
ME = "me"


class OwnerField(forms.UUIDField):
    """A user's id, or `me`."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip().lower() == ME:
            return ME
        return super().to_python(value)


@extend_schema_field(OpenApiTypes.STR)
class OwnerFilter(django_filters.Filter):
    field_class = OwnerField


#: `sort`: the orders of the events list, each ending with the id so pages never overlap.
EVENT_SORTS = {"title": ("title", "id"), "-updated": ("-updated_at", "id")}


class EventFilterSet(ResourceFilterSet):
    """The events list's filters, for the API (`/api/v1/event/events`) and the events page
    alike. The page's names `integration` and `category` are the seed's `integration_id` and
    `parent_id`; an id that matches nothing gives no events on both."""

    integration = django_filters.UUIDFilter(
        field_name="integration_id", help_text="Same as `integration_id`."
    )
    category = django_filters.UUIDFilter(field_name="parent_id", help_text="Same as `parent_id`.")
    tag = django_filters.UUIDFilter(field_name="tags", help_text="Only events with this tag.")
    owner = OwnerFilter(
        method="filter_owner", help_text="Only events this user owns (a user's id, or `me`)."
    )
    pii = YesNoFilter(field_name="pii", help_text="Only events that hold PII (or, `no`, don't).")
    verified = YesNoFilter(field_name="verified", help_text="Only verified (or unverified) events.")
    published = YesNoFilter(
        field_name="published", help_text="Only published (or unpublished) events."
    )
    subscribed = YesNoFilter(
        method="filter_subscribed",
        help_text="Only the events you follow (or, `no`, those you don't).",
    )
    not_seen_days = WholeNumberFilter(
        method="filter_not_seen_days",
        min_value=1,
        max_value=MAX_NOT_SEEN_DAYS,
        help_text=(
            "Only events not seen for this many days: last seen before now minus N days, or "
            f"never seen (1 to {MAX_NOT_SEEN_DAYS})."
        ),
    )
    sort = django_filters.ChoiceFilter(
        method="sort_by",
        choices=[("title", "Title (A to Z)"), ("-updated", "Last change first")],
        empty_label=None,
        error_messages={"invalid_choice": "Must be title or -updated."},
        help_text="`title` (the default) or `-updated` (last change first).",
    )

    class Meta(ResourceFilterSet.Meta):
        fields = [
            *ResourceFilterSet.Meta.fields,
            "integration",
            "category",
            "tag",
            "owner",
            "pii",
            "verified",
            "published",
            "subscribed",
            "not_seen_days",
            "sort",
        ]

    def _caller_id(self):
        """The signed-in caller's id; None without one (then `me` is nobody)."""
        user = getattr(self.request, "user", None)
        return user.pk if user is not None and user.is_authenticated else None

    def filter_owner(self, queryset, name, value):
        owner = self._caller_id() if value == ME else value
        return queryset.none() if owner is None else queryset.filter(owners=owner)

    def filter_subscribed(self, queryset, name, value):
        caller = self._caller_id()
        if caller is None:
            return queryset.none() if value else queryset
        followed = Q(subscribers=caller)
        return queryset.filter(followed) if value else queryset.exclude(followed)

    def filter_not_seen_days(self, queryset, name, value):
        return not_seen_for(queryset, value)

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*EVENT_SORTS[value])


class TagFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="title", help_text="Only the tag of this name.")
    title = django_filters.CharFilter(field_name="title", help_text="Same as `name`.")

    class Meta:
        model = Tag
        fields = ["name", "title"]
