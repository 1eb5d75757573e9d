"""django-q2 tasks: thin adapters onto the services, each safe to run twice."""

from __future__ import annotations

from followups.services.delivery import notifications_deliver as _notifications_deliver
from followups.services.escalation import escalation_sweep as _escalation_sweep
from followups.services.opening import cases_open_missing


def escalation_sweep() -> dict[str, int]:
    """The scheduled overdue sweep, plus opening any case a response still lacks."""
    opened = cases_open_missing()
    result = _escalation_sweep()
    return {
        "opened": opened,
        "first_contact_breaches": result.first_contact_breaches,
        "resolution_breaches": result.resolution_breaches,
        "reassigned": result.reassigned,
        "at_risk": result.at_risk,
    }


def notifications_deliver() -> int:
    return _notifications_deliver()


def webhooks_deliver() -> int:
    from followups.services.webhooks import webhooks_deliver as deliver

    return deliver()


def digests_send() -> int:
    from followups.services.digests import digests_send as send

    return send()
