"""Project-wide pages: the home page (current NPS) and the health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from surveys.models import Response
from surveys.selectors import nps_breakdown


@login_required
def home(request: HttpRequest) -> HttpResponse:
    overall = nps_breakdown(responses=Response.objects.all())[0].summary
    return render(request, "home.html", {"overall": overall})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and `make run`: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
