"""Running a django-filter FilterSet inside a selector."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet


def apply_filters(
    filterset_class: type[django_filters.FilterSet],
    filters: dict[str, Any] | None,
    queryset: QuerySet,
    *,
    request: Any = None,
) -> QuerySet:
    """Filter ``queryset``; raise ValidationError with per-field messages for malformed values.

    ``request`` (anything with a ``user``) is handed to filters that depend on who asks.
    """
    filterset = filterset_class(filters or {}, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise ValidationError({name: [str(m) for m in messages] for name, messages in filterset.errors.items()})
    return filterset.qs
