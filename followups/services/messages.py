"""Writing to the customer from a case, and the message templates managers maintain.

A message is logged on the case as an email contact (which counts as the first contact) and put
in the case-message outbox in the same transaction; the delivery task sends it once committed,
checking the customer's opt-outs again at the moment of sending.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from closedloop.lib.exceptions import ApplicationError
from followups.models import Case, CaseMessage, CustomerMessageTemplate
from followups.services.cases import case_contact_log
from followups.services.delivery import not_to_be_emailed
from followups.services.outbox import deliver_on_commit

SUBJECT_MAX = 200
BODY_MAX = 5000
# Why a message cannot go, in the agent's words, by the outbox's suppression reason.
NOT_EMAILED = {
    "erased": "This customer's data was erased: they cannot be emailed.",
    "no_address": "This customer has no email address.",
    "unsubscribed": "This customer asked not to be emailed.",
}


@transaction.atomic
def case_message_send(*, case: Case, actor: User, subject: str, body: str, now: datetime | None = None) -> CaseMessage:
    """Queue ``actor``'s email to the case's customer and log it as a contact on the case."""
    subject, body = " ".join(subject.split()), body.strip()
    errors = {}
    if not subject or len(subject) > SUBJECT_MAX:
        errors["subject"] = [f"Write a subject of at most {SUBJECT_MAX} characters."]
    if not body or len(body) > BODY_MAX:
        errors["body"] = [f"Write a message of at most {BODY_MAX} characters."]
    if errors:
        raise ApplicationError("Invalid message.", errors=errors)
    now = now or timezone.now()
    # The contact locks the case (reading the customer as they are now) and checks that the
    # actor may work on it; a refusal below rolls it back.
    case = case_contact_log(case=case, actor=actor, channel="email", outcome="email_sent", note=subject, now=now)
    customer = case.response.customer
    reason = not_to_be_emailed(customer)
    if reason:
        raise ApplicationError(NOT_EMAILED.get(reason, "This customer cannot be emailed."))
    message = CaseMessage(
        case=case,
        customer=customer,
        author=actor,
        reply_to=actor.email,
        subject=subject,
        body=body,
        next_attempt_at=now,
        created_at=now,
    )
    message.full_clean()
    message.save()
    deliver_on_commit("followups.tasks.case_messages_deliver")
    return message


@transaction.atomic
def message_template_create(*, name: str, subject: str, body: str, active: bool = True) -> CustomerMessageTemplate:
    template = CustomerMessageTemplate(name=name.strip(), subject=subject.strip(), body=body.strip(), active=active)
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def message_template_update(
    *, template: CustomerMessageTemplate, name: str, subject: str, body: str, active: bool
) -> CustomerMessageTemplate:
    template.name, template.subject, template.body, template.active = (
        name.strip(),
        subject.strip(),
        body.strip(),
        active,
    )
    template.full_clean()
    template.save()
    return template
