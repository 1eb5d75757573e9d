"""The JSON shape of a case in webhook events (help desks file it as a note on their ticket)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from followups.models import Case

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
