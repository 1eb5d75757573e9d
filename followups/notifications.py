"""Staff emails: one named builder and one template per message type.

Builders return unsaved outbox rows (``Notification``) that name the message type, recipient,
case and the little extra context the template needs; ``render`` turns a row into its subject
and body when it is delivered. Most are plain-text emails; the managers' weekly digest also has an
HTML part (autoescaped). Customer text in them is shortened and kept out of the subject's line
structure.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.urls import reverse

from followups.digest_selectors import manager_digest
from followups.models import Case, Notification
from followups.selectors import case_list
from followups.weekly_digest import DigestWeek, stop_token

SUBJECT_MAX = 300
# The kinds with an HTML part beside the text (a template ``<kind>.html``).
HTML_KINDS = frozenset({Notification.Kind.MANAGER_DIGEST})


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


# The setting of the recipient's profile that turns each kind of email off (on when they never said).
OPT_OUTS: dict[str, str] = {
    Notification.Kind.CASE_ASSIGNED: "assignment_emails",
    Notification.Kind.DIGEST: "digest_emails",
    Notification.Kind.MANAGER_DIGEST: "manager_digest_emails",
}


def wants_assignment_emails(user: User) -> bool:
    """Whether the agent keeps assignment emails on (the default when they never said)."""
    return wants(user, Notification.Kind.CASE_ASSIGNED)


def wants(user: User, kind: str) -> bool:
    """Whether ``user`` keeps emails of ``kind`` on; the kinds no setting turns off always are."""
    profile = getattr(user, "agent_profile", None)
    return profile is None or kind not in OPT_OUTS or getattr(profile, OPT_OUTS[kind])


def not_to_be_sent(notification: Notification) -> str:
    """Why a queued staff email must not go now (its suppressed reason), or empty.

    Read when it is sent, since a recipient may turn the kind off, or leave, after it was queued.
    """
    recipient = notification.recipient
    if recipient is None or not recipient.is_active:
        return "inactive"
    if not wants(recipient, notification.kind):
        return "turned_off"
    return ""


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


def manager_digest_email(user: User, week: DigestWeek, now: datetime) -> Notification:
    """A manager's weekly digest of the last complete week; once per manager and week."""
    context = {"week": week.label, "week_start": week.start.isoformat()}
    return _notification("manager_digest", user, None, f"manager-digest:{user.pk}:{week.label}", context, now)


def manager_digest_stop_url(user_id: int) -> str:
    """The link in a manager's digest that turns it off without signing in."""
    return settings.SITE_URL + reverse("manager-digest-stop", kwargs={"token": stop_token(user_id)})


def render(notification: Notification, now: datetime) -> tuple[str, str, str | None]:
    """The subject, text and (for HTML_KINDS) HTML of an outbox row, from its templates and the current data."""
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
    if notification.kind == Notification.Kind.MANAGER_DIGEST:
        week = DigestWeek(date.fromisoformat(notification.context["week_start"]))
        context.update(
            digest=manager_digest(week=week, now=now), stop_url=manager_digest_stop_url(notification.recipient_id or 0)
        )
    subject, _, body = render_to_string(f"followups/email/{notification.kind}.txt", context).strip().partition("\n")
    html = None
    if notification.kind in HTML_KINDS:
        html = render_to_string(f"followups/email/{notification.kind}.html", context)
    return " ".join(subject.split())[:SUBJECT_MAX], body.strip(), html
