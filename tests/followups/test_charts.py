"""The geometry of the server-drawn charts (followups.charts), worked out by hand."""

from __future__ import annotations

from followups.charts import Bar, diverging_bar, nps_trend, scale_limit, sparkline


def test_a_negative_value_is_drawn_left_of_the_middle():
    # Half of the limit on a 160-pixel axis: 40 pixels, ending at the middle (80).
    assert diverging_bar(-10.0, limit=20.0, width=160) == Bar(x=40.0, width=40.0, negative=True)


def test_a_positive_value_is_drawn_right_of_the_middle():
    assert diverging_bar(5.0, limit=20.0, width=160) == Bar(x=80.0, width=20.0, negative=False)


def test_zero_is_an_empty_bar_at_the_middle():
    assert diverging_bar(0.0, limit=20.0, width=160) == Bar(x=80.0, width=0.0, negative=False)


def test_a_value_beyond_the_limit_reaches_the_edge():
    assert diverging_bar(-50.0, limit=20.0, width=160) == Bar(x=0.0, width=80.0, negative=True)
    assert diverging_bar(20.0, limit=20.0, width=160) == Bar(x=80.0, width=80.0, negative=False)


def test_nothing_to_draw_without_a_value_or_a_scale():
    assert diverging_bar(None, limit=20.0, width=160) is None
    assert diverging_bar(3.0, limit=0.0, width=160) is None
    assert diverging_bar(3.0, limit=-1.0, width=160) is None


def test_bars_are_rounded_to_a_hundredth_of_a_pixel():
    # 1/3 of 80 pixels.
    assert diverging_bar(-1.0, limit=3.0, width=160) == Bar(x=53.33, width=26.67, negative=True)
    # A positive bar starts at the middle, rounded the same way (an odd width has a half pixel there).
    assert diverging_bar(1.0, limit=3.0, width=160.005) == Bar(x=80.0, width=26.67, negative=False)


def test_the_scale_fits_the_largest_magnitude_and_is_at_least_one():
    assert scale_limit([-37.5, 12.0, None, 5.0]) == 37.5
    assert scale_limit([0.2, -0.5]) == 1.0
    assert scale_limit([]) == 1.0
    assert scale_limit([None]) == 1.0


def test_a_sparkline_fills_the_height_between_its_lowest_and_highest_values():
    # Three points over 100 pixels with 2 of padding: x = 2, 50, 98; 0 is the top (y = 2), -40 the bottom (y = 18).
    assert sparkline([0.0, -40.0, -20.0], width=100, height=20) == ["2,2 50,18 98,10"]


def test_a_month_without_responses_breaks_the_line():
    # Four months over 62 pixels: x = 2, 21.33, 40.67, 60; 30 at the top (2), 10 at the bottom (18).
    # The lone first month is a dash around x = 2.
    assert sparkline([10.0, None, 30.0, 20.0], width=62, height=20) == ["0.5,18 3.5,18", "40.67,2 60,10"]


def test_a_flat_series_runs_across_the_middle():
    assert sparkline([5.0, 5.0], width=50, height=30) == ["2,15 48,15"]


def test_a_lone_value_is_a_short_dash_and_no_values_draw_nothing():
    assert sparkline([7.0], width=50, height=30) == ["0.5,15 3.5,15"]
    assert sparkline([None, None], width=50, height=30) == []
    assert sparkline([], width=50, height=30) == []


def test_a_lone_value_at_an_edge_stays_inside_the_chart():
    assert sparkline([None, 7.0], width=50, height=30, pad=0) == ["48.5,15 50,15"]
    assert sparkline([7.0, None], width=50, height=30, pad=0) == ["0,15 1.5,15"]


def test_any_positive_limit_scales_and_odd_widths_keep_two_decimals():
    assert diverging_bar(0.5, limit=0.5, width=160) == Bar(x=80.0, width=80.0, negative=False)
    # 161 pixels: the middle at 80.5; a third of the limit is 26.833... pixels.
    assert diverging_bar(1.0, limit=3.0, width=161) == Bar(x=80.5, width=26.83, negative=False)


def test_sparkline_coordinates_keep_two_decimals():
    # y of 1 between 0 and 3 over 20 pixels with 2 of padding: 2 + 2/3 * 16 = 12.666...
    assert sparkline([0.0, 1.0, 3.0], width=100, height=20) == ["2,18 50,12.67 98,2"]
    # A flat series at half of 6.666 pixels.
    assert sparkline([4.0, 4.0], width=50, height=6.666) == ["2,3.33 48,3.33"]


def test_an_nps_trend_is_drawn_on_a_fixed_axis_with_its_band_and_gaps():
    chart = nps_trend([(0.0, 10.0, False), (50.0, 10.0, True), None, (100.0, 20.0, False)], width=208, height=216)
    # pad 8: y runs from 8 (+100) to 208 (-100), one point per NPS point; x slots 48 wide.
    assert chart.references == {0: 108.0, 50: 58.0}
    assert chart.lines == ["32,108 80,58", "173,8 179,8"]
    assert chart.bands[0] == "32,98 80,48 80,68 32,118"
    # The band of +100 ± 20 is clipped at the top of the axis.
    assert chart.bands[1] == "173,8 179,8 179,28 173,28"
    assert [p.significant for p in chart.points] == [False, True, False]


def test_an_nps_trend_without_enough_responses_anywhere_draws_nothing():
    chart = nps_trend([None, None], width=100, height=100)
    assert chart.lines == chart.bands == chart.points == []
