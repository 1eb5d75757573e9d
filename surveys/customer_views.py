"""The customer's own pages, opened from the signed links in their emails: no account, no login.

Mobile-first plain HTML forms that work without JavaScript. A link that is tampered with or too
old gets a page saying so (400 or 410), never an error; every page is rate-limited per client
address, since anyone may try tokens. The one-click unsubscribe (RFC 8058) is a POST a mail
client sends without a CSRF token and does nothing but stop updates (or, from an invitation,
surveys); its GET only shows a button,
because mail scanners follow links.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from surveys.customer_links import CustomerLinkError, Purpose, customer_from_token, customer_url
from surveys.models import Customer
from surveys.services.preferences import (
    customer_preferences_set,
    customer_surveys_unsubscribe,
    customer_updates_unsubscribe,
)

# A customer opens a link or two; a script trying tokens opens thousands.
CUSTOMER_PAGE_RATE = "60/m"


class PreferencesForm(forms.Form):
    surveys = forms.BooleanField(required=False, label="Surveys about the help I received")
    updates = forms.BooleanField(required=False, label="Updates on what we changed after feedback")


def customer_page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """A page for a customer who came from a link: uncached, and no referrer carries the token on."""
    page = render(request, template, context, status=status)
    # The token in the address is the customer's key: no cache keeps the page.
    add_never_cache_headers(page)
    page["Referrer-Policy"] = "no-referrer"
    return page


def rate_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse a client address that opens customer pages faster than a person does (429)."""

    @wraps(view)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_ratelimited(request, group="customer-pages", key="ip", rate=CUSTOMER_PAGE_RATE, increment=True):
            refused = customer_page(request, "surveys/customer/link_problem.html", {"problem": "busy"}, status=429)
            refused["Retry-After"] = "60"
            return refused
        return view(request, *args, **kwargs)

    return limited


def customer_from_link(request: HttpRequest, token: str, purpose: Purpose) -> Customer | HttpResponse:
    """The customer a link names, or the page telling the visitor why the link does not work."""
    try:
        customer_id = customer_from_token(token, purpose)
    except CustomerLinkError as exc:
        problem, status = ("expired", 410) if exc.expired else ("invalid", 400)
        return customer_page(request, "surveys/customer/link_problem.html", {"problem": problem}, status=status)
    customer = Customer.objects.filter(pk=customer_id, erased_at__isnull=True).first()
    if customer is None:
        return customer_page(request, "surveys/customer/link_problem.html", {"problem": "gone"}, status=410)
    return customer


@rate_limited
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    customer = customer_from_link(request, token, Purpose.PREFERENCES)
    if isinstance(customer, HttpResponse):
        return customer
    saved = False
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            customer_preferences_set(customer=customer, **form.cleaned_data)
            saved = True
    else:
        form = PreferencesForm(
            initial={
                "surveys": customer.surveys_unsubscribed_at is None,
                "updates": customer.updates_unsubscribed_at is None,
            }
        )
    context = {"customer": customer, "form": form, "saved": saved}
    return customer_page(request, "surveys/customer/preferences.html", context)


@csrf_exempt  # RFC 8058: the mail client posts without a token; the signed link is the proof
@rate_limited
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    return _one_click(request, token, Purpose.UNSUBSCRIBE)


@csrf_exempt  # RFC 8058, as above: the one-click unsubscribe of survey invitations
@rate_limited
@require_http_methods(["GET", "POST"])
def stop_surveys(request: HttpRequest, token: str) -> HttpResponse:
    return _one_click(request, token, Purpose.STOP_SURVEYS)


# What each one-click link stops: the service, the opt-out it sets, and the words for it.
ONE_CLICK = {
    Purpose.UNSUBSCRIBE: (customer_updates_unsubscribe, "updates_unsubscribed_at", "updates"),
    Purpose.STOP_SURVEYS: (customer_surveys_unsubscribe, "surveys_unsubscribed_at", "surveys"),
}


def _one_click(request: HttpRequest, token: str, purpose: Purpose) -> HttpResponse:
    customer = customer_from_link(request, token, purpose)
    if isinstance(customer, HttpResponse):
        return customer
    stop, field, what = ONE_CLICK[purpose]
    done = False
    if request.method == "POST":
        stop(customer=customer)
        done = True
    context = {
        "done": done,
        "already": not done and getattr(customer, field) is not None,
        "what": what,
        "preferences_url": customer_url(customer.pk, Purpose.PREFERENCES),
    }
    return customer_page(request, "surveys/customer/unsubscribe.html", context)
