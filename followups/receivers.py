"""The follow-up app's listener on the intake app's one extension point."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from followups.services.opening import cases_open_for_responses
from followups.services.outbox import webhook_events_queue
from surveys.models import Response

logger = logging.getLogger(__name__)


def open_cases_for_ingested(sender, response_ids: list[int], **kwargs) -> None:
    """Announce the batch's responses and open their cases, after the batch committed.

    A failure here must not turn a stored response into an error for the client: it is logged,
    and the sweep's "responses without a case" step opens the missing cases later.
    """
    try:
        webhook_events_queue(_received_events(response_ids))
        cases_open_for_responses(response_ids=response_ids)
    except Exception:
        logger.exception("opening cases for %d ingested responses failed; the sweep will retry", len(response_ids))


def _received_events(response_ids: list[int]) -> Iterator[tuple[str, dict]]:
    # A generator: read only when some endpoint is subscribed.
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
                "comment": comment[:1000],
                "ticket_ref": ticket_ref,
                "submitted_at": submitted_at.isoformat(),
            },
        )
