"""The "you said, we did" email: what one customer said, what was done, and their links.

One function renders it for delivery and for the manager's preview alike, so the preview is the
exact email. It is multipart (plain text and HTML, customer text escaped in the HTML and kept
out of the subject's line structure), and carries the RFC 8058 one-click unsubscribe headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string

from closedloop.lib.text import shorten
from followups.models import Improvement
from surveys.customer_links import Purpose, customer_url
from surveys.models import Customer, Response

QUOTE_MAX = 300
SUBJECT_MAX = 300


@dataclass(frozen=True)
class UpdateEmail:
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def update_email(*, improvement: Improvement, customer: Customer, response: Response | None) -> UpdateEmail:
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
    unsubscribe = f"<{unsubscribe_url}>"
    if settings.UNSUBSCRIBE_MAILTO:
        unsubscribe += f", <mailto:{settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe>"
    headers = {"List-Unsubscribe": unsubscribe, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return UpdateEmail(
        subject=subject,
        text=render_to_string("followups/email/customer_update.txt", context).strip() + "\n",
        html=render_to_string("followups/email/customer_update.html", context),
        headers=headers,
    )
