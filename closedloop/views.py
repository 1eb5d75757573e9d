"""Project-wide pages: the home page (current NPS), the health check, the metrics and the error pages."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import timezone
from django.views import defaults
from django.views.decorators.cache import never_cache

from closedloop.lib.health import HEARTBEAT_STALE_AFTER, database_round_trip, last_cluster_heartbeat
from closedloop.lib.metrics import exposition
from closedloop.lib.roles import AGENT, is_manager, user_roles
from closedloop.metrics import BacklogCollector
from closedloop.selectors import SEGMENT_DIMENSIONS, dashboard, dashboard_filters
from followups.charts import nps_trend
from followups.praise import recent_praise
from followups.selectors import team_list
from surveys.nps import MIN_RESPONSES
from surveys.selectors import ATTRIBUTE_PREFIX, survey_list

# The customer attributes the segment table offers a link for; any other works as by=attribute:<name>.
OFFERED_ATTRIBUTES = ("plan", "region", "customer_type")
CHART_WIDTH = 720
CHART_HEIGHT = 260


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Managers land on the dashboard, agents on their queue."""
    roles = user_roles(request.user)
    # Same rule as the API: an account without a role may not read responses or NPS.
    if not roles:
        return render(request, "home.html", {"has_role": False})
    if not is_manager(request.user) and AGENT in roles:
        return redirect("queue")
    now = timezone.now()
    try:
        filters = dashboard_filters(request.GET, today=timezone.localdate(now))
    except ValidationError as error:
        return render(request, "home.html", {"has_role": True, "errors": error.message_dict}, status=400)
    board = dashboard(filters, now=now)
    chart = nps_trend(
        [
            (p.summary.nps, p.summary.margin_of_error, bool(p.change and p.change.significant))
            if p.enough and p.summary.nps is not None and p.summary.margin_of_error is not None
            else None
            for p in board.periods
        ],
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
    )
    context = {
        "has_role": True,
        "board": board,
        "chart": chart,
        "min_responses": MIN_RESPONSES,
        "surveys": survey_list(),
        "teams": team_list(),
        "dimensions": [*SEGMENT_DIMENSIONS, *(f"{ATTRIBUTE_PREFIX}{name}" for name in OFFERED_ATTRIBUTES)],
        # The filters apply to the whole page: a team's page praises that team's tickets.
        "praise": recent_praise(teams=[filters.team] if filters.team else None, survey=filters.survey, now=now),
    }
    return render(request, "home.html", context)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and `manage.py serve`: 200 while the database answers, 503 when not.

    The status is ``ok``, ``degraded`` while no task cluster has beaten for
    ``HEARTBEAT_STALE_AFTER`` (pages work, deliveries wait), or ``down``.
    """
    try:
        round_trip = database_round_trip()
        heartbeat = last_cluster_heartbeat()
    except DatabaseError as exc:
        # The class name only: the driver's message names hosts and users.
        return JsonResponse(
            {
                "status": "down",
                "database": {"ok": False, "error": type(exc).__name__},
                "cluster": {"last_heartbeat": None, "age_s": None},
            },
            status=503,
        )
    age = (timezone.now() - heartbeat).total_seconds() if heartbeat else None
    beating = age is not None and age <= HEARTBEAT_STALE_AFTER.total_seconds()
    return JsonResponse(
        {
            "status": "ok" if beating else "degraded",
            "database": {"ok": True, "round_trip_ms": round(round_trip * 1000, 1)},
            "cluster": {
                "last_heartbeat": heartbeat.isoformat() if heartbeat else None,
                "age_s": round(age) if age is not None else None,
            },
        }
    )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for managers signed in and scrapers sending ``Bearer $METRICS_TOKEN``."""
    if not _may_scrape(request):
        raise PermissionDenied("Sign in as a manager, or send Authorization: Bearer $METRICS_TOKEN.")
    body, content_type = exposition(BacklogCollector())
    return HttpResponse(body, content_type=content_type)


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    # Constant-time, so the token cannot be guessed a character at a time.
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    return is_manager(request.user)


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers and tools ask for without reading the page's icon link."""
    # Not permanent: the static URL carries the file's hash and changes with it.
    return redirect(static("closedloop/favicon.svg"))


# Error pages: the site's frame for people, the API's JSON body for paths under /api/, where
# DRF's own handler does not reach (an unknown URL, an error outside a DRF view).
API_PREFIX = "/api/"


def _api_error(detail: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


ErrorPage = Callable[[HttpRequest, Exception], HttpResponse]


def _json_under_api(page: ErrorPage, detail: str, status: int) -> ErrorPage:
    """The handler answering ``detail`` as JSON under /api/, and Django's ``page`` elsewhere."""

    def handler(request: HttpRequest, exception: Exception) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            return _api_error(detail, status)
        return page(request, exception)

    return handler


bad_request = _json_under_api(defaults.bad_request, "Bad request.", 400)
permission_denied = _json_under_api(
    defaults.permission_denied, "You do not have permission to perform this action.", 403
)
page_not_found = _json_under_api(defaults.page_not_found, "Not found.", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page with the navigation of the signed-in user, or without it if the database is
    what failed: reading the user from the session would fail again."""
    if request.path.startswith(API_PREFIX):
        return _api_error("Server error.", 500)
    try:
        html = render_to_string("500.html", request=request)
    except DatabaseError:
        return defaults.server_error(request)
    return HttpResponse(html, status=500)
