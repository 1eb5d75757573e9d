"""The home page's NPS reads: a period's summary and the monthly trend, straight from the selectors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine

from surveys.nps import NpsSummary
from surveys.selectors import nps_monthly_trend, nps_summary
from tests.factories import make_response

T = datetime(2026, 3, 10, 12, tzinfo=UTC)


@time_machine.travel(T + timedelta(days=1), tick=False)
def test_a_period_counts_from_its_start_inclusive_to_its_end_exclusive(survey):
    make_response(10, submitted_at=T - timedelta(days=1))
    make_response(9, submitted_at=T)
    make_response(2, submitted_at=T + timedelta(hours=1))

    assert nps_summary() == NpsSummary(2, 0, 1)
    assert nps_summary(submitted_after=T) == NpsSummary(1, 0, 1)
    assert nps_summary(submitted_before=T) == NpsSummary(1, 0, 0)
    assert nps_summary(submitted_after=T, submitted_before=T + timedelta(hours=1)) == NpsSummary(1, 0, 0)


@time_machine.travel(T, tick=False)
def test_the_trend_has_a_row_per_month_across_the_new_year_newest_first(survey):
    make_response(7, submitted_at=datetime(2026, 1, 3, tzinfo=UTC))
    make_response(0, submitted_at=datetime(2025, 12, 31, 23, tzinfo=UTC))
    make_response(10, submitted_at=datetime(2025, 11, 30, 23, tzinfo=UTC))  # before the four months

    trend = nps_monthly_trend(today=date(2026, 3, 10), months=4)

    assert trend == [
        (date(2026, 3, 1), NpsSummary(0, 0, 0)),
        (date(2026, 2, 1), NpsSummary(0, 0, 0)),
        (date(2026, 1, 1), NpsSummary(0, 1, 0)),
        (date(2025, 12, 1), NpsSummary(0, 0, 1)),
    ]
