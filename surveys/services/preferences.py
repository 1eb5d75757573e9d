"""What a customer receives: surveys, "you said, we did" updates, both or neither.

The customer sets it from the signed links in their emails, without an account. Each opt-out
is a time, so the record says since when; every send checks it at the moment of sending.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from surveys.models import Customer


@transaction.atomic
def customer_preferences_set(
    *, customer: Customer, surveys: bool, updates: bool, now: datetime | None = None
) -> list[str]:
    """Receive (True) or stop (False) surveys and updates; return the fields changed.

    An opt-out already in place keeps its original time; an erased customer is left alone.
    """
    now = now or timezone.now()
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.erased_at is not None:
        return []
    changed = []
    for field, wanted in (("surveys_unsubscribed_at", surveys), ("updates_unsubscribed_at", updates)):
        current = getattr(locked, field)
        if wanted and current is not None:
            setattr(locked, field, None)
            changed.append(field)
        elif not wanted and current is None:
            setattr(locked, field, now)
            changed.append(field)
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
        for field in changed:
            setattr(customer, field, getattr(locked, field))
    return changed


def customer_updates_unsubscribe(*, customer: Customer, now: datetime | None = None) -> bool:
    """Stop the customer's updates (the one-click unsubscribe); idempotent. True if it changed."""
    return _unsubscribe(customer, "updates_unsubscribed_at", now or timezone.now())


def customer_surveys_unsubscribe(*, customer: Customer, now: datetime | None = None) -> bool:
    """Stop the customer's survey invitations (their one-click unsubscribe); idempotent. True if it changed."""
    return _unsubscribe(customer, "surveys_unsubscribed_at", now or timezone.now())


def _unsubscribe(customer: Customer, field: str, now: datetime) -> bool:
    unchanged = {f"{field}__isnull": True, "erased_at__isnull": True}
    return bool(Customer.objects.filter(pk=customer.pk, **unchanged).update(**{field: now, "updated_at": now}))
