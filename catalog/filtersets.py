"""Query-string filters of lists, one FilterSet per list: the API's list endpoints (with the
seed's parameter names) and the catalog pages use the same ones, so a parameter means the same
thing on both."""

import django_filters
from django import forms
from django.db.models import F, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalog.models import Resource, Tag
from catalog.selectors import not_seen_for, title_order, volume_since, volume_windows

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


#: `not_seen_days=never`: only the events never received.
NEVER = "never"


class NotSeenField(forms.IntegerField):
    """A number of days (1 to MAX_NOT_SEEN_DAYS), or `never`."""

    default_error_messages = {
        "invalid": f"Enter a whole number of days (1 to {MAX_NOT_SEEN_DAYS}) or never."
    }

    def to_python(self, value):
        if isinstance(value, str) and value.strip().lower() == NEVER:
            return NEVER
        return super().to_python(value)

    def run_validators(self, value):
        if value != NEVER:
            super().run_validators(value)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_NOT_SEEN_DAYS},
            {"type": "string", "enum": [NEVER]},
        ]
    }
)
class NotSeenFilter(django_filters.Filter):
    field_class = NotSeenField


def _by_title(queryset):
    return queryset.order_by(*title_order())


def _by_title_descending(queryset):
    return queryset.order_by(*title_order(descending=True))


def _by_last_seen(descending: bool):
    def order(queryset):
        seen = F("seen__last_seen_at")
        # Never seen is the stalest: last when the newest come first, first otherwise.
        first = seen.desc(nulls_last=True) if descending else seen.asc(nulls_first=True)
        return queryset.order_by(first, *title_order())

    return order


def _by_volume_30d(descending: bool):
    def order(queryset):
        _since_7d, since_30d = volume_windows()
        volume = F("sort_volume_30d")
        queryset = queryset.alias(sort_volume_30d=volume_since(since_30d))
        return queryset.order_by(volume.desc() if descending else volume.asc(), *title_order())

    return order


#: `sort`: the orders of the events list, {value: (label, how)}; each ends with the id so
#: pages never overlap, titles sort case-insensitively (`catalog.selectors.title_order`).
EVENT_SORTS = {
    "title": ("Title (A to Z)", _by_title),
    "-title": ("Title (Z to A)", _by_title_descending),
    "-updated": ("Last change first", lambda queryset: queryset.order_by("-updated_at", "id")),
    "-last_seen": ("Last seen, newest first", _by_last_seen(descending=True)),
    "last_seen": ("Last seen, oldest first", _by_last_seen(descending=False)),
    "-volume_30d": ("Most received in 30 days", _by_volume_30d(descending=True)),
    "volume_30d": ("Least received in 30 days", _by_volume_30d(descending=False)),
}
#: The sort values, as a sentence lists them.
_SORT_NAMES = ", ".join(EVENT_SORTS)


def sort_events(queryset, value: str = "title"):
    """`queryset` in the events list's order `value` (a key of EVENT_SORTS)."""
    return EVENT_SORTS[value][1](queryset)


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
    not_seen_days = NotSeenFilter(
        method="filter_not_seen_days",
        min_value=1,
        max_value=MAX_NOT_SEEN_DAYS,
        help_text=(
            "Only events not seen for this many days: last seen before now minus N days, or "
            f"never seen (1 to {MAX_NOT_SEEN_DAYS}); `never`: only the events never received."
        ),
    )
    sort = django_filters.ChoiceFilter(
        method="sort_by",
        choices=[(value, label) for value, (label, _how) in EVENT_SORTS.items()],
        empty_label=None,
        error_messages={"invalid_choice": f"Must be one of {_SORT_NAMES}."},
        help_text=(
            "`title` (A to Z, case-insensitive; the page's default), `-title`, `-updated` "
            "(last change first), `-last_seen` (newest first, never seen last), `last_seen` "
            "(never seen first), `-volume_30d` (most received in the last 30 days first), "
            "`volume_30d`. Ties go by title, then id."
        ),
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
        if value == NEVER:
            return queryset.filter(seen__isnull=True)
        return not_seen_for(queryset, value)

    def sort_by(self, queryset, name, value):
        return sort_events(queryset, value)


class TagFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="title", help_text="Only the tag of this name.")
    title = django_filters.CharFilter(field_name="title", help_text="Same as `name`.")

    class Meta:
        model = Tag
        fields = ["name", "title"]
