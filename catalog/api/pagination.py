"""Pagination in the seed vendor's shape: links, meta, count, total_pages, results."""

import math

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

#: The deepest result the API will page to; deeper pages cost the database too much.
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


class CatalogPagination(PageNumberPagination):
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
        count = page.paginator.count
        return Response(
            {
                "links": {"next": self.get_next_link(), "previous": self.get_previous_link()},
                "meta": {
                    "page": page.number,
                    "previous_page": page.previous_page_number() if page.has_previous() else None,
                    "next_page": page.next_page_number() if page.has_next() else None,
                },
                "count": count,
                "total_pages": max(1, math.ceil(count / page.paginator.per_page)),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        number = {"type": "integer", "nullable": True}
        return {
            "type": "object",
            "required": ["links", "meta", "count", "total_pages", "results"],
            "properties": {
                "links": {"type": "object", "properties": {"next": link, "previous": link}},
                "meta": {
                    "type": "object",
                    "properties": {
                        "page": {"type": "integer"},
                        "previous_page": number,
                        "next_page": number,
                    },
                },
                "count": {"type": "integer", "example": 123},
                "total_pages": {"type": "integer", "example": 3},
                "results": schema,
            },
        }
