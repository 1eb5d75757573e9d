"""The JSON shapes of webhook events: a case (help desks file it as a note on their ticket), a response."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings

from followups.models import Case
from surveys.models import Response

COMMENT_PREVIEW = 1000


def case_payload(case: Case) -> dict[str, Any]:
    """A case as outside systems see it. Needs response, customer, survey, team and owner loaded."""
    response = case.response
    return {
        "id": case.pk,
        "url": f"{settings.SITE_URL}/cases/{case.pk}/",
        "status": case.status,
        "priority": case.priority,
        "team": case.team.slug,
        "owner": case.owner.username if case.owner else None,
        "first_contact_due": case.first_contact_due.isoformat(),
        "resolution_due": case.resolution_due.isoformat(),
        "escalation_level": case.escalation_level,
        "breached": case.breached(),
        "response": {
            "id": response.pk,
            "survey": response.survey.slug,
            "score": response.score,
            "category": response.category,
            "comment": response.comment[:COMMENT_PREVIEW],
            "ticket_ref": response.ticket_ref,
            "submitted_at": response.submitted_at.isoformat(),
            "customer": response.customer.external_id,
        },
    }


def response_received_events(response_ids: list[int]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The ``response.received`` events of a batch; a generator, read only when an endpoint subscribes."""
    fields = (
        "pk",
        "survey__slug",
        "customer__external_id",
        "score",
        "category",
        "comment",
        "ticket_ref",
        "submitted_at",
    )
    for row in Response.objects.filter(pk__in=response_ids).values_list(*fields).iterator(chunk_size=2000):
        pk, survey, customer, score, category, comment, ticket_ref, submitted_at = row
        yield (
            "response.received",
            {
                "id": pk,
                "survey": survey,
                "customer": customer,
                "score": score,
                "category": category,
                "comment": comment[:COMMENT_PREVIEW],
                "ticket_ref": ticket_ref,
                "submitted_at": submitted_at.isoformat(),
            },
        )
