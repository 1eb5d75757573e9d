"""Builders for test data. Each goes through the project's own services, as users would."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User

from closedloop.users import user_create
from surveys.models import Invitation, Response, Survey
from surveys.services import responses_ingest, survey_create
from surveys.services.rollups import rollups_recounted

PASSWORD = "correct-horse-battery-9"
_sequence = itertools.count(1)


def make_user(username: str, role: str | None = "agent", **extra: Any) -> User:
    """A user in ``role`` (None: signed in but in no role) with the shared test PASSWORD."""
    if role is None:
        from django.contrib.auth import get_user_model

        return get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)
    return user_create(username=username, password=PASSWORD, role=role, **extra)


def make_survey(slug: str = "support-2026", **fields: Any) -> Survey:
    return survey_create(slug=slug, name=fields.pop("name", slug.replace("-", " ").title()), **fields)


def response_item(score: int, *, survey: str = "support-2026", customer: str | None = None, **fields: Any) -> dict:
    """A raw ingestion item as an API client would send it."""
    item = {"survey": survey, "customer": {"external_id": customer or f"C-{next(_sequence)}"}, "score": score}
    item.update(fields)
    return item


def make_response(
    score: int,
    *,
    survey: str = "support-2026",
    customer: str | None = None,
    submitted_at: datetime | None = None,
    **fields: Any,
) -> Response:
    """Ingest one response through the ingestion service and return it."""
    if submitted_at is not None:
        fields["submitted_at"] = submitted_at.isoformat()
    outcome = responses_ingest(items=[response_item(score, survey=survey, customer=customer, **fields)]).outcomes[0]
    assert outcome.status in {"created", "duplicate"}, outcome.errors
    assert outcome.response_id is not None
    return Response.objects.select_related("customer", "survey").get(pk=outcome.response_id)


def make_cause(slug: str, name: str, *, category: str = "general") -> Any:
    """A root cause to code with (codes are of causes, not categories) under ``category``, made if missing."""
    from followups.models import RootCause
    from followups.services.coding import root_cause_create

    if not RootCause.objects.filter(slug=category).exists():
        root_cause_create(slug=category, name=category.title())
    return root_cause_create(slug=slug, name=name, parent=category)


def make_improvement(title: str, *causes: Any, status: str = "in_progress", **fields: Any) -> Any:
    """An improvement against ``causes``, put straight in ``status`` (the status workflow has tests of its own)."""
    from django.utils import timezone

    from followups.models import Improvement, ImprovementRootCause

    now = timezone.now()
    fields.setdefault("created_at", now)
    fields.setdefault("updated_at", now)
    made = Improvement.objects.create(title=title, status=status, **fields)
    ImprovementRootCause.objects.bulk_create(ImprovementRootCause(improvement=made, root_cause=c) for c in causes)
    return made


def handled_by(response: Response, team: str, agent: str = "", *, ticket: str | None = None) -> Invitation:
    """Record that ``response`` answers the invitation of a ticket (``ticket``, by default one of its
    own) ``team`` and ``agent`` handled, counted under that team in the rollup as an answer through
    the survey page is."""
    at = response.submitted_at
    with rollups_recounted(response_ids=[response.pk]):
        return Invitation.objects.create(
            survey_id=response.survey_id,
            customer_id=response.customer_id,
            status=Invitation.Status.ANSWERED,
            ticket_ref=f"T-{response.pk}" if ticket is None else ticket,
            agent=agent,
            team=team,
            send_at=at,
            sent_at=at,
            answered_at=at,
            next_attempt_at=at,
            created_at=at,
            response=response,
        )
