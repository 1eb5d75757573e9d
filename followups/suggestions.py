"""Suggested root causes for a comment: its keyword matches and the classifier's likely causes.

Suggestions are only offered: a person accepts or rejects each (``followups.services.suggestions``),
and nothing is coded without them. A cause whose keywords the comment contains comes first, with
the word that matched; then the causes the classifier finds likely, with its confidence. A cause
the response is coded with already, or that someone rejected for it, is not offered.

Pure: no Django, no database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from followups.learning import THRESHOLD
from followups.text_match import matching_keywords

KEYWORD = "keyword"
CLASSIFIER = "classifier"
MOST = 9  # the review page's keys 1-9 accept the first nine


@dataclass(frozen=True, slots=True)
class CauseChoice:
    """A cause that may be suggested: active, in an active category."""

    slug: str
    name: str
    category: str  # the category's name
    category_slug: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Suggestion:
    slug: str
    name: str
    category: str
    category_slug: str
    source: str  # KEYWORD or CLASSIFIER: what to record when a person decides
    keyword: str | None  # the keyword that matched, for a keyword suggestion
    confidence: float | None  # the classifier's probability, when it knows the cause

    @property
    def why(self) -> str:
        """One phrase saying why it is suggested."""
        if self.keyword is not None:
            said = f'mentions "{self.keyword}"'
            return said if self.confidence is None else f"{said}; classifier {self.confidence:.0%}"
        return f"classifier {self.confidence:.0%}"


def keyword_causes(text: str, causes: Sequence[CauseChoice]) -> set[str]:
    """The slugs of the causes whose keywords ``text`` contains (whole words)."""
    return {cause.slug for cause in causes if matching_keywords(text, cause.keywords)}


def suggest(
    text: str,
    causes: Sequence[CauseChoice],
    *,
    scores: Mapping[str, float],
    skip: Collection[str] = (),
    threshold: float = THRESHOLD,
    most: int = MOST,
) -> list[Suggestion]:
    """At most ``most`` suggestions for ``text``: keyword matches first, then by confidence.

    ``scores`` are the classifier's probabilities per cause (empty without a model); ``skip``
    the slugs not to offer (already coded, or rejected for this response).
    """
    found: list[tuple[tuple[int, float, str], Suggestion]] = []
    for cause in causes:
        if cause.slug in skip:
            continue
        confidence = scores.get(cause.slug)
        matched = matching_keywords(text, cause.keywords)
        if not matched and (confidence is None or confidence < threshold):
            continue
        suggestion = Suggestion(
            slug=cause.slug,
            name=cause.name,
            category=cause.category,
            category_slug=cause.category_slug,
            source=KEYWORD if matched else CLASSIFIER,
            keyword=matched[0] if matched else None,
            confidence=None if confidence is None else round(confidence, 3),
        )
        found.append(((0 if matched else 1, -(confidence or 0.0), cause.name), suggestion))
    found.sort(key=lambda pair: pair[0])
    return [suggestion for _, suggestion in found[:most]]
