"""Manager pages for outgoing webhooks: subscribe a URL, see its deliveries, replay one, rotate its secret.

Plain forms that post and redirect, so every action works without JavaScript. A new signing
secret rides the session across that redirect and is shown on the next endpoint page only.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from closedloop.lib.exceptions import ConflictError
from closedloop.lib.roles import is_manager
from followups.models import WebhookDelivery, WebhookEndpoint
from followups.selectors import webhook_delivery_list, webhook_endpoint_list
from followups.services.webhooks import (
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_update,
)
from followups.webhooks import EVENT_TITLES

RECENT_DELIVERIES = 50


class EndpointForm(forms.Form):
    # Which URLs are acceptable is the service's rule; its errors land on these fields.
    url = forms.CharField(
        label="URL", max_length=500, widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "url"})
    )
    events = forms.MultipleChoiceField(
        choices=[(event, f"{event}: {title}") for event, title in EVENT_TITLES.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Tick none to receive every event, including ones added later.",
    )
    payload_format = forms.ChoiceField(
        label="Format", choices=WebhookEndpoint.Format.choices, initial=WebhookEndpoint.Format.STANDARD
    )
    description = forms.CharField(max_length=200, required=False)


def _require_manager(request: HttpRequest) -> None:
    if not is_manager(request.user):
        raise PermissionDenied


def _saved(form: EndpointForm, endpoint: WebhookEndpoint | None, user) -> WebhookEndpoint | None:
    """Create or change the endpoint from a valid form; None with the service's errors on the form."""
    try:
        if endpoint is None:
            return webhook_endpoint_create(**form.cleaned_data, created_by=user)
        return webhook_endpoint_update(endpoint=endpoint, **form.cleaned_data)
    except ValidationError as exc:
        form.add_error(None, exc)
        return None


def _new_secret_key(endpoint: WebhookEndpoint) -> str:
    return f"webhook-{endpoint.pk}-new-secret"


def _show_secret_once(request: HttpRequest, endpoint: WebhookEndpoint) -> None:
    request.session[_new_secret_key(endpoint)] = endpoint.secret


def _initial(endpoint: WebhookEndpoint) -> dict:
    fields = ("url", "events", "payload_format", "description")
    return {field: getattr(endpoint, field) for field in fields}


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (endpoint := _saved(form, None, request.user)):
        _show_secret_once(request, endpoint)
        messages.success(request, "Endpoint created. Copy its signing secret for the receiver now: it is shown once.")
        return redirect("webhook-detail", pk=endpoint.pk)
    return render(request, "followups/webhooks/list.html", {"form": form, "endpoints": webhook_endpoint_list()})


@login_required
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    endpoint = get_object_or_404(webhook_endpoint_list(), pk=pk)
    form = EndpointForm(request.POST or None, initial=_initial(endpoint))
    if request.method == "POST" and form.is_valid() and _saved(form, endpoint, request.user):
        messages.success(request, "Endpoint saved.")
        return redirect("webhook-detail", pk=endpoint.pk)
    if form.errors:
        # The failed save changed the object in memory; show what is stored.
        endpoint.refresh_from_db()
    context = {
        "endpoint": endpoint,
        "form": form,
        "new_secret": request.session.pop(_new_secret_key(endpoint), None),
        "deliveries": webhook_delivery_list(endpoint=endpoint)[:RECENT_DELIVERIES],
        "recent_deliveries": RECENT_DELIVERIES,
    }
    response = render(request, "followups/webhooks/detail.html", context)
    if context["new_secret"]:
        add_never_cache_headers(response)  # nor may the browser's history keep the page
    return response


@login_required
@require_http_methods(["GET", "POST"])
def webhook_secret_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST replaces the secret and shows the new one once."""
    _require_manager(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if request.method == "POST":
        webhook_endpoint_secret_rotate(endpoint=endpoint)
        _show_secret_once(request, endpoint)
        messages.success(request, "New signing secret made. Copy it for the receiver now: it is shown once.")
        return redirect("webhook-detail", pk=endpoint.pk)
    return render(request, "followups/webhooks/rotate.html", {"endpoint": endpoint})


@login_required
@require_POST
def webhook_active(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    active = request.POST.get("active") == "true"
    webhook_endpoint_update(endpoint=endpoint, active=active)
    messages.success(request, "Endpoint activated." if active else "Endpoint deactivated: it receives no events.")
    return redirect("webhook-detail", pk=endpoint.pk)


@login_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    webhook_endpoint_delete(endpoint=endpoint)
    messages.success(request, f"Endpoint {endpoint.url} deleted.")
    return redirect("webhook-list")


@login_required
@require_POST
def webhook_delivery_replay_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    try:
        webhook_delivery_replay(delivery=delivery)
    except ConflictError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{delivery.event_type} {delivery.message_id} queued again.")
    return redirect("webhook-detail", pk=delivery.endpoint_id)
