"""Customer text made fit to quote: one line, and short. Pure, no database."""

from __future__ import annotations

ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters with an ellipsis.

    A single word longer than the limit is cut inside it rather than dropped whole.
    """
    if limit < 1:
        raise ValueError(f"a quote holds at least one character, not {limit}")
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if flat[limit - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + ELLIPSIS
