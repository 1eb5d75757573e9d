"""Survey fatigue and the other reasons not to invite someone. Pure, no database.

A survey's quarantine protects the customers it asked: nobody is invited again, by any
survey, within the quarantine of the last survey that asked them (or answered by them), nor
within the global minimum, whichever is longer. Before quarantine come the reasons that hold
whatever the date: an erased customer, one who unsubscribed from surveys, an email invitation
without an address, a customer or account tagged as excluded (internal, partner), and a
requester who is one of the agents. A recovery check-in after a resolved case is the one
invitation that may bypass the quarantine; nothing bypasses the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# The reasons, in the order they are checked (the first that applies is recorded).
ERASED = "erased"
UNSUBSCRIBED = "unsubscribed"
NO_ADDRESS = "no_address"
EXCLUDED = "excluded"
STAFF = "staff"
QUARANTINE = "quarantine"


@dataclass(frozen=True)
class Asked:
    """An earlier time the customer was asked (an invitation sent or due, or a response given)."""

    at: datetime
    quarantine_days: int


@dataclass(frozen=True)
class Candidate:
    """What the rules need to know about the customer to invite."""

    erased: bool
    unsubscribed: bool
    email: str
    tags: frozenset[str]
    is_staff: bool


def customer_tags(attributes: Mapping[str, Any], account_tags: Iterable[Any] = ()) -> frozenset[str]:
    """The tags of a customer, lower-cased: their ``tags`` attribute (a list or a comma-separated
    text) and their account's."""
    raw = attributes.get("tags")
    values: Iterable[Any] = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list) else ()
    return frozenset(str(tag).strip().lower() for tag in (*values, *account_tags) if str(tag).strip())


def quarantine_ends(asked: Sequence[Asked], *, minimum_days: int) -> datetime | None:
    """When the last of the customer's quarantines ends (None: they were never asked)."""
    ends = [each.at + timedelta(days=max(each.quarantine_days, minimum_days)) for each in asked]
    return max(ends, default=None)


def suppression_reason(
    candidate: Candidate,
    *,
    channel: str,
    asked: Sequence[Asked],
    now: datetime,
    minimum_days: int,
    excluded_tags: frozenset[str],
    bypass_quarantine: bool = False,
) -> str | None:
    """Why the candidate must not be invited now, or None when they may be."""
    if candidate.erased:
        return ERASED
    if candidate.unsubscribed:
        return UNSUBSCRIBED
    if channel == "email" and not candidate.email:
        return NO_ADDRESS
    if candidate.tags & excluded_tags:
        return EXCLUDED
    if candidate.is_staff:
        return STAFF
    if not bypass_quarantine:
        ends = quarantine_ends(asked, minimum_days=minimum_days)
        if ends is not None and now < ends:
            return QUARANTINE
    return None
