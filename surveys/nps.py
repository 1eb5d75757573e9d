"""NPS arithmetic: pure functions, no database.

NPS is the share of promoters (9-10) minus the share of detractors (0-6), in points from -100 to
+100. Each answer can be read as a value of +1 (promoter), 0 (passive) or -1 (detractor); NPS is
100 times the mean of that value, so its sampling variance is that of a mean of a three-point
variable: ``(p + d - (p - d)**2) / n`` for promoter share p and detractor share d.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

# Two-sided 95 % critical value of the standard normal distribution.
Z_95 = 1.959963984540054
# Below this many responses a sample shows its counts but no NPS: the margin of error of 30
# answers is already about ±30 points.
MIN_RESPONSES = 30


class Category(StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


def classify(score: int) -> Category:
    """Return the NPS category of a 0-10 score; raise ValueError outside that range."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise ValueError(f"an NPS score is an integer from 0 to 10, not {score!r}")
    if score >= 9:
        return Category.PROMOTER
    if score >= 7:
        return Category.PASSIVE
    return Category.DETRACTOR


@dataclass(frozen=True)
class NpsSummary:
    """Counts of one sample and the NPS figures derived from them."""

    promoters: int
    passives: int
    detractors: int

    @property
    def responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def enough(self) -> bool:
        """Whether the sample is big enough for its NPS to be shown (``MIN_RESPONSES``)."""
        return self.responses >= MIN_RESPONSES

    @property
    def nps(self) -> float | None:
        """NPS in points, or None for an empty sample."""
        if not self.responses:
            return None
        return 100.0 * (self.promoters - self.detractors) / self.responses

    @property
    def standard_error(self) -> float | None:
        """Standard error of the NPS, in points; None for an empty sample."""
        n = self.responses
        if not n:
            return None
        p, d = self.promoters / n, self.detractors / n
        variance = max(p + d - (p - d) ** 2, 0.0)
        return 100.0 * math.sqrt(variance / n)

    @property
    def margin_of_error(self) -> float | None:
        """Half-width of the 95 % confidence interval, in NPS points."""
        se = self.standard_error
        return None if se is None else Z_95 * se


def nps(promoters: int, passives: int, detractors: int) -> float | None:
    """NPS of the given counts, in points from -100 to +100 (None when there are none)."""
    return NpsSummary(promoters, passives, detractors).nps


def margin_of_error(promoters: int, passives: int, detractors: int) -> float | None:
    """95 % margin of error of the NPS of the given counts, in points."""
    return NpsSummary(promoters, passives, detractors).margin_of_error


@dataclass(frozen=True)
class NpsComparison:
    """Difference between two independent samples' NPS (a minus b) and its significance."""

    difference: float
    standard_error: float
    z: float | None
    p_value: float | None

    @property
    def significant(self) -> bool:
        """True when the difference is significant at the 5 % level (two-sided)."""
        return self.p_value is not None and self.p_value < 0.05


def compare(a: NpsSummary, b: NpsSummary) -> NpsComparison | None:
    """Two-sample z-test for the difference of two NPS values.

    The samples are independent (two periods or two segments), so the variance of the
    difference is the sum of the variances. Returns None when either sample is empty.
    When both samples have no spread (say, all promoters on one side and all detractors on the
    other) the standard error is zero: a non-zero difference is then reported with p = 0.
    """
    if a.nps is None or b.nps is None:
        return None
    difference = a.nps - b.nps
    se = math.hypot(a.standard_error or 0.0, b.standard_error or 0.0)
    if se == 0.0:
        p_value = 1.0 if difference == 0 else 0.0
        return NpsComparison(difference, 0.0, None, p_value)
    z = difference / se
    p_value = math.erfc(abs(z) / math.sqrt(2))
    return NpsComparison(difference, se, z, p_value)


def rounded(value: float | None) -> float | None:
    """Round a figure to one decimal for display and the API (None stays None)."""
    return None if value is None else round(value, 1)
