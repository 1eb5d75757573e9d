"""Recovery check-ins: did the detractor whose case was resolved come round?

A configurable number of days after a case is resolved, its customer is invited to a short
check-in (RECOVERY_SURVEY, or the case's own survey). Quarantine does not hold it back, since
asking again is the point, but every other reason not to invite someone does. The answer links
to the case through the invitation, so recovery (a later 7 or more, or 9 or more) is counted
(``surveys.selectors.recovery_rates``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from followups.models import Case
from surveys.models import Survey
from surveys.services.invitations import Made, invitation_create


def _survey(case: Case) -> Survey:
    configured = Survey.objects.filter(slug=settings.RECOVERY_SURVEY).first() if settings.RECOVERY_SURVEY else None
    return configured or case.response.survey


def recovery_check_schedule(*, case: Case, now: datetime) -> Made | None:
    """Invite the customer of a resolved case to a check-in RECOVERY_CHECK_DAYS from now (0: off).

    A case resolved again after a reopen keeps its first check-in.
    """
    if not settings.RECOVERY_CHECK_DAYS:
        return None
    response = case.response
    return invitation_create(
        survey=_survey(case),
        customer={"external_id": response.customer.external_id},
        # No ticket: the ticket's own invitation already holds (survey, ticket), once per ticket,
        # and ``recovers`` ties the check-in to its response.
        send_at=now + timedelta(days=settings.RECOVERY_CHECK_DAYS),
        now=now,
        recovers=response,
    )
