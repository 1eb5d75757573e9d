"""The request type of pages behind ``login_required``, for the type checker."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class SignedInRequest(HttpRequest):
    """A request past ``login_required``: signed in, and read by django-htmx's middleware."""

    user: User  # narrowed from User | AnonymousUser: the decorator lets no anonymous visitor through
    htmx: HtmxDetails
