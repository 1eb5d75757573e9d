"""The manager pages of outgoing webhooks: list and create, the endpoint page, replay, activation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from followups.models import WebhookDelivery, WebhookEndpoint
from followups.services.outbox import webhook_events_queue
from followups.services.webhooks import webhook_endpoint_create, webhooks_deliver
from followups.webhooks import EVENT_TYPES, verify
from tests.followups.test_webhook_delivery import Receiver
from tests.servers import serving

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def receiver():
    with serving(Receiver()) as server:
        yield server


@pytest.fixture
def endpoint(maya) -> WebhookEndpoint:
    return webhook_endpoint_create(url="https://desk.example.com/hooks/nps", created_by=maya, description="Desk")


@pytest.fixture
def manager_client(client, maya):
    client.force_login(maya)
    return client


def _pages(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> list[tuple[str, str]]:
    return [
        ("get", reverse("webhook-list")),
        ("post", reverse("webhook-list")),
        ("get", reverse("webhook-detail", args=[endpoint.pk])),
        ("post", reverse("webhook-detail", args=[endpoint.pk])),
        ("post", reverse("webhook-active", args=[endpoint.pk])),
        ("get", reverse("webhook-rotate-secret", args=[endpoint.pk])),
        ("post", reverse("webhook-rotate-secret", args=[endpoint.pk])),
        ("post", reverse("webhook-delete", args=[endpoint.pk])),
        ("post", reverse("webhook-delivery-replay", args=[delivery.pk])),
    ]


@pytest.fixture
def delivery(endpoint) -> WebhookDelivery:
    webhook_events_queue([("case.created", {"id": 1})], now=T0)
    return WebhookDelivery.objects.get()


def test_anonymous_visitors_are_sent_to_sign_in(client, endpoint, delivery):
    for method, url in _pages(endpoint, delivery):
        response = getattr(client, method)(url, {"url": "https://x.example.com", "payload_format": "standard"})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("user", ["alice", "izzy", "olga"])
def test_only_managers_may_open_the_webhook_pages(client, user, endpoint, delivery, request):
    client.force_login(request.getfixturevalue(user))

    for method, url in _pages(endpoint, delivery):
        response = getattr(client, method)(url, {"url": "https://x.example.com", "payload_format": "standard"})
        assert response.status_code == 403, url
    assert list(WebhookEndpoint.objects.values_list("url", "active", "secret")) == [
        (endpoint.url, True, endpoint.secret)
    ]
    assert WebhookDelivery.objects.get().status == "pending"


def test_the_list_shows_endpoints_and_offers_every_event(manager_client, endpoint):
    response = manager_client.get(reverse("webhook-list"))

    assertContains(response, f'<a href="{reverse("webhook-detail", args=[endpoint.pk])}">{endpoint.url}</a>', html=True)
    assertContains(response, "All events")
    assertContains(response, 'type="checkbox"', count=len(EVENT_TYPES))
    assertContains(response, '<input type="checkbox" name="events" value="case.breached" id="id_events_5">', html=True)
    assertNotContains(response, endpoint.secret)


def test_a_manager_creates_an_endpoint_and_its_page_shows_the_secret_once(manager_client, maya):
    form = {
        "url": "https://desk.example.com/hooks/slack",
        "events": ["case.created", "case.closed"],
        "payload_format": "slack",
        "description": "Slack #nps",
    }

    response = manager_client.post(reverse("webhook-list"), form)

    endpoint = WebhookEndpoint.objects.get()
    assertRedirects(response, reverse("webhook-detail", args=[endpoint.pk]), fetch_redirect_response=False)
    assert (endpoint.url, endpoint.events, endpoint.payload_format, endpoint.description, endpoint.created_by) == (
        "https://desk.example.com/hooks/slack",
        ["case.created", "case.closed"],
        "slack",
        "Slack #nps",
        maya,
    )
    page = manager_client.get(response["Location"])
    assertContains(page, f'<code id="endpoint-secret">{endpoint.secret}</code>', html=True)
    assertContains(page, "Endpoint created.")
    assertContains(page, "case.created, case.closed")
    assert "no-store" in page["Cache-Control"]

    again = manager_client.get(response["Location"])
    assertNotContains(again, endpoint.secret)
    assertContains(again, f'<code id="endpoint-secret-hint">{endpoint.secret_hint}</code>', html=True)
    assert "no-store" not in again.get("Cache-Control", "")


def test_the_endpoint_page_never_shows_a_secret_it_did_not_just_make(manager_client, endpoint):
    response = manager_client.get(reverse("webhook-detail", args=[endpoint.pk]))

    assertNotContains(response, endpoint.secret)
    assertContains(response, endpoint.secret_hint)
    assertContains(response, f'action="{reverse("webhook-rotate-secret", args=[endpoint.pk])}"')


def test_rotating_asks_first_then_shows_the_new_secret_once(manager_client, endpoint):
    old = endpoint.secret
    url = reverse("webhook-rotate-secret", args=[endpoint.pk])

    confirm = manager_client.get(url)

    assertContains(confirm, "stops signing at once")
    assertContains(confirm, f'<form method="post" action="{url}">')
    endpoint.refresh_from_db()
    assert endpoint.secret == old

    response = manager_client.post(url)

    assertRedirects(response, reverse("webhook-detail", args=[endpoint.pk]), fetch_redirect_response=False)
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    page = manager_client.get(response["Location"])
    assertContains(page, f'<code id="endpoint-secret">{endpoint.secret}</code>', html=True)
    assertContains(page, "New signing secret made.")
    assertNotContains(page, old)
    assertNotContains(manager_client.get(response["Location"]), endpoint.secret)


def test_an_internal_target_is_refused_on_the_form(manager_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    response = manager_client.post(
        reverse("webhook-list"), {"url": "http://127.0.0.1:5432/", "payload_format": "standard"}
    )

    assert response.status_code == 200
    assertContains(response, '<p class="field__error">', count=1)
    assertContains(response, "Refused: 127.0.0.1 is a loopback address")
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"url": "ftp://desk.example.com/hook", "payload_format": "standard"}, "Enter an http:// or https:// URL."),
        ({"url": "", "payload_format": "standard"}, "This field is required."),
        ({"url": "https://x.example.com", "payload_format": "standard", "events": ["case.gone"]}, "case.gone"),
        ({"url": "https://x.example.com", "payload_format": "xml"}, "Select a valid choice."),
    ],
)
def test_a_bad_form_is_shown_again_with_its_errors(manager_client, form, error):
    response = manager_client.post(reverse("webhook-list"), form)

    assert response.status_code == 200
    assertContains(response, '<p class="field__error">', count=1)
    assertContains(response, error)
    assert not WebhookEndpoint.objects.exists()


def test_the_endpoint_page_lists_deliveries_with_their_outcome_and_a_replay_button(manager_client, endpoint):
    webhook_events_queue([("case.created", {"id": 1}), ("case.closed", {"id": 1})], now=T0)
    WebhookDelivery.objects.filter(event_type="case.closed").update(
        status="failed", attempts=7, last_status_code=502, last_error="HTTP 502 Bad Gateway: upstream <down>"
    )

    response = manager_client.get(reverse("webhook-detail", args=[endpoint.pk]))

    closed = WebhookDelivery.objects.get(event_type="case.closed")
    assertContains(response, f'action="{reverse("webhook-delivery-replay", args=[closed.pk])}"')
    assertContains(response, "HTTP 502")
    assertContains(response, "upstream &lt;down&gt;")
    assertContains(response, "Failed")
    assertContains(response, "Pending")
    assertContains(response, ">Replay<", count=2)


def test_replay_from_the_page_sends_the_delivery_again(
    manager_client, maya, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(url=receiver.url, created_by=maya)
    webhook_events_queue([("case.created", {"id": 1})], now=T0)
    webhooks_deliver(now=T0)
    delivery = WebhookDelivery.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(reverse("webhook-delivery-replay", args=[delivery.pk]))

    assertRedirects(response, reverse("webhook-detail", args=[endpoint.pk]), fetch_redirect_response=False)
    first, second = receiver.received
    assert second.headers["webhook-id"] == first.headers["webhook-id"] == delivery.message_id
    verify(secret=endpoint.secret, headers=second.headers, body=second.body)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)
    assertContains(manager_client.get(response["Location"]), "queued again")


def test_replay_for_an_inactive_endpoint_says_why_not(manager_client, endpoint, delivery):
    WebhookEndpoint.objects.update(active=False)
    WebhookDelivery.objects.update(status="failed")

    response = manager_client.post(reverse("webhook-delivery-replay", args=[delivery.pk]), follow=True)

    assertContains(response, "Activate the endpoint before replaying its deliveries.")
    assert WebhookDelivery.objects.get().status == "failed"


def test_a_manager_deactivates_and_activates_an_endpoint(manager_client, endpoint):
    url = reverse("webhook-active", args=[endpoint.pk])

    response = manager_client.post(url, {"active": "false"}, follow=True)
    assertContains(response, "Endpoint deactivated")
    assertContains(response, '<button type="submit" class="button">Activate</button>', html=True)
    endpoint.refresh_from_db()
    assert not endpoint.active

    manager_client.post(url, {"active": "true"})
    endpoint.refresh_from_db()
    assert endpoint.active


def test_a_manager_changes_an_endpoint(manager_client, endpoint):
    url = reverse("webhook-detail", args=[endpoint.pk])

    response = manager_client.post(
        url, {"url": "https://new.example.com/h", "events": ["case.closed"], "payload_format": "standard"}
    )

    assertRedirects(response, url)
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.description) == ("https://new.example.com/h", ["case.closed"], "")


def test_a_refused_change_shows_the_stored_endpoint_and_the_error(manager_client, endpoint):
    url = reverse("webhook-detail", args=[endpoint.pk])

    response = manager_client.post(url, {"url": "gopher://old.example.com", "payload_format": "standard"})

    assert response.status_code == 200
    assertContains(response, "Enter an http:// or https:// URL.")
    assertContains(response, "<h1>Webhook https://desk.example.com/hooks/nps</h1>", html=True)
    endpoint.refresh_from_db()
    assert endpoint.url == "https://desk.example.com/hooks/nps"


def test_a_manager_deletes_an_endpoint(manager_client, endpoint, delivery):
    response = manager_client.post(reverse("webhook-delete", args=[endpoint.pk]))

    assertRedirects(response, reverse("webhook-list"))
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_the_action_urls_refuse_get(manager_client, endpoint, delivery):
    assert manager_client.get(reverse("webhook-delete", args=[endpoint.pk])).status_code == 405
    assert manager_client.get(reverse("webhook-delivery-replay", args=[delivery.pk])).status_code == 405
    assert WebhookEndpoint.objects.exists()
