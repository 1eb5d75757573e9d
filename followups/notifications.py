"""Staff emails: one named builder and one template per message type, each returning an outbox row.

Customer text inside them is shortened; these are plain-text emails, so nothing is rendered as HTML.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.template.loader import render_to_string

from followups.models import Case, Notification

SUBJECT_COMMENT = 60


def _notification(
    kind: str, user: AbstractUser, case: Case | None, key: str, context: dict, now: datetime
) -> Notification:
    context = {**context, "user": user, "case": case, "site_url": settings.SITE_URL}
    subject, _, body = render_to_string(f"followups/email/{kind}.txt", context).strip().partition("\n")
    return Notification(
        kind=kind,
        recipient=user,
        email=user.email,
        subject=subject.strip()[:300],
        body=body.strip(),
        case=case,
        dedupe_key=key[:200],
        next_attempt_at=now,
        created_at=now,
    )


def assignment_email(case: Case, owner: AbstractUser, now: datetime) -> Notification:
    """Tell an agent a case is now theirs."""
    return _notification("case_assigned", owner, case, f"assigned:{case.pk}:{owner.pk}:{now.isoformat()}", {}, now)


def hot_case_email(case: Case, lead: AbstractUser, now: datetime) -> Notification:
    """Alert a team lead at once about a hot case (very low score or alarming words)."""
    return _notification("hot_case", lead, case, f"hot:{case.pk}:{lead.pk}", {}, now)


def breach_email(case: Case, user: AbstractUser, deadline: str, now: datetime) -> Notification:
    """Tell the owner or lead that a deadline passed; once per case, deadline and person."""
    return _notification("breached", user, case, f"breach:{case.pk}:{deadline}:{user.pk}", {"deadline": deadline}, now)


def escalation_email(case: Case, user: AbstractUser, now: datetime) -> Notification:
    """Tell a lead that an overdue case moved to them."""
    return _notification("escalated", user, case, f"escalated:{case.pk}:{case.escalation_level}:{user.pk}", {}, now)


def digest_email(user: AbstractUser, cases: list[Case], day: str, now: datetime) -> Notification:
    """The daily list of an agent's open cases, overdue first; once per agent and day."""
    overdue = [case for case in cases if case.is_overdue(now)]
    context = {"cases": cases, "overdue": overdue, "day": day, "now": now}
    return _notification("digest", user, None, f"digest:{user.pk}:{day}", context, now)
