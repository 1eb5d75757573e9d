"""The project's django-filter FilterSet, and running one inside a selector."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet


class StrictBooleanField(forms.NullBooleanField):
    """true or false (also 1/0, yes/no); anything else is a 400, not a silently ignored filter."""

    widget = forms.TextInput  # NullBooleanSelect would read any unknown word as "no filter"
    VALUES = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise ValidationError("Must be true or false.", code="invalid") from None


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, building its form class once per filter set rather than per request.

    The form class only lists the declared filters' form fields, which every instance builds
    alike (no filter set here adds filters per request); building it was half of the time spent
    filtering a queue.
    """

    _form_class: type | None = None

    def get_form_class(self) -> type:
        filterset = type(self)
        if filterset.__dict__.get("_form_class") is None:
            filterset._form_class = super().get_form_class()
        return filterset._form_class


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
