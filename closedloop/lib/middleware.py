"""Request checks that apply to every page and endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.views import APIView

from closedloop.lib.exceptions import body_too_large_message


class RejectNulCharactersMiddleware:
    """Refuse NUL characters in the path or query string with a 400.

    PostgreSQL cannot store or compare text containing NUL, so any filter or grouping that passed
    one on would fail with a server error; forms and serializers already refuse them in bodies.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = (value for values in request.GET.lists() for value in (values[0], *values[1]))
        if "\x00" in request.path or any("\x00" in value for value in query):
            return JsonResponse({"detail": "NUL characters are not allowed in a request."}, status=400)
        return self.get_response(request)


class BodySizeLimitMiddleware:
    """Answer a request whose body is over its endpoint's limit with a 413, before anything reads it.

    An endpoint takes at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes unless its view class says
    otherwise with ``max_body_bytes`` (the bulk ingestion endpoint does). API endpoints answer
    with JSON, pages with a page; Django's own check of the same setting is a bare 400.
    Multipart bodies may be larger (a CSV upload): Django writes their files to disk and holds
    only the other fields to the limit, so they are read here, where that refusal is answered.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        view_class = getattr(view_func, "view_class", None)
        if request.content_type == "multipart/form-data":
            try:
                request.POST  # noqa: B018 (read for its refusal; the view finds it parsed)
            except RequestDataTooBig:
                return _too_large(request, view_class, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
            return None
        limit = getattr(view_class, "max_body_bytes", None) or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _content_length(request) > limit:
            return _too_large(request, view_class, limit)
        return None


def _too_large(request: HttpRequest, view_class: type | None, limit: int) -> HttpResponse:
    message = body_too_large_message(limit)
    if view_class is not None and issubclass(view_class, APIView):
        return JsonResponse({"detail": message}, status=413)
    return render(request, "413.html", {"message": message}, status=413)


def _content_length(request: HttpRequest) -> int:
    # As Django reads it: a length that is not a number means no body.
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
