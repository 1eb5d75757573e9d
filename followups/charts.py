"""Geometry of the small SVG charts the pages draw on the server. Pure, no database.

Numbers in, coordinates out: the templates only place them, so every page can show a chart
without any script, and each chart sits next to the table that says the same in figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a diverging bar chart whose zero is in the middle: ``x`` and ``width`` in pixels."""

    x: float
    width: float
    negative: bool


def diverging_bar(value: float | None, *, limit: float, width: float) -> Bar | None:
    """The bar of ``value`` on an axis from ``-limit`` to ``+limit`` drawn ``width`` pixels wide.

    Zero is at the middle; a value beyond the limit is drawn to the edge. None draws nothing,
    and so does a limit that is not positive (nothing to scale by).
    """
    if value is None or limit <= 0:
        return None
    middle = width / 2
    length = min(abs(value) / limit, 1.0) * middle
    if value < 0:
        return Bar(x=round(middle - length, 2), width=round(length, 2), negative=True)
    return Bar(x=round(middle, 2), width=round(length, 2), negative=False)


def scale_limit(values: Sequence[float | None]) -> float:
    """The axis half-width that fits every value: the largest magnitude, at least one point."""
    return max([1.0, *(abs(value) for value in values if value is not None)])


def sparkline(values: Sequence[float | None], *, width: float, height: float, pad: float = 2.0) -> list[str]:
    """SVG polyline ``points`` for a series drawn left to right, one line per run without gaps.

    A None (a month without responses) breaks the line. The series fills the height between its
    own lowest and highest values; a flat series is drawn across the middle. A run of one value
    is drawn as a short dash, so a lone month still shows.
    """
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    known = [value for value in values if value is not None]
    if not known:
        return []
    low, high = min(known), max(known)
    span = high - low

    def y(value: float) -> float:
        if span == 0:
            return round(height / 2, 2)
        return round(pad + (high - value) / span * (height - 2 * pad), 2)

    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for index, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
            continue
        current.append((round(pad + index * step, 2), y(value)))
    if current:
        runs.append(current)
    lines = []
    for run in runs:
        if len(run) == 1:
            (x, y_only) = run[0]
            run = [(max(x - 1.5, 0.0), y_only), (min(x + 1.5, width), y_only)]
        lines.append(" ".join(f"{x:g},{y_value:g}" for x, y_value in run))
    return lines


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One period of an NPS line chart: its centre ``x``, the NPS at ``y``, the band from ``low`` to ``high``."""

    x: float
    y: float
    low: float
    high: float
    significant: bool


@dataclass(frozen=True, slots=True)
class TrendChart:
    """An NPS line chart on a fixed -100..+100 axis: runs of points, their bands, reference lines."""

    width: float
    height: float
    lines: list[str]
    bands: list[str]
    points: list[TrendPoint]
    references: dict[int, float]  # NPS value -> y of its horizontal line


def nps_trend(
    periods: Sequence[tuple[float, float, bool] | None], *, width: float, height: float, pad: float = 8.0
) -> TrendChart:
    """Geometry of an NPS line with its 95 % band, one slot per period, left to right.

    Each period is (nps, margin, significant change from the one before) or None when it has too
    few responses to say anything: None breaks the line and the band there. The axis always runs
    from -100 to +100 so two charts compare at a glance; a band is clipped to it. Reference lines
    sit at 0 (above is good) and 50 (excellent).
    """
    step = (width - 2 * pad) / max(len(periods), 1)

    def y(value: float) -> float:
        clipped = max(-100.0, min(100.0, value))
        return round(pad + (100.0 - clipped) / 200.0 * (height - 2 * pad), 2)

    runs: list[list[TrendPoint]] = []
    current: list[TrendPoint] = []
    for index, period in enumerate(periods):
        if period is None:
            if current:
                runs.append(current)
            current = []
            continue
        value, margin, significant = period
        x = round(pad + (index + 0.5) * step, 2)
        current.append(TrendPoint(x, y(value), y(value - margin), y(value + margin), significant))
    if current:
        runs.append(current)
    points = [point for run in runs for point in run]
    lines, bands = [], []
    for run in runs:
        if len(run) == 1:
            # A lone period still shows: a short dash and a thin band around it.
            (only,) = run
            run = [
                TrendPoint(only.x - 3, only.y, only.low, only.high, False),
                TrendPoint(only.x + 3, only.y, only.low, only.high, False),
            ]
        lines.append(" ".join(f"{p.x:g},{p.y:g}" for p in run))
        upper = [f"{p.x:g},{p.high:g}" for p in run]
        lower = [f"{p.x:g},{p.low:g}" for p in reversed(run)]
        bands.append(" ".join(upper + lower))
    return TrendChart(width, height, lines, bands, points, {0: y(0), 50: y(50)})
