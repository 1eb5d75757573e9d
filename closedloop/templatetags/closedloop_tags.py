"""Formatting of NPS figures for the web pages: the same rounding as the API, with a sign."""

from __future__ import annotations

from datetime import timedelta

from django import template

from surveys.nps import rounded

register = template.Library()

# A real minus sign: a hyphen is easy to miss beside a number and some screen readers say "dash".
MINUS = "\u2212"


@register.filter
def signed_nps(value: float | None) -> str:
    """An NPS as "+34.0", "0.0" or MINUS then "12.5"; an empty sample (None) as an em dash."""
    figure = rounded(value)
    if figure is None:
        return "\u2014"
    if figure == 0:
        # Rounding can leave -0.0, which must not read as a negative score.
        return "0.0"
    return f"{'+' if figure > 0 else MINUS}{abs(figure):.1f}"


@register.filter
def one_decimal(value: float | None) -> str:
    """A margin of error or share as "5.1", independent of the locale (the API's rounding)."""
    figure = rounded(value)
    return "\u2014" if figure is None else f"{figure:.1f}"


@register.filter
def share(count: int, total: int) -> float | None:
    """``count`` as a percentage of ``total``; None when ``total`` is zero."""
    return 100.0 * count / total if total else None


@register.filter
def percent(value: float | None) -> str:
    """A share from 0 to 1 as "45.0 %"; None (nothing to divide by) as an em dash."""
    figure = None if value is None else rounded(100.0 * value)
    return "\u2014" if figure is None else f"{figure:.1f} %"


@register.filter
def hours(value: timedelta | None) -> str:
    """A duration as hours with one decimal, "3.5 h"; None as an em dash."""
    return "\u2014" if value is None else f"{value.total_seconds() / 3600:.1f} h"
