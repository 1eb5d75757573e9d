"""Reads that join intake with the loops (NPS grouped by root cause needs both apps)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, F, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils import timezone

from closedloop.lib.filters import AttributeFilterField
from followups.models import Case, CustomerUpdate, Improvement, ResponseRootCause, Team
from followups.models.cases import OPEN
from followups.selectors import notified_impact, nps_by_root_cause, theme_report
from followups.themes import remainder, share
from surveys.handling import HANDLING_AGENT, HANDLING_TEAM
from surveys.models import DailyScoreCount, Invitation, Response
from surveys.nps import MIN_RESPONSES, Category, NpsComparison, NpsSummary, compare, rounded
from surveys.selectors import (
    ATTRIBUTE_PREFIX,
    TIME_GROUPS,
    group_expression,
    invitation_stats,
    nps_breakdown,
    period_label,
    recovery_rates,
    response_list,
)

NPS_FILTERS = ("survey", "submitted_after", "submitted_before")


def nps_report(*, filters: dict[str, Any], group_by: str = "") -> list[dict[str, Any]]:
    """The rows of GET /api/v1/nps/: one per group (one in all without ``group_by``).

    Periods follow each other, so each time row also says how NPS moved since the row before
    and whether that change is significant. Raises ValidationError for an unknown grouping.
    """
    responses = response_list(filters={k: v for k, v in filters.items() if k in NPS_FILTERS}).select_related(None)
    if group_by == "root_cause":
        rows = nps_by_root_cause(responses=responses)
    elif not group_by:
        rows = nps_breakdown(responses=responses)
    else:
        group = group_expression(group_by)
        if group is None:
            raise ValidationError({"group_by": ["Use day, week, month, quarter, attribute:<name> or root_cause."]})
        rows = nps_breakdown(responses=responses, group=group, group_by=group_by)
    if group_by in TIME_GROUPS:
        return [row.as_dict(rows[index - 1] if index else None) for index, row in enumerate(rows)]
    return [row.as_dict() for row in rows]


# The manager dashboard: every figure in SQL, a fixed number of queries whatever the data size.

PERIODS = ("day", "week", "month", "quarter")
SEGMENT_DIMENSIONS = ("survey", "channel", "team", "agent")
DEFAULT_DAYS = 365
SCORES = range(11)
TOP_THEMES = 5
# How the segment table can be ordered; the lowest NPS first shows who lags.
SEGMENT_SORTS = ("responses", "nps", "name")


class DashboardFilterForm(forms.Form):
    """The dashboard's filters, all in the URL; a value it cannot read is a 400 naming the field."""

    start = forms.DateField(required=False)
    end = forms.DateField(required=False)
    survey = forms.SlugField(required=False)
    team = forms.SlugField(required=False)
    attribute = AttributeFilterField(max_length=200)
    period = forms.ChoiceField(choices=[(p, p) for p in PERIODS], required=False)
    by = forms.CharField(required=False, max_length=200)
    sort = forms.ChoiceField(choices=[(key, key) for key in SEGMENT_SORTS], required=False)

    def clean_by(self) -> str:
        by = self.cleaned_data["by"] or "survey"
        if by not in SEGMENT_DIMENSIONS and not (by.startswith(ATTRIBUTE_PREFIX) and len(by) > len(ATTRIBUTE_PREFIX)):
            raise ValidationError("Use survey, channel, team, agent or attribute:<name>.", code="invalid")
        return by

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise ValidationError({"end": ["The end date is before the start date."]})
        return cleaned


@dataclass(frozen=True)
class DashboardFilters:
    """Cleaned filters: dates inclusive, in the site's time zone."""

    start: date
    end: date
    survey: str = ""
    team: str = ""
    attribute: tuple[str, str] | None = None
    period: str = "month"
    by: str = "survey"
    sort: str = "responses"

    @property
    def window(self) -> tuple[datetime, datetime]:
        """The moments from the start day's midnight to the midnight after the end day."""
        zone = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )

    @property
    def from_rollup(self) -> bool:
        """Whether the figures can come from the daily rollup (it has no customer attributes)."""
        return self.attribute is None

    def as_api_filters(self) -> dict[str, Any]:
        after, before = self.window
        return {
            "survey": self.survey,
            "team": self.team,
            "attribute": self.attribute and ":".join(self.attribute),
            "submitted_after": after.isoformat(),
            "submitted_before": before.isoformat(),
        }


def dashboard_filters(params: Mapping[str, Any], *, today: date) -> DashboardFilters:
    """Read the dashboard's filters from query parameters; raise ValidationError for bad ones."""
    form = DashboardFilterForm(params)
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    cleaned = form.cleaned_data
    end = cleaned["end"] or today
    return DashboardFilters(
        start=cleaned["start"] or end - timedelta(days=DEFAULT_DAYS - 1),
        end=end,
        survey=cleaned["survey"],
        team=cleaned["team"],
        attribute=cleaned["attribute"],
        period=cleaned["period"] or "month",
        by=cleaned["by"],
        sort=cleaned["sort"] or "responses",
    )


def _responses(filters: DashboardFilters) -> QuerySet[Response]:
    after, before = filters.window
    responses = Response.objects.filter(submitted_at__gte=after, submitted_at__lt=before).order_by()
    if filters.survey:
        responses = responses.filter(survey__slug=filters.survey)
    if filters.team:
        responses = responses.filter(**{HANDLING_TEAM: filters.team})
    if filters.attribute is not None:
        name, value = filters.attribute
        responses = responses.filter(Exact(KeyTextTransform(name, "customer__attributes"), value))
    return responses


def _rollup(filters: DashboardFilters) -> QuerySet[DailyScoreCount]:
    rows = DailyScoreCount.objects.filter(day__gte=filters.start, day__lte=filters.end).order_by()
    if filters.survey:
        rows = rows.filter(survey__slug=filters.survey)
    return rows.filter(team=filters.team) if filters.team else rows


@dataclass(frozen=True)
class Period:
    label: str
    summary: NpsSummary
    change: NpsComparison | None

    @property
    def enough(self) -> bool:
        return self.summary.enough


@dataclass(frozen=True)
class Segment:
    label: str
    summary: NpsSummary
    versus_rest: NpsComparison | None

    @property
    def enough(self) -> bool:
        return self.summary.enough

    @property
    def lagging(self) -> bool:
        """Significantly below the other segments together."""
        return self.versus_rest is not None and self.versus_rest.significant and self.versus_rest.difference < 0


def _summary_of(scores: Mapping[int, int]) -> NpsSummary:
    return NpsSummary(
        promoters=sum(n for score, n in scores.items() if score >= 9),
        passives=sum(n for score, n in scores.items() if 7 <= score <= 8),
        detractors=sum(n for score, n in scores.items() if score <= 6),
    )


def score_counts_by_period(filters: DashboardFilters) -> dict[date, dict[int, int]]:
    """Responses per score in each period of the filters, from the rollup when it can serve (one query)."""
    trunc = TIME_GROUPS[filters.period]
    rows: QuerySet[Any, Any]
    if filters.from_rollup:
        rows = _rollup(filters).annotate(period=trunc("day")).values("period", "score").annotate(n=Sum("responses"))
    else:
        rows = (
            _responses(filters)
            .annotate(period=trunc("submitted_at", tzinfo=timezone.get_current_timezone()))
            .values("period", "score")
            .annotate(n=Count("pk"))
        )
    counts: dict[date, dict[int, int]] = {}
    for row in cast("Iterable[dict[str, Any]]", rows):
        period = row["period"]
        if isinstance(period, datetime):
            period = timezone.localtime(period).date() if timezone.is_aware(period) else period.date()
        counts.setdefault(period, {})[row["score"]] = row["n"]
    return counts


def _period_starts(filters: DashboardFilters) -> list[date]:
    """The first day of every period from the start to the end, so empty periods show too."""
    starts: list[date] = []
    day = filters.start
    while day <= filters.end:
        if filters.period == "day":
            first = day
            following = day + timedelta(days=1)
        elif filters.period == "week":
            first = day - timedelta(days=day.weekday())
            following = first + timedelta(days=7)
        else:
            months = 1 if filters.period == "month" else 3
            month0 = (day.month - 1) // months * months
            first = date(day.year, month0 + 1, 1)
            index = day.year * 12 + month0 + months
            following = date(index // 12, index % 12 + 1, 1)
        starts.append(first)
        day = following
    return starts


def nps_over_time(filters: DashboardFilters) -> tuple[list[Period], dict[int, int]]:
    """NPS per period (with the change from the period before and its significance) and the
    0-10 distribution of the whole window, from one query."""
    counts = score_counts_by_period(filters)
    periods: list[Period] = []
    previous: NpsSummary | None = None
    distribution = dict.fromkeys(SCORES, 0)
    for start in _period_starts(filters):
        scores = counts.get(start, {})
        for score, n in scores.items():
            distribution[score] += n
        summary = _summary_of(scores)
        enough = summary.enough
        change = compare(summary, previous) if previous is not None and enough else None
        periods.append(Period(period_label(start, filters.period) or "", summary, change))
        previous = summary if enough else None
    return periods, distribution


def _segment_rows(filters: DashboardFilters) -> Iterable[tuple[Any, NpsSummary]]:
    by = filters.by
    counts = {
        "promoters": Count("pk", filter=Q(category=Category.PROMOTER)),
        "passives": Count("pk", filter=Q(category=Category.PASSIVE)),
        "detractors": Count("pk", filter=Q(category=Category.DETRACTOR)),
    }
    rows: QuerySet[Any, Any]
    if filters.from_rollup and by in ("survey", "channel", "team"):
        field = {"survey": "survey__name", "channel": "channel", "team": "team"}[by]
        rows = (
            _rollup(filters)
            .values(group=F(field))
            .annotate(
                promoters=Coalesce(Sum("responses", filter=Q(score__gte=9)), 0),
                passives=Coalesce(Sum("responses", filter=Q(score__gte=7, score__lte=8)), 0),
                detractors=Coalesce(Sum("responses", filter=Q(score__lte=6)), 0),
            )
        )
    else:
        group: Any = {
            "survey": F("survey__name"),
            "channel": F("channel"),
            "team": F(HANDLING_TEAM),
            "agent": F(HANDLING_AGENT),
        }.get(by) or KeyTextTransform(by[len(ATTRIBUTE_PREFIX) :], "customer__attributes")
        rows = _responses(filters).values(group=group).annotate(**counts)
    for row in cast("Iterable[dict[str, Any]]", rows):
        yield row["group"], NpsSummary(row["promoters"], row["passives"], row["detractors"])


def nps_segments(filters: DashboardFilters, overall: NpsSummary) -> list[Segment]:
    """NPS per value of ``filters.by``, each compared with the rest (one query, and one for the
    teams' names), biggest first."""
    # Tickets name their team by slug; a slug no team has (yet) shows as it came.
    names = dict(Team.objects.values_list("slug", "name")) if filters.by == "team" else {}
    segments = []
    for group, summary in _segment_rows(filters):
        rest = remainder(overall, summary)
        versus = compare(summary, rest) if summary.enough else None
        label = "(none)" if group in (None, "") else names.get(group, str(group))
        segments.append(Segment(label, summary, versus))
    if filters.sort == "nps":
        return sorted(segments, key=lambda s: (not s.enough, s.summary.nps or 0.0, s.label))
    if filters.sort == "name":
        return sorted(segments, key=lambda s: s.label)
    return sorted(segments, key=lambda s: (-s.summary.responses, s.label))


class _Percentile(Aggregate):
    """PostgreSQL's ordered-set percentile of a duration."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=fraction, **extra)


def inner_loop(filters: DashboardFilters, *, now: datetime) -> dict[str, Any]:
    """Loop-closure and SLA figures of the cases of the filtered responses (one query), and the
    recovery check-ins (one more)."""
    after, before = filters.window
    # The window is read on the case itself; only the other filters need the responses.
    cases = Case.objects.filter(submitted_at__gte=after, submitted_at__lt=before).order_by()
    if filters.survey or filters.team or filters.attribute is not None:
        cases = cases.filter(response__in=_responses(filters).values("pk"))
    figures: dict[str, Any] = {
        "cases": Count("pk"),
        "contacted": Count("pk", filter=Q(first_contacted_at__isnull=False)),
        "first_contact_met": Count("pk", filter=Q(first_contacted_at__lte=F("first_contact_due"))),
        "first_contact_due": Count("pk", filter=Q(first_contacted_at__isnull=False) | Q(first_contact_due__lte=now)),
        "resolution_met": Count("pk", filter=Q(resolved_at__lte=F("resolution_due"))),
        "resolution_due": Count("pk", filter=Q(resolved_at__isnull=False) | Q(resolution_due__lte=now)),
        "open": Count("pk", filter=OPEN),
        "overdue": Count("pk", filter=OPEN & Q(next_due__lte=now)),
    }
    if connection.vendor == "postgresql":
        wait = F("first_contacted_at") - F("created_at")
        figures["median_first_contact"] = _Percentile(wait, 0.5)
        figures["p90_first_contact"] = _Percentile(wait, 0.9)
    row = cases.aggregate(**figures)
    row.setdefault("median_first_contact", None)
    row.setdefault("p90_first_contact", None)
    row["closure_rate"] = share(row["contacted"], row["cases"])
    row["first_contact_compliance"] = share(row["first_contact_met"], row["first_contact_due"])
    row["resolution_compliance"] = share(row["resolution_met"], row["resolution_due"])
    recovery = recovery_rates()
    row["recovery"] = {
        **recovery,
        "rate_7": share(recovery["recovered"], recovery["answered"]),
        "rate_9": share(recovery["promoted"], recovery["answered"]),
    }
    return row


def workload(*, now: datetime, team: str = "") -> dict[str, list[dict[str, Any]]]:
    """Open and overdue cases per agent and per team (two queries)."""
    cases = Case.objects.filter(OPEN).order_by()
    if team:
        cases = cases.filter(team__slug=team)
    overdue = Q(next_due__lte=now)
    return {
        group: [
            {"name": row["name"], "open": row["open"], "overdue": row["overdue"]}
            for row in cases.values(name=F(field))
            .annotate(open=Count("pk"), overdue=Count("pk", filter=overdue))
            .order_by("-overdue", "-open", "name")
        ]
        for group, field in (("agents", "owner__username"), ("teams", "team__name"))
    }


def response_rate(filters: DashboardFilters) -> dict[str, Any]:
    """Invitations delivered and answered in the window (one query); rate None without invitations."""
    after, before = filters.window
    stats = invitation_stats(
        filters={"survey": filters.survey, "sent_after": after.isoformat(), "sent_before": before.isoformat()}
    )
    delivered = sum(row["delivered"] for row in stats)
    answered = sum(row[Invitation.Status.ANSWERED] for row in stats)
    return {"delivered": delivered, "answered": answered, "rate": share(answered, delivered)}


def outer_loop(filters: DashboardFilters, overall: NpsSummary) -> dict[str, Any]:
    """Top themes by NPS impact (one query: ``overall`` are the filtered responses' counts),
    improvements shipped and customers notified (one), and those customers' NPS before and
    after their update (one): the updates of the improvements shipped in the window."""
    after, before = filters.window
    themes = theme_report(filters=filters.as_api_filters(), overall=overall)["results"][:TOP_THEMES]
    shipped = Improvement.objects.filter(shipped_at__gte=after, shipped_at__lt=before).aggregate(
        shipped=Count("pk", distinct=True),
        notified=Count(
            "updates__customer",
            distinct=True,
            filter=Q(updates__status=CustomerUpdate.Status.SENT),
        ),
    )
    updates = CustomerUpdate.objects.filter(improvement__shipped_at__gte=after, improvement__shipped_at__lt=before)
    impact = notified_impact(updates=updates)
    return {
        "themes": themes,
        **shipped,
        "notified_before": impact.before,
        "notified_after": impact.after,
        "notified_change": impact.change,
    }


@dataclass(frozen=True)
class Dashboard:
    filters: DashboardFilters
    overall: NpsSummary
    periods: list[Period]
    distribution: dict[int, int]
    segments: list[Segment]
    response_rate: dict[str, Any]
    inner: dict[str, Any]
    workload: dict[str, list[dict[str, Any]]]
    outer: dict[str, Any]


def dashboard(filters: DashboardFilters, *, now: datetime) -> Dashboard:
    """Every figure of the manager dashboard for ``filters``, in a fixed number of queries."""
    periods, distribution = nps_over_time(filters)
    overall = _summary_of(distribution)
    return Dashboard(
        filters=filters,
        overall=overall,
        periods=periods,
        distribution=distribution,
        segments=nps_segments(filters, overall),
        response_rate=response_rate(filters),
        inner=inner_loop(filters, now=now),
        workload=workload(now=now, team=filters.team),
        outer=outer_loop(filters, overall),
    )


# Figures as the reports API gives them (the same numbers the dashboard shows).


def _nps_fields(summary: NpsSummary) -> dict[str, Any]:
    return {
        "responses": summary.responses,
        "promoters": summary.promoters,
        "passives": summary.passives,
        "detractors": summary.detractors,
        "nps": rounded(summary.nps),
        "margin_of_error": rounded(summary.margin_of_error),
    }


def _comparison(change: NpsComparison | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        "difference": rounded(change.difference),
        "p_value": None if change.p_value is None else round(change.p_value, 4),
        "significant": change.significant,
    }


def report_nps_over_time(filters: DashboardFilters) -> dict[str, Any]:
    """GET /api/v1/reports/nps-over-time/: the periods, the distribution and the whole window."""
    periods, distribution = nps_over_time(filters)
    return {
        "period": filters.period,
        "start": filters.start,
        "end": filters.end,
        "min_responses": MIN_RESPONSES,
        "overall": _nps_fields(_summary_of(distribution)),
        "distribution": [{"score": score, "responses": n} for score, n in distribution.items()],
        "results": [
            {"period": p.label, "enough": p.enough, **_nps_fields(p.summary), "change": _comparison(p.change)}
            for p in periods
        ],
    }


def report_segments(filters: DashboardFilters) -> dict[str, Any]:
    """GET /api/v1/reports/segments/: NPS per segment, each compared with the rest."""
    _periods, distribution = nps_over_time(filters)
    return {
        "by": filters.by,
        "results": [
            {
                "segment": s.label,
                "enough": s.enough,
                **_nps_fields(s.summary),
                "versus_rest": _comparison(s.versus_rest),
                "significantly_below": s.lagging,
            }
            for s in nps_segments(filters, _summary_of(distribution))
        ],
    }


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


def report_loop(filters: DashboardFilters, *, now: datetime) -> dict[str, Any]:
    """GET /api/v1/reports/loop/: the inner- and outer-loop figures and the response rate."""
    _periods, distribution = nps_over_time(filters)
    inner = inner_loop(filters, now=now)
    inner["median_first_contact_hours"] = _hours(inner.pop("median_first_contact"))
    inner["p90_first_contact_hours"] = _hours(inner.pop("p90_first_contact"))
    outer = outer_loop(filters, _summary_of(distribution))
    before, after = outer.pop("notified_before"), outer.pop("notified_after")
    outer["notified_nps"] = {
        "before": {"enough": before.enough, **_nps_fields(before)},
        "after": {"enough": after.enough, **_nps_fields(after)},
        "change": _comparison(outer.pop("notified_change")),
    }
    return {
        "response_rate": response_rate(filters),
        "inner": inner,
        "workload": workload(now=now, team=filters.team),
        "outer": outer,
    }


# Streaming exports: rows read through a server-side cursor a chunk at a time, never a whole table.

EXPORT_CHUNK = 2000
RESPONSE_COLUMNS = (
    "id",
    "survey",
    "customer",
    "score",
    "category",
    "channel",
    "submitted_at",
    "ticket_ref",
    "comment",
)
CASE_COLUMNS = (
    "id",
    "response",
    "survey",
    "score",
    "team",
    "owner",
    "status",
    "priority",
    "created_at",
    "first_contact_due",
    "first_contacted_at",
    "resolution_due",
    "resolved_at",
    "resolution_code",
    "root_causes",
)


def response_export_rows(filters: DashboardFilters) -> Iterator[tuple[Any, ...]]:
    """The filtered responses as export rows, oldest first, streamed."""
    rows = (
        _responses(filters)
        .order_by("submitted_at", "pk")
        .values_list(
            "pk",
            "survey__slug",
            "customer__external_id",
            "score",
            "category",
            "channel",
            "submitted_at",
            "ticket_ref",
            "comment",
        )
    )
    return rows.iterator(chunk_size=EXPORT_CHUNK)


def case_export_rows(filters: DashboardFilters) -> Iterator[tuple[Any, ...]]:
    """The cases of the filtered responses with their codes, by response, streamed.

    The root causes come from a second stream in the same order, merged row by row, so neither
    query holds more than a chunk in memory however many cases there are.
    """
    responses = _responses(filters).values("pk")
    cases = (
        Case.objects.filter(response__in=responses)
        .order_by("response_id")
        .values_list(
            "pk",
            "response_id",
            "response__survey__slug",
            "response__score",
            "team__slug",
            "owner__username",
            "status",
            "priority",
            "created_at",
            "first_contact_due",
            "first_contacted_at",
            "resolution_due",
            "resolved_at",
            "resolution_code__slug",
        )
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    codes = (
        ResponseRootCause.objects.filter(response__in=responses, response__case__isnull=False)
        .order_by("response_id", "root_cause__slug")
        .values_list("response_id", "root_cause__slug")
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    pending = next(codes, None)
    for case in cases:
        response_id = case[1]
        slugs = []
        while pending is not None and pending[0] <= response_id:
            if pending[0] == response_id:
                slugs.append(pending[1])
            pending = next(codes, None)
        yield (*case, ";".join(slugs))
