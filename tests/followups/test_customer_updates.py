"""Shipping an improvement: one update per customer who raised its causes, delivered over real SMTP.

The world: customers who complained about the VPN (some twice, some also about the network), one
who complained too long ago, one who praised something else, and the customers who must not be
emailed (unsubscribed, without an address, erased). The improvement targets the VPN cause, or
the technology category that holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from closedloop.lib.exceptions import ApplicationError
from followups import tasks
from followups.models import (
    CustomerUpdate,
    Improvement,
    ImprovementStatusChange,
    ResponseRootCause,
    WebhookDelivery,
)
from followups.retries import EMAIL_RETRIES
from followups.services.delivery import BATCH, CUSTOMER_UPDATES, customer_updates_deliver
from followups.services.updates import customer_updates_record, improvement_preview, improvement_ship
from followups.services.webhooks import webhook_endpoint_create
from surveys.models import Customer, Response
from tests.factories import make_improvement, make_response
from tests.followups.smtp import Mailbox, smtp_server, smtp_server_down

Status = CustomerUpdate.Status


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        yield mailbox


def customer(external_id: str, *, email: str | None = None, name: str = "", **fields) -> Customer:
    address = f"{external_id.lower()}@example.com" if email is None else email
    return Customer.objects.create(external_id=external_id, email=address, name=name, **fields)


def said(who: Customer, score: int, comment: str, *causes, days_ago: int = 10) -> Response:
    """A response from ``who``, ``days_ago`` days back, coded to ``causes``."""
    response = make_response(
        score, customer=who.external_id, comment=comment, submitted_at=timezone.now() - timedelta(days=days_ago)
    )
    for cause in causes:
        ResponseRootCause.objects.create(response=response, root_cause=cause)
    return response


def improvement(*causes, **fields) -> Improvement:
    fields.setdefault("customer_message", "We replaced the VPN gateway; connections now hold all day.")
    return make_improvement(fields.pop("title", "A new VPN gateway"), *causes, **fields)


@pytest.fixture
def world(survey, taxonomy):
    vpn, network, hardware = taxonomy["vpn-access"], taxonomy["network"], taxonomy["hardware"]
    ana, ben, cleo = customer("ANA", name="Ana Ruiz"), customer("BEN", name="Ben"), customer("CLEO")
    said(ana, 2, "The VPN drops every hour", vpn, days_ago=40)
    latest = said(ana, 4, "VPN <b>still</b> drops & the network is slow", vpn, network, days_ago=5)
    said(ben, 6, "VPN is slow to connect", vpn)
    said(cleo, 3, "Wi-Fi and VPN down", network, vpn)
    said(customer("OLD"), 1, "VPN broken", vpn, days_ago=400)
    said(customer("PRAISE"), 10, "Great laptop", hardware)
    said(customer("GONE", updates_unsubscribed_at=timezone.now()), 2, "VPN again", vpn)
    said(customer("NOMAIL", email=""), 2, "VPN", vpn)
    said(customer("ERASED", erased_at=timezone.now()), 2, "", vpn)
    return {"vpn": vpn, "network": network, "technology": taxonomy["technology"], "ana": ana, "ana_latest": latest}


def updates(made: Improvement) -> dict[str, tuple[str, str]]:
    rows = CustomerUpdate.objects.filter(improvement=made).select_related("customer")
    return {row.customer.external_id: (row.status, row.suppressed_reason) for row in rows}


def test_recording_makes_one_row_per_customer_who_raised_a_cause_within_the_lookback(world):
    made = improvement(world["vpn"], world["network"])
    recorded = customer_updates_record(improvement=made, now=timezone.now())
    assert (recorded.queued, recorded.suppressed) == (3, 3)
    assert updates(made) == {
        "ANA": ("pending", ""),
        "BEN": ("pending", ""),
        "CLEO": ("pending", ""),
        "GONE": ("suppressed", "unsubscribed"),
        "NOMAIL": ("suppressed", "no_address"),
        "ERASED": ("suppressed", "erased"),
    }
    # The email quotes the customer's most recent coded response.
    assert CustomerUpdate.objects.get(improvement=made, customer=world["ana"]).response == world["ana_latest"]


def test_recording_twice_adds_nothing(world):
    made = improvement(world["vpn"])
    customer_updates_record(improvement=made, now=timezone.now())
    again = customer_updates_record(improvement=made, now=timezone.now())
    assert (again.queued, again.suppressed) == (0, 0)
    assert CustomerUpdate.objects.filter(improvement=made).count() == 6


def test_a_category_link_stands_for_its_causes(world):
    made = improvement(world["technology"])
    customer_updates_record(improvement=made, now=timezone.now())
    # PRAISE raised hardware, a technology cause too.
    assert set(updates(made)) == {"ANA", "BEN", "CLEO", "PRAISE", "GONE", "NOMAIL", "ERASED"}


def test_a_shorter_lookback_reaches_fewer(world):
    made = improvement(world["vpn"], lookback_days=7)
    customer_updates_record(improvement=made, now=timezone.now())
    assert set(updates(made)) == {"ANA"}


@pytest.mark.postgres  # SQLite has no INSERT in a WITH: it counts what it recorded in two more
def test_recording_is_one_statement_whatever_the_number_of_customers(world, taxonomy):
    made = improvement(world["vpn"])
    with CaptureQueriesContext(connection) as queries:
        customer_updates_record(improvement=made, now=timezone.now())
    assert len(queries) == 1
    assert "INSERT" in queries[0]["sql"] and "ON CONFLICT" in queries[0]["sql"]


def test_shipping_marks_it_shipped_records_history_and_emits_the_webhook_event(world, maya):
    webhook_endpoint_create(url="https://hooks.example.com/x", events=["improvement.shipped"], created_by=maya)
    made = improvement(world["vpn"])
    shipment = improvement_ship(improvement=made, actor=maya)
    assert (shipment.queued, shipment.suppressed, shipment.already_shipped) == (3, 3, False)
    made.refresh_from_db()
    assert made.status == "shipped" and made.shipped_at is not None
    change = ImprovementStatusChange.objects.get(improvement=made)
    assert (change.from_status, change.to_status, change.actor) == ("in_progress", "shipped", maya)
    event = WebhookDelivery.objects.get(event_type="improvement.shipped")
    assert event.payload["data"]["id"] == made.pk
    assert event.payload["data"]["root_causes"] == ["vpn-access"]
    assert (event.payload["data"]["queued"], event.payload["data"]["suppressed"]) == (3, 3)


def test_shipping_again_is_a_no_op(world, maya):
    made = improvement(world["vpn"])
    improvement_ship(improvement=made, actor=maya)
    again = improvement_ship(improvement=made, actor=maya)
    assert (again.queued, again.suppressed, again.already_shipped) == (0, 0, True)
    assert ImprovementStatusChange.objects.filter(improvement=made).count() == 1
    assert CustomerUpdate.objects.filter(improvement=made).count() == 6


def test_a_declined_improvement_cannot_ship_and_nothing_is_stored(world, maya):
    made = improvement(world["vpn"], status="declined")
    with pytest.raises(ApplicationError, match="propose it again"):
        improvement_ship(improvement=made, actor=maya)
    made.refresh_from_db()
    assert made.status == "declined"
    assert not CustomerUpdate.objects.filter(improvement=made).exists()
    assert not ImprovementStatusChange.objects.filter(improvement=made).exists()


def test_the_preview_counts_what_shipping_records(world, maya):
    made = improvement(world["vpn"], world["network"])
    preview = improvement_preview(improvement=made)
    assert preview.reach.queued == 3
    assert preview.reach.suppressed == {"unsubscribed": 1, "no_address": 1, "erased": 1}
    assert preview.customer == world["ana"]  # the first eligible one
    assert "VPN <b>still</b> drops & the network is slow" in preview.email.text
    assert "VPN &lt;b&gt;still&lt;/b&gt; drops &amp; the network is slow" in preview.email.html
    assert preview.email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    shipment = improvement_ship(improvement=made, actor=maya)
    assert (shipment.queued, shipment.suppressed) == (preview.reach.queued, sum(preview.reach.suppressed.values()))


def test_the_preview_of_an_improvement_nobody_raised_has_no_email(taxonomy):
    preview = improvement_preview(improvement=improvement(taxonomy["licence-limits"]))
    assert (preview.customer, preview.email, preview.reach.queued) == (None, None, 0)


def test_delivery_sends_each_customer_one_multipart_email_quoting_their_own_words(world, maya, mailbox):
    made = improvement(world["vpn"], world["network"])
    improvement_ship(improvement=made, actor=maya)
    assert customer_updates_deliver() == 3
    assert sorted(r for item in mailbox.received for r in item.recipients) == [
        "ana@example.com",
        "ben@example.com",
        "cleo@example.com",
    ]
    (ana,) = mailbox.to("ana@example.com")
    message = ana.message
    assert message["Subject"] == "We changed something you told us about: A new VPN gateway"
    unsubscribe = str(message["List-Unsubscribe"]).strip()  # long headers are folded onto a second line
    assert unsubscribe.startswith("<http://") and "/c/unsubscribe/" in unsubscribe and unsubscribe.endswith(">")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello Ana Ruiz," in text
    assert '"VPN <b>still</b> drops & the network is slow"' in text
    assert "The VPN drops every hour" not in text  # the latest response is quoted, not the first
    assert "We replaced the VPN gateway" in text and "/c/updates/" in text and "/c/preferences/" in text
    assert "VPN &lt;b&gt;still&lt;/b&gt; drops &amp; the network is slow" in html and "<b>still" not in html
    assert set(updates(made).values()) >= {("sent", "")}
    assert customer_updates_deliver() == 0
    assert len(mailbox.received) == 3


def test_a_long_comment_is_quoted_shortened_at_a_word(survey, taxonomy, maya, mailbox):
    who = customer("LONG")
    said(who, 3, "word " * 200, taxonomy["vpn-access"])
    improvement_ship(improvement=improvement(taxonomy["vpn-access"]), actor=maya)
    customer_updates_deliver()
    text = mailbox.to("long@example.com")[0].message.get_body(("plain",)).get_content()
    quote = text.split('"')[1]
    assert quote.endswith("word…") and len(quote) <= 300


def test_opt_outs_are_checked_at_the_moment_of_sending(world, maya, mailbox):
    made = improvement(world["vpn"])
    improvement_ship(improvement=made, actor=maya)
    Customer.objects.filter(external_id="BEN").update(updates_unsubscribed_at=timezone.now())
    Customer.objects.filter(external_id="CLEO").update(erased_at=timezone.now())
    assert customer_updates_deliver() == 1
    assert [r for item in mailbox.received for r in item.recipients] == ["ana@example.com"]
    assert updates(made)["BEN"] == ("suppressed", "unsubscribed")
    assert updates(made)["CLEO"] == ("suppressed", "erased")


def test_each_sent_update_emits_customer_update_sent(world, maya, mailbox):
    webhook_endpoint_create(url="https://hooks.example.com/x", events=["customer_update.sent"], created_by=maya)
    improvement_ship(improvement=improvement(world["vpn"]), actor=maya)
    customer_updates_deliver()
    events = WebhookDelivery.objects.filter(event_type="customer_update.sent")
    assert sorted(event.payload["data"]["customer"] for event in events) == ["ANA", "BEN", "CLEO"]
    assert all(event.payload["data"]["status"] == "sent" for event in events)


def test_an_unreachable_server_retries_with_backoff_then_fails(world, maya):
    made = improvement(world["vpn"])
    improvement_ship(improvement=made, actor=maya)
    now = timezone.now()
    with smtp_server_down():
        for _attempt in range(EMAIL_RETRIES.attempts):
            assert customer_updates_deliver(now=now) == 0
            now += timedelta(days=1)
    rows = CustomerUpdate.objects.filter(improvement=made, status__in=["pending", "failed"])
    assert {(row.status, row.attempts) for row in rows} == {("failed", EMAIL_RETRIES.attempts)}
    assert all(row.last_error for row in rows)


def test_a_server_refusing_the_recipient_leaves_the_update_pending_for_a_retry(world, maya):
    made = improvement(world["vpn"])
    improvement_ship(improvement=made, actor=maya)
    refusing = Mailbox()
    refusing.refuse_recipients = True
    with smtp_server(refusing):
        assert customer_updates_deliver() == 0
    row = CustomerUpdate.objects.get(improvement=made, customer=world["ana"])
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at > timezone.now()


def test_a_refused_message_fails_alone_between_accepted_ones(world, maya, mailbox):
    """The verdict on each message is read after the next is rendered: it must still land on its own row."""
    made = improvement(world["vpn"])
    improvement_ship(improvement=made, actor=maya)
    mailbox.refuse_content_to = {"ben@example.com"}
    assert customer_updates_deliver() == 2
    assert sorted(r for item in mailbox.received for r in item.recipients) == ["ana@example.com", "cleo@example.com"]
    rows = {row.customer.external_id: row for row in made.updates.select_related("customer")}
    assert (rows["BEN"].status, rows["BEN"].attempts, rows["BEN"].sent_at) == ("pending", 1, None)
    assert "554" in rows["BEN"].last_error and rows["BEN"].next_attempt_at > timezone.now()
    assert {(rows[who].status, rows[who].attempts, rows[who].last_error) for who in ("ANA", "CLEO")} == {
        ("sent", 1, "")
    }
    mailbox.refuse_content_to = set()
    assert customer_updates_deliver(now=rows["BEN"].next_attempt_at) == 1
    assert [item.recipients for item in mailbox.received].count(["ben@example.com"]) == 1


def test_a_message_that_cannot_be_written_fails_alone(world, maya, mailbox, monkeypatch):
    made = improvement(world["vpn"])
    improvement_ship(improvement=made, actor=maya)
    render = CUSTOMER_UPDATES.message

    def failing_for_ben(row, connection, now):
        if row.customer.external_id == "BEN":
            raise ValueError("no template")
        return render(row, connection, now)

    monkeypatch.setattr(CUSTOMER_UPDATES, "message", failing_for_ben)
    assert customer_updates_deliver() == 2
    assert sorted(r for item in mailbox.received for r in item.recipients) == ["ana@example.com", "cleo@example.com"]
    ben = made.updates.get(customer__external_id="BEN")
    assert (ben.status, ben.attempts, ben.last_error) == ("pending", 1, "ValueError: no template")


def test_delivery_claims_batches_and_sends_every_one(survey, taxonomy, maya):
    vpn = taxonomy["vpn-access"]
    for number in range(BATCH + 5):
        said(customer(f"N{number}"), 3, "VPN", vpn)
    improvement_ship(improvement=improvement(vpn), actor=maya)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        assert customer_updates_deliver() == BATCH + 5
    assert len({message.to[0] for message in mail.outbox}) == BATCH + 5


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", DELIVERY_RELAY_SECONDS=0)
def test_a_delivery_task_hands_what_is_left_to_a_successor_after_each_leg(survey, taxonomy, maya):
    vpn = taxonomy["vpn-access"]
    for number in range(2 * BATCH + 5):
        said(customer(f"N{number}"), 3, "VPN", vpn)
    improvement_ship(improvement=improvement(vpn), actor=maya)
    # Each leg sends one batch and enqueues the next (run at once here, the queue being synchronous).
    assert tasks.customer_updates_deliver() == BATCH
    assert len({message.to[0] for message in mail.outbox}) == 2 * BATCH + 5
    assert tasks.customer_updates_deliver() == 0


def test_a_claim_of_only_opted_out_customers_does_not_end_the_run(survey, taxonomy, maya):
    vpn = taxonomy["vpn-access"]
    for number in range(BATCH + 3):
        said(customer(f"N{number:03}"), 3, "VPN", vpn)
    made = improvement(vpn)
    improvement_ship(improvement=made, actor=maya)
    # The first whole batch unsubscribes after the ship; the last three still want updates.
    first = CustomerUpdate.objects.filter(improvement=made).order_by("pk").values("customer")[:BATCH]
    Customer.objects.filter(pk__in=first).update(updates_unsubscribed_at=timezone.now())
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        assert customer_updates_deliver() == 3
    statuses = CustomerUpdate.objects.filter(improvement=made).values_list("status", "suppressed_reason")
    assert sorted(set(statuses)) == [("sent", ""), ("suppressed", "unsubscribed")]
    assert len(mail.outbox) == 3


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_marks_skip_the_disk_flush_only_while_a_batch_sends(world, maya, mailbox, monkeypatch):
    made = improvement(world["vpn"], world["network"])
    improvement_ship(improvement=made, actor=maya)
    seen: list[str] = []
    render = CUSTOMER_UPDATES.message

    def observed(row, smtp, now):
        seen.append(_synchronous_commit())
        return render(row, smtp, now)

    monkeypatch.setattr(CUSTOMER_UPDATES, "message", observed)
    assert customer_updates_deliver() == 3
    assert seen == ["off", "off", "off"]
    assert _synchronous_commit() == "on"  # the connection's next work commits as usual
