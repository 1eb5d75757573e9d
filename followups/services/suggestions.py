"""Suggested root causes: deciding on one (accept codes the response, reject is remembered) and training.

Nothing is coded from a suggestion without a person's decision. Training reads every coded
comment, evaluates on the most recent fifth (``followups.learning.evaluate``), trains on all and
stores the model with a new version; every process picks the newest version up on its next read
(``followups.selectors.suggestion_classifier``).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django_q.tasks import async_task

from closedloop.lib.exceptions import ApplicationError, ConflictError
from followups import learning
from followups.models import ResponseRootCause, RootCause, SuggestionDecision, SuggestionModel
from followups.selectors import suggestion_cause_choices, suggestion_examples
from followups.services.cases import response_lock, response_root_cause_add
from followups.suggestions import keyword_causes
from surveys.models import Response

# Models kept: the newest is used, the ones before are the record of recent versions.
MODELS_KEPT = 3
# Serialises training runs (the version numbers), whichever process starts them.
_TRAINING_LOCK = 7_263_001


@transaction.atomic
def suggestion_decide(
    *,
    response: Response,
    root_cause: str,
    source: str,
    accepted: bool,
    actor: User,
    model_version: int | None = None,
) -> SuggestionDecision:
    """Record that ``actor`` accepted or rejected the suggestion of ``root_cause`` (a slug) for ``response``.

    Accepting codes the response with it (source ``suggestion``), through the rules every coding
    follows (an active cause; a response with a case, through its case). One decision per
    response and cause: the same decision again is returned as it is, the opposite one is a
    ConflictError (a rejected suggestion is not offered again; code it by hand instead).
    """
    if source not in SuggestionDecision.Source.values:
        raise ApplicationError(
            "Unknown source.", errors={"source": [f"One of {', '.join(SuggestionDecision.Source)}."]}
        )
    cause = RootCause.objects.filter(slug=root_cause).first()
    if cause is None:
        raise ApplicationError("Unknown root cause.", errors={"root_cause": [f"No root cause {root_cause!r}."]})
    response_lock(response=response, actor=actor)  # one decision at a time per response
    earlier = SuggestionDecision.objects.filter(response=response, root_cause=cause).first()
    if earlier is not None:
        if earlier.accepted == accepted:
            return earlier
        verdict = "accepted" if earlier.accepted else "rejected"
        raise ConflictError(f"The suggestion {root_cause!r} was {verdict} already for this response.")
    if accepted:
        response_root_cause_add(
            response=response, actor=actor, slug=root_cause, source=ResponseRootCause.Source.SUGGESTION
        )
    decision = SuggestionDecision(
        response=response,
        root_cause=cause,
        source=source,
        model_version=model_version,
        accepted=accepted,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    decision.full_clean()
    decision.save()
    return decision


def suggestion_model_train(*, now: datetime | None = None) -> SuggestionModel | None:
    """Evaluate, train on every coded comment and store the model as the newest version.

    None, storing nothing, when fewer than two causes have enough coded comments to learn. The
    fitting runs outside any transaction; storing takes a lock so that two runs number their
    versions one after the other.
    """
    examples = suggestion_examples()
    causes = suggestion_cause_choices()
    metrics = learning.evaluate(examples, keywords_match=lambda text: keyword_causes(text, causes))
    classifier = learning.train(examples)
    if classifier is None:
        return None
    data = learning.dumps(classifier)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TRAINING_LOCK])
        latest = SuggestionModel.objects.aggregate(latest=Max("version"))["latest"] or 0
        model = SuggestionModel(
            version=latest + 1,
            trained_at=now or timezone.now(),
            training_size=len(examples),
            causes=classifier.causes,
            pipeline=data,
            metrics=metrics,
        )
        model.full_clean()
        model.save()
        SuggestionModel.objects.filter(version__lte=model.version - MODELS_KEPT).delete()
    return model


def suggestion_model_train_enqueue() -> None:
    """Ask the task cluster to train a model (a manager's button): after commit, one task."""
    transaction.on_commit(partial(async_task, "followups.tasks.suggestions_train"))
