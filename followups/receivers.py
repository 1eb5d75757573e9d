"""The follow-up app's listeners on the intake app's extension points."""

from __future__ import annotations

import logging

from followups.payloads import response_received_events
from followups.services.coding import response_customer_code, responses_code_from_tags, root_cause_categories_offered
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


def code_imported_tags(sender, response_tags: dict[int, tuple[str, ...]], **kwargs) -> None:
    """Turn the tags imported responses brought from their old tool into root-cause codes.

    Sent inside the transaction that stores the responses, so the codes are stored with them
    exactly once, and an import resumed after a crash codes nothing twice.
    """
    responses_code_from_tags(response_tags=response_tags)


def offer_root_cause_categories(sender, response_id: int | None = None, **kwargs) -> list[tuple[str, str, bool]]:
    """The survey page's "what was this about?" choices: the active root-cause categories."""
    return root_cause_categories_offered(response_id=response_id)


def code_customer_topic(sender, response_id: int, topic: str, **kwargs) -> None:
    """The category the customer chose, stored in the transaction of their answer."""
    response_customer_code(response_id=response_id, topic=topic)
