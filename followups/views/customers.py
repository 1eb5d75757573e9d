"""The staff's customer and account pages: everything the product holds of one customer, where an
agent also records an answer the customer gave on the phone, and the customers of an account.

The phone answer goes through ``responses_ingest``, the path of every response (API, imports,
survey pages), with channel ``phone``: a detractor's answer opens a case as any other would.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from closedloop.lib.requests import SignedInRequest
from followups.customer_selectors import (
    account_customers,
    account_for_page,
    customer_for_page,
    customer_invitations,
    customer_responses,
    customer_updates,
    phone_surveys,
)
from followups.forms import PhoneAnswerForm
from followups.views.access import agent_page
from surveys.models import Channel
from surveys.services import responses_ingest


@agent_page
def customer_page(request: SignedInRequest, external_id: str) -> HttpResponse:
    customer = customer_for_page(external_id=external_id)
    form = PhoneAnswerForm(request.POST if request.method == "POST" else None, surveys=list(phone_surveys()))
    if request.method == "POST" and customer.erased_at is not None:
        form.add_error(None, "This customer's data was erased: no answer can be recorded for them.")
    elif form.is_valid():
        outcome = responses_ingest(items=[form.item(customer)], default_channel=Channel.PHONE).outcomes[0]
        if outcome.status == "created":
            messages.success(request, "The phone answer is recorded.")
            return redirect(reverse("customer-detail", args=[customer.external_id]))
        form.add_ingestion_errors(outcome.errors or {"survey": ["This answer was already recorded."]})
    context = {
        "customer": customer,
        "responses": customer_responses(customer=customer),
        "updates": customer_updates(customer=customer),
        "invitations": customer_invitations(customer=customer),
        "form": form,
    }
    return render(request, "followups/customers/customer.html", context, status=400 if form.errors else 200)


@agent_page
def account_page(request: SignedInRequest, external_id: str) -> HttpResponse:
    account = account_for_page(external_id=external_id)
    context = {"account": account, "customers": account_customers(account=account)}
    return render(request, "followups/customers/account.html", context)
