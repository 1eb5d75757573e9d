"""When a failed delivery is tried again: a fixed schedule of waits, then giving up. Pure, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetrySchedule:
    """The waits before the 2nd, 3rd, ... attempt; a delivery failing after the last one has failed."""

    delays: tuple[timedelta, ...]

    @property
    def attempts(self) -> int:
        """How many attempts a delivery gets in all: the first, then one after each wait."""
        return len(self.delays) + 1

    def next_attempt_at(self, failed_attempts: int, now: datetime) -> datetime | None:
        """When to try again after ``failed_attempts`` failures, the last at ``now``; None to give up."""
        if failed_attempts < 1:
            raise ValueError(f"a retry follows at least one failed attempt, not {failed_attempts}")
        if failed_attempts >= self.attempts:
            return None
        return now + self.delays[failed_attempts - 1]


# Staff email: a mail server that is down for a few hours does not lose the message.
EMAIL_RETRIES = RetrySchedule((timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)))

# Webhooks: receivers restart often, so the first retries come quickly; the last waits half a day.
WEBHOOK_RETRIES = RetrySchedule(
    (
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(hours=1),
        timedelta(hours=4),
        timedelta(hours=12),
    )
)
