"""An improvement's priority: customers times the NPS points their themes cost, and the sentence saying so."""

from __future__ import annotations

import pytest

from followups.improvement_priority import (
    TIMES,
    PriorityCounts,
    computed_explanation,
    computed_score,
    nps_cost,
    priority,
)
from surveys.nps import NpsSummary

# Overall 50 P, 20 Pa, 30 D of 100: NPS +20. The themes: 0 P, 2 Pa, 18 D of 20; the rest 50 P,
# 18 Pa, 12 D of 80: +47.5; impact 20 - 47.5 = -27.5, a cost of 27.5 points.
OVERALL = NpsSummary(50, 20, 30)
THEMES = NpsSummary(0, 2, 18)


def counts(themes: NpsSummary = THEMES, customers: int = 12, overall: NpsSummary = OVERALL) -> PriorityCounts:
    return PriorityCounts(themes=themes, customers=customers, overall=overall)


def test_the_score_is_customers_times_the_cost_shown():
    assert nps_cost(counts()) == 27.5
    assert computed_score(counts()) == 330.0
    assert computed_explanation(counts()) == (
        f"Raised by 12 customers; their themes cost 27.5 NPS points; score 330 = 12 {TIMES} 27.5."
    )


def test_the_cost_is_rounded_to_a_tenth_before_multiplying():
    # The sentence shows the cost to a tenth, and the score is that product, so a reader can check it.
    overall = NpsSummary(500, 300, 200)  # +30
    themes = NpsSummary(0, 0, 56)  # rest 500, 300, 144 of 944: +37.71..., cost 7.7
    c = counts(themes=themes, customers=48, overall=overall)
    assert nps_cost(c) == 7.7
    assert computed_score(c) == round(48 * 7.7)
    assert computed_explanation(c).endswith(f"score {round(48 * 7.7)} = 48 {TIMES} 7.7.")


def test_themes_that_lift_nps_cost_nothing():
    c = counts(themes=NpsSummary(10, 0, 0), customers=10)
    assert nps_cost(c) == 0.0
    assert computed_score(c) == 0.0
    assert computed_explanation(c) == "Raised by 10 customers; their themes do not pull NPS down; score 0."


def test_no_customers_and_nothing_to_compare_with_score_zero():
    empty = counts(themes=NpsSummary(0, 0, 0), customers=0, overall=NpsSummary(0, 0, 0))
    assert computed_score(empty) == 0.0
    assert computed_explanation(empty) == "Raised by no customer yet; score 0."
    everything = counts(themes=NpsSummary(0, 0, 3), customers=1, overall=NpsSummary(0, 0, 3))
    assert nps_cost(everything) is None
    assert computed_score(everything) == 0.0
    assert computed_explanation(everything).startswith("Raised by 1 customer; their themes' effect")


def test_one_point_is_singular():
    # Overall 1 P, 98 Pa, 1 D: 0; without the one detractor: 1 P of 99, +1.0; cost 1.0.
    c = counts(themes=NpsSummary(0, 0, 1), customers=1, overall=NpsSummary(1, 98, 1))
    assert computed_explanation(c) == f"Raised by 1 customer; their themes cost 1.0 NPS point; score 1 = 1 {TIMES} 1.0."


def test_a_managers_override_replaces_the_score_and_the_sentence_gives_the_reason():
    p = priority(counts(), override=500.0, reason="Renewal of our largest client depends on it.")
    assert p.score == 500.0
    assert p.computed == 330.0
    assert (p.override, p.reason) == (500.0, "Renewal of our largest client depends on it.")
    assert p.explanation == (
        "Score 500 set by a manager: Renewal of our largest client depends on it. "
        f"Computed: raised by 12 customers; their themes cost 27.5 NPS points; score 330 = 12 {TIMES} 27.5."
    )


def test_without_an_override_the_computed_score_counts():
    p = priority(counts())
    assert (p.score, p.computed, p.override, p.reason) == (330.0, 330.0, None, "")
    assert p.explanation == computed_explanation(counts())


@pytest.mark.parametrize("override", [0.0, -5.0, 12.5])
def test_any_override_is_shown_as_given(override):
    p = priority(counts(), override=override, reason="why")
    assert p.score == override
    assert p.explanation.startswith(f"Score {override:g} set by a manager: why. Computed: raised by 12")
