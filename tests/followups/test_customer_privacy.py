"""A customer's data: read, exported with a record of who asked, erased without changing NPS."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from followups.models import (
    CaseEvent,
    CustomerPrivacyRecord,
    CustomerUpdate,
    Notification,
    ResponseRootCause,
    WebhookDelivery,
)
from followups.services.cases import case_contact_log, case_note_add, case_transition
from followups.services.outbox import webhook_events_queue
from followups.services.privacy import REMOVED, customers_retention_sweep
from followups.services.webhooks import webhook_endpoint_create
from surveys.models import Customer, Response
from tests.factories import make_improvement, make_response

SECRET_WORDS = "my manager Jane Doe at 12 Elm Street"


@pytest.fixture
def history(open_case, alice, taxonomy):
    """Customer C-7: a worked detractor case with a note and a contact, a coded comment, a pending update."""
    case = open_case(2, customer="C-7", comment=f"The VPN failed; call {SECRET_WORDS}", ticket_ref="INC-42")
    Customer.objects.filter(pk=case.response.customer_id).update(
        name="Pat Example", email="pat@example.com", phone="+44 20 7946 0000", attributes={"plan": "gold"}
    )
    make_response(9, customer="C-7", comment="Much better since")
    case_contact_log(case=case, actor=alice, channel="phone", outcome="reached", note=f"Spoke to {SECRET_WORDS}")
    case_note_add(case=case, actor=alice, text=f"Lives with {SECRET_WORDS}")
    case_transition(case=case, to_status="closed", actor=alice, reason=f"Moved away, says {SECRET_WORDS}")
    ResponseRootCause.objects.create(response=case.response, root_cause=taxonomy["vpn-access"])
    now = timezone.now()
    improvement = make_improvement("VPN gateway", status="proposed")
    CustomerUpdate.objects.create(
        improvement=improvement,
        customer_id=case.response.customer_id,
        response=case.response,
        next_attempt_at=now,
        created_at=now,
        subject="You said, we did",
        body=f"You said: The VPN failed; call {SECRET_WORDS}",
    )
    return case


def _nps(api) -> list:
    response = api.get(reverse("api-nps"), {"group_by": "month"})
    assert response.status_code == 200
    return response.json()["results"]


def _everything_stored_about(customer_pk: int) -> str:
    """The rows that could mention the customer, as one text to search."""
    customer = Customer.objects.filter(pk=customer_pk).values()
    responses = Response.objects.filter(customer_id=customer_pk).values()
    events = CaseEvent.objects.filter(case__response__customer_id=customer_pk).values()
    updates = CustomerUpdate.objects.filter(customer_id=customer_pk).values()
    notifications = Notification.objects.filter(case__response__customer_id=customer_pk).values()
    deliveries = WebhookDelivery.objects.values("payload")
    records = CustomerPrivacyRecord.objects.values()
    rows = [*customer, *responses, *events, *updates, *notifications, *deliveries, *records]
    return json.dumps(rows, default=str)


def test_an_agent_reads_a_customer_with_responses_cases_codes_and_updates(history, agent_api):
    response = agent_api.get(reverse("api-customer", args=["C-7"]))

    assert response.status_code == 200
    data = response.json()
    assert data["customer"]["email"] == "pat@example.com"
    assert [row["score"] for row in data["responses"]] == [2, 9]
    assert data["responses"][0]["root_causes"] == ["vpn-access"]
    assert data["cases"][0]["status"] == "closed"
    kinds = [event["kind"] for event in data["cases"][0]["events"]]
    assert "note" in kinds and "contact_logged" in kinds
    assert data["updates"][0]["improvement"] == "VPN gateway"
    # Reading is not an export: nothing is recorded.
    assert not CustomerPrivacyRecord.objects.exists()


def test_integrations_may_not_read_customers_and_only_managers_export_or_erase(
    history, integration_api, agent_api, anonymous_api
):
    url = reverse("api-customer", args=["C-7"])
    assert integration_api.get(url).status_code == 403
    assert anonymous_api.get(url).status_code in {401, 403}
    assert agent_api.get(reverse("api-customer-export", args=["C-7"])).status_code == 403
    assert agent_api.delete(url).status_code == 403
    assert Customer.objects.get(external_id="C-7").erased_at is None
    assert not CustomerPrivacyRecord.objects.exists()


def test_an_unknown_customer_is_a_404(manager_api, db):
    assert manager_api.get(reverse("api-customer", args=["nobody"])).status_code == 404
    assert manager_api.delete(reverse("api-customer", args=["nobody"])).status_code == 404


def test_reading_a_customer_takes_the_same_queries_however_much_they_have(history, agent_api, open_case):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert agent_api.get(reverse("api-customer", args=["C-7"])).status_code == 200
        return len(captured)

    few = queries()
    for n in range(4):
        open_case(3, customer="C-7", comment=f"Again {n}")
    assert queries() == few


def test_the_export_holds_everything_and_records_who_asked(history, manager_api, maya):
    response = manager_api.get(reverse("api-customer-export", args=["C-7"]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="customer-data.json"'
    data = response.json()
    assert data["customer"]["phone"] == "+44 20 7946 0000"
    assert data["customer"]["attributes"] == {"plan": "gold"}
    assert SECRET_WORDS in data["responses"][0]["comment"]
    assert data["responses"][0]["ticket_ref"] == "INC-42"
    notes = [event["details"] for event in data["cases"][0]["events"] if event["kind"] == "note"]
    assert notes == [{"text": f"Lives with {SECRET_WORDS}"}]
    assert SECRET_WORDS in data["updates"][0]["body"]
    record = CustomerPrivacyRecord.objects.get()
    assert (record.kind, record.actor, record.customer.external_id) == ("export", maya, "C-7")
    assert record.counts == {"responses": 2, "cases": 1, "updates": 1}
    # The next export lists the earlier one.
    assert (
        manager_api.get(reverse("api-customer-export", args=["C-7"])).json()["privacy_records"][0]["kind"] == "export"
    )


@override_settings(WEBHOOKS_ALLOW_PRIVATE_TARGETS=True)
def test_erasure_removes_what_describes_the_customer_and_keeps_nps_codes_and_timelines(history, manager_api, maya):
    webhook_endpoint_create(url="https://hooks.example.com/in", created_by=maya)
    webhook_events_queue(
        [("response.received", {"id": history.response_id, "customer": "C-7", "comment": SECRET_WORDS})]
    )
    customer_pk = history.response.customer_id
    nps_before = _nps(manager_api)
    assert nps_before, "the NPS history to compare is empty"
    events_before = list(CaseEvent.objects.filter(case=history).order_by("pk").values_list("kind", "at"))
    assert SECRET_WORDS in _everything_stored_about(customer_pk)

    response = manager_api.delete(reverse("api-customer", args=["C-7"]))

    assert response.status_code == 200
    counts = response.json()
    assert (counts["responses"], counts["cases"], counts["webhook_deliveries"]) == (2, 1, 1)
    stored = _everything_stored_about(customer_pk)
    for personal in (SECRET_WORDS, "Pat Example", "pat@example.com", "7946", "gold", "INC-42", '"C-7"'):
        assert personal not in stored, personal
    customer = Customer.objects.get(pk=customer_pk)
    assert customer.erased_at is not None
    assert customer.external_id.startswith("erased-")
    assert customer.updates_unsubscribed_at and customer.surveys_unsubscribed_at
    # Scores, categories, codes and the case's timeline stay, so every figure others read stays.
    assert _nps(manager_api) == nps_before
    assert sorted(Response.objects.filter(customer_id=customer_pk).values_list("score", flat=True)) == [2, 9]
    assert ResponseRootCause.objects.filter(response__customer_id=customer_pk).count() == 1
    assert list(CaseEvent.objects.filter(case=history).order_by("pk").values_list("kind", "at")) == events_before
    note = CaseEvent.objects.get(case=history, kind="note")
    assert note.details == {"text": REMOVED}
    update = CustomerUpdate.objects.get(customer_id=customer_pk)
    assert (update.status, update.suppressed_reason, update.body) == ("suppressed", "erased", "")
    # Recorded, with who asked, and a digest of the old id rather than the id itself.
    record = CustomerPrivacyRecord.objects.get(kind="erasure")
    assert record.actor == maya
    assert record.external_id_sha256 == hashlib.sha256(b"C-7").hexdigest()
    # The old id names nobody now; the same id sent again starts a new customer.
    assert manager_api.get(reverse("api-customer", args=["C-7"])).status_code == 404
    make_response(8, customer="C-7")
    assert Customer.objects.get(external_id="C-7").pk != customer_pk


def test_erasing_leaves_other_customers_alone(history, manager_api):
    other = make_response(3, customer="C-8", comment=f"Ask {SECRET_WORDS}")

    assert manager_api.delete(reverse("api-customer", args=["C-7"])).status_code == 200

    other.refresh_from_db()
    assert other.comment == f"Ask {SECRET_WORDS}"
    assert other.customer.external_id == "C-8"


@override_settings(CUSTOMER_RETENTION_MONTHS=12)
def test_the_retention_rule_anonymises_customers_inactive_for_too_long(survey):
    now = timezone.now()
    make_response(8, customer="C-old", comment="Fine then", submitted_at=now - timedelta(days=800))
    make_response(8, customer="C-new", comment="Fine now", submitted_at=now - timedelta(days=800))
    make_response(9, customer="C-new", comment="Still fine", submitted_at=now - timedelta(days=20))
    Customer.objects.update(updated_at=now - timedelta(days=700), created_at=now - timedelta(days=800))

    assert customers_retention_sweep(now=now) == 1

    assert not Customer.objects.filter(external_id="C-old").exists()
    assert Customer.objects.get(external_id="C-new").erased_at is None
    record = CustomerPrivacyRecord.objects.get()
    assert (record.kind, record.actor) == ("retention", None)
    assert customers_retention_sweep(now=now) == 0  # erased customers are not swept again


@override_settings(CUSTOMER_RETENTION_MONTHS=0)
def test_without_a_retention_period_nobody_is_anonymised(survey):
    make_response(8, customer="C-old", submitted_at=timezone.now() - timedelta(days=3000))
    Customer.objects.update(updated_at=timezone.now() - timedelta(days=3000))

    assert customers_retention_sweep() == 0
    assert Customer.objects.get(external_id="C-old").erased_at is None
