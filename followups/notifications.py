"""Staff emails: one named builder and one template per message type.

Builders return unsaved outbox rows (``Notification``) that name the message type, recipient,
case and the little extra context the template needs; ``render`` turns a row into its subject
and body when it is delivered. These are plain-text emails: nothing is rendered as HTML, and
customer text in them is shortened and kept out of the subject's line structure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.template.loader import render_to_string

from followups.models import Case, Notification
from followups.selectors import case_list

SUBJECT_MAX = 300


def _notification(kind: str, user: User, case: Case | None, key: str, context: dict, now: datetime) -> Notification:
    return Notification(
        kind=kind,
        recipient=user,
        email=user.email,
        case=case,
        context=context,
        dedupe_key=key[:200],
        next_attempt_at=now,
        created_at=now,
    )


def wants_assignment_emails(user: User) -> bool:
    """Whether the agent keeps assignment emails on (the default when they never said)."""
    profile = getattr(user, "agent_profile", None)
    return profile is None or profile.assignment_emails


def assignment_email(case: Case, owner: User, now: datetime) -> Notification:
    """Tell an agent a case is now theirs."""
    return _notification("case_assigned", owner, case, f"assigned:{case.pk}:{owner.pk}:{now.isoformat()}", {}, now)


def hot_case_email(case: Case, lead: User, now: datetime) -> Notification:
    """Alert a team lead at once about a hot case (very low score or alarming words)."""
    return _notification("hot_case", lead, case, f"hot:{case.pk}:{lead.pk}", {}, now)


def breach_email(case: Case, user: User, deadline: str, now: datetime) -> Notification:
    """Tell the owner or lead that a deadline passed; once per case, deadline and person."""
    return _notification("breached", user, case, f"breach:{case.pk}:{deadline}:{user.pk}", {"deadline": deadline}, now)


def escalation_email(case: Case, user: User, now: datetime) -> Notification:
    """Tell a lead that an overdue case moved to them."""
    return _notification("escalated", user, case, f"escalated:{case.pk}:{case.escalation_level}:{user.pk}", {}, now)


def digest_email(user: User, day: str, now: datetime) -> Notification:
    """The daily list of an agent's open cases, overdue first; once per agent and day."""
    return _notification("digest", user, None, f"digest:{user.pk}:{day}", {"day": day}, now)


def render(notification: Notification, now: datetime) -> tuple[str, str]:
    """The subject and body of an outbox row, from its template and the current data."""
    context: dict[str, Any] = {
        **notification.context,
        "user": notification.recipient,
        "case": notification.case,
        "site_url": settings.SITE_URL,
        "now": now,
    }
    if notification.case is not None:
        # A customer's name could hold line breaks; the subject line must not.
        context["customer"] = " ".join(str(notification.case.response.customer).split())
    if notification.kind == Notification.Kind.DIGEST:
        cases = list(case_list(filters={"owner": "me", "open": "true"}, user=notification.recipient))
        context.update(cases=cases, overdue=[case for case in cases if case.is_overdue(now)])
    subject, _, body = render_to_string(f"followups/email/{notification.kind}.txt", context).strip().partition("\n")
    return " ".join(subject.split())[:SUBJECT_MAX], body.strip()
