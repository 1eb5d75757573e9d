"""The ship page: the exact update email for a sample customer, who it reaches, and the confirmation.

Before shipping it previews; the confirmation posts and ships (``improvement_ship``); afterwards the
same page shows the deliveries, counted by status and listed page by page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from closedloop.lib.exceptions import ApplicationError
from closedloop.lib.requests import SignedInRequest
from followups.improvement_status import can_ship
from followups.models import CustomerUpdate, Improvement
from followups.services.updates import improvement_preview, improvement_sample_customers, improvement_ship
from followups.views.access import manager_page
from surveys.models import Customer

UPDATES_PER_PAGE = 50
# The email's HTML, shown as a mail client would: framed by the ship page only, in a sandbox
# (no script, an origin of its own), loading nothing.
EMAIL_FRAME_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"


class ShipForm(forms.Form):
    confirm = forms.BooleanField(label="I have read the email and want to send it to these customers")


@manager_page
def improvement_ship_page(request: SignedInRequest, pk: int) -> HttpResponse:
    improvement = get_object_or_404(Improvement.objects.select_related("owner"), pk=pk)
    form = ShipForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and improvement.status != Improvement.Status.SHIPPED and form.is_valid():
        try:
            shipment = improvement_ship(improvement=improvement, actor=request.user)
        except ApplicationError as exc:
            form.add_error(None, ValidationError(exc.message))
        else:
            messages.success(request, f"Shipped: {shipment.queued} updates queued, {shipment.suppressed} suppressed.")
            return redirect("improvement_ship", pk=improvement.pk)
    if improvement.status == Improvement.Status.SHIPPED:
        return _deliveries(request, improvement)
    return _preview(request, improvement, form)


def _chosen_customer(request: SignedInRequest, samples: list[Customer]) -> Customer | None:
    """The sample customer the switcher names (``?customer=<external id>``); None for the default."""
    chosen = request.GET.get("customer", "")[:100]
    customer = next((sample for sample in samples if sample.external_id == chosen), None)
    if customer is None and chosen:
        customer = Customer.objects.filter(external_id=chosen, erased_at__isnull=True).first()
    return customer


def _preview(request: SignedInRequest, improvement: Improvement, form: ShipForm) -> HttpResponse:
    samples = improvement_sample_customers(improvement=improvement)
    preview = improvement_preview(improvement=improvement, customer=_chosen_customer(request, samples))
    context = {
        "improvement": improvement,
        "preview": preview,
        "samples": samples,
        "suppressed_total": sum(preview.reach.suppressed.values()),
        "suppressed_reasons": [
            (CustomerUpdate.SuppressedReason(reason).label, count) for reason, count in preview.reach.suppressed.items()
        ],
        "form": form,
        "shippable": can_ship(improvement.status),
    }
    status = 400 if form.errors else 200
    return render(request, "followups/improvements/ship.html", context, status=status)


@manager_page
@xframe_options_sameorigin
def improvement_ship_email(request: SignedInRequest, pk: int) -> HttpResponse:
    """The previewed email's HTML alone, for the ship page's frame: sandboxed, no script, no requests out."""
    improvement = get_object_or_404(Improvement, pk=pk)
    preview = improvement_preview(improvement=improvement, customer=_chosen_customer(request, []))
    if preview.email is None:
        raise Http404("Nobody to preview the email for.")
    page = HttpResponse(preview.email.html)
    page["Content-Security-Policy"] = EMAIL_FRAME_POLICY
    return page


def _deliveries(request: SignedInRequest, improvement: Improvement) -> HttpResponse:
    counts = dict(
        CustomerUpdate.objects.filter(improvement=improvement)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    updates = CustomerUpdate.objects.filter(improvement=improvement).select_related("customer").order_by("pk")
    page = Paginator(updates, UPDATES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "improvement": improvement,
        "counts": [(status.label, counts.get(status.value, 0)) for status in CustomerUpdate.Status],
        "total": sum(counts.values()),
        "page": page,
    }
    return render(request, "followups/improvements/ship.html", context)
