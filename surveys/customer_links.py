"""Signed links in customer emails: who the customer is, for what, and until when, without a login.

A link carries the customer's id signed with Django's signing and a salt per purpose, so a
token made for the updates page opens nothing else. Updates and preferences links expire a year
after they were made; an unsubscribe link (from updates, or from surveys) never expires (an
old email must still let someone stop the mail) but does nothing beyond unsubscribing. A
tampered, expired or foreign token raises ``CustomerLinkError``, which the pages turn into
words a customer understands.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, get_urlconf, reverse


class Purpose(StrEnum):
    UPDATES = "updates"
    PREFERENCES = "preferences"
    UNSUBSCRIBE = "unsubscribe"
    STOP_SURVEYS = "stop-surveys"


# None: the link never expires.
MAX_AGE: dict[Purpose, timedelta | None] = {
    Purpose.UPDATES: timedelta(days=365),
    Purpose.PREFERENCES: timedelta(days=365),
    Purpose.UNSUBSCRIBE: None,
    Purpose.STOP_SURVEYS: None,
}
URL_NAMES: dict[Purpose, str] = {
    Purpose.UPDATES: "customer-updates",
    Purpose.PREFERENCES: "customer-preferences",
    Purpose.UNSUBSCRIBE: "customer-unsubscribe",
    Purpose.STOP_SURVEYS: "customer-stop-surveys",
}


class CustomerLinkError(Exception):
    """A link that cannot be trusted: tampered with, made for another purpose, or too old."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def _signer(purpose: Purpose) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"closedloop.customer-link.{purpose}")


def customer_token(customer_id: int, purpose: Purpose) -> str:
    """A token naming the customer for ``purpose``, valid from now."""
    return _signer(purpose).sign(str(customer_id))


def customer_from_token(token: str, purpose: Purpose) -> int:
    """The customer id ``token`` was made for; CustomerLinkError when it is not to be trusted."""
    max_age = MAX_AGE[purpose]
    try:
        value = _signer(purpose).unsign(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise CustomerLinkError("This link has expired.", expired=True) from exc
    except signing.BadSignature as exc:
        raise CustomerLinkError("This link is not valid.") from exc
    if not value.isdigit():
        raise CustomerLinkError("This link is not valid.")
    return int(value)


def customer_url(customer_id: int, purpose: Purpose) -> str:
    """The absolute link to the customer's page for ``purpose``, from ``SITE_URL``."""
    head, tail = _path_around_token(purpose, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    return f"{settings.SITE_URL}{head}{customer_token(customer_id, purpose)}{tail}"


# Reversed in place of a token: a token's characters (letters, digits, "-", "_" and ":") come out
# of reverse() unchanged, as this does. The token is the path's last part, whatever the prefix says.
_TOKEN = "token"


@lru_cache(maxsize=32)
def _path_around_token(purpose: Purpose, script_prefix: str, urlconf: str) -> tuple[str, str]:
    """The path of ``purpose``'s page before and after its token; a fan-out writes three links to
    each of its customers, and reversing each cost more than signing it."""
    head, _, tail = reverse(URL_NAMES[purpose], kwargs={"token": _TOKEN}, urlconf=urlconf).rpartition(_TOKEN)
    return head, tail
