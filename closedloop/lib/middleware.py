"""Request checks that apply to every page and endpoint."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse


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
