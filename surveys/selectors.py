"""Reads of the intake app: response lists and NPS aggregates, each one set-based query."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, cast

import django_filters
from django.db.models import Count, Expression, F, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncDay, TruncMonth, TruncQuarter, TruncWeek
from django.utils import timezone

from closedloop.lib.filters import DateTimeFilter, FilterSet, apply_filters
from surveys.csv_import import header_key
from surveys.models import CATEGORY_CHOICES, Invitation, Response, SavedMapping, Survey
from surveys.nps import Category, NpsSummary, compare, rounded

TIME_GROUPS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth, "quarter": TruncQuarter}
ATTRIBUTE_PREFIX = "attribute:"


class ResponseFilter(FilterSet):
    survey = django_filters.CharFilter(field_name="survey__slug")
    category = django_filters.ChoiceFilter(choices=CATEGORY_CHOICES)
    customer = django_filters.CharFilter(field_name="customer__external_id")
    submitted_after = DateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_before = DateTimeFilter(field_name="submitted_at", lookup_expr="lt")

    class Meta:
        model = Response
        fields = ["survey", "category", "customer", "submitted_after", "submitted_before"]


def response_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Response]:
    """Responses matching the API filters, newest first, with survey and customer joined.

    Raises django's ValidationError (a 400 through the API) for malformed filter values.
    """
    queryset = Response.objects.select_related("survey", "customer").order_by("-submitted_at", "-id")
    return apply_filters(ResponseFilter, filters, queryset)


def survey_list() -> QuerySet[Survey]:
    return Survey.objects.order_by("slug")


@dataclass(frozen=True)
class NpsRow:
    group: str | None
    summary: NpsSummary

    def as_dict(self, previous: NpsRow | None = None) -> dict[str, Any]:
        """The API row; with ``previous`` (the period before), the change and its significance."""
        s = self.summary
        row: dict[str, Any] = {
            "group": self.group,
            "responses": s.responses,
            "promoters": s.promoters,
            "passives": s.passives,
            "detractors": s.detractors,
            "nps": rounded(s.nps),
            "margin_of_error": rounded(s.margin_of_error),
        }
        if previous is not None:
            change = compare(s, previous.summary)
            row["change"] = change and {
                "from": previous.group,
                "difference": rounded(change.difference),
                "p_value": None if change.p_value is None else round(change.p_value, 4),
                "significant": change.significant,
            }
        return row


def group_expression(group_by: str) -> Expression | None:
    """The SQL expression for a time or attribute ``group_by`` of API.md; None if unknown."""
    if group_by in TIME_GROUPS:
        return TIME_GROUPS[group_by]("submitted_at", tzinfo=timezone.get_current_timezone())
    if group_by.startswith(ATTRIBUTE_PREFIX) and len(group_by) > len(ATTRIBUTE_PREFIX):
        return KeyTextTransform(group_by[len(ATTRIBUTE_PREFIX) :], "customer__attributes")
    return None


def nps_breakdown(
    *, responses: QuerySet[Response], group: Expression | F | None = None, group_by: str = ""
) -> list[NpsRow]:
    """NPS per group in one aggregate query (one row, group None, when ``group`` is None).

    Counting the category column (never null) with FILTER lets PostgreSQL answer a date range from the covering index
    on (submitted_at) INCLUDE (category) without reading the table.
    """
    counts = {
        "promoters": Count("category", filter=Q(category=Category.PROMOTER)),
        "passives": Count("category", filter=Q(category=Category.PASSIVE)),
        "detractors": Count("category", filter=Q(category=Category.DETRACTOR)),
    }
    if group is None:
        totals = responses.order_by().aggregate(**counts)
        return [NpsRow(None, NpsSummary(**totals))]
    rows = (
        responses.order_by()
        .annotate(group=group)
        .values("group")
        .annotate(**counts)
        .order_by(F("group").asc(nulls_last=True))
    )
    return [
        NpsRow(period_label(row["group"], group_by), NpsSummary(row["promoters"], row["passives"], row["detractors"]))
        for row in cast("Iterable[dict[str, Any]]", rows)
    ]


def period_label(value: Any, group_by: str) -> str | None:
    """How a group is named in the API: 2026-11-20, 2026-W47, 2026-11, 2026-Q4, or the value."""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        if group_by == "week":
            year, week, _ = value.isocalendar()
            return f"{year}-W{week:02d}"
        if group_by == "month":
            return f"{value:%Y-%m}"
        if group_by == "quarter":
            return f"{value.year}-Q{(value.month - 1) // 3 + 1}"
        return value.isoformat()
    return None if value is None else str(value)


def nps_summary(*, submitted_after: datetime | None = None, submitted_before: datetime | None = None) -> NpsSummary:
    """NPS of the responses submitted from ``submitted_after`` (inclusive) to ``submitted_before``, in one query."""
    responses = Response.objects.all()
    if submitted_after is not None:
        responses = responses.filter(submitted_at__gte=submitted_after)
    if submitted_before is not None:
        responses = responses.filter(submitted_at__lt=submitted_before)
    return nps_breakdown(responses=responses)[0].summary


def nps_monthly_trend(*, today: date, months: int) -> list[tuple[date, NpsSummary]]:
    """NPS of each of the last ``months`` months up to today's, newest first, in one query.

    Months without responses still get a row, so the trend reads as a continuous year.
    """
    firsts = _last_months(today, months)
    start = timezone.make_aware(datetime.combine(firsts[0], time.min))
    rows = nps_breakdown(
        responses=Response.objects.filter(submitted_at__gte=start), group=group_expression("month"), group_by="month"
    )
    by_month = {row.group: row.summary for row in rows}
    return [(month, by_month.get(f"{month:%Y-%m}", NpsSummary(0, 0, 0))) for month in reversed(firsts)]


def _last_months(today: date, count: int) -> list[date]:
    """The first days of the ``count`` months up to and including today's, oldest first."""
    current = today.year * 12 + today.month - 1
    return [date(index // 12, index % 12 + 1, 1) for index in range(current - count + 1, current + 1)]


class InvitationFilter(FilterSet):
    survey = django_filters.CharFilter(field_name="survey__slug")
    sent_after = DateTimeFilter(field_name="send_at", lookup_expr="gte")
    sent_before = DateTimeFilter(field_name="send_at", lookup_expr="lt")

    class Meta:
        model = Invitation
        fields = ["survey", "sent_after", "sent_before"]


DELIVERED = (Invitation.Status.SENT, Invitation.Status.ANSWERED)


def invitation_stats(*, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Per survey: invitations by status, suppressions by reason, and the response rate
    (answered / delivered, where delivered means sent or answered), in one query."""
    invitations = apply_filters(InvitationFilter, filters, Invitation.objects.all())
    counts: dict[str, Any] = {status: Count("pk", filter=Q(status=status)) for status in Invitation.Status.values}
    counts.update({f"reason_{reason}": Count("pk", filter=Q(reason=reason)) for reason in Invitation.Reason.values})
    rows = invitations.values("survey__slug").annotate(**counts).order_by("survey__slug")
    return [_stats(row) for row in rows]


def _stats(row: dict[str, Any]) -> dict[str, Any]:
    delivered = sum(row[status] for status in DELIVERED)
    return {
        "survey": row["survey__slug"],
        **{status: row[status] for status in Invitation.Status.values},
        "suppressed_by_reason": {
            reason: row[f"reason_{reason}"] for reason in Invitation.Reason.values if row[f"reason_{reason}"]
        },
        "delivered": delivered,
        "response_rate": round(row[Invitation.Status.ANSWERED] / delivered, 4) if delivered else None,
    }


def recovery_rates() -> dict[str, int]:
    """Recovery check-ins answered, and how many of those answered 7 or more, and 9 or more (one query)."""
    answered = Invitation.objects.filter(recovers__isnull=False, response__isnull=False)
    return answered.aggregate(
        answered=Count("pk"),
        recovered=Count("pk", filter=Q(response__score__gte=7)),
        promoted=Count("pk", filter=Q(response__score__gte=9)),
    )


def saved_mapping_for(header: Sequence[str]) -> SavedMapping | None:
    """The latest mapping saved for files with these columns (in any order), if any."""
    return SavedMapping.objects.filter(header_key=header_key(header)).order_by("-updated_at").first()
