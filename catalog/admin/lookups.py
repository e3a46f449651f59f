"""Which URL parameters the admin's lists accept.

Django's admin applies any lookup on a model's own fields that a list's URL names, whether or
not the page offers it: `?title__regex=...` runs any regular expression in the database, and
`?email__startswith=a` finds out a user's address one letter at a time, on a page that hides
it. Here a list accepts the parameters its own page produces (its filters, its date hierarchy,
its search box, sorting and paging, popups) and the few its admin's other pages link to
(`linked_lookups`); any other lookup is refused as Django refuses one it doesn't allow: a 400.

Values the database can't hold (a NUL, which PostgreSQL refuses in text) or dates that
Python can't build (year 10000) leave the list unfiltered, with a message, instead of failing
with a 500.
"""

from django.contrib import messages
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.utils.dateparse import parse_date, parse_datetime

NUL = "\x00"
#: The years of dates that stay dates in any time zone, a year later too (the bound Django
#: computes for a date hierarchy's year).
YEARS = range(2, 9999)
#: What a date hierarchy's parameters may hold: so many digits, in this range.
DATE_PARTS = {"year": (4, YEARS), "month": (2, range(1, 13)), "day": (2, range(1, 32))}
#: Said on the list when its filters were left out.
FILTERS_LEFT_OUT = "Some filters were not understood and were left out."


def _holds_nul(params: dict[str, list[str]]) -> bool:
    return any(NUL in key or NUL in "".join(values) for key, values in params.items())


def _is_date_part(part: str, value: str) -> bool:
    digits, allowed = DATE_PARTS[part]
    return value.isascii() and value.isdigit() and len(value) <= digits and int(value) in allowed


def _is_near_date(value: str) -> bool:
    """Whether a date or time from a URL (or something else, which Django's field refuses)
    stays a date when converted to UTC: not 0001-01-01 00:00+14:00."""
    try:
        parsed = parse_datetime(value) or parse_date(value)
    except ValueError:
        return True  # no date at all: the field says so
    return parsed is None or parsed.year in YEARS


class OwnFiltersChangeList(ChangeList):
    """A list that applies only the lookups its own page produces."""

    def get_filters(self, request):
        params = self.get_filters_params()
        if _holds_nul(self.filter_params):
            raise IncorrectLookupParameters("A parameter holds a NUL character.")
        linked = set(self.model_admin.linked_lookups)
        if self.date_hierarchy:
            self._check_date_hierarchy(params)
            # "Clear all filters" keeps the date hierarchy's choice as these bounds.
            linked.update({f"{self.date_hierarchy}__gte", f"{self.date_hierarchy}__lt"})
        filters = super().get_filters(request)
        # What the list filters and the date hierarchy took is gone from the lookups left.
        left = filters[2]
        for key in params:
            if key in left and key not in linked:
                raise DisallowedModelAdminLookup(f"Filtering by {key} not allowed")
        return filters

    def _check_date_hierarchy(self, params) -> None:
        field = self.date_hierarchy
        for part in DATE_PARTS:
            for value in params.get(f"{field}__{part}", []):
                if not _is_date_part(part, value):
                    raise IncorrectLookupParameters(f"{value!r} is no {part}.")
        for bound in ("gte", "lt"):
            for value in params.get(f"{field}__{bound}", []):
                if not _is_near_date(value):
                    raise IncorrectLookupParameters(f"{value!r} is out of range.")


class OwnLookupsOnlyMixin:
    """For every ModelAdmin of the catalog: lists accept their own filters only, and bad
    values are left out with a message instead of failing."""

    #: Lookups that links on this admin's pages, or on another admin's, put in this list's URL
    #: besides its filters ("See all events" of a category: `parent__id__exact`).
    linked_lookups: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return OwnFiltersChangeList

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except IncorrectLookupParameters:
            # Django then shows the list without its parameters: say why.
            messages.warning(request, FILTERS_LEFT_OUT)
            raise

    def get_search_results(self, request, queryset, search_term):
        # No text in the database holds a NUL (PostgreSQL refuses to compare with one), so
        # nothing matches: the autocomplete's `term`, or a search.
        if NUL in search_term:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)
