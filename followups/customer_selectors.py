"""Reads of the staff's customer and account pages: everything the product holds of one customer
(responses with their codes and cases, improvement updates, invitations), and an account's customers.

Each list is one query with its relations pinned, so the pages stay at a fixed number of queries
whatever the customer's history.
"""

from __future__ import annotations

from django.db.models import Count, Max, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from followups.models import CustomerUpdate, ResponseRootCause
from surveys.models import Account, Customer, Invitation, Response, Survey


def customer_for_page(*, external_id: str) -> Customer:
    """The customer with their account; Http404 when there is none with this id."""
    return get_object_or_404(Customer.objects.select_related("account"), external_id=external_id)


def customer_responses(*, customer: Customer) -> QuerySet[Response]:
    """The customer's responses, newest first, with their survey, case (and owner) and codes."""
    codes = ResponseRootCause.objects.select_related("root_cause").order_by("root_cause__name")
    return (
        Response.objects.filter(customer=customer)
        .select_related("survey", "case__owner")
        .prefetch_related(Prefetch("root_cause_codes", queryset=codes))
        .order_by("-submitted_at", "-pk")
    )


def customer_updates(*, customer: Customer) -> QuerySet[CustomerUpdate]:
    """The improvement updates sent (or held back) to the customer, newest first."""
    return CustomerUpdate.objects.filter(customer=customer).select_related("improvement").order_by("-created_at", "-pk")


def customer_invitations(*, customer: Customer) -> QuerySet[Invitation]:
    """The customer's survey invitations, newest first."""
    return Invitation.objects.filter(customer=customer).select_related("survey").order_by("-send_at", "-pk")


def phone_surveys() -> QuerySet[Survey]:
    """The surveys an agent may record a phone answer to: the active ones, by name."""
    return Survey.objects.filter(active=True).order_by("name")


def account_for_page(*, external_id: str) -> Account:
    return get_object_or_404(Account, external_id=external_id)


def account_customers(*, account: Account) -> QuerySet[Customer]:
    """The account's customers by name, each with their number of responses and latest answer time."""
    return (
        Customer.objects.filter(account=account)
        .annotate(response_count=Count("responses"), last_answered_at=Max("responses__submitted_at"))
        .order_by("name", "external_id")
    )
