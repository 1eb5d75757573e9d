"""The theme arithmetic of followups.themes, over plain counts: no database.

Every expected value is worked out by hand in the comments. The running example: 10 responses,
5 promoters, 2 passives and 3 detractors (NPS (5 - 3) / 10 = +20), and a theme coded on 4 of
them: 1 passive and the 3 detractors (NPS (0 - 3) / 4 = -75). The other 6 are 5 promoters and
1 passive, NPS 5 / 6 = +83.33, so the theme's impact is 20 - 83.33 = -63.33 (-190/3).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from followups.themes import (
    EMPTY,
    SHARE_DECIMALS,
    Level,
    Segment,
    ThemeCounts,
    Totals,
    nps_impact,
    previous_period,
    remainder,
    share,
    theme_row,
    theme_rows,
)
from surveys.nps import NpsSummary

OVERALL = NpsSummary(5, 2, 3)
THEME = NpsSummary(0, 1, 3)
TOTALS = Totals(current=OVERALL, previous=EMPTY)


def theme(slug: str, current: NpsSummary, previous: NpsSummary = EMPTY, **fields) -> ThemeCounts:
    return ThemeCounts(
        slug=slug,
        name=fields.get("name", slug.title()),
        category=fields.get("category", "process"),
        current=current,
        previous=previous,
    )


def test_the_constants() -> None:
    assert SHARE_DECIMALS == 4
    assert NpsSummary(0, 0, 0) == EMPTY
    assert [level.value for level in Level] == ["cause", "category"]
    assert [segment.value for segment in Segment] == ["all", "promoters"]


# remainder


def test_the_remainder_is_what_the_theme_leaves_of_each_category() -> None:
    assert remainder(OVERALL, THEME) == NpsSummary(5, 1, 0)
    assert remainder(OVERALL, EMPTY) == OVERALL


def test_a_theme_of_every_response_leaves_nothing() -> None:
    assert remainder(OVERALL, OVERALL) == NpsSummary(0, 0, 0)


@pytest.mark.parametrize("part", [NpsSummary(6, 0, 0), NpsSummary(0, 3, 0), NpsSummary(0, 0, 4)])
def test_a_part_larger_than_the_whole_in_any_category_is_refused(part: NpsSummary) -> None:
    with pytest.raises(ValueError, match="is not a part of"):
        remainder(OVERALL, part)


# nps_impact


def test_a_theme_of_detractors_has_a_negative_impact() -> None:
    # 20 - 500/6 = 20 - 83.333... = -190/3
    assert nps_impact(OVERALL, THEME) == pytest.approx(-190 / 3)


def test_a_theme_of_promoters_has_a_positive_impact() -> None:
    # Coded: 3 promoters. The rest: 2 promoters, 2 passives, 3 detractors: NPS -1/7 = -14.29.
    # 20 - (-100/7) = 240/7 = 34.29.
    assert nps_impact(OVERALL, NpsSummary(3, 0, 0)) == pytest.approx(240 / 7)


def test_a_theme_like_the_rest_has_no_impact() -> None:
    # Coded: 1 promoter, 1 passive, 1 detractor (NPS 0); the rest 4, 1, 2 (NPS 2/7 * 100).
    # Overall 20; 20 - 28.57 = -8.57 = -60/7: not zero, it is the rest's NPS that moves.
    assert nps_impact(OVERALL, NpsSummary(1, 1, 1)) == pytest.approx(-60 / 7)
    # Half of everything: the rest has the overall mix, impact exactly 0.
    assert nps_impact(NpsSummary(2, 2, 2), NpsSummary(1, 1, 1)) == 0.0


def test_no_impact_without_a_rest_or_without_responses() -> None:
    assert nps_impact(OVERALL, OVERALL) is None
    assert nps_impact(EMPTY, EMPTY) is None


def test_an_impact_of_an_empty_theme_is_zero() -> None:
    assert nps_impact(OVERALL, EMPTY) == 0.0


# share


def test_a_share_is_the_part_over_the_whole() -> None:
    assert share(3, 3) == 1.0
    assert share(1, 4) == 0.25
    assert share(0, 5) == 0.0


def test_a_share_of_nothing_is_none() -> None:
    assert share(0, 0) is None


# previous_period


def test_the_previous_period_has_the_same_length_and_ends_where_this_one_starts() -> None:
    after, before = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC)
    assert previous_period(after, before) == (datetime(2026, 10, 25, tzinfo=UTC), after)


def test_a_period_of_one_microsecond_has_a_previous_one() -> None:
    after = datetime(2026, 11, 1, tzinfo=UTC)
    one = timedelta(microseconds=1)
    assert previous_period(after, after + one) == (after - one, after)


@pytest.mark.parametrize("days", [0, -1])
def test_an_empty_period_has_no_previous_one(days: int) -> None:
    after = datetime(2026, 11, 1, tzinfo=UTC)
    assert previous_period(after, after + timedelta(days=days)) is None


def test_a_previous_period_before_the_calendar_starts_is_open() -> None:
    after = datetime(1, 1, 2, tzinfo=UTC)
    assert previous_period(after, datetime(1, 1, 4, tzinfo=UTC)) == (None, after)
    # One day fits: it starts on the first day of the calendar.
    assert previous_period(after, datetime(1, 1, 3, tzinfo=UTC)) == (datetime(1, 1, 1, tzinfo=UTC), after)


# theme_row


def test_a_row_gives_counts_nps_impact_and_shares() -> None:
    # Margin of error of (0, 1, 3): p = 0, d = 3/4, variance (0 + 0.75 - 0.75**2) / 4 = 0.046875,
    # standard error 21.65 points, times 1.96: 42.43.
    row = theme_row(
        theme("slow-response", THEME, name="Slow first response", category="process"), TOTALS, with_previous=False
    )
    assert row == {
        "root_cause": "slow-response",
        "name": "Slow first response",
        "category": "process",
        "responses": 4,
        "promoters": 0,
        "passives": 1,
        "detractors": 3,
        "enough": False,  # 30 responses are needed for an NPS worth showing
        "nps": -75.0,
        "nps_margin_of_error": 42.4,
        "nps_impact": -63.3,
        "detractor_share": 1.0,  # all 3 detractors cite it
        "promoter_share": 0.0,  # none of the 5 promoters does
    }


def test_shares_are_of_all_filtered_detractors_and_promoters_to_four_decimals() -> None:
    # 1 of 3 detractors, 2 of 5 promoters.
    row = theme_row(theme("vpn", NpsSummary(2, 0, 1)), TOTALS, with_previous=False)
    assert row["detractor_share"] == 0.3333
    assert row["promoter_share"] == 0.4


def test_shares_are_null_without_detractors_or_promoters() -> None:
    row = theme_row(theme("vpn", NpsSummary(0, 1, 0)), Totals(NpsSummary(0, 2, 0), EMPTY), with_previous=False)
    assert row["detractor_share"] is None
    assert row["promoter_share"] is None
    assert row["nps"] == 0.0
    assert row["nps_impact"] == 0.0


def test_a_row_of_every_response_has_no_impact() -> None:
    assert theme_row(theme("vpn", OVERALL), TOTALS, with_previous=False)["nps_impact"] is None


def test_a_significant_change_since_the_previous_period() -> None:
    # Previous: 1 promoter, 1 passive: NPS 50, standard error sqrt((0.5 - 0.25) / 2) = 35.36.
    # Change -75 - 50 = -125; standard error hypot(21.65, 35.36) = 41.46; z = -3.02, p = 0.0026.
    row = theme_row(theme("vpn", THEME, NpsSummary(1, 1, 0)), TOTALS, with_previous=True)
    assert (row["previous_responses"], row["previous_nps"], row["nps_change"], row["change_significant"]) == (
        2,
        50.0,
        -125.0,
        True,
    )


def test_a_change_within_the_noise_is_not_significant() -> None:
    # Previous: 1 passive, 2 detractors: NPS -66.67, standard error 27.22; change -8.33,
    # standard error hypot(21.65, 27.22) = 34.78, z = -0.24.
    row = theme_row(theme("vpn", THEME, NpsSummary(0, 1, 2)), TOTALS, with_previous=True)
    assert (row["previous_responses"], row["previous_nps"], row["nps_change"], row["change_significant"]) == (
        3,
        -66.7,
        -8.3,
        False,
    )


def test_without_previous_responses_there_is_no_change() -> None:
    row = theme_row(theme("vpn", THEME), TOTALS, with_previous=True)
    assert (row["previous_responses"], row["previous_nps"], row["nps_change"], row["change_significant"]) == (
        0,
        None,
        None,
        None,
    )


def test_without_a_previous_period_the_row_does_not_mention_one() -> None:
    row = theme_row(theme("vpn", THEME, NpsSummary(1, 1, 0)), TOTALS, with_previous=False)
    comparison = {"previous_responses", "previous_enough", "previous_nps", "nps_change", "change_significant"}
    assert not comparison & row.keys()


# theme_rows


def _slugs(rows: list[dict]) -> list[str]:
    return [row["root_cause"] for row in rows]


def test_rows_go_from_the_most_negative_impact_up_and_without_impact_last() -> None:
    themes = [
        theme("everything", OVERALL),  # no impact
        theme("praise", NpsSummary(3, 0, 0)),  # +34.29
        theme("vpn", THEME),  # -63.33
        theme("mixed", NpsSummary(1, 1, 1)),  # -8.57
    ]
    rows = theme_rows(themes, TOTALS)
    assert _slugs(rows) == ["vpn", "mixed", "praise", "everything"]
    assert [row["nps_impact"] for row in rows] == [-63.3, -8.6, 34.3, None]
    assert "previous_nps" not in rows[0]


def test_equal_impacts_go_by_slug() -> None:
    themes = [theme("b", THEME), theme("a", THEME), theme("z", OVERALL), theme("y", OVERALL)]
    assert _slugs(theme_rows(themes, TOTALS)) == ["a", "b", "y", "z"]


def test_a_theme_without_responses_in_the_period_is_left_out() -> None:
    themes = [theme("gone", EMPTY, NpsSummary(4, 0, 0)), theme("one", NpsSummary(0, 0, 1))]
    assert _slugs(theme_rows(themes, TOTALS, with_previous=True)) == ["one"]


def test_rows_compare_with_the_previous_period_when_asked() -> None:
    [row] = theme_rows([theme("vpn", THEME, NpsSummary(1, 1, 0))], TOTALS, with_previous=True)
    assert row["nps_change"] == -125.0


def test_promoters_rows_go_by_responses_most_first_then_by_slug() -> None:
    promoters = Totals(NpsSummary(10, 0, 0), EMPTY)
    themes = [
        theme("few", NpsSummary(2, 0, 0)),
        theme("many-b", NpsSummary(5, 0, 0)),
        theme("many-a", NpsSummary(5, 0, 0)),
    ]
    rows = theme_rows(themes, promoters, segment=Segment.PROMOTERS)
    assert _slugs(rows) == ["many-a", "many-b", "few"]
    assert [row["promoter_share"] for row in rows] == [0.5, 0.5, 0.2]
    # The same themes by impact: each has an NPS of 100, as has the rest, so all tie at 0.
    assert _slugs(theme_rows(themes, promoters)) == ["few", "many-a", "many-b"]


def test_a_theme_has_enough_responses_for_its_nps_from_thirty_in_either_period() -> None:
    totals = Totals(NpsSummary(40, 0, 5), EMPTY)
    row = theme_row(theme("vpn", NpsSummary(30, 0, 0), NpsSummary(0, 29, 0)), totals, with_previous=True)
    assert (row["enough"], row["previous_enough"]) == (True, False)
    assert theme_row(theme("vpn", NpsSummary(29, 0, 0)), totals, with_previous=False)["enough"] is False
