"""Reads of the managers' weekly digest: the week's NPS against the week before, its new and rising
themes, the cases overdue now and the improvements shipped in the week; seven queries whatever the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F
from django.utils import timezone

from followups.models import Case, Improvement
from followups.models.cases import OPEN
from followups.selectors import theme_report
from followups.weekly_digest import DigestWeek, new_and_rising
from surveys.nps import NpsComparison, NpsSummary, compare
from surveys.selectors import nps_summary

OVERDUE_LISTED = 10


@dataclass(frozen=True, slots=True)
class ManagerDigest:
    week: DigestWeek
    current: NpsSummary
    previous: NpsSummary
    change: NpsComparison | None
    new_themes: list[dict[str, Any]]
    rising_themes: list[dict[str, Any]]
    overdue_count: int
    overdue: list[Case]  # the longest overdue first, at most OVERDUE_LISTED
    shipped: list[Improvement]


def manager_digest(*, week: DigestWeek, now: datetime) -> ManagerDigest:
    """The figures of the digest of ``week``; the overdue cases are those overdue at ``now``."""
    start, end = week.bounds(timezone.get_default_timezone())
    previous_start, _ = week.previous().bounds(timezone.get_default_timezone())
    current = nps_summary(submitted_after=start, submitted_before=end)
    previous = nps_summary(submitted_after=previous_start, submitted_before=start)
    themes = theme_report(filters={"submitted_after": start.isoformat(), "submitted_before": end.isoformat()})
    new, rising = new_and_rising(themes["results"])
    overdue = Case.objects.filter(OPEN, next_due__lte=now)
    return ManagerDigest(
        week=week,
        current=current,
        previous=previous,
        # A week of fewer than MIN_RESPONSES answers says nothing, so neither does its change.
        change=compare(current, previous) if current.enough and previous.enough else None,
        new_themes=new,
        rising_themes=rising,
        overdue_count=overdue.count(),
        overdue=list(
            overdue.select_related("response__customer", "owner", "team").order_by(F("next_due").asc(), "pk")[
                :OVERDUE_LISTED
            ]
        ),
        shipped=list(
            Improvement.objects.filter(
                status=Improvement.Status.SHIPPED, shipped_at__gte=start, shipped_at__lt=end
            ).order_by("shipped_at", "pk")
        ),
    )
