"""The NPS arithmetic of surveys.nps: categories, NPS, margin of error, significance."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.nps import (
    MIN_RESPONSES,
    Z_95,
    Category,
    NpsComparison,
    NpsSummary,
    classify,
    compare,
    margin_of_error,
    nps,
    rounded,
)

counts = st.integers(min_value=0, max_value=10_000)


@pytest.mark.parametrize(
    ("score", "category"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_it_classifies_the_boundary_scores(score, category):
    assert classify(score) == Category(category)


@pytest.mark.parametrize("score", [-1, 11, 7.5, "7", True, None])
def test_it_refuses_anything_but_an_integer_from_0_to_10(score):
    with pytest.raises(ValueError):
        classify(score)


def test_the_published_example_43_promoters_9_detractors_gives_34():
    assert nps(43, 48, 9) == pytest.approx(34.0)


def test_margin_of_error_matches_the_three_point_variance_formula():
    # p = .43, d = .09: variance = .52 - .34**2 = .4044; se = sqrt(.4044 / 100) = .06359
    assert margin_of_error(43, 48, 9) == pytest.approx(100 * 1.959964 * math.sqrt(0.4044 / 100), rel=1e-6)
    assert rounded(margin_of_error(43, 48, 9)) == 12.5


def test_an_empty_sample_has_no_nps_and_no_margin():
    empty = NpsSummary(0, 0, 0)
    assert empty.nps is None
    assert empty.margin_of_error is None
    assert compare(empty, NpsSummary(1, 0, 0)) is None


def test_a_unanimous_sample_has_no_uncertainty():
    assert NpsSummary(10, 0, 0).nps == 100
    assert NpsSummary(10, 0, 0).margin_of_error == 0
    assert NpsSummary(0, 0, 10).nps == -100


def test_a_large_gap_between_big_samples_is_significant():
    result = compare(NpsSummary(600, 300, 100), NpsSummary(400, 300, 300))
    assert result.difference == pytest.approx(50 - 10)
    assert result.significant
    assert result.p_value < 1e-6


def test_a_small_gap_between_small_samples_is_not_significant():
    result = compare(NpsSummary(5, 3, 2), NpsSummary(4, 4, 2))
    assert result.difference == pytest.approx(10)
    assert not result.significant


def test_two_unanimous_opposite_samples_differ_with_certainty():
    result = compare(NpsSummary(5, 0, 0), NpsSummary(0, 0, 5))
    assert result.difference == 200
    assert result.p_value == 0.0
    assert result.significant


@given(counts, counts, counts)
def test_nps_stays_within_minus_100_and_100(p, a, d):
    summary = NpsSummary(p, a, d)
    if summary.responses:
        assert -100 <= summary.nps <= 100
        assert 0 <= summary.margin_of_error <= 100 * 1.96 + 1e-9


@given(counts, counts, counts)
def test_swapping_promoters_and_detractors_negates_nps_and_keeps_the_margin(p, a, d):
    if p + a + d == 0:
        return
    forward, backward = NpsSummary(p, a, d), NpsSummary(d, a, p)
    assert forward.nps == pytest.approx(-backward.nps)
    assert forward.margin_of_error == pytest.approx(backward.margin_of_error)


@given(counts, counts, counts, st.integers(min_value=2, max_value=20))
def test_scaling_the_sample_keeps_nps_and_shrinks_the_margin_by_sqrt_k(p, a, d, k):
    if p + a + d == 0:
        return
    small, big = NpsSummary(p, a, d), NpsSummary(k * p, k * a, k * d)
    assert big.nps == pytest.approx(small.nps)
    assert big.margin_of_error == pytest.approx(small.margin_of_error / math.sqrt(k), abs=1e-9)


@given(counts, counts, counts, counts, counts, counts)
def test_comparison_is_antisymmetric(p1, a1, d1, p2, a2, d2):
    one, two = NpsSummary(p1, a1, d1), NpsSummary(p2, a2, d2)
    forward, backward = compare(one, two), compare(two, one)
    if forward is None:
        assert backward is None
        return
    assert forward.difference == pytest.approx(-backward.difference)
    assert forward.p_value == pytest.approx(backward.p_value)
    assert 0 <= forward.p_value <= 1


@given(counts, counts, counts)
def test_a_sample_never_differs_significantly_from_itself(p, a, d):
    result = compare(NpsSummary(p, a, d), NpsSummary(p, a, d))
    if result is not None:
        assert result.difference == 0
        assert not result.significant


def critical_value() -> float:
    """The two-sided 95 % critical value, from the standard library rather than the code's constant."""
    return NormalDist().inv_cdf(0.975)


def test_the_p_value_of_a_worked_example_is_pinned():
    # 60/20/20 against 45/25/30, 100 responses each. By hand: NPS 40 and 15; variances
    # .80 - .40**2 = .64 and .75 - .15**2 = .7275, so standard errors 8 and 8.529 points;
    # the difference's is sqrt(64 + 72.75) = 11.694, z = 25 / 11.694 = 2.138, and the two-sided
    # p-value 2 * (1 - Phi(2.138)) = 0.0325: significant at 5 %.
    result = compare(NpsSummary(60, 20, 20), NpsSummary(45, 25, 30))
    assert result.difference == pytest.approx(25)
    assert result.standard_error == pytest.approx(math.sqrt(136.75))
    assert result.z == pytest.approx(25 / math.sqrt(136.75))
    assert result.p_value == pytest.approx(0.0325, abs=5e-4)
    assert result.significant


@given(counts, counts, counts, counts, counts, counts)
def test_the_p_value_is_the_two_sided_normal_tail_of_z(p1, a1, d1, p2, a2, d2):
    result = compare(NpsSummary(p1, a1, d1), NpsSummary(p2, a2, d2))
    if result is None or result.z is None:
        return
    # The test's own reference: the standard library's normal distribution, not the code's erfc.
    assert result.p_value == pytest.approx(2 * (1 - NormalDist().cdf(abs(result.z))), abs=1e-9)
    assert result.significant is (result.p_value < 0.05)


def test_significance_switches_exactly_at_five_percent():
    # z just above and below the 97.5th percentile of the standard normal distribution.
    critical = critical_value()
    assert abs(Z_95 - critical) < 1e-12
    assert NpsComparison(1.0, 1.0, critical + 1e-6, 2 * (1 - NormalDist().cdf(critical + 1e-6))).significant
    assert not NpsComparison(1.0, 1.0, critical - 1e-6, 2 * (1 - NormalDist().cdf(critical - 1e-6))).significant
    assert not NpsComparison(0.0, 0.0, None, None).significant


def test_the_standard_error_of_a_worked_example():
    # 43 promoters, 48 passives, 9 detractors: sqrt((.43 + .09 - .34**2) / 100) = 6.359 points.
    summary = NpsSummary(43, 48, 9)
    assert summary.responses == 100
    assert summary.standard_error == pytest.approx(100 * math.sqrt(0.4044 / 100))
    assert summary.margin_of_error == pytest.approx(critical_value() * summary.standard_error)
    assert NpsSummary(0, 0, 0).standard_error is None


def test_two_equal_samples_without_spread_do_not_differ():
    result = compare(NpsSummary(4, 0, 0), NpsSummary(9, 0, 0))
    assert (result.difference, result.standard_error, result.z, result.p_value) == (0, 0.0, None, 1.0)
    assert not result.significant
    opposite = compare(NpsSummary(0, 3, 0), NpsSummary(0, 0, 3))
    assert (opposite.difference, opposite.standard_error, opposite.z, opposite.p_value) == (100, 0.0, None, 0.0)


def test_rounding_keeps_one_decimal_and_none():
    assert rounded(None) is None
    assert rounded(12.345) == 12.3
    assert rounded(33.36) == 33.4


def test_a_refused_score_is_named_in_the_message():
    with pytest.raises(ValueError, match="not 11"):
        classify(11)


def test_thirty_responses_are_enough_to_show_an_nps_and_twenty_nine_are_too_few():
    assert MIN_RESPONSES == 30
    assert NpsSummary(10, 10, 10).enough
    assert not NpsSummary(10, 10, 9).enough
    assert not NpsSummary(0, 0, 0).enough
