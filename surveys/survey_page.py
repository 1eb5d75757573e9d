"""The public survey page: what a customer opens from an invitation's links, without signing in.

It works without JavaScript (a plain form), shows the score already chosen when the customer
came from one of the eleven score links, and after an answer a thank-you that fits the
category. A tampered, expired or withdrawn link gets a page saying so, never an error. Answers
are limited per link and per client address, counted in the cache every web process shares
(Redis when configured, else the database).
"""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from closedloop.lib.exceptions import ApplicationError
from surveys.models import ContactPreference, Invitation
from surveys.nps import Category, classify
from surveys.services.invitations import (
    SCORES,
    answer_topics,
    can_change_answer,
    invitation_answer,
    invitation_from_token,
)

# A person answers once and may change it a few times; more is someone hammering the survey.
ANSWERS_PER_LINK = "10/h"
REQUESTS_PER_ADDRESS = "120/h"
RETRY_AFTER_SECONDS = "3600"
# The "why?" question before a score is chosen; the survey's own question by category after.
GENERAL_QUESTION = "What is the main reason for your score?"


def _problem(request: HttpRequest, kind: str, status: int) -> HttpResponse:
    return render(request, "surveys/answer/problem.html", {"kind": kind}, status=status)


def _limited_address(request: HttpRequest) -> bool:
    return is_ratelimited(request, group="survey-address", key="ip", rate=REQUESTS_PER_ADDRESS, increment=True)


def _limited_invitation(request: HttpRequest, invitation: Invitation) -> bool:
    """Answers per invitation, whichever of its links (each email carries freshly signed ones) they come by."""
    return is_ratelimited(
        request,
        group="survey-invitation",
        key=lambda group, request: str(invitation.pk),
        rate=ANSWERS_PER_LINK,
        increment=True,
    )


def _too_many(request: HttpRequest) -> HttpResponse:
    limited = _problem(request, "limited", 429)
    limited["Retry-After"] = RETRY_AFTER_SECONDS
    return limited


def _invitation(request: HttpRequest, token: str) -> Invitation | HttpResponse:
    """The link's invitation, or the page that explains why there is none."""
    try:
        invitation = invitation_from_token(token)
    except signing.SignatureExpired:
        return _problem(request, "expired", 410)
    except signing.BadSignature:
        return _problem(request, "invalid", 404)
    if invitation.status == Invitation.Status.SUPPRESSED or invitation.customer.erased_at is not None:
        return _problem(request, "withdrawn", 410)
    return invitation


def _chosen(value: str | None) -> int | None:
    return int(value) if value in {str(score) for score in SCORES} else None


def _questions(invitation: Invitation) -> dict[str, str]:
    survey = invitation.survey
    return {
        Category.DETRACTOR: survey.question_detractor,
        Category.PASSIVE: survey.question_passive,
        Category.PROMOTER: survey.question_promoter,
    }


@require_http_methods(["GET", "HEAD", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    if _limited_address(request):
        return _too_many(request)
    found = _invitation(request, token)
    if isinstance(found, HttpResponse):
        return found
    invitation, now = found, timezone.now()
    if request.method == "POST" and _limited_invitation(request, invitation):
        return _too_many(request)
    response = invitation.response
    changeable = can_change_answer(invitation, now)
    errors: dict[str, list[str]] = {}
    score = _chosen(request.GET.get("score")) if response is None else response.score
    comment = response.comment if response is not None else ""
    contact_preference = response.contact_preference if response is not None else ""
    topics = answer_topics(invitation.survey, response_id=response.pk if response is not None else None)
    topic = next((slug for slug, _name, chosen in topics if chosen), "")
    if request.method == "POST":
        score, comment = _chosen(request.POST.get("score")), request.POST.get("comment", "")
        contact_preference, topic = request.POST.get("contact_preference", ""), request.POST.get("topic", "")
        try:
            invitation_answer(
                invitation=invitation,
                score=score if score is not None else -1,
                comment=comment,
                contact_preference=contact_preference,
                topic=topic,
            )
        except ApplicationError as exc:
            errors = exc.errors or {"form": [exc.message]}
        else:
            return redirect("survey-thanks", token=token)
    questions = _questions(invitation)
    context = {
        "invitation": invitation,
        "survey": invitation.survey,
        "scores": SCORES,
        "score": score,
        "comment": comment,
        "question": questions[classify(score)] if score is not None else GENERAL_QUESTION,
        "questions": questions,
        "topics": [(slug, name) for slug, name, _chosen in topics],
        "topic": topic,
        "contact_choices": ContactPreference.choices,
        "contact_preference": contact_preference,
        "answered": response is not None,
        "changeable": changeable,
        "errors": errors,
    }
    return render(request, "surveys/answer/form.html", context, status=400 if errors else 200)


@require_http_methods(["GET", "HEAD"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    if _limited_address(request):
        return _too_many(request)
    found = _invitation(request, token)
    if isinstance(found, HttpResponse):
        return found
    invitation = found
    if invitation.response is None:
        return redirect("survey-answer", token=token)
    category = invitation.response.category
    survey = invitation.survey
    text = {
        Category.PROMOTER: survey.thank_you_promoter,
        Category.PASSIVE: survey.thank_you_passive,
        Category.DETRACTOR: survey.thank_you_detractor,
    }[Category(category)]
    context = {
        "invitation": invitation,
        "survey": survey,
        "text": text,
        "category": category,
        "review_url": survey.review_url if category == Category.PROMOTER else "",
        "changeable": can_change_answer(invitation, timezone.now()),
    }
    return render(request, "surveys/answer/thanks.html", context)
