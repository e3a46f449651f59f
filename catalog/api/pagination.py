"""Pagination in the seed vendor's shape: links, meta, count, total_pages, results.

The count is exact up to the deepest row a client can page to (`MAX_RESULT_DEPTH`) and an
estimate beyond, which `meta.count_is_exact` says: counting a large filtered list exactly costs
more than fetching its page (296 ms against 3.6 ms for the most used tag of 100,000 events and
1,000,000 properties), and no page past that depth can be asked for anyway.
"""

import json
import math
from contextlib import nullcontext

from django.core.paginator import Paginator
from django.db import DatabaseError, connections, transaction
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

#: The deepest result the API will page to; deeper pages cost the database too much. It is
#: also how far the count is exact: looked up when a request is paged, so tests may lower it.
MAX_RESULT_DEPTH = 10_000


def _whole_number(raw: str) -> int | None:
    """`raw` as a number, None unless it is ASCII digits, capped at MAX_RESULT_DEPTH + 1.

    str.isdigit() alone accepts "²", which int() refuses, and int() refuses 4,300 digits or
    more; any number past the cap is out of range for both parameters anyway.
    """
    if not (raw.isascii() and raw.isdigit()):
        return None
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(MAX_RESULT_DEPTH)):
        return MAX_RESULT_DEPTH + 1
    return min(int(digits), MAX_RESULT_DEPTH + 1)


def planned_rows(queryset: QuerySet) -> int | None:
    """The PostgreSQL planner's estimate of how many rows `queryset` matches (`EXPLAIN`, not
    run), None on other databases or if the plan can't be had."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        # A savepoint only inside a transaction, where a failed EXPLAIN would spoil the rest.
        with transaction.atomic(using=queryset.db) if connection.in_atomic_block else nullcontext():
            plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
    except (DatabaseError, ValueError):
        return None
    if isinstance(plan, list):  # the server's shape; Django unwraps the one plan it holds
        plan = plan[0] if plan else {}
    try:
        return int(plan["Plan"]["Plan Rows"])
    except (KeyError, TypeError, ValueError):
        return None


def count_told_by_page(offset: int, rows: int, size: int) -> int | None:
    """The total a page of `rows` rows (of `size` asked for, from `offset`) tells: a page
    that came back short and not empty, or empty at the start, holds the last row. None when
    it can't tell (a full page, or an empty one past the end)."""
    if rows < size and (rows or offset == 0):
        return offset + rows
    return None


def count_at_most(queryset: QuerySet, cap: int) -> int:
    """`SELECT COUNT(*) FROM (SELECT id ... LIMIT cap + 1)`: exact up to `cap`, `cap + 1`
    meaning "more", and never costing more than `cap + 1` rows however many match. Only the
    ids: a count would otherwise carry the queryset's annotations along."""
    return queryset.order_by().values("pk")[: cap + 1].count()


class CappedPaginator(Paginator):
    """Django's paginator, but the page is fetched first and the count is capped.

    A page that comes back short and not empty (or empty on page 1) holds the last row, so it
    tells the count: no count query. Otherwise `SELECT COUNT(*) FROM (... LIMIT depth + 1)`
    counts at most MAX_RESULT_DEPTH + 1 rows: the count is exact up to the deepest reachable
    row, and past it `count_is_exact` is False and the count is the planner's estimate
    (PostgreSQL), never below MAX_RESULT_DEPTH + 1, or just MAX_RESULT_DEPTH + 1 elsewhere.
    `num_pages` stops at the last page that can be asked for. Pages after the first choose
    their ids in a subquery, so what a row brings along is read for the page's rows only.
    """

    count_is_exact = True

    def page(self, number):
        number = int(number)  # CatalogPagination has checked it
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        rows = self.object_list
        if bottom and isinstance(rows, QuerySet):
            # Past the first page the ids come first: what a row brings along (the details'
            # subqueries) is then computed for the page's rows, not for every row skipped.
            # Rows 9,801-10,000 of the 1,000,000 properties: 750 ms before, 47 ms after.
            rows = rows.filter(pk__in=rows.values("pk")[bottom:top])
        else:
            rows = rows[bottom:top]
        rows = list(rows)
        told = count_told_by_page(bottom, len(rows), self.per_page)
        if "count" not in self.__dict__ and told is not None:
            self.count = told  # count is a cached_property: this caches it
        # Past the last page: the count is needed to tell (an EmptyPage, a 404, as Django's).
        number = self.validate_number(number)
        return self._get_page(rows, number, self)

    @cached_property
    def count(self):
        object_list = self.object_list
        if not isinstance(object_list, QuerySet):
            return len(object_list)
        depth = MAX_RESULT_DEPTH
        counted = count_at_most(object_list, depth)
        if counted <= depth:
            return counted
        self.count_is_exact = False
        return max(depth + 1, planned_rows(object_list) or 0)

    @cached_property
    def num_pages(self):
        pages = math.ceil(max(1, self.count) / self.per_page)
        return min(pages, max(1, MAX_RESULT_DEPTH // self.per_page))


class CatalogPagination(PageNumberPagination):
    django_paginator_class = CappedPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _whole_number(raw)
        if size is None or not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def paginate_queryset(self, queryset, request, view=None):
        number = _whole_number(request.query_params.get(self.page_query_param, "1"))
        if number is None or number < 1:
            raise ValidationError({"page": ["Must be a whole number from 1."]})
        if number * self.get_page_size(request) > MAX_RESULT_DEPTH:
            raise ValidationError(
                {
                    "page": [
                        f"Results can be paged at most {MAX_RESULT_DEPTH:,} deep; narrow the "
                        "filter instead."
                    ]
                }
            )
        return super().paginate_queryset(queryset, request, view)

    def get_page_number(self, request, paginator):
        # The checked number, not the raw text: "0001" with 5,000 zeros would fail int().
        return _whole_number(request.query_params.get(self.page_query_param, "1"))

    def get_paginated_response(self, data):
        page = self.page
        paginator = page.paginator
        return Response(
            {
                "links": {"next": self.get_next_link(), "previous": self.get_previous_link()},
                "meta": {
                    "page": page.number,
                    "previous_page": page.previous_page_number() if page.has_previous() else None,
                    "next_page": page.next_page_number() if page.has_next() else None,
                    "count_is_exact": paginator.count_is_exact,
                },
                "count": paginator.count,
                "total_pages": paginator.num_pages,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        number = {"type": "integer", "nullable": True}
        item = schema.get("items", {}).get("$ref", "").rsplit("/", 1)[-1]
        return {
            "type": "object",
            "description": (
                f"A page of results{f' (`{item}`)' if item else ''}: how many there are, "
                "and links to the next and previous pages."
            ),
            "required": ["links", "meta", "count", "total_pages", "results"],
            "properties": {
                "links": {"type": "object", "properties": {"next": link, "previous": link}},
                "meta": {
                    "type": "object",
                    "properties": {
                        "page": {"type": "integer"},
                        "previous_page": number,
                        "next_page": number,
                        "count_is_exact": {
                            "type": "boolean",
                            "description": (
                                f"Whether `count` is exact: always up to {MAX_RESULT_DEPTH:,}; "
                                "past that, `count` is an estimate, at least "
                                f"{MAX_RESULT_DEPTH + 1:,}."
                            ),
                        },
                    },
                },
                "count": {"type": "integer", "example": 123},
                "total_pages": {
                    "type": "integer",
                    "example": 3,
                    "description": (
                        f"Pages of `count`, but only those that can be asked for: results are "
                        f"paged at most {MAX_RESULT_DEPTH:,} deep."
                    ),
                },
                "results": schema,
            },
        }
