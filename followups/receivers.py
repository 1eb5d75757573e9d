"""The follow-up app's listener on the intake app's one extension point."""

from __future__ import annotations

import logging

from followups.payloads import response_received_events
from followups.services.opening import cases_open_for_responses
from followups.services.outbox import webhook_events_queue

logger = logging.getLogger(__name__)


def open_cases_for_ingested(sender, response_ids: list[int], **kwargs) -> None:
    """Announce the batch's responses and open their cases, after the batch committed.

    A failure here must not turn a stored response into an error for the client: it is logged,
    and the sweep's "responses without a case" step opens the missing cases later.
    """
    try:
        webhook_events_queue(response_received_events(response_ids))
        cases_open_for_responses(response_ids=response_ids)
    except Exception:
        logger.exception("opening cases for %d ingested responses failed; the sweep will retry", len(response_ids))
