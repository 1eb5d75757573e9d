"""The manager's themes page: root causes ranked by NPS impact, with charts, and each theme's comments.

The figures are the themes API's (``followups.selectors.theme_report``); this page only turns
its filters into a form a person fills in (days rather than ISO times) and draws the numbers.
Every chart stands beside the table that gives the same figures.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from closedloop.lib.requests import SignedInRequest
from followups.charts import diverging_bar, scale_limit, sparkline
from followups.models import RootCause, Team
from followups.selectors import theme_comments, theme_report, theme_trends
from followups.themes import Level, Segment
from followups.views.access import manager_page
from surveys.models import Survey

BAR_WIDTH = 160
SPARK_WIDTH, SPARK_HEIGHT = 120, 28
COMMENTS_PER_PAGE = 50


class ThemeFilters(forms.Form):
    """The page's filters: whole days, the last one included, instead of the API's ISO times."""

    survey = forms.ChoiceField(required=False)
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.ChoiceField(required=False)
    level = forms.ChoiceField(
        required=False, label="Show", choices=[(Level.CAUSE, "Causes"), (Level.CATEGORY, "Categories")]
    )
    segment = forms.ChoiceField(
        required=False,
        label="Responses",
        choices=[(Segment.ALL, "All: what to fix"), (Segment.PROMOTERS, "Promoters: what to keep doing")],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        surveys = Survey.objects.order_by("name").values_list("slug", "name")
        teams = Team.objects.order_by("name").values_list("slug", "name")
        self.fields["survey"].choices = [("", "All surveys"), *surveys]  # type: ignore[attr-defined]  # a ChoiceField
        self.fields["team"].choices = [("", "All teams"), *teams]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            raise ValidationError({"end": "The last day comes before the first."})
        return cleaned

    def report_filters(self) -> dict[str, str]:
        """The themes report's filters: the first day from its midnight (UTC), the last one to its end."""
        cleaned = self.cleaned_data
        filters = {name: cleaned[name] for name in ("survey", "team", "level", "segment") if cleaned.get(name)}
        if cleaned.get("start"):
            filters["submitted_after"] = _midnight(cleaned["start"])
        if cleaned.get("end"):
            filters["submitted_before"] = _midnight(cleaned["end"] + timedelta(days=1))
        return filters


def _midnight(day: date) -> str:
    return datetime.combine(day, time.min, UTC).isoformat()


@manager_page
def themes_page(request: SignedInRequest) -> HttpResponse:
    form = ThemeFilters(request.GET or None)
    filters = form.report_filters() if form.is_valid() else {}
    report = theme_report(filters=filters)
    trends = theme_trends(filters=filters, now=timezone.now())
    limit = scale_limit([row["nps_impact"] for row in report["results"]])
    rows = []
    for row in report["results"]:
        monthly = trends.monthly(row["root_cause"])
        rows.append(
            {
                **row,
                "bar": diverging_bar(row["nps_impact"], limit=limit, width=BAR_WIDTH),
                "trend": sparkline([nps for _, nps, _ in monthly], width=SPARK_WIDTH, height=SPARK_HEIGHT),
                "trend_text": _trend_text(monthly),
                "monthly": monthly,
            }
        )
    context = {
        "form": form,
        "report": report,
        "rows": rows,
        "months": trends.months,
        "limit": limit,
        "bar_width": BAR_WIDTH,
        "spark": {"width": SPARK_WIDTH, "height": SPARK_HEIGHT},
        "promoters": report["segment"] == Segment.PROMOTERS,
        "query": request.GET.urlencode(),
    }
    return render(request, "followups/themes/list.html", context)


def _trend_text(monthly: list[tuple[datetime, float | None, int]]) -> str:
    """What the sparkline shows, for a screen reader: each month with responses and its NPS (or
    that it had too few to say)."""
    parts = [
        f"{month:%b %Y} {value:+g}" if value is not None else f"{month:%b %Y} too few ({responses})"
        for month, value, responses in monthly
        if responses
    ]
    return "NPS by month: " + ", ".join(parts) if parts else "No responses in the last twelve months"


@manager_page
def theme_comments_page(request: SignedInRequest, slug: str) -> HttpResponse:
    root_cause = get_object_or_404(RootCause.objects.select_related("parent"), slug=slug)
    form = ThemeFilters(request.GET or None)
    filters = form.report_filters() if form.is_valid() else {}
    responses = theme_comments(root_cause=root_cause, filters=filters)
    page = Paginator(responses, COMMENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"root_cause": root_cause, "form": form, "page": page, "query": request.GET.urlencode()}
    return render(request, "followups/themes/comments.html", context)
