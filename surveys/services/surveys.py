"""Creating and changing surveys."""

from __future__ import annotations

from typing import Any

from django.db import transaction

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
)


@transaction.atomic
def survey_create(*, slug: str, name: str, **fields: Any) -> Survey:
    """Create a survey; unknown fields are refused, the model validates the rest."""
    survey = Survey(slug=slug, name=name)
    return _write(survey, fields)


@transaction.atomic
def survey_update(*, survey: Survey, **fields: Any) -> Survey:
    """Change some of a survey's settings (its slug stays: outside systems refer to it)."""
    return _write(survey, fields)


def _write(survey: Survey, fields: dict[str, Any]) -> Survey:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not survey settings: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(survey, name, value)
    survey.full_clean()
    survey.save()
    return survey
