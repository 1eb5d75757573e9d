"""The managers' weekly digest without the database: which week it covers, which themes are new or
rising, and the signed link that stops it.

A digest covers the last complete week, Monday to Sunday in the site's time zone, against the
week before; the week's label (``2026-W48``) makes "once per manager and week" a database fact
through the outbox's dedupe key, whenever in the following week the schedule runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django.core import signing

THEMES_LISTED = 5
_STOP_SALT = "closedloop.manager-digest.stop"


@dataclass(frozen=True, slots=True)
class DigestWeek:
    """A week from Monday ``start`` to the Monday after."""

    start: date

    @classmethod
    def before(cls, day: date) -> DigestWeek:
        """The last complete week before ``day``'s (the week before last when ``day`` is a Monday's)."""
        monday = day - timedelta(days=day.weekday())
        return cls(monday - timedelta(days=7))

    @property
    def label(self) -> str:
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def last_day(self) -> date:
        return self.start + timedelta(days=6)

    def previous(self) -> DigestWeek:
        return DigestWeek(self.start - timedelta(days=7))

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """Monday's midnight and the next Monday's, in ``tz``."""
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.start + timedelta(days=7), time.min, tzinfo=tz),
        )


def new_and_rising(rows: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Of the themes report's rows (with the week before), the new themes and the rising ones.

    New: raised this week and not the week before, the most raised first. Rising: raised more
    often than the week before, the largest increase first. Ties by name; at most a few of each.
    """
    new, rising = [], []
    for row in rows:
        if row["responses"] <= 0:
            continue
        if row["previous_responses"] == 0:
            new.append(row)
        elif row["responses"] > row["previous_responses"]:
            rising.append(row)
    new.sort(key=lambda row: (-row["responses"], row["name"]))
    rising.sort(key=lambda row: (row["previous_responses"] - row["responses"], row["name"]))
    return new[:THEMES_LISTED], rising[:THEMES_LISTED]


def stop_token(user_id: int) -> str:
    """The token of a manager's link that turns their weekly digest off (it never expires)."""
    return signing.Signer(salt=_STOP_SALT).sign(str(user_id))


def user_from_stop_token(token: str) -> int | None:
    """The user id a stop link was made for; None for a tampered or foreign token."""
    try:
        # Only ``stop_token`` signs with this salt, so a good signature holds a user id.
        return int(signing.Signer(salt=_STOP_SALT).unsign(token))
    except signing.BadSignature:
        return None
