"""The customer's updates page: every "you said, we did" update sent to them, from a signed link."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from closedloop.lib.text import shorten
from followups.customer_emails import QUOTE_MAX
from followups.models import CustomerUpdate
from surveys.customer_links import Purpose, customer_url
from surveys.customer_views import customer_from_link, customer_page, rate_limited

# A customer who raised many themes over the years still gets one readable page.
UPDATES_SHOWN = 100


@rate_limited
@require_GET
def customer_updates_page(request: HttpRequest, token: str) -> HttpResponse:
    customer = customer_from_link(request, token, Purpose.UPDATES)
    if isinstance(customer, HttpResponse):
        return customer
    updates = list(
        CustomerUpdate.objects.filter(customer=customer, status=CustomerUpdate.Status.SENT)
        .select_related("improvement", "response")
        .order_by("-sent_at", "-pk")[:UPDATES_SHOWN]
    )
    context = {
        "customer": customer,
        # Each update with what the customer said, shortened as the email quoted it.
        "updates": [
            (update, shorten(update.response.comment, QUOTE_MAX) if update.response else "") for update in updates
        ],
        "preferences_url": customer_url(customer.pk, Purpose.PREFERENCES),
    }
    return customer_page(request, "followups/customer/updates.html", context)
