"""The customer's own pages from signed links: updates, preferences, and the RFC 8058 one-click unsubscribe."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core import signing
from django.core.cache import caches
from django.test import Client
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from followups.models import CustomerUpdate
from surveys.customer_links import (
    URL_NAMES,
    CustomerLinkError,
    Purpose,
    customer_from_token,
    customer_token,
    customer_url,
)
from surveys.customer_views import CUSTOMER_PAGE_RATE
from surveys.models import Customer
from tests.factories import make_improvement, make_response


@pytest.fixture
def pat(db) -> Customer:
    return Customer.objects.create(external_id="PAT", name="Pat <i>Example</i>", email="pat@example.com")


def path(customer: Customer, purpose: Purpose) -> str:
    return customer_url(customer.pk, purpose).removeprefix("http://127.0.0.1:8000")


def test_a_token_names_its_customer_for_its_purpose_only(pat):
    token = customer_token(pat.pk, Purpose.UPDATES)
    assert customer_from_token(token, Purpose.UPDATES) == pat.pk
    with pytest.raises(CustomerLinkError) as refused:
        customer_from_token(token, Purpose.UNSUBSCRIBE)
    assert not refused.value.expired


def test_a_tampered_token_is_refused(pat):
    token = customer_token(pat.pk, Purpose.PREFERENCES)
    other = customer_token(pat.pk + 1, Purpose.PREFERENCES)
    forged = other.split(":")[0] + token[token.index(":") :]
    with pytest.raises(CustomerLinkError):
        customer_from_token(forged, Purpose.PREFERENCES)


def test_updates_and_preferences_links_expire_after_a_year_unsubscribe_never(pat):
    tokens = {purpose: customer_token(pat.pk, purpose) for purpose in Purpose}
    later = timezone.now().timestamp() + 366 * 24 * 3600
    with mock.patch("time.time", return_value=later):
        for purpose in (Purpose.UPDATES, Purpose.PREFERENCES):
            with pytest.raises(CustomerLinkError) as refused:
                customer_from_token(tokens[purpose], purpose)
            assert refused.value.expired
        assert customer_from_token(tokens[Purpose.UNSUBSCRIBE], Purpose.UNSUBSCRIBE) == pat.pk


@pytest.mark.parametrize("purpose", list(Purpose))
def test_a_link_is_the_page_reversed_for_its_token(pat, purpose):
    """The path around the token is reversed once; every link must still be what reverse() makes."""
    for customer_id in (pat.pk, 7, 123456789):
        url = customer_url(customer_id, purpose)
        token = url.rstrip("/").rsplit("/", 1)[1]
        assert customer_from_token(token, purpose) == customer_id
        assert url == "http://127.0.0.1:8000" + reverse(URL_NAMES[purpose], kwargs={"token": token})


def test_a_link_follows_the_script_prefix_it_is_made_under(pat):
    try:
        set_script_prefix("/nps/")
        assert path(pat, Purpose.UPDATES).startswith("/nps/c/updates/")
        set_script_prefix("/token/")  # the placeholder's own word in the prefix
        head, token, tail = path(pat, Purpose.UPDATES).rsplit("/", 2)
        assert head == "/token/c/updates" and tail == "" and customer_from_token(token, Purpose.UPDATES) == pat.pk
    finally:
        set_script_prefix("/")
    assert path(pat, Purpose.UPDATES).startswith("/c/updates/")


def test_links_are_absolute_from_site_url(pat, settings):
    settings.SITE_URL = "https://nps.example.com"
    assert customer_url(pat.pk, Purpose.UPDATES).startswith("https://nps.example.com/c/updates/")


def test_one_click_unsubscribe_posts_without_a_csrf_token(pat):
    client = Client(enforce_csrf_checks=True)
    answer = client.post(path(pat, Purpose.UNSUBSCRIBE), {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert b"You are unsubscribed" in answer.content
    pat.refresh_from_db()
    first = pat.updates_unsubscribed_at
    assert first is not None and pat.surveys_unsubscribed_at is None  # only updates
    assert client.post(path(pat, Purpose.UNSUBSCRIBE)).status_code == 200  # idempotent
    pat.refresh_from_db()
    assert pat.updates_unsubscribed_at == first


def test_opening_the_unsubscribe_link_does_not_unsubscribe(pat, client):
    answer = client.get(path(pat, Purpose.UNSUBSCRIBE))
    assert answer.status_code == 200
    assert b'<form method="post">' in answer.content
    pat.refresh_from_db()
    assert pat.updates_unsubscribed_at is None


@pytest.mark.parametrize("purpose", list(Purpose))
def test_a_bad_link_gets_a_page_a_customer_understands(pat, client, purpose):
    url = path(pat, purpose)
    answer = client.get(url[:-6] + "AAAAA/")
    assert answer.status_code == 400
    assert b"This link does not work" in answer.content


def test_an_expired_link_gets_410(pat, client):
    url = path(pat, Purpose.PREFERENCES)
    with mock.patch("time.time", return_value=timezone.now().timestamp() + 400 * 24 * 3600):
        answer = client.get(url)
    assert answer.status_code == 410
    assert b"This link has expired" in answer.content


def test_an_erased_customer_link_shows_nothing(pat, client):
    url = path(pat, Purpose.UPDATES)
    Customer.objects.filter(pk=pat.pk).update(erased_at=timezone.now())
    answer = client.get(url)
    assert answer.status_code == 410
    assert b"Pat" not in answer.content


def test_the_preferences_page_stops_and_restarts_surveys_and_updates(pat):
    client = Client(enforce_csrf_checks=True)
    url = path(pat, Purpose.PREFERENCES)
    page = client.get(url)
    assert page.status_code == 200
    assert b"Pat &lt;i&gt;Example&lt;/i&gt;" in page.content
    assert client.post(url, {"updates": "on"}).status_code == 403  # a form post needs its CSRF token
    token = page.cookies["csrftoken"].value
    answer = client.post(url, {"updates": "on", "csrfmiddlewaretoken": token})
    assert b"Saved" in answer.content
    pat.refresh_from_db()
    assert pat.surveys_unsubscribed_at is not None and pat.updates_unsubscribed_at is None
    client.post(url, {"csrfmiddlewaretoken": token})
    pat.refresh_from_db()
    assert pat.surveys_unsubscribed_at is not None and pat.updates_unsubscribed_at is not None
    client.post(url, {"surveys": "on", "updates": "on", "csrfmiddlewaretoken": token})
    pat.refresh_from_db()
    assert pat.surveys_unsubscribed_at is None and pat.updates_unsubscribed_at is None


def test_the_updates_page_lists_what_was_sent_with_the_customer_words_escaped(pat, client, survey):
    response = make_response(3, customer="PAT", comment="VPN <script>x</script> keeps dropping")
    now = timezone.now()
    shipped = make_improvement(
        "A new VPN gateway", customer_message="Connections now hold all day.", status="shipped", shipped_at=now
    )
    pending = make_improvement("Not sent yet", status="proposed")
    for made, status in ((shipped, "sent"), (pending, "pending")):
        CustomerUpdate.objects.create(
            improvement=made,
            customer=pat,
            response=response,
            status=status,
            sent_at=now if status == "sent" else None,
            next_attempt_at=now,
            created_at=now,
        )
    page = client.get(path(pat, Purpose.UPDATES))
    assert page.status_code == 200
    assert b"A new VPN gateway" in page.content and b"Connections now hold all day." in page.content
    assert b"VPN &lt;script&gt;x&lt;/script&gt; keeps dropping" in page.content
    assert b"Not sent yet" not in page.content
    assert "no-store" in page["Cache-Control"]


def test_the_customer_pages_are_rate_limited_per_address(pat, client):
    caches["throttle"].clear()  # counts other tests left in a committed cache table start afresh
    limit = int(CUSTOMER_PAGE_RATE.split("/")[0])
    url = path(pat, Purpose.PREFERENCES)
    for _ in range(limit):
        assert client.get(url).status_code == 200
    refused = client.get(url)
    assert refused.status_code == 429
    assert client.get(url, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_a_token_that_is_not_a_customer_id_is_refused(pat):
    token = signing.TimestampSigner(salt="closedloop.customer-link.updates").sign("not-a-number")
    with pytest.raises(CustomerLinkError):
        customer_from_token(token, Purpose.UPDATES)
