"""Project-wide pages: the home page (current NPS) and the health check."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from closedloop.lib.roles import user_roles
from surveys.models import Response
from surveys.nps import NpsSummary, compare
from surveys.selectors import group_expression, nps_breakdown, response_list

RECENT_DAYS = 90
TREND_MONTHS = 12
LATEST_RESPONSES = 5


@login_required
def home(request: HttpRequest) -> HttpResponse:
    # Same rule as the API: an account without a role may not read responses or NPS.
    if not user_roles(request.user):
        return render(request, "home.html", {"has_role": False})
    now = timezone.now()
    window = timedelta(days=RECENT_DAYS)
    recent = _summary(Response.objects.filter(submitted_at__gte=now - window))
    before = _summary(Response.objects.filter(submitted_at__gte=now - 2 * window, submitted_at__lt=now - window))
    context = {
        "has_role": True,
        "recent_days": RECENT_DAYS,
        "recent": recent,
        # Whether the last period differs from the one before by more than sampling noise.
        "recent_change": compare(recent, before),
        "overall": _summary(Response.objects.all()),
        "trend": _monthly_trend(timezone.localdate(now)),
        "latest": response_list()[:LATEST_RESPONSES],
    }
    return render(request, "home.html", context)


def _summary(responses: QuerySet[Response]) -> NpsSummary:
    return nps_breakdown(responses=responses)[0].summary


def _monthly_trend(today: date) -> list[tuple[date, NpsSummary]]:
    """NPS of each of the last TREND_MONTHS months in one query, newest first.

    Months without responses still get a row, so the trend reads as a continuous year.
    """
    months = _last_months(today, TREND_MONTHS)
    start = timezone.make_aware(datetime.combine(months[0], time.min))
    rows = nps_breakdown(
        responses=Response.objects.filter(submitted_at__gte=start), group=group_expression("month"), group_by="month"
    )
    by_month = {row.group: row.summary for row in rows}
    return [(month, by_month.get(f"{month:%Y-%m}", NpsSummary(0, 0, 0))) for month in reversed(months)]


def _last_months(today: date, count: int) -> list[date]:
    """The first days of the ``count`` months up to and including today's, oldest first."""
    current = today.year * 12 + today.month - 1
    return [date(index // 12, index % 12 + 1, 1) for index in range(current - count + 1, current + 1)]


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and `make run`: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
