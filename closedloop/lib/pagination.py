from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from django.db.models import QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination, CursorPagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.utils.urls import replace_query_param


class StandardPagination(PageNumberPagination):
    """Page-numbered lists with a count, for lists that stay small (users, teams, surveys)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class LargeListPagination(CursorPagination):
    """Cursor pagination for lists that grow without bound (responses): no COUNT(*) per page."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("-submitted_at", "-id")


# Far past any real list, and keeps the OFFSET inside PostgreSQL's bigint.
MAX_PAGE_NUMBER = 10**6


class UncountedPagination(PageNumberPagination):
    """Pages without COUNT(*): a queue over a million cases should not count them per request.

    One extra row is read to know whether a next page exists; ``count`` is omitted, as API.md allows.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        self.url = request.build_absolute_uri()
        size = self.get_page_size(request)
        try:
            self.number = max(int(request.query_params.get(self.page_query_param, 1)), 1)
        except ValueError:
            self.number = 1
        if self.number > MAX_PAGE_NUMBER:
            raise NotFound("Invalid page.")
        offset = (self.number - 1) * size
        rows = list(queryset[offset : offset + size + 1])
        self.has_next = len(rows) > size
        return rows[:size]

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self._link(self.number + 1) if self.has_next else None,
                "previous": self._link(self.number - 1) if self.number > 1 else None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def _link(self, number: int) -> str:
        return replace_query_param(self.url, self.page_query_param, number)


class ListApi(Protocol):
    """A view that lists: its ``pagination_class`` pages the list and documents the envelope."""

    @property
    def pagination_class(self) -> type[BasePagination]: ...


def paginated(
    request: Request,
    queryset: QuerySet | Sequence,
    serializer_class: type[BaseSerializer],
    *,
    view: ListApi,
    context: dict[str, Any] | None = None,
    complete: Callable[[list], list] | None = None,
) -> Response:
    """One page of ``queryset`` serialized with ``serializer_class``, in the envelope of the view's paginator.

    The schema generator reads the same ``pagination_class`` from the view, so the documented
    envelope is the one served. ``complete`` adds to the page's rows what a second query reads for
    the page alone.
    """
    paginator = view.pagination_class()
    # Only an OrderingFilter among the view's filter backends would need the view; none has one.
    page: list = paginator.paginate_queryset(queryset, request) or []
    if complete is not None:
        page = complete(page)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)
