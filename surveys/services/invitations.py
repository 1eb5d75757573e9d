"""Inviting customers to a survey, and recording their answers from the public survey page.

An invitation is decided when it is made: the fatigue rules (``surveys.fatigue``) either
suppress it, with the reason recorded, or let it through. An email invitation is then
scheduled for the sending task; on any other channel the caller delivers the links and it
counts as sent. Deciding takes a lock on the customer's row, so two invitations made at once
for one customer cannot both pass the quarantine. The answer goes through the ingestion
service like any other response (idempotent by the invitation), so a double submit stores one
response and detractors open cases as they always do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from closedloop.lib.exceptions import ApplicationError
from surveys import fatigue
from surveys.intake import parse_customer
from surveys.models import Channel, ContactPreference, Customer, Invitation, Response, Survey
from surveys.services.ingestion import customers_upsert, responses_ingest
from surveys.services.rollups import rollups_recounted
from surveys.signals import response_topic_chosen, responses_ingested, survey_topics

# The channels an invitation may go out on: email is sent here, the others by the caller.
INVITATION_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.WEB, Channel.IN_APP, Channel.PHONE)
# Earlier askings count for fatigue: invitations that went (or will go) out, and answers.
ASKING_STATUSES = (Invitation.Status.SCHEDULED, Invitation.Status.SENT, Invitation.Status.ANSWERED)
# How far ahead an invitation may be scheduled.
MAX_SCHEDULE_AHEAD = timedelta(days=366)
TOKEN_SALT = "closedloop.surveys.invitation"
SCORES = range(11)


@dataclass(frozen=True)
class Made:
    invitation: Invitation
    created: bool


def invitation_token(invitation: Invitation) -> str:
    """The unguessable part of the invitation's links: its id, signed with a salt of its own.

    Made once per loaded invitation: the signature carries the time it was made, and every link
    of one email or one API answer must name the same token.
    """
    token: str | None = invitation.__dict__.get("_link_token")
    if token is None:
        token = invitation.__dict__["_link_token"] = signing.dumps(invitation.pk, salt=TOKEN_SALT)
    return token


def invitation_from_token(token: str) -> Invitation:
    """The invitation a link names; ``signing.BadSignature`` for a tampered or foreign token,
    ``signing.SignatureExpired`` (a kind of it) once the link's validity has passed."""
    pk = signing.loads(token, salt=TOKEN_SALT, max_age=timedelta(days=settings.INVITATION_VALID_DAYS))
    if not isinstance(pk, int):
        raise signing.BadSignature("not an invitation")
    try:
        return Invitation.objects.select_related("survey", "customer", "response").get(pk=pk)
    except Invitation.DoesNotExist as exc:
        raise signing.BadSignature("no such invitation") from exc


def survey_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("survey-answer", args=[invitation_token(invitation)])


def score_urls(invitation: Invitation) -> list[str]:
    """The eleven links of the 0-10 scale; each opens the page with its score chosen."""
    base = survey_url(invitation)
    return [f"{base}?score={score}" for score in SCORES]


def _send_at(value: datetime | None, now: datetime) -> datetime:
    if value is None:
        return now
    if value > now + MAX_SCHEDULE_AHEAD:
        raise ApplicationError("Invalid invitation.", errors={"send_at": ["At most a year ahead."]})
    return max(value, now)


def staff_emails(emails: Iterable[str]) -> set[str]:
    """Which of the addresses (lower-cased) are active agents' or managers': their own tickets are not surveyed."""
    wanted = {email.lower() for email in emails if email}
    if not wanted:
        return set()
    users = get_user_model().objects.filter(is_active=True).annotate(address=Lower("email"))
    return set(users.filter(address__in=wanted).values_list("address", flat=True))


def askings(customer_ids: Sequence[int], now: datetime) -> dict[int, list[fatigue.Asked]]:
    """Each customer's askings recent enough to matter, with the quarantine of each one's survey (two queries)."""
    horizon = now - timedelta(days=max(settings.SURVEY_MINIMUM_QUARANTINE_DAYS, _longest_quarantine()))
    invited = Invitation.objects.filter(
        customer_id__in=customer_ids, status__in=ASKING_STATUSES, send_at__gte=horizon
    ).values_list("customer_id", F("send_at"), F("survey__quarantine_days"))
    answered = Response.objects.filter(customer_id__in=customer_ids, submitted_at__gte=horizon).values_list(
        "customer_id", F("submitted_at"), F("survey__quarantine_days")
    )
    found: dict[int, list[fatigue.Asked]] = defaultdict(list)
    for customer_id, at, days in (*invited, *answered):
        found[customer_id].append(fatigue.Asked(at, days))
    return found


def _longest_quarantine() -> int:
    return max(Survey.objects.values_list("quarantine_days", flat=True), default=0)


def suppression(
    customer: Customer,
    *,
    survey: Survey,
    channel: str,
    asked: Sequence[fatigue.Asked],
    staff: set[str],
    now: datetime,
    bypass_quarantine: bool = False,
) -> str:
    """Why ``customer`` is not to be invited to ``survey`` now (empty: they may be). Needs ``account`` loaded."""
    if not survey.active:
        return Invitation.Reason.INACTIVE_SURVEY
    candidate = fatigue.Candidate(
        erased=customer.erased_at is not None,
        unsubscribed=customer.surveys_unsubscribed_at is not None,
        email=customer.email,
        tags=fatigue.customer_tags(customer.attributes, customer.account.tags if customer.account else ()),
        is_staff=customer.email.lower() in staff,
    )
    reason = fatigue.suppression_reason(
        candidate,
        channel=channel,
        asked=asked,
        now=now,
        minimum_days=settings.SURVEY_MINIMUM_QUARANTINE_DAYS,
        excluded_tags=frozenset(tag.lower() for tag in settings.SURVEY_EXCLUDED_TAGS),
        bypass_quarantine=bypass_quarantine,
    )
    return reason or ""


def invitation_create(
    *,
    survey: Survey,
    customer: Any,
    channel: str = Channel.EMAIL,
    ticket_ref: str = "",
    agent: str = "",
    team: str = "",
    ticket_fields: dict[str, Any] | None = None,
    send_at: datetime | None = None,
    now: datetime | None = None,
    recovers: Response | None = None,
) -> Made:
    """Invite a customer (given as the API gives one) to ``survey``, or record why not.

    A ticket already invited to this survey gets its first invitation back, nothing new, and so
    does a response already checked on. A recovery check-in (``recovers``: the detractor's
    response whose case was resolved) is the one invitation the quarantine does not hold back.
    """
    now = now or timezone.now()
    data, customer_errors = parse_customer(customer)
    errors: dict[str, Any] = {"customer": customer_errors} if customer_errors else {}
    if channel not in INVITATION_CHANNELS:
        errors["channel"] = [f"Must be one of: {', '.join(INVITATION_CHANNELS)}."]
    if errors or data is None:
        raise ApplicationError("Invalid invitation.", errors=errors)
    when = _send_at(send_at, now)
    if earlier := _earlier(survey, ticket_ref, recovers):
        return Made(earlier, created=False)
    try:
        with transaction.atomic():
            customer_id = customers_upsert([data], now)[data.external_id]
            stored = Customer.objects.select_for_update(of=("self",)).select_related("account").get(pk=customer_id)
            reason = suppression(
                stored,
                survey=survey,
                channel=channel,
                asked=askings([stored.pk], now).get(stored.pk, []),
                staff=staff_emails([stored.email]),
                now=now,
                bypass_quarantine=recovers is not None,
            )
            if reason:
                status = Invitation.Status.SUPPRESSED
            elif channel == Channel.EMAIL:
                status = Invitation.Status.SCHEDULED
            else:
                status = Invitation.Status.SENT
            invitation = Invitation.objects.create(
                survey=survey,
                customer=stored,
                channel=channel,
                status=status,
                reason=reason,
                ticket_ref=ticket_ref,
                agent=agent,
                team=team,
                ticket_fields=ticket_fields or {},
                recovers=recovers,
                send_at=when,
                next_attempt_at=when,
                sent_at=now if status == Invitation.Status.SENT else None,
                created_at=now,
            )
    except IntegrityError:
        # The same ticket or check-in, invited at this very moment by another request.
        earlier = _earlier(survey, ticket_ref, recovers)
        if earlier is None:
            raise
        return Made(earlier, created=False)
    return Made(invitation, created=True)


def _earlier(survey: Survey, ticket_ref: str, recovers: Response | None) -> Invitation | None:
    if recovers is not None:
        return Invitation.objects.filter(recovers=recovers).first()
    if ticket_ref:
        return Invitation.objects.filter(survey=survey, ticket_ref=ticket_ref).first()
    return None


def can_change_answer(invitation: Invitation, now: datetime) -> bool:
    """Whether the customer may still change the answer they gave (the survey's edit window)."""
    answered_at = invitation.answered_at
    return answered_at is None or now < answered_at + timedelta(hours=invitation.survey.edit_window_hours)


def answer_topics(survey: Survey, *, response_id: int | None = None) -> list[tuple[str, str, bool]]:
    """The (slug, name, chosen) topics a customer may say their answer was about, from whoever offers them.

    ``chosen`` marks the one the customer chose for the response ``response_id``, if any.
    """
    sent = survey_topics.send(sender=Survey, survey=survey, response_id=response_id)
    offered: list[tuple[str, str, bool]] = []
    for _receiver, topics in sent:
        # A receiver's answer is whatever it returned: the signal's contract says topics.
        offered.extend(cast(list[tuple[str, str, bool]], topics or []))
    return offered


def _answer_errors(
    score: Any, comment: str, contact_preference: str, topic: str, survey: Survey
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(score, int) or isinstance(score, bool) or score not in SCORES:
        errors["score"] = ["Choose a score from 0 to 10."]
    if len(comment) > Response._meta.get_field("comment").max_length:  # type: ignore[operator]
        errors["comment"] = ["At most 5,000 characters, please."]
    if contact_preference and contact_preference not in ContactPreference.values:
        errors["contact_preference"] = ["Choose whether we may contact you, or leave it unanswered."]
    if topic and topic not in {slug for slug, _name, _chosen in answer_topics(survey)}:
        errors["topic"] = ["Choose one of the topics listed, or leave it unanswered."]
    return errors


@transaction.atomic
def invitation_answer(
    *,
    invitation: Invitation,
    score: int,
    comment: str = "",
    contact_preference: str = "",
    topic: str = "",
    now: datetime | None = None,
) -> Response:
    """Store the customer's answer as a response on the invited channel, or change it within the window.

    ``contact_preference`` is whether they want to be contacted (a ``ContactPreference`` or empty);
    ``topic`` the slug of what they said it was about (one of ``answer_topics``, or empty).
    """
    now = now or timezone.now()
    comment = comment.strip()
    errors = _answer_errors(score, comment, contact_preference, topic, invitation.survey)
    if errors:
        raise ApplicationError("Invalid answer.", errors=errors)
    invitation = Invitation.objects.select_for_update().select_related("survey", "customer").get(pk=invitation.pk)
    if invitation.status == Invitation.Status.SUPPRESSED:
        raise ApplicationError("This survey link is not valid any more.")
    if invitation.response_id is not None:
        return _change_answer(invitation, invitation.response_id, score, comment, contact_preference, topic, now)
    item = {
        "survey": invitation.survey.slug,
        "customer": {"external_id": invitation.customer.external_id},
        "score": score,
        "comment": comment,
        "channel": invitation.channel,
        "ticket_ref": invitation.ticket_ref,
        "external_id": f"invitation-{invitation.pk}",
        "submitted_at": now.isoformat(),
    }
    outcome = responses_ingest(items=[item], now=now).outcomes[0]
    if outcome.response_id is None:
        raise ApplicationError("Invalid answer.", errors=outcome.errors or {})
    # Ingestion counted the response with no team: linked, it counts under its ticket's team.
    with rollups_recounted(response_ids=[outcome.response_id]):
        Invitation.objects.filter(pk=invitation.pk).update(
            response_id=outcome.response_id, status=Invitation.Status.ANSWERED, answered_at=now
        )
    # Stored before the batch commits, so the case the follow-up app opens already knows them.
    Response.objects.filter(pk=outcome.response_id).update(contact_preference=contact_preference)
    response_topic_chosen.send(sender=Response, response_id=outcome.response_id, topic=topic)
    return Response.objects.get(pk=outcome.response_id)


def _change_answer(
    invitation: Invitation,
    response_id: int,
    score: int,
    comment: str,
    contact_preference: str,
    topic: str,
    now: datetime,
) -> Response:
    if not can_change_answer(invitation, now):
        raise ApplicationError("The time to change this answer has passed.")
    response = Response.objects.select_for_update().get(pk=response_id)
    with rollups_recounted(response_ids=[response.pk]):
        response.score, response.comment, response.contact_preference = score, comment, contact_preference
        response.save(update_fields=["score", "category", "comment", "contact_preference"])
    response_topic_chosen.send(sender=Response, response_id=response.pk, topic=topic)
    # A changed answer may be a detractor's now: the follow-up app opens what it lacks.
    transaction.on_commit(lambda: responses_ingested.send(sender=Response, response_ids=[response.pk]))
    return response
