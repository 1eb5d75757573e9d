"""django-q2 tasks: thin adapters onto the services, each safe to run twice."""

from __future__ import annotations

from dataclasses import asdict

from followups.services.delivery import notifications_deliver as _notifications_deliver
from followups.services.escalation import escalation_run


def escalation_sweep() -> dict[str, int]:
    """The scheduled overdue sweep, opening first any case a response still lacks."""
    return asdict(escalation_run())


def notifications_deliver() -> int:
    return _notifications_deliver()


def customer_updates_deliver() -> int:
    from followups.services.delivery import CUSTOMER_UPDATES, outbox_relay

    return outbox_relay(CUSTOMER_UPDATES, "followups.tasks.customer_updates_deliver")


def case_messages_deliver() -> int:
    from followups.services.delivery import CASE_MESSAGES, outbox_relay

    return outbox_relay(CASE_MESSAGES, "followups.tasks.case_messages_deliver")


def webhooks_deliver() -> int:
    from followups.services.webhooks import webhooks_deliver as deliver

    return deliver()


def digests_send() -> int:
    from followups.services.digests import digests_send as send

    return send()


def manager_digests_send() -> int:
    from followups.services.manager_digests import manager_digests_send as send

    return send()


def customers_retention_sweep() -> int:
    from followups.services.privacy import customers_retention_sweep as sweep

    return sweep()


def invitations_deliver() -> int:
    from followups.services.delivery import INVITATIONS, outbox_relay

    return outbox_relay(INVITATIONS, "followups.tasks.invitations_deliver")


def improvement_checkins_send() -> int:
    from followups.services.improvements import improvement_checkins_send as send

    return send()


def invitations_remind() -> int:
    from followups.services.delivery import invitations_remind as remind

    return remind()


def suggestions_train() -> int | None:
    """Train the suggestion classifier on every coded comment; the stored model's version, or None."""
    from followups.services.suggestions import suggestion_model_train

    model = suggestion_model_train()
    return model.version if model else None
