"""Validation of one incoming response item: a pure function shared by every intake path.

The API (single and bulk), the CSV import and the public survey pages all hand raw items to
``parse_response_item``, so the rules of API.md are written once. It touches no database: which
survey slugs exist is checked by the ingestion service in one query per batch.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.dateparse import parse_datetime

from surveys.models import COMMENT_MAX_LENGTH, Channel
from surveys.nps import Category, classify

# A sender's clock may run a little ahead of ours; later than this is "in the future".
CLOCK_SKEW = timedelta(minutes=5)
# No NPS survey was answered before this; an earlier time is a client's placeholder or a bug. It
# also keeps times clear of the ends of the calendar: year 1 with a positive offset is a date BC
# in UTC, which PostgreSQL stores but no Python datetime can read back.
EARLIEST_SUBMITTED_AT = datetime(2000, 1, 1, tzinfo=UTC)
MAX_ATTRIBUTES = 50
CHANNELS = frozenset(Channel.values)

# Field name to its messages; a nested object (the customer) maps to its own Errors, as DRF reports it.
Errors = dict[str, Any]


def _compiled(lazy_pattern: Any) -> re.Pattern[str]:
    return re.compile(lazy_pattern.pattern, lazy_pattern.flags)


class _EmailValidator(EmailValidator):
    """Django's email rules, with its patterns compiled up front.

    Django keeps them behind lazy proxies whose attribute lookups cost more than the matches
    themselves, which shows at 10,000 addresses per bulk request.
    """

    user_regex = _compiled(EmailValidator.user_regex)
    domain_regex = _compiled(EmailValidator.domain_regex)
    literal_regex = _compiled(EmailValidator.literal_regex)


validate_email = _EmailValidator()


# Named tuples: immutable like frozen dataclasses and several times cheaper to build, which
# shows at 10,000 items per bulk request.
class CustomerData(NamedTuple):
    external_id: str
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    attributes: dict[str, Any] | None = None


class ResponseItem(NamedTuple):
    survey: str
    customer: CustomerData
    score: int
    category: Category
    comment: str
    channel: str | None
    submitted_at: datetime | None
    external_id: str | None
    ticket_ref: str


class _Invalid(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def _text(value: Any, *, max_length: int, allow_int: bool = False) -> str:
    if _well_formed(value, max_length):
        return value
    if not isinstance(value, str):
        if not allow_int or not isinstance(value, int) or isinstance(value, bool):
            raise _Invalid("Must be a string.")
        value = str(value)
    if len(value) > max_length:
        raise _Invalid(f"Ensure this field has no more than {max_length} characters.")
    # PostgreSQL text and jsonb cannot hold NUL; refuse it rather than fail on insert.
    if "\x00" in value:
        raise _Invalid("Must not contain NUL characters.")
    if (char := _lone_surrogate(value)) is not None:
        raise _Invalid(f"Surrogate characters are not allowed: U+{ord(char):X}.")
    return value


def _lone_surrogate(value: str) -> str | None:
    """The first UTF-16 surrogate in the text that stands alone, without its pair, if any.

    JSON may spell one ("\\ud800") and Python decodes it, but no UTF-8 text can hold it: the
    database driver would fail on it. ``isascii`` answers without reading the text.
    """
    if value.isascii():
        return None
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        return value[exc.start]
    return None


def _well_formed(value: Any, max_length: int) -> bool:
    # The check nearly every value passes, in one expression: a bulk request makes 100,000s of
    # them. The checks one by one, each with its own message, are for the values that fail.
    return (
        type(value) is str
        and len(value) <= max_length
        and "\x00" not in value
        and (value.isascii() or _lone_surrogate(value) is None)
    )


def _optional_text(item: dict, key: str, max_length: int, errors: Errors, allow_int: bool = False) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    try:
        return _text(value, max_length=max_length, allow_int=allow_int).strip()
    except _Invalid as exc:
        errors[key] = [exc.message]
        return None


def _score(value: Any) -> int:
    # JSON true is a Python int, and "7" or 7.5 are not integers: only a real integer counts.
    if type(value) is int and 0 <= value <= 10:
        return value
    if value is None:
        raise _Invalid("This field is required.")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid("A valid integer from 0 to 10 is required.")
    if not 0 <= value <= 10:
        raise _Invalid("Ensure this value is between 0 and 10.")
    return value


def _attributes(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid("Must be an object of segment names to values.")
    if len(value) > MAX_ATTRIBUTES:
        raise _Invalid(f"At most {MAX_ATTRIBUTES} attributes.")
    for key, item in value.items():
        _text(key, max_length=64)
        if isinstance(item, str):
            _text(item, max_length=200)
        elif isinstance(item, float) and not math.isfinite(item):
            # jsonb has no NaN or infinity: refused here, not written as null or failing on insert.
            raise _Invalid(f"Attribute {key!r} must be a finite number.")
        elif item is not None and not isinstance(item, (int, float, bool)):
            raise _Invalid(f"Attribute {key!r} must be a string, number, boolean or null.")
    return value


def parse_customer(value: Any) -> tuple[CustomerData | None, Errors]:
    """Check a customer object (``external_id`` and optional details); the data or field errors."""
    if not isinstance(value, dict):
        return None, {"non_field_errors": ["Must be an object with at least an external_id."]}
    errors: Errors = {}
    external_id = None
    if value.get("external_id") in (None, ""):
        errors["external_id"] = ["This field is required."]
    else:
        external_id = _optional_text(value, "external_id", 100, errors, allow_int=True)
        if external_id == "":
            errors["external_id"] = ["This field may not be blank."]
    email = _optional_text(value, "email", 254, errors)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = ["Enter a valid email address."]
    name = _optional_text(value, "name", 200, errors)
    phone = _optional_text(value, "phone", 40, errors)
    attributes = None
    if value.get("attributes") is not None:
        try:
            attributes = _attributes(value["attributes"])
        except _Invalid as exc:
            errors["attributes"] = [exc.message]
    if errors or external_id is None:
        return None, errors
    return CustomerData(external_id, email, name, phone, attributes), {}


def _submitted_at(value: Any, now: datetime) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid("Must be an ISO 8601 date-time string.")
    if "\x00" in value:
        # Python's ISO parser stops reading at a NUL and would accept whatever follows it.
        raise _Invalid("Must not contain NUL characters.")
    parsed: datetime | None
    try:
        # The C parser takes any ISO 8601 time quickly; Django's reads a few more spellings.
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise _Invalid("Must be an ISO 8601 date-time, e.g. 2026-11-20T10:00:00+00:00.")
    if parsed.tzinfo is None:
        raise _Invalid("Include a UTC offset, e.g. 2026-11-20T10:00:00+00:00.")
    if parsed > now + CLOCK_SKEW:
        raise _Invalid("Must not be in the future.")
    if parsed < EARLIEST_SUBMITTED_AT:
        raise _Invalid(f"Must not be before {EARLIEST_SUBMITTED_AT:%Y-%m-%d} (UTC).")
    return parsed


def parse_response_item(raw: Any, *, now: datetime) -> tuple[ResponseItem | None, Errors]:
    """Check one raw item against API.md; return the parsed item or field-level errors."""
    if not isinstance(raw, dict):
        return None, {"non_field_errors": ["Expected an object."]}
    errors: Errors = {}
    survey = raw.get("survey")
    if survey in (None, ""):
        errors["survey"] = ["This field is required."]
    elif not _well_formed(survey, 80):
        # The slug is looked up before anything else: text PostgreSQL cannot hold would fail that query.
        errors["survey"] = ["Must be a survey slug."]
    if "customer" not in raw or raw["customer"] is None:
        errors["customer"] = ["This field is required."]
        customer = None
    else:
        customer, customer_errors = parse_customer(raw["customer"])
        if customer_errors:
            errors["customer"] = customer_errors  # nested, as DRF reports nested serializers
    score = None
    try:
        score = _score(raw.get("score"))
    except _Invalid as exc:
        errors["score"] = [exc.message]
    comment = _optional_text(raw, "comment", COMMENT_MAX_LENGTH, errors) or ""
    channel = raw.get("channel")
    # A list or an object is not hashable: test the type before looking it up.
    if channel is not None and (not isinstance(channel, str) or channel not in CHANNELS):
        errors["channel"] = [f"Must be one of: {', '.join(sorted(CHANNELS))}."]
    submitted_at = None
    try:
        submitted_at = _submitted_at(raw.get("submitted_at"), now)
    except _Invalid as exc:
        errors["submitted_at"] = [exc.message]
    external_id = _optional_text(raw, "external_id", 200, errors, allow_int=True) or None
    ticket_ref = _optional_text(raw, "ticket_ref", 100, errors) or ""
    if errors or survey is None or customer is None or score is None:
        return None, errors
    return ResponseItem(
        survey, customer, score, classify(score), comment, channel, submitted_at, external_id, ticket_ref
    ), {}
