"""Finding keywords in customers' comments: case- and accent-blind, at word boundaries.

One matcher for every place that looks for words in a comment: the hot words and routing
rules (``followups.routing``) and the keyword suggestions (``followups.suggestions``). Both
sides are folded first (accents dropped, case folded), so "réseau" finds "reseau" and "RESEAU",
and "Straße" finds "strasse". A keyword matches where a word starts (not after a letter or
digit), so "vpn" is not found in "openvpn"; a whole-word keyword must also end where a word
ends, so "vpn" is not found in "vpns", while a prefix keyword ("cancel" for "cancelling") may
run on. Regular-expression characters in keywords are literal.

Pure: no Django, no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache


def fold(text: str) -> str:
    """``text`` without accents and case: NFKD, combining marks dropped, then case-folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


@lru_cache(maxsize=1024)
def _patterns(keywords: tuple[str, ...], whole_words: bool) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """One pattern per distinct keyword (as given, trimmed), blank ones left out.

    Cached: the hot words, a rule's keywords and a cause's keywords are few and asked about for
    every comment of a batch or a page.
    """
    end = r"(?!\w)" if whole_words else ""
    patterns: dict[str, re.Pattern[str]] = {}
    for keyword in keywords:
        word = keyword.strip()
        folded = fold(word)
        if folded and word not in patterns:
            # Not after a word character rather than at \b, so "$100" or "#vpn" match too.
            patterns[word] = re.compile(r"(?<!\w)" + re.escape(folded) + end)
    return tuple(patterns.items())


def matching_keywords(text: str, keywords: Iterable[str], *, whole_words: bool = True) -> list[str]:
    """The ``keywords`` found in ``text``, each once, as given (trimmed), in the order given."""
    if not text:
        return []
    folded = fold(text)
    return [word for word, pattern in _patterns(tuple(keywords), whole_words) if pattern.search(folded)]


def mentions_any(text: str, keywords: Iterable[str], *, whole_words: bool = True) -> bool:
    """Whether ``text`` contains any of ``keywords``."""
    if not text:
        return False
    folded = fold(text)
    return any(pattern.search(folded) for _, pattern in _patterns(tuple(keywords), whole_words))
