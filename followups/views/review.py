"""The manager's review page: comments nobody has coded yet, with their suggested root causes.

Each comment is accepted from a suggestion, rejected suggestion by suggestion, coded by hand
from the picker, or skipped (for this session: it stays uncoded for others). Every action is a
plain form that posts and redirects back to the same filters and page; with htmx the comment's
card is swapped in place, and ``followups/review.js`` drives it all from the keyboard.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from closedloop.lib.exceptions import ApplicationError
from closedloop.lib.requests import SignedInRequest
from followups.models import ResponseRootCause, RootCause
from followups.selectors import Suggested, suggestions_for, uncoded_comments
from followups.services.cases import response_root_cause_add
from followups.services.suggestions import suggestion_decide
from followups.suggestions import CauseChoice
from followups.views.access import manager_page
from followups.views.themes import ThemeFilters
from surveys.models import Response

COMMENTS_PER_PAGE = 20
SKIPPED = "review_skipped"  # the session's skipped responses
SKIPPED_MAX = 500


class ReviewFilters(ThemeFilters):
    """The themes page's survey, days and team, and the category of the suggested causes."""

    category = forms.ChoiceField(required=False, help_text="Comments with a suggested cause in this category.")
    field_order = ["survey", "category", "start", "end", "team"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["level"], self.fields["segment"]
        self.fields["team"].help_text = "The team of the comment's case."
        categories = RootCause.objects.filter(parent__isnull=True, active=True).order_by("name")
        self.fields["category"].choices = [  # type: ignore[attr-defined]  # a ChoiceField
            ("", "Any category"),
            *categories.values_list("slug", "name"),
        ]


def _picker(causes: list[CauseChoice]) -> list[tuple[str, list[CauseChoice]]]:
    """The active causes grouped by category name, for the code-by-hand picker's optgroups."""
    ordered = sorted(causes, key=lambda cause: (cause.category, cause.name))
    return [(category, list(group)) for category, group in groupby(ordered, key=lambda cause: cause.category)]


def _card(response: Response, suggested: Suggested, codes: list[ResponseRootCause], query: str) -> dict[str, Any]:
    return {
        "response": response,
        "suggestions": suggested.by_response.get(response.pk, []),
        "codes": codes,
        "model_version": suggested.model_version,
        "query": query,
    }


@manager_page
def review_page(request: SignedInRequest) -> HttpResponse:
    """A page of uncoded comments with their suggestions, newest first."""
    form = ReviewFilters(request.GET or None)
    valid = form.is_valid() if request.GET else True
    filters = form.report_filters() if request.GET and valid else {}
    category = form.cleaned_data.get("category") if request.GET and valid else ""
    skipped = request.session.get(SKIPPED, [])
    comments = uncoded_comments(filters=filters).exclude(pk__in=skipped)
    if category:
        # Which comments have a suggestion in the category is known only once they are scored:
        # score them all (one pass, the same queries), then page through those that qualify.
        everyone = list(comments)
        suggested = suggestions_for(everyone)
        wanted = [
            response
            for response in everyone
            if any(s.category_slug == category for s in suggested.by_response[response.pk])
        ]
        page = Paginator(wanted, COMMENTS_PER_PAGE).get_page(request.GET.get("page"))
    else:
        page = Paginator(comments, COMMENTS_PER_PAGE).get_page(request.GET.get("page"))
        suggested = suggestions_for(page.object_list)
    query = request.GET.urlencode()
    context = {
        "form": form,
        "page": page,
        "cards": [_card(response, suggested, [], query) for response in page.object_list],
        "picker": _picker(suggested.causes),
        "model_version": suggested.model_version,
        "skipped": len(skipped),
        "query": query,
    }
    return render(request, "followups/review/list.html", context, status=200 if valid else 400)


def _back(request: SignedInRequest, response: Response, *, done: str = "", refused: str = "") -> HttpResponse:
    """htmx: the comment's card again, as it now stands, saying what happened. Otherwise: the
    message for the next page, and back to the same filters and page."""
    query = QueryDict(request.POST.get("query", "")).urlencode()
    if request.htmx:
        suggested = suggestions_for([response])
        codes = list(ResponseRootCause.objects.filter(response=response).select_related("root_cause"))
        context = {
            **_card(response, suggested, codes, query),
            "picker": _picker(suggested.causes),
            "done": done,
            "refused": refused,
        }
        return render(request, "followups/review/card.html", context)
    if refused:
        messages.error(request, refused)
    elif done:
        messages.success(request, done)
    return redirect(reverse("review") + (f"?{query}" if query else ""))


def _response(pk: int) -> Response:
    return get_object_or_404(Response.objects.select_related("customer", "survey"), pk=pk)


def _refusal(error: Exception) -> str:
    if isinstance(error, ApplicationError):
        details = [message for field in (error.errors or {}).values() for message in field]
        return " ".join(details) or error.message
    return "You may not code this comment."


@manager_page
@require_POST
def review_decide(request: SignedInRequest, pk: int) -> HttpResponse:
    """Accept (codes the comment) or reject one suggestion."""
    response = _response(pk)
    version = request.POST.get("model_version", "")
    try:
        decision = suggestion_decide(
            response=response,
            root_cause=request.POST.get("root_cause", ""),
            source=request.POST.get("source", ""),
            accepted=request.POST.get("accepted") == "true",
            actor=request.user,
            model_version=int(version) if version.isdigit() and len(version) < 10 else None,
        )
    except (ApplicationError, PermissionDenied) as error:
        return _back(request, response, refused=_refusal(error))
    name = decision.root_cause.name
    return _back(request, response, done=f"Coded as {name}." if decision.accepted else f"{name}: not suggested again.")


@manager_page
@require_POST
def review_code(request: SignedInRequest, pk: int) -> HttpResponse:
    """Code the comment by hand with a cause from the picker."""
    response = _response(pk)
    slug = request.POST.get("root_cause", "")
    try:
        response_root_cause_add(response=response, actor=request.user, slug=slug)
    except (ApplicationError, PermissionDenied) as error:
        return _back(request, response, refused=_refusal(error))
    return _back(request, response, done="Comment coded by hand.")


@manager_page
@require_POST
def review_skip(request: SignedInRequest, pk: int) -> HttpResponse:
    """Leave the comment for later: hidden from this session's review, uncoded for everyone."""
    response = _response(pk)
    skipped = [p for p in request.session.get(SKIPPED, []) if p != pk]
    request.session[SKIPPED] = [*skipped, pk][-SKIPPED_MAX:]
    if request.htmx:
        return render(request, "followups/review/skipped.html", {"response": response})
    return _back(request, response)
