"""Quoting customer text: one line, shortened at a word with an ellipsis."""

from __future__ import annotations

import pytest

from closedloop.lib.text import ELLIPSIS, shorten


def test_short_text_is_kept_on_one_line():
    assert shorten("The VPN\n drops\t often ", 300) == "The VPN drops often"


def test_text_of_exactly_the_limit_is_not_cut():
    assert shorten("abcde fghij", 11) == "abcde fghij"


def test_long_text_is_cut_at_a_word_with_an_ellipsis():
    assert shorten("the quick brown fox jumps", 12) == "the quick" + ELLIPSIS
    assert len(shorten("word " * 100, 300)) <= 300


def test_a_cut_falling_on_a_space_keeps_the_whole_word_before_it():
    # "the quick " is ten characters: the cut at nine lands exactly after "quick".
    assert shorten("the quick brown", 10) == "the quick" + ELLIPSIS


def test_punctuation_before_the_cut_is_dropped():
    assert shorten("slow, very slow indeed", 11) == "slow, very" + ELLIPSIS
    assert shorten("slow, then fast", 8) == "slow" + ELLIPSIS


def test_one_long_word_is_cut_inside_it():
    assert shorten("a" * 20, 5) == "aaaa" + ELLIPSIS


def test_the_limit_must_hold_a_character():
    with pytest.raises(ValueError):
        shorten("text", 0)
    assert shorten("text", 1) == ELLIPSIS


@pytest.mark.parametrize("limit", [0, -3])
def test_a_limit_below_one_is_refused_saying_so(limit):
    with pytest.raises(ValueError) as refused:
        shorten("text", limit)
    assert str(refused.value) == f"a quote holds at least one character, not {limit}"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("fix X bug", 6, "fix X"),
        ("ab cd; ef", 7, "ab cd"),
        ("ab cd: ef", 7, "ab cd"),
        ("ab cd. ef", 7, "ab cd"),
        ("ab cd- ef", 7, "ab cd"),
        ("ab cd, ef", 7, "ab cd"),
        ("ab,cdefghij", 5, "ab,c"),
    ],
)
def test_only_spaces_and_punctuation_are_dropped_before_the_ellipsis(text, limit, expected):
    assert shorten(text, limit) == expected + ELLIPSIS
