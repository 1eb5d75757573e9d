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
