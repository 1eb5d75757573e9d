"""The suggestion classifier: learning root causes from the organisation's own coded comments.

TF-IDF over words and word pairs (accents stripped, case folded) feeding one logistic
regression per cause (one-vs-rest, so a comment can have several causes). A cause with fewer
than ``MIN_EXAMPLES`` coded comments is left out: its keywords alone suggest it.

Evaluation holds out the most recent fifth of the coded comments (by submission time),
trains on the older four fifths and measures, per cause, the precision and recall of the
classifier and of the keywords alone on the held-out comments. The stored model is then
trained on all of them (``followups.services.suggestions``).

Pure: no Django, no database. Examples come in as plain values, models go out as bytes.
"""

from __future__ import annotations

import io
import pickle
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from followups.text_match import fold

# A cause needs this many coded comments (and one comment without it) to be learned.
MIN_EXAMPLES = 5
# The classifier suggests a cause at this probability or above.
THRESHOLD = 0.5
HELD_OUT_SHARE = 5  # the most recent fifth


@dataclass(frozen=True, slots=True)
class Example:
    """A coded comment: its text and the slugs of the causes it is coded with."""

    text: str
    causes: frozenset[str]


class Classifier:
    """A trained pipeline and the causes it knows, in the order of its outputs."""

    def __init__(self, pipeline: Any, causes: Sequence[str]) -> None:
        self.pipeline = pipeline
        self.causes = list(causes)

    def scores(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """For each text, the probability of each known cause."""
        if not texts:
            return []
        probabilities = self.pipeline.predict_proba(list(texts))
        return [dict(zip(self.causes, map(float, row), strict=True)) for row in probabilities]

    def predict(self, texts: Sequence[str], *, threshold: float = THRESHOLD) -> list[set[str]]:
        return [{cause for cause, p in row.items() if p >= threshold} for row in self.scores(texts)]


def learnable_causes(examples: Sequence[Example], *, min_examples: int = MIN_EXAMPLES) -> list[str]:
    """The causes with at least ``min_examples`` comments, and at least one comment without them."""
    counts: dict[str, int] = {}
    for example in examples:
        for cause in example.causes:
            counts[cause] = counts.get(cause, 0) + 1
    return sorted(cause for cause, n in counts.items() if min_examples <= n < len(examples))


def train(examples: Sequence[Example], *, min_examples: int = MIN_EXAMPLES) -> Classifier | None:
    """A classifier of the learnable causes of ``examples``; None when there are fewer than two."""
    causes = learnable_causes(examples, min_examples=min_examples)
    if len(causes) < 2:
        return None
    # scikit-learn is imported here, not with the module: every web process reads suggestions
    # (unpickling a stored model imports what it needs), only the training task fits one.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MultiLabelBinarizer

    labels = MultiLabelBinarizer(classes=causes)
    with warnings.catch_warnings():
        # Causes outside ``causes`` are dropped from the labels on purpose.
        warnings.simplefilter("ignore", UserWarning)
        y = labels.fit_transform([example.causes for example in examples])
    pipeline = Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(preprocessor=fold, ngram_range=(1, 2), sublinear_tf=True, min_df=1),
            ),
            # Balanced weights: a cause is in few comments, and missing it is the costlier mistake.
            ("model", OneVsRestClassifier(LogisticRegression(class_weight="balanced", C=4.0, max_iter=1000))),
        ]
    )
    pipeline.fit([example.text for example in examples], y)
    return Classifier(pipeline, causes)


def dumps(classifier: Classifier) -> bytes:
    buffer = io.BytesIO()
    pickle.dump({"pipeline": classifier.pipeline, "causes": classifier.causes}, buffer, protocol=5)
    return buffer.getvalue()


def loads(data: bytes) -> Classifier:
    """A classifier from ``dumps``; only ever given bytes this product stored itself."""
    stored = pickle.loads(data)
    return Classifier(stored["pipeline"], stored["causes"])


def held_out_split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(older four fifths, most recent fifth) of ``examples``, given oldest first."""
    held = len(examples) // HELD_OUT_SHARE
    cut = len(examples) - held
    return list(examples[:cut]), list(examples[cut:])


def precision_recall(predicted: Sequence[set[str]], actual: Sequence[frozenset[str]], cause: str) -> dict[str, Any]:
    """Precision and recall of ``predicted`` for one cause (None where there is nothing to divide)."""
    hits = sum(1 for p, a in zip(predicted, actual, strict=True) if cause in p and cause in a)
    guessed = sum(1 for p in predicted if cause in p)
    support = sum(1 for a in actual if cause in a)
    return {
        "precision": round(hits / guessed, 3) if guessed else None,
        "recall": round(hits / support, 3) if support else None,
    }


def _macro(per_cause: Mapping[str, Mapping[str, Any]], side: str) -> dict[str, float | None]:
    """The mean precision and recall over the causes with held-out comments (an undefined precision counts 0)."""
    supported = [scores[side] for scores in per_cause.values() if scores["support"]]
    if not supported:
        return {"precision": None, "recall": None}
    return {name: round(sum(s[name] or 0.0 for s in supported) / len(supported), 3) for name in ("precision", "recall")}


def evaluate(
    examples: Sequence[Example],
    *,
    keywords_match: Callable[[str], set[str]],
    min_examples: int = MIN_EXAMPLES,
    threshold: float = THRESHOLD,
) -> dict[str, Any]:
    """Precision and recall per cause on the most recent fifth, classifier against keywords alone.

    ``examples`` oldest first; ``keywords_match`` gives the causes whose keywords a text contains.
    The classifier is trained on the older four fifths only. A cause the classifier does not know
    (too few examples) is never predicted by it: its recall is 0 where it has support.
    """
    older, held = held_out_split(examples)
    classifier = train(older, min_examples=min_examples) if held else None
    texts = [example.text for example in held]
    actual = [example.causes for example in held]
    by_classifier = classifier.predict(texts, threshold=threshold) if classifier else [set() for _ in held]
    by_keywords = [keywords_match(text) for text in texts]
    causes = sorted(set().union(*actual, *by_keywords, *by_classifier)) if held else []
    per_cause = {
        cause: {
            "support": sum(1 for a in actual if cause in a),
            "learned": classifier is not None and cause in classifier.causes,
            "classifier": precision_recall(by_classifier, actual, cause),
            "keywords": precision_recall(by_keywords, actual, cause),
        }
        for cause in causes
    }
    return {
        "held_out": len(held),
        "trained_on": len(older),
        "threshold": threshold,
        "causes": per_cause,
        "macro": {"classifier": _macro(per_cause, "classifier"), "keywords": _macro(per_cause, "keywords")},
    }
