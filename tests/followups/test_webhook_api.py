"""/api/v1/webhooks/ and /api/v1/webhook-deliveries/: managers only, validated, secrets where due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from followups.models import WebhookDelivery, WebhookEndpoint
from followups.services.outbox import webhook_events_queue
from followups.services.webhooks import webhook_endpoint_create, webhook_endpoint_update
from followups.webhooks import WebhookVerificationError, headers, verify

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
GOOD = {"url": "https://desk.example.com/hooks/nps", "events": ["case.created", "case.closed"]}


@pytest.fixture
def endpoint(maya) -> WebhookEndpoint:
    return webhook_endpoint_create(url="https://desk.example.com/hooks/nps", created_by=maya)


@pytest.fixture
def delivery(endpoint) -> WebhookDelivery:
    webhook_events_queue([("case.created", {"id": 1})], now=T0)
    return WebhookDelivery.objects.get()


def _requests(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", "/api/v1/webhooks/", None),
        ("post", "/api/v1/webhooks/", GOOD),
        ("get", f"/api/v1/webhooks/{endpoint.pk}/", None),
        ("patch", f"/api/v1/webhooks/{endpoint.pk}/", {"active": False}),
        ("post", f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/", None),
        ("delete", f"/api/v1/webhooks/{endpoint.pk}/", None),
        ("get", f"/api/v1/webhooks/{endpoint.pk}/deliveries/", None),
        ("post", f"/api/v1/webhook-deliveries/{delivery.pk}/replay/", None),
    ]


@pytest.mark.parametrize(
    ("client", "status"),
    [("anonymous_api", 401), ("agent_api", 403), ("integration_api", 403), ("no_role_api", 403)],
)
def test_only_managers_may_use_the_webhook_api(client, status, endpoint, delivery, request):
    api = request.getfixturevalue(client)
    for method, url, body in _requests(endpoint, delivery):
        assert getattr(api, method)(url, body, format="json").status_code == status, (method, url)
    stored = WebhookEndpoint.objects.get()
    assert (stored, stored.active, stored.secret) == (endpoint, True, endpoint.secret)


def test_a_manager_creates_an_endpoint_and_sees_its_secret_once_in_the_reply(manager_api):
    reply = manager_api.post("/api/v1/webhooks/", {**GOOD, "payload_format": "slack"}, format="json")

    assert reply.status_code == 201
    body = reply.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body == {
        "id": endpoint.pk,
        "url": GOOD["url"],
        "description": "",
        "events": ["case.created", "case.closed"],
        "payload_format": "slack",
        "active": True,
        "created_by": "maya",
        "created_at": body["created_at"],
        "secret_hint": "whsec_…" + endpoint.secret[-4:],
        "secret": endpoint.secret,
    }
    assert body["secret"].startswith("whsec_")
    assert "no-store" in reply["Cache-Control"]


def test_after_its_creation_no_reply_shows_the_secret_only_its_hint(manager_api, endpoint):
    [row] = manager_api.get("/api/v1/webhooks/").json()["results"]
    detail = manager_api.get(f"/api/v1/webhooks/{endpoint.pk}/").json()
    patched = manager_api.patch(f"/api/v1/webhooks/{endpoint.pk}/", {"description": "Desk"}, format="json").json()

    for body in (row, detail, patched):
        assert body["id"] == endpoint.pk
        assert "secret" not in body
        assert body["secret_hint"] == "whsec_…" + endpoint.secret[-4:]
        assert endpoint.secret[6:-4] not in str(body)


def test_rotating_the_secret_shows_the_new_one_once_and_the_old_one_stops_signing(manager_api, endpoint):
    old = endpoint.secret

    reply = manager_api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/")

    assert reply.status_code == 200
    assert "no-store" in reply["Cache-Control"]
    endpoint.refresh_from_db()
    body = reply.json()
    assert body["secret"] == endpoint.secret != old
    assert body["secret"].startswith("whsec_")
    assert (body["id"], body["url"], body["secret_hint"]) == (endpoint.pk, endpoint.url, endpoint.secret_hint)
    assert "secret" not in manager_api.get(f"/api/v1/webhooks/{endpoint.pk}/").json()
    signed = headers(secret=endpoint.secret, message_id="msg_1", timestamp=1_800_000_000, body=b"{}")
    verify(secret=endpoint.secret, headers=signed, body=b"{}", now=1_800_000_000)
    with pytest.raises(WebhookVerificationError):
        verify(secret=old, headers=signed, body=b"{}", now=1_800_000_000)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:6379/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://localhost:6379/",
        "http://10.0.0.5/hooks",
    ],
)
def test_an_internal_target_is_a_400_naming_the_url(manager_api, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    reply = manager_api.post("/api/v1/webhooks/", {**GOOD, "url": url}, format="json")

    assert reply.status_code == 400
    [message] = reply.json()["url"]
    assert message.startswith("Refused: ") and "address; requests to internal addresses are not sent." in message
    assert not WebhookEndpoint.objects.exists()


def test_changing_the_url_to_an_internal_target_is_a_400(manager_api, settings, endpoint):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    reply = manager_api.patch(f"/api/v1/webhooks/{endpoint.pk}/", {"url": "http://[::1]:6379/"}, format="json")

    assert reply.status_code == 400
    assert "loopback" in reply.json()["url"][0]
    assert WebhookEndpoint.objects.get().url == endpoint.url


def test_a_private_target_is_accepted_when_the_setting_allows_it(manager_api, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True

    reply = manager_api.post("/api/v1/webhooks/", {**GOOD, "url": "http://10.0.0.5/hooks"}, format="json")

    assert reply.status_code == 201
    assert WebhookEndpoint.objects.get().url == "http://10.0.0.5/hooks"


def test_patch_changes_the_given_fields_only(manager_api, endpoint):
    reply = manager_api.patch(
        f"/api/v1/webhooks/{endpoint.pk}/", {"events": ["case.breached"], "active": False}, format="json"
    )

    assert reply.status_code == 200
    assert (reply.json()["events"], reply.json()["active"], reply.json()["url"]) == (
        ["case.breached"],
        False,
        endpoint.url,
    )
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.active) == (["case.breached"], False)


def test_delete_removes_the_endpoint_and_its_deliveries(manager_api, endpoint, delivery):
    assert manager_api.delete(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 204

    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert manager_api.get(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://desk.example.com/hook"}, "url"),
        ({"url": "desk.example.com/hook"}, "url"),
        ({"url": ""}, "url"),
        ({}, "url"),
        ({"url": 42}, "url"),
        ({**GOOD, "events": ["case.created", "case.vanished"]}, "events"),
        ({**GOOD, "events": "case.created"}, "events"),
        ({**GOOD, "events": [{"type": "case.created"}]}, "events"),
        ({**GOOD, "payload_format": "xml"}, "payload_format"),
        ({**GOOD, "description": "d" * 201}, "description"),
    ],
)
def test_bad_endpoints_are_400s_naming_the_field_and_store_nothing(manager_api, body, field):
    reply = manager_api.post("/api/v1/webhooks/", body, format="json")

    assert reply.status_code == 400
    assert field in reply.json()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "javascript:alert(1)"}, "url"),
        ({"events": ["nope"]}, "events"),
        ({"events": None}, "events"),
        ({"active": "perhaps"}, "active"),
    ],
)
def test_bad_patches_are_400s_and_change_nothing(manager_api, endpoint, body, field):
    reply = manager_api.patch(f"/api/v1/webhooks/{endpoint.pk}/", body, format="json")

    assert reply.status_code == 400
    assert field in reply.json()
    stored = WebhookEndpoint.objects.get()
    assert (stored.url, stored.events, stored.active) == (endpoint.url, [], True)


def test_a_body_that_is_not_an_object_is_a_400(manager_api):
    assert manager_api.post("/api/v1/webhooks/", ["https://x.example.com"], format="json").status_code == 400
    assert manager_api.post("/api/v1/webhooks/", "{", content_type="application/json").status_code == 400


def test_deliveries_are_listed_newest_first_with_their_outcome(manager_api, endpoint):
    for minutes, event in enumerate(["case.created", "case.assigned", "case.closed"]):
        webhook_events_queue([(event, {"id": 1})], now=T0 + timedelta(minutes=minutes))
    WebhookDelivery.objects.filter(event_type="case.created").update(
        status="failed", attempts=7, last_status_code=502, last_error="HTTP 502 Bad Gateway: "
    )

    reply = manager_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/", {"page_size": 2})

    assert reply.status_code == 200
    page = reply.json()
    assert [row["event_type"] for row in page["results"]] == ["case.closed", "case.assigned"]
    rest = manager_api.get(page["next"]).json()
    assert rest["next"] is None
    [oldest] = rest["results"]
    delivery = WebhookDelivery.objects.get(event_type="case.created")
    assert oldest == {
        "id": delivery.pk,
        "message_id": delivery.message_id,
        "event_type": "case.created",
        "status": "failed",
        "attempts": 7,
        "next_attempt_at": "2026-11-20T10:00:00Z",
        "last_status_code": 502,
        "last_error": "HTTP 502 Bad Gateway: ",
        "created_at": "2026-11-20T10:00:00Z",
        "delivered_at": None,
    }


def test_a_replay_queues_the_delivery_again(manager_api, delivery):
    WebhookDelivery.objects.update(status="failed", attempts=7)

    reply = manager_api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/")

    assert reply.status_code == 202
    assert (reply.json()["status"], reply.json()["attempts"], reply.json()["message_id"]) == (
        "pending",
        0,
        delivery.message_id,
    )
    delivery.refresh_from_db()
    assert delivery.status == "pending"


def test_replaying_for_an_inactive_endpoint_is_a_409(manager_api, endpoint, delivery):
    webhook_endpoint_update(endpoint=endpoint, active=False)

    reply = manager_api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/")

    assert reply.status_code == 409
    assert "detail" in reply.json()


def test_unknown_ids_are_404s(manager_api):
    assert manager_api.get("/api/v1/webhooks/999/").status_code == 404
    assert manager_api.get("/api/v1/webhooks/999/deliveries/").status_code == 404
    assert manager_api.post("/api/v1/webhook-deliveries/999/replay/").status_code == 404
    assert manager_api.post("/api/v1/webhooks/999/rotate-secret/").status_code == 404


def test_the_schema_describes_the_webhook_api(anonymous_api):
    paths = anonymous_api.get("/api/v1/schema/", {"format": "json"}).json()["paths"]

    assert {"get", "post"} <= set(paths["/api/v1/webhooks/"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/webhooks/{id}/"])
    assert "get" in paths["/api/v1/webhooks/{id}/deliveries/"]
    assert "post" in paths["/api/v1/webhook-deliveries/{id}/replay/"]
    assert "post" in paths["/api/v1/webhooks/{id}/rotate-secret/"]
