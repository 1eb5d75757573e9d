"""Emails to customers: the "you said, we did" update, the survey invitation, and an agent's message
written on a case (from a manager's template, with its placeholders filled in).

One function renders each for delivery and for the manager's preview alike, so the preview is
the exact email. It is multipart (plain text and HTML, customer text escaped in the HTML and kept
out of the subject's line structure), and carries the RFC 8058 one-click unsubscribe headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.template.loader import render_to_string

from closedloop.lib.text import shorten
from followups.models import Case, CaseMessage, CustomerMessageTemplate, Improvement
from surveys.customer_links import Purpose, customer_url
from surveys.models import Customer, Invitation, Response, Survey
from surveys.services.invitations import score_urls

QUOTE_MAX = 300
SUBJECT_MAX = 300


@dataclass(frozen=True)
class CustomerEmail:
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def update_email(*, improvement: Improvement, customer: Customer, response: Response | None) -> CustomerEmail:
    """The email telling ``customer`` what ``improvement`` changed, quoting ``response``."""
    unsubscribe_url = customer_url(customer.pk, Purpose.UNSUBSCRIBE)
    context = {
        "improvement": improvement,
        "name": " ".join(customer.name.split()),
        "quote": shorten(response.comment, QUOTE_MAX) if response is not None and response.comment.strip() else "",
        "said_at": response.submitted_at if response is not None else None,
        "updates_url": customer_url(customer.pk, Purpose.UPDATES),
        "preferences_url": customer_url(customer.pk, Purpose.PREFERENCES),
        "unsubscribe_url": unsubscribe_url,
    }
    subject = " ".join(f"We changed something you told us about: {improvement.title}".split())[:SUBJECT_MAX]
    headers = unsubscribe_headers(unsubscribe_url)
    return CustomerEmail(
        subject=subject,
        text=render_to_string("followups/email/customer_update.txt", context).strip() + "\n",
        html=render_to_string("followups/email/customer_update.html", context),
        headers=headers,
    )


# The placeholders a message template may use. Plain substitution of these names only: a manager's
# text is never rendered as a template, so it cannot reach anything else.
PLACEHOLDERS = ("customer_name", "case_number", "survey")


def fill_placeholders(text: str, case: Case) -> str:
    """``text`` with {customer_name}, {case_number} and {survey} replaced by the case's values."""
    customer = case.response.customer
    values = {
        "customer_name": " ".join(customer.name.split()) or "there",
        "case_number": str(case.pk),
        "survey": case.response.survey.name,
    }
    for name in PLACEHOLDERS:
        text = text.replace("{" + name + "}", values[name])
    return text


def message_draft(template: CustomerMessageTemplate, case: Case) -> tuple[str, str]:
    """The subject and body an agent starts from: the template filled in for the case."""
    return fill_placeholders(template.subject, case), fill_placeholders(template.body, case)


def case_message_email(*, message: CaseMessage) -> CustomerEmail:
    """The agent's message as sent: their text, signed, with the opt-out links and headers."""
    customer = message.customer
    unsubscribe_url = customer_url(customer.pk, Purpose.UNSUBSCRIBE)
    author = message.author
    context = {
        "subject": message.subject,
        "body": message.body,
        "sender": (author.get_full_name() or author.get_username()) if author else "",
        "preferences_url": customer_url(customer.pk, Purpose.PREFERENCES),
        "unsubscribe_url": unsubscribe_url,
    }
    headers = unsubscribe_headers(unsubscribe_url)
    if message.reply_to:
        headers["Reply-To"] = message.reply_to
    return CustomerEmail(
        subject=" ".join(message.subject.split())[:SUBJECT_MAX],
        text=render_to_string("followups/email/case_message.txt", context).strip() + "\n",
        html=render_to_string("followups/email/case_message.html", context),
        headers=headers,
    )


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 8058's one-click unsubscribe headers for the link ``url`` (and UNSUBSCRIBE_MAILTO when set)."""
    unsubscribe = f"<{url}>"
    if settings.UNSUBSCRIBE_MAILTO:
        unsubscribe += f", <mailto:{settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe>"
    return {"List-Unsubscribe": unsubscribe, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def invitation_email(*, invitation: Invitation) -> CustomerEmail:
    """The survey invitation: the question, the 0-10 scale as eleven links, a plain link, and the opt-outs.

    A reminder (the invitation sent again once, unanswered) says so in its subject.
    """
    survey, customer = invitation.survey, invitation.customer
    stop_url = customer_url(customer.pk, Purpose.STOP_SURVEYS)
    links = score_urls(invitation)
    context = {
        "survey": survey,
        "name": " ".join(customer.name.split()),
        # Labels as text: the templates print each score four times, and numbers go through localization.
        "scores": [(str(score), url) for score, url in enumerate(links)],
        "survey_url": links[0].split("?", 1)[0],
        "reminder": invitation.reminded_at is not None,
        "preferences_url": customer_url(customer.pk, Purpose.PREFERENCES),
        "stop_url": stop_url,
    }
    subject = " ".join(f"{'Reminder: ' if context['reminder'] else ''}{survey.question}".split())[:SUBJECT_MAX]
    headers = unsubscribe_headers(stop_url)
    if survey.reply_to:
        headers["Reply-To"] = survey.reply_to
    return CustomerEmail(
        subject=subject,
        text=render_to_string("followups/email/invitation.txt", context).strip() + "\n",
        html=render_to_string("followups/email/invitation.html", context),
        headers=headers,
    )


def invitation_sender(survey: Survey) -> str:
    """Who the invitation comes from: the survey's sender name on the site's address."""
    if not survey.sender_name:
        return settings.DEFAULT_FROM_EMAIL
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((survey.sender_name, address))
