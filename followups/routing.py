"""Routing choices: which rule claims a response, how urgent its case is, and who takes it.

Pure functions over plain values; the case-opening service loads the rules, teams and loads
in a few queries and asks these functions for every case of a batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from followups import text_match


@dataclass(frozen=True)
class ResponseFacts:
    """What routing may look at: the survey, the customer's account and segment, score, comment."""

    survey_id: int
    account_id: int | None
    attributes: dict[str, Any]
    score: int
    comment: str


def mentions_any(text: str, keywords: Iterable[str]) -> bool:
    """Whether ``text`` contains any of ``keywords``: case- and accent-blind, from a word's start.

    A hot word or a rule's keyword may run on ("cancel" finds "cancelling"), unlike a cause's
    keywords for suggestions, which match whole words only.
    """
    return text_match.mentions_any(text, keywords, whole_words=False)


def is_hot(score: int, comment: str, *, threshold: int, words: Iterable[str]) -> bool:
    """Whether a case needs attention first: a score at or below the survey's hot threshold, or a hot word."""
    return score <= threshold or mentions_any(comment, words)


def rule_matches(rule: Any, facts: ResponseFacts) -> bool:
    """Whether every condition ``rule`` sets holds for the response (unset conditions hold)."""
    if rule.survey_id and rule.survey_id != facts.survey_id:
        return False
    if rule.account_id and rule.account_id != facts.account_id:
        return False
    if rule.attribute_name and str(facts.attributes.get(rule.attribute_name, "")) != rule.attribute_value:
        return False
    if rule.score_min is not None and facts.score < rule.score_min:
        return False
    if rule.score_max is not None and facts.score > rule.score_max:
        return False
    return not rule.keywords or mentions_any(facts.comment, rule.keywords)


def first_matching_rule(rules: Sequence[Any], facts: ResponseFacts) -> Any | None:
    """The first rule, in the given order, that matches; None when none does."""
    return next((rule for rule in rules if rule_matches(rule, facts)), None)


@dataclass
class LoadBalancer:
    """Chooses owners so open work stays even: fewest open cases, ties to the longest idle.

    ``loads`` maps each agent id to (open cases, last assignment time or None); choosing an
    agent counts the new case, so a batch spreads over the members as it is assigned.
    """

    loads: dict[int, tuple[int, datetime | None]] = field(default_factory=dict)
    _sequence: int = 0
    _picked: dict[int, int] = field(default_factory=dict)

    def choose(self, candidates: Iterable[int]) -> int | None:
        """Pick and count one of ``candidates``; None when there are none."""
        candidates = list(candidates)
        if not candidates:
            return None
        chosen = min(candidates, key=self._rank)
        self.count(chosen)
        return chosen

    def count(self, agent_id: int) -> None:
        """Record one more open case for ``agent_id`` (also for owners chosen by a rule)."""
        open_cases, last = self.loads.get(agent_id, (0, None))
        self.loads[agent_id] = (open_cases + 1, last)
        self._sequence += 1
        self._picked[agent_id] = self._sequence

    def _rank(self, agent_id: int) -> tuple:
        open_cases, last = self.loads.get(agent_id, (0, None))
        # Round-robin among equals: never assigned first, then the earliest last assignment;
        # agents picked in this batch rank by the order they were picked.
        picked = self._picked.get(agent_id)
        recency = (1, picked) if picked is not None else (0, last.timestamp() if last else float("-inf"))
        return (open_cases, recency, agent_id)
