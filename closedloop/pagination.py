from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination


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
