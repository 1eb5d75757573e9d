"""The suggestion classifier and ranking of followups.learning and followups.suggestions: no database.

Small made-up corpora where the right answer is plain: comments about VPNs, printers and waiting.
"""

from __future__ import annotations

import pytest

from followups.learning import (
    Example,
    dumps,
    evaluate,
    held_out_split,
    learnable_causes,
    loads,
    precision_recall,
    train,
)
from followups.suggestions import CLASSIFIER, KEYWORD, CauseChoice, keyword_causes, suggest

VPN = ["the vpn keeps dropping", "cannot connect to the vpn from home", "vpn disconnects every hour", "remote vpn dead"]
PRINTER = ["the printer jams", "printer out of toner again", "office printer broken", "printer will not print"]
WAITING = [
    "waited ten days for a reply",
    "nobody replied for a week",
    "slow reply, days of waiting",
    "reply took weeks",
]


def corpus(times: int = 2) -> list[Example]:
    examples = []
    for _ in range(times):
        examples += [Example(text, frozenset({"vpn"})) for text in VPN]
        examples += [Example(text, frozenset({"printer"})) for text in PRINTER]
        examples += [Example(text, frozenset({"waiting"})) for text in WAITING]
    return examples


CAUSES = [
    CauseChoice("vpn", "VPN", "Technology", "technology", ("vpn", "remote access")),
    CauseChoice("printer", "Printers", "Technology", "technology", ("printer", "toner")),
    CauseChoice("waiting", "Slow reply", "Process", "process", ("waited", "slow")),
]


def test_only_causes_with_enough_examples_and_some_without_them_are_learned():
    examples = [*corpus(), Example("the printer and the vpn", frozenset({"printer", "vpn", "rare"}))]
    assert learnable_causes(examples, min_examples=5) == ["printer", "vpn", "waiting"]  # "rare": once
    assert learnable_causes(examples, min_examples=9) == ["printer", "vpn"]  # 9, 9 and 8 comments
    everyone = [Example("x", frozenset({"all"}))] * 6
    assert learnable_causes(everyone, min_examples=5) == []  # nothing to tell it apart from


def test_the_classifier_learns_its_causes_and_gives_a_probability_for_each():
    classifier = train(corpus(), min_examples=5)
    assert classifier is not None
    assert classifier.causes == ["printer", "vpn", "waiting"]
    [scores] = classifier.scores(["my VPN dropped again"])
    assert set(scores) == {"printer", "vpn", "waiting"}
    assert max(scores, key=scores.__getitem__) == "vpn"
    assert classifier.predict(["printer toner is empty", "still waiting for a reply"]) == [{"printer"}, {"waiting"}]
    assert classifier.scores([]) == []


def test_accents_and_case_do_not_change_what_it_sees():
    examples = [Example(t, frozenset({"network"})) for t in ["réseau lent", "le réseau tombe", "réseau coupé"] * 2]
    examples += [Example(t, frozenset({"printer"})) for t in ["imprimante cassée", "l'imprimante bloque"] * 3]
    classifier = train(examples, min_examples=5)
    assert classifier is not None
    assert classifier.predict(["RESEAU tres lent"]) == [{"network"}]


def test_it_is_not_trained_with_fewer_than_two_learnable_causes():
    only_vpn = [Example(t, frozenset({"vpn"})) for t in VPN * 2] + [Example("fine", frozenset({"other"}))]
    assert train(only_vpn, min_examples=5) is None
    assert train([], min_examples=5) is None


def test_a_stored_classifier_comes_back_the_same():
    classifier = train(corpus(), min_examples=5)
    assert classifier is not None
    again = loads(dumps(classifier))
    assert again.causes == classifier.causes
    assert again.scores(["vpn down"]) == classifier.scores(["vpn down"])


def test_the_held_out_comments_are_the_most_recent_fifth():
    examples = [Example(str(n), frozenset({"a"})) for n in range(11)]
    older, held = held_out_split(examples)
    assert [e.text for e in held] == ["9", "10"]
    assert len(older) == 9
    assert held_out_split(examples[:4]) == (examples[:4], [])


def test_precision_and_recall_of_one_cause():
    predicted = [{"a"}, {"a"}, set(), {"b"}]
    actual = [frozenset({"a"}), frozenset(), frozenset({"a"}), frozenset({"a", "b"})]
    # a: guessed twice, right once (1/2); coded three times, found once (1/3).
    assert precision_recall(predicted, actual, "a") == {"precision": 0.5, "recall": 0.333}
    assert precision_recall(predicted, actual, "b") == {"precision": 1.0, "recall": 1.0}
    assert precision_recall(predicted, actual, "c") == {"precision": None, "recall": None}


def test_evaluation_compares_the_classifier_with_keywords_on_the_latest_fifth():
    # Keywords find "vpn" and "printer" by their words; the waiting comments mostly lack "waited"/"slow".
    examples = corpus(times=5)
    metrics = evaluate(examples, keywords_match=lambda text: keyword_causes(text, CAUSES), min_examples=5)
    assert metrics["held_out"] == 12 and metrics["trained_on"] == 48
    assert metrics["causes"]["waiting"]["support"] == 4
    assert metrics["causes"]["waiting"]["learned"] is True
    assert metrics["causes"]["waiting"]["classifier"] == {"precision": 1.0, "recall": 1.0}
    # Of the four waiting comments, keywords find "waited ten days" and "slow reply" only.
    assert metrics["causes"]["waiting"]["keywords"] == {"precision": 1.0, "recall": 0.5}
    assert metrics["macro"]["classifier"] == {"precision": 1.0, "recall": 1.0}
    assert metrics["macro"]["keywords"]["recall"] == pytest.approx((1.0 + 1.0 + 0.5) / 3, abs=0.001)


def test_evaluation_without_enough_comments_says_so():
    metrics = evaluate(corpus(times=1)[:4], keywords_match=lambda text: set())
    assert metrics["held_out"] == 0
    assert metrics["causes"] == {}
    assert metrics["macro"]["classifier"] == {"precision": None, "recall": None}


def test_keyword_matches_come_first_then_the_classifier_by_confidence():
    scores = {"vpn": 0.2, "printer": 0.9, "waiting": 0.6}
    found = suggest("the VPN is slow", CAUSES, scores=scores, threshold=0.5)
    assert [(s.slug, s.source) for s in found] == [
        ("waiting", KEYWORD),  # "slow", and 0.6 beats the VPN's 0.2 among keyword matches
        ("vpn", KEYWORD),
        ("printer", CLASSIFIER),
    ]
    assert found[0].keyword == "slow" and found[0].why == 'mentions "slow"; classifier 60%'
    assert found[2].why == "classifier 90%"
    assert found[2].category == "Technology" and found[2].category_slug == "technology"


def test_suggestions_leave_out_skipped_causes_and_unlikely_ones():
    scores = {"printer": 0.49}
    assert suggest("the vpn", CAUSES, scores=scores, threshold=0.5, skip={"vpn"}) == []
    only = suggest("nothing matches here", CAUSES, scores={}, threshold=0.5)
    assert only == []
    [keyword_only] = suggest("remote access broken", CAUSES, scores={})
    assert (keyword_only.slug, keyword_only.confidence, keyword_only.why) == ("vpn", None, 'mentions "remote access"')


def test_at_most_the_first_few_are_offered():
    scores = {cause.slug: 0.9 for cause in CAUSES}
    assert len(suggest("x", CAUSES, scores=scores, most=2)) == 2


def test_a_skipped_or_unlikely_cause_does_not_hide_the_causes_after_it():
    # vpn, first in the list, is skipped or unlikely: the printer after it is still offered.
    for found in (
        suggest("the printer jams", CAUSES, scores={}, skip={"vpn"}),
        suggest("the printer jams", CAUSES, scores={"vpn": 0.1}, threshold=0.5),
    ):
        assert [(s.slug, s.name, s.keyword) for s in found] == [("printer", "Printers", "printer")]


def test_a_confidence_at_the_threshold_is_offered_rounded_to_three_places():
    [at] = suggest("nothing matches", CAUSES, scores={"printer": 0.5}, threshold=0.5)
    assert (at.slug, at.source, at.confidence) == ("printer", CLASSIFIER, 0.5)
    [close] = suggest("nothing matches", CAUSES, scores={"waiting": 0.61234}, threshold=0.5)
    assert close.confidence == 0.612


def test_among_keyword_matches_one_the_classifier_knows_comes_before_one_it_does_not():
    found = suggest("vpn and printer", CAUSES, scores={"printer": 0.3}, threshold=0.5)
    assert [s.slug for s in found] == ["printer", "vpn"]  # 0.3 against no confidence at all


def test_causes_of_the_same_name_and_confidence_keep_their_order():
    twins = [
        CauseChoice("vpn-emea", "VPN", "Technology", "technology", ()),
        CauseChoice("vpn-apac", "VPN", "Technology", "technology", ()),
    ]
    found = suggest("x", twins, scores={"vpn-emea": 0.8, "vpn-apac": 0.8}, threshold=0.5)
    assert [s.slug for s in found] == ["vpn-emea", "vpn-apac"]
