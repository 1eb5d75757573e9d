"""An improvement's priority: how many customers raised its themes, times the NPS points they cost. No database.

The themes are the improvement's root causes together (a category standing for its causes):
their responses, each counted once however many of the causes it was coded with, against every
response of the same period. Their cost is the NPS that goes away with them, minus their NPS
impact (``followups.themes.nps_impact``); themes that lift NPS cost nothing. The score is the
number of distinct customers who raised them times that cost, in the figures the sentence
shows, so "score 298 = 48 times 6.2" is arithmetic a reader can check. A manager may set a score of
their own with a reason; it replaces the computed one for ranking and the sentence says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from followups.themes import nps_impact
from surveys.nps import NpsSummary

# The cost is shown, and multiplied, to a tenth of a point; the score is a whole number.
COST_DECIMALS = 1
TIMES = "\N{MULTIPLICATION SIGN}"


@dataclass(frozen=True, slots=True)
class PriorityCounts:
    """What the database counts for one improvement's themes, and for every response of the period."""

    themes: NpsSummary  # the responses coded to any of its causes, each once
    customers: int  # distinct customers who gave those responses
    overall: NpsSummary  # every response of the period, coded or not


@dataclass(frozen=True, slots=True)
class ImprovementPriority:
    score: float  # the override when there is one, else the computed score
    computed: float
    override: float | None
    reason: str
    explanation: str


def nps_cost(counts: PriorityCounts) -> float | None:
    """The NPS points the themes cost (minus their impact, to a tenth; never below 0); None when unmeasurable."""
    impact = nps_impact(counts.overall, counts.themes)
    if impact is None:
        return None
    return max(0.0, round(-impact, COST_DECIMALS))


def computed_score(counts: PriorityCounts) -> float:
    """Customers times the cost as the sentence shows it, rounded to a whole number; 0 without a cost."""
    cost = nps_cost(counts)
    if not cost:
        return 0.0
    return float(round(counts.customers * cost))


def _customers(count: int) -> str:
    if count == 0:
        return "Raised by no customer yet"
    return f"Raised by {count} customer{'' if count == 1 else 's'}"


def _points(value: float) -> str:
    return f"{value:.{COST_DECIMALS}f} NPS point{'' if value == 1 else 's'}"


def _score(value: float) -> str:
    return f"{value:g}"


def computed_explanation(counts: PriorityCounts) -> str:
    """The one sentence saying where the computed score comes from."""
    raised = _customers(counts.customers)
    cost = nps_cost(counts)
    score = computed_score(counts)
    if counts.customers == 0:
        return f"{raised}; score 0."
    if cost is None:
        return f"{raised}; their themes' effect on NPS cannot be measured yet (no other responses); score 0."
    if cost == 0:
        return f"{raised}; their themes do not pull NPS down; score 0."
    product = f"{counts.customers} {TIMES} {cost:.{COST_DECIMALS}f}"
    return f"{raised}; their themes cost {_points(cost)}; score {_score(score)} = {product}."


def priority(counts: PriorityCounts, *, override: float | None = None, reason: str = "") -> ImprovementPriority:
    """The improvement's priority: the manager's ``override`` (with its ``reason``) if set, else the computed score."""
    computed = computed_score(counts)
    explanation = computed_explanation(counts)
    if override is None:
        return ImprovementPriority(score=computed, computed=computed, override=None, reason="", explanation=explanation)
    said = reason.strip().rstrip(".")
    computed_text = explanation[0].lower() + explanation[1:]
    overridden = f"Score {_score(override)} set by a manager: {said}. Computed: {computed_text}"
    return ImprovementPriority(
        score=override, computed=computed, override=override, reason=reason, explanation=overridden
    )
