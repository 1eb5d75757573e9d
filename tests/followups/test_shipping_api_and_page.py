"""Shipping from the API and the ship page: who may, what the answers hold, and the page's queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from followups.models import CustomerUpdate, Improvement, ResponseRootCause
from surveys.models import Customer
from tests.factories import make_improvement, make_response

LOCMEM = override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")


def raised(count: int, cause, *, start: int = 0) -> None:
    """``count`` customers with an address, each with a response coded to ``cause``."""
    for number in range(start, start + count):
        who = Customer.objects.create(external_id=f"K{number:03}", email=f"k{number}@example.com", name=f"Kim {number}")
        comment, submitted_at = f"VPN <em>drops</em> {number}", timezone.now() - timedelta(days=3)
        response = make_response(3, customer=who.external_id, comment=comment, submitted_at=submitted_at)
        ResponseRootCause.objects.create(response=response, root_cause=cause)


@pytest.fixture
def vpn(survey, taxonomy):
    return taxonomy["vpn-access"]


@pytest.fixture
def made(vpn) -> Improvement:
    return make_improvement(
        "A new VPN gateway", vpn, status="planned", customer_message="Connections now hold all day."
    )


def api(made: Improvement, action: str) -> str:
    return f"/api/v1/improvements/{made.pk}/{action}/"


@LOCMEM
def test_a_manager_ships_once_through_the_api(manager_api, made, vpn, django_capture_on_commit_callbacks):
    raised(3, vpn)
    Customer.objects.filter(external_id="K002").update(updates_unsubscribed_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        answer = manager_api.post(api(made, "ship"))
    assert answer.status_code == 200
    assert answer.json() == {"queued": 2, "suppressed": 1, "already_shipped": False}
    again = manager_api.post(api(made, "ship"))
    assert again.json() == {"queued": 0, "suppressed": 0, "already_shipped": True}


def test_a_declined_improvement_is_a_400(manager_api, made):
    Improvement.objects.filter(pk=made.pk).update(status="declined")
    answer = manager_api.post(api(made, "ship"))
    assert answer.status_code == 400
    assert "cannot ship" in str(answer.json())
    assert Improvement.objects.get(pk=made.pk).status == "declined"


@pytest.mark.parametrize("action", ["ship", "updates", "preview"])
def test_only_managers_reach_the_shipping_endpoints(agent_api, anonymous_api, made, action):
    call = (lambda client: client.post(api(made, action))) if action == "ship" else (lambda c: c.get(api(made, action)))
    assert call(agent_api).status_code == 403
    assert call(anonymous_api).status_code in {401, 403}
    assert Improvement.objects.get(pk=made.pk).status == "planned"


def test_an_unknown_improvement_is_a_404(manager_api, made):
    assert manager_api.post(f"/api/v1/improvements/{made.pk + 99}/ship/").status_code == 404
    assert manager_api.get(f"/api/v1/improvements/{made.pk + 99}/preview/").status_code == 404


@LOCMEM
def test_the_updates_list_shows_each_customer_and_filters_by_status(
    manager_api, made, vpn, django_capture_on_commit_callbacks
):
    raised(3, vpn)
    Customer.objects.filter(external_id="K001").update(email="")
    with django_capture_on_commit_callbacks(execute=True):
        manager_api.post(api(made, "ship"))
    rows = manager_api.get(api(made, "updates")).json()["results"]
    assert sorted((row["customer"], row["status"], row["suppressed_reason"]) for row in rows) == [
        ("K000", "sent", ""),
        ("K001", "suppressed", "no_address"),
        ("K002", "sent", ""),
    ]
    assert all(row["sent_at"] for row in rows if row["status"] == "sent")
    suppressed = manager_api.get(api(made, "updates"), {"status": "suppressed"}).json()["results"]
    assert [row["customer"] for row in suppressed] == ["K001"]
    assert manager_api.get(api(made, "updates"), {"status": "nope"}).status_code == 400


def test_the_preview_is_the_exact_email_for_a_chosen_customer(manager_api, made, vpn):
    raised(2, vpn)
    body = manager_api.get(api(made, "preview"), {"customer": "K001"}).json()
    assert body["customer"] == "K001"
    assert body["reach"] == {"queued": 2, "suppressed": {}}
    assert "VPN <em>drops</em> 1" in body["text"] and "VPN &lt;em&gt;drops&lt;/em&gt; 1" in body["html"]
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert manager_api.get(api(made, "preview")).json()["customer"] == "K000"
    assert manager_api.get(api(made, "preview"), {"customer": "nobody"}).status_code == 400
    assert not CustomerUpdate.objects.exists()  # a preview records nothing


def test_the_preview_of_an_improvement_nobody_raised(manager_api, made):
    body = manager_api.get(api(made, "preview")).json()
    assert (body["customer"], body["subject"], body["reach"]) == (None, None, {"queued": 0, "suppressed": {}})


@pytest.fixture
def manager(client, maya):
    client.force_login(maya)
    return client


def page(made: Improvement) -> str:
    return reverse("improvement_ship", args=[made.pk])


@LOCMEM
def test_the_ship_page_previews_then_ships_on_confirmation(manager, made, vpn, django_capture_on_commit_callbacks):
    raised(2, vpn)
    Customer.objects.create(external_id="ERASED", erased_at=timezone.now())
    before = manager.get(page(made))
    assert before.status_code == 200
    html = before.content.decode()
    assert "<strong>2</strong> customers will get the email" in html
    assert "We changed something you told us about: A new VPN gateway" in html
    assert 'sandbox=""' in html
    frame = manager.get(reverse("improvement_ship_email", args=[made.pk]), {"customer": "K001"})
    assert frame.status_code == 200
    assert "VPN &lt;em&gt;drops&lt;/em&gt; 1" in frame.content.decode()
    assert "sandbox" in frame["Content-Security-Policy"] and frame["X-Frame-Options"] == "SAMEORIGIN"
    assert "VPN &lt;em&gt;drops&lt;/em&gt; 0" in html  # the plain text, escaped on the page
    switched = manager.get(page(made), {"customer": "K001"}).content.decode()
    assert "VPN &lt;em&gt;drops&lt;/em&gt; 1" in switched
    unconfirmed = manager.post(page(made), {})
    assert unconfirmed.status_code == 400
    assert Improvement.objects.get(pk=made.pk).status == "planned"
    with django_capture_on_commit_callbacks(execute=True):
        shipped = manager.post(page(made), {"confirm": "on"})
    assert shipped.status_code == 302
    assert Improvement.objects.get(pk=made.pk).status == "shipped"
    after = manager.get(shipped["Location"]).content.decode()
    assert "Shipped: 2 updates queued, 0 suppressed." in after
    assert "<strong>2</strong> sent" in after and "K000" in after and "K001" in after


def test_only_managers_open_the_ship_page(client, alice, made):
    assert client.get(page(made)).status_code == 302
    client.force_login(alice)
    assert client.get(page(made)).status_code == 403
    assert client.post(page(made), {"confirm": "on"}).status_code == 403
    assert client.get(reverse("improvement_ship_email", args=[made.pk])).status_code == 403
    assert Improvement.objects.get(pk=made.pk).status == "planned"


def test_a_declined_improvement_page_offers_no_ship_button(manager, made):
    Improvement.objects.filter(pk=made.pk).update(status="declined")
    html = manager.get(page(made)).content.decode()
    assert "cannot ship" in html and "Ship and send" not in html


@LOCMEM
def test_the_ship_page_reads_a_fixed_number_of_queries(manager, made, vpn, django_assert_num_queries):
    raised(2, vpn)
    with django_assert_num_queries(10) as small:
        manager.get(page(made))
    raised(25, vpn, start=2)
    with django_assert_num_queries(len(small.captured_queries)):
        manager.get(page(made))
    manager.post(page(made), {"confirm": "on"})
    with django_assert_num_queries(7) as shipped_small:
        manager.get(page(made))
    CustomerUpdate.objects.filter(improvement=made).update(status="sent", sent_at=timezone.now())
    raised(30, vpn, start=27)
    with django_assert_num_queries(len(shipped_small.captured_queries)):
        manager.get(page(made), {"page": 1})
