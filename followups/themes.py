"""Theme analytics over plain counts: which root causes move NPS, and how much. No database.

A theme is a root cause (or, rolled up, a category) and the responses coded to it. Its NPS
impact is the overall NPS minus the NPS of the responses *not* coded to it: how far NPS would
move if the theme's responses had not been given. A theme that drags NPS down has a negative
impact. Every NPS figure, margin of error and significance test is ``surveys.nps``'s; this
module only subtracts counts, divides shares and ranks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from surveys.nps import NpsSummary, compare, rounded

# Shares (0-1) are given to four decimals: a hundredth of a percentage point.
SHARE_DECIMALS = 4


class Level(StrEnum):
    """What a theme row stands for: one root cause, or a category with its causes rolled up."""

    CAUSE = "cause"
    CATEGORY = "category"


class Segment(StrEnum):
    """Which responses are counted: all of them (what to fix) or promoters' only (what to keep doing)."""

    ALL = "all"
    PROMOTERS = "promoters"


@dataclass(frozen=True, slots=True)
class ThemeCounts:
    """What the database counts for one theme: its responses, by category, in each period."""

    slug: str
    name: str
    category: str | None  # the parent category's slug; None for a category
    current: NpsSummary
    previous: NpsSummary  # the period before; empty when none was asked for


@dataclass(frozen=True, slots=True)
class Totals:
    """Every response the filters select, coded or not, in each period."""

    current: NpsSummary
    previous: NpsSummary


EMPTY = NpsSummary(0, 0, 0)


def remainder(overall: NpsSummary, part: NpsSummary) -> NpsSummary:
    """The responses of ``overall`` that are not in ``part``, category by category.

    ``part`` must be a subset of ``overall``: a count larger than the overall one is a ValueError.
    """
    rest = NpsSummary(
        overall.promoters - part.promoters, overall.passives - part.passives, overall.detractors - part.detractors
    )
    if min(rest.promoters, rest.passives, rest.detractors) < 0:
        raise ValueError(f"{part} is not a part of {overall}")
    return rest


def nps_impact(overall: NpsSummary, theme: NpsSummary) -> float | None:
    """Overall NPS minus the NPS of the responses not coded to the theme, in points.

    None when there is nothing to compare with: no responses at all, or every one coded to it.
    """
    rest = remainder(overall, theme).nps
    if overall.nps is None or rest is None:
        return None
    return overall.nps - rest


def share(part: int, whole: int) -> float | None:
    """``part`` as a share (0-1) of ``whole``; None when ``whole`` is zero."""
    if whole == 0:
        return None
    return part / whole


def previous_period(after: datetime, before: datetime) -> tuple[datetime | None, datetime] | None:
    """The period of the same length just before ``[after, before)``, as (start, end).

    None for an empty period (``before`` not later than ``after``): nothing to compare. A start
    that would fall before the calendar does (year 1) is None, an open start: no response is
    that old.
    """
    length = before - after
    if length <= timedelta(0):
        return None
    try:
        start: datetime | None = after - length
    except OverflowError:
        start = None
    return start, after


def _share(part: int, whole: int) -> float | None:
    value = share(part, whole)
    return None if value is None else round(value, SHARE_DECIMALS)


def theme_row(theme: ThemeCounts, totals: Totals, *, with_previous: bool) -> dict[str, Any]:
    """One row of the themes report, figures rounded as the API gives them."""
    s = theme.current
    row: dict[str, Any] = {
        "root_cause": theme.slug,
        "name": theme.name,
        "category": theme.category,
        "responses": s.responses,
        "promoters": s.promoters,
        "passives": s.passives,
        "detractors": s.detractors,
        "enough": s.enough,
        "nps": rounded(s.nps),
        "nps_margin_of_error": rounded(s.margin_of_error),
        "nps_impact": rounded(nps_impact(totals.current, s)),
        "detractor_share": _share(s.detractors, totals.current.detractors),
        "promoter_share": _share(s.promoters, totals.current.promoters),
    }
    if with_previous:
        change = compare(s, theme.previous)
        row["previous_responses"] = theme.previous.responses
        row["previous_enough"] = theme.previous.enough
        row["previous_nps"] = rounded(theme.previous.nps)
        row["nps_change"] = None if change is None else rounded(change.difference)
        row["change_significant"] = None if change is None else change.significant
    return row


def _rank(theme: ThemeCounts, totals: Totals, segment: Segment) -> tuple[Any, ...]:
    if segment == Segment.PROMOTERS:
        return (-theme.current.responses, theme.slug)
    impact = nps_impact(totals.current, theme.current)
    # Unrounded, so the order is exact. A theme without an impact goes last: the first item
    # sets those apart, so None is only ever compared with None (equal) and then the slug.
    return (impact is None, impact, theme.slug)


def theme_rows(
    themes: Iterable[ThemeCounts], totals: Totals, *, segment: Segment = Segment.ALL, with_previous: bool = False
) -> list[dict[str, Any]]:
    """The report's rows: the themes with responses in the period, ranked.

    By NPS impact, most negative first, for all responses; by responses, most first, for
    promoters' (what they cite most). Ties go by slug.
    """
    present = [theme for theme in themes if theme.current.responses > 0]
    present.sort(key=lambda theme: _rank(theme, totals, segment))
    return [theme_row(theme, totals, with_previous=with_previous) for theme in present]
