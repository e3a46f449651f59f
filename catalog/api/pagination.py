"""Pagination in the seed vendor's shape: links, meta, count, total_pages, results."""

import math

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

#: The deepest result the API will page to; deeper pages cost the database too much.
MAX_RESULT_DEPTH = 10_000


class CatalogPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {"page_size": f"Must be a whole number from 1 to {self.max_page_size}."}
            )
        return size

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param, "1")
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationError({"page": "Must be a whole number from 1."})
        if int(raw) * self.get_page_size(request) > MAX_RESULT_DEPTH:
            raise ValidationError(
                {
                    "page": f"Results can be paged at most {MAX_RESULT_DEPTH:,} deep; narrow the "
                    "filter instead."
                }
            )
        return super().paginate_queryset(queryset, request, view)

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
