"""When a failed email or webhook is tried again, and when it is given up (followups.retries)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from followups.retries import EMAIL_RETRIES, WEBHOOK_RETRIES, RetrySchedule

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_an_email_is_tried_five_times_over_about_two_and_a_half_hours():
    waits = [EMAIL_RETRIES.next_attempt_at(failures, NOW) for failures in range(1, 6)]
    assert waits == [NOW + MINUTE, NOW + 5 * MINUTE, NOW + 30 * MINUTE, NOW + 120 * MINUTE, None]
    assert EMAIL_RETRIES.attempts == 5


def test_a_webhook_is_tried_seven_times_over_about_seventeen_hours():
    waits = [WEBHOOK_RETRIES.next_attempt_at(failures, NOW) for failures in range(1, 8)]
    assert waits == [
        NOW + timedelta(seconds=30),
        NOW + 2 * MINUTE,
        NOW + 10 * MINUTE,
        NOW + 60 * MINUTE,
        NOW + 240 * MINUTE,
        NOW + 720 * MINUTE,
        None,
    ]
    assert WEBHOOK_RETRIES.attempts == 7


def test_past_the_last_attempt_it_stays_given_up():
    assert RetrySchedule((MINUTE,)).next_attempt_at(2, NOW) is None
    assert RetrySchedule((MINUTE,)).next_attempt_at(3, NOW) is None
    assert RetrySchedule(()).next_attempt_at(1, NOW) is None


@pytest.mark.parametrize("failures", [0, -1])
def test_a_retry_needs_a_failure_first(failures):
    with pytest.raises(ValueError, match=f"at least one failed attempt, not {failures}"):
        EMAIL_RETRIES.next_attempt_at(failures, NOW)
