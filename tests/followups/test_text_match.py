"""Keyword matching of followups.text_match, on plain strings: whole words, any case, any accent."""

from __future__ import annotations

import pytest

from followups import text_match
from followups.text_match import fold, matching_keywords, mentions_any


@pytest.fixture(autouse=True)
def fresh_patterns():
    """Each test builds its own patterns: one cached by an earlier test would hide how they are built."""
    text_match._patterns.cache_clear()


def test_folding_drops_accents_and_case():
    assert fold("Réseau ÉLECTRIQUE") == "reseau electrique"
    assert fold("Straße") == "strasse"
    assert fold("naïve café") == "naive cafe"
    assert fold("") == ""


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("le réseau est lent", True),
        ("le reseau est lent", True),
        ("LE RÉSEAU", True),
        ("Reseau!", True),
        ("réseaux", False),  # not a longer word
        ("sousréseau", False),  # not inside a word
    ],
)
def test_an_accented_keyword_matches_with_or_without_accents_as_a_whole_word(text, found):
    assert mentions_any(text, ["réseau"]) is found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("the VPN drops", True),
        ("vpn.", True),
        ("(vpn)", True),
        ("my vpns", False),
        ("openvpn client", False),
        ("vpn2", False),
        ("", False),
    ],
)
def test_vpn_matches_the_word_vpn_only(text, found):
    assert mentions_any(text, ["vpn"]) is found


def test_an_unaccented_keyword_finds_an_accented_text():
    assert mentions_any("Le Réseau", ["reseau"])
    assert matching_keywords("Die Straße ist gesperrt", ["STRAßE"]) == ["STRAßE"]


def test_prefix_keywords_run_on_but_still_start_a_word():
    assert mentions_any("Cancelling the contract", ["cancel"], whole_words=False)
    assert not mentions_any("Cancelling the contract", ["cancel"])
    assert not mentions_any("uncancelled", ["cancel"], whole_words=False)


def test_phrases_and_regex_characters_are_literal():
    assert matching_keywords("we had NO ONE answered", ["no one answered"]) == ["no one answered"]
    assert mentions_any("costs $100 (net)", ["$100 (net)"])
    assert not mentions_any("costs 100 net", ["$100 (net)"])
    assert not mentions_any("a.b", ["a*b"])


def test_matching_keywords_lists_each_match_once_in_the_order_given_and_trims():
    text = "Laptop broken, printer too, the LAPTOP again"
    assert matching_keywords(text, [" printer ", "laptop", "monitor", "laptop"]) == ["printer", "laptop"]


def test_blank_keywords_and_blank_text_match_nothing():
    assert matching_keywords("anything", ["", "  "]) == []
    assert matching_keywords("", ["anything"]) == []
    assert not mentions_any("anything", [])
    assert not mentions_any("anything", ["  "], whole_words=False)
