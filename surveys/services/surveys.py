"""Creating and changing surveys."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from closedloop.lib.exceptions import save_unique
from closedloop.lib.updates import model_update
from surveys.models import Survey

EDITABLE_FIELDS = (
    "name",
    "kind",
    "question",
    "quarantine_days",
    "followup_passives",
    "hot_threshold",
    "require_coding",
    "active",
    "thank_you_promoter",
    "thank_you_passive",
    "thank_you_detractor",
    "question_detractor",
    "question_passive",
    "question_promoter",
    "review_url",
    "sender_name",
    "reply_to",
    "invite_delay_minutes",
    "reminder_after_days",
    "edit_window_hours",
)


@transaction.atomic
def survey_create(*, slug: str, name: str, **fields: Any) -> Survey:
    """Create a survey; unknown fields are refused, the model validates the rest."""
    _check_known(fields)
    survey = Survey(slug=slug, name=name, **fields)
    survey.full_clean()
    save_unique(survey)
    return survey


@transaction.atomic
def survey_update(*, survey: Survey, slug: str | None = None, **fields: Any) -> Survey:
    """Change some of a survey's settings. Its slug stays: outside systems refer to it.

    ``slug`` may be given (a full record sent back); another one than the survey's is refused.
    """
    _check_known(fields)
    if slug is not None and slug != survey.slug:
        raise ValidationError({"slug": ["A survey's slug cannot change."]})
    model_update(survey, fields)
    return survey


def _check_known(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not survey settings: {sorted(unknown)}")
