"""The account reports: accounts ranked by risk and each account's quarter, their figures by hand,
who may see them, the period in the URL, and a fixed number of queries at two data sizes.

The world: the desk of ``tests/followups/conftest.py``, two client accounts, and the quarter
2026-Q3 (July to September) against 2026-Q2. Time zone: the test settings' (UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from followups.models import Case, ResponseRootCause
from followups.services.opening import cases_open_for_responses
from surveys.models import Account, Customer, Invitation
from surveys.nps import NpsSummary
from tests.factories import make_response, make_user

pytestmark = pytest.mark.django_db

Q3 = datetime(2026, 8, 10, 10, tzinfo=UTC)
Q2 = datetime(2026, 5, 10, 10, tzinfo=UTC)
NOW = datetime(2026, 10, 20, 10, tzinfo=UTC)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def acme(db):
    return Account.objects.create(external_id="ACC-1", name="Acme Corp")


@pytest.fixture
def globex(db):
    return Account.objects.create(external_id="ACC-2", name="Globex")


def answer(account: Account, score: int, at: datetime, *, customer: str | None = None, **fields):
    """A response of a customer of ``account`` (made if new)."""
    response = make_response(score, customer=customer, submitted_at=at, **fields)
    Customer.objects.filter(pk=response.customer_id).update(account=account)
    return response


def invite(account: Account, customer: str, *, answered: bool, at: datetime = Q3, key: bool = False, ticket: str = ""):
    stored, _ = Customer.objects.get_or_create(external_id=customer, defaults={"account": account})
    stored.account = account
    if key:
        stored.attributes = {"key_contact": "yes"}
    stored.save()
    return Invitation.objects.create(
        survey_id=_survey_id(),
        customer=stored,
        status=Invitation.Status.ANSWERED if answered else Invitation.Status.SENT,
        send_at=at,
        sent_at=at,
        next_attempt_at=at,
        created_at=at,
        ticket_ref=ticket,
    )


def _survey_id() -> int:
    from surveys.models import Survey

    return Survey.objects.get(slug="support-2026").pk


def overdue_case(account: Account, *, now: datetime = NOW) -> Case:
    response = answer(account, 2, now - timedelta(days=3))
    case = cases_open_for_responses(response_ids=[response.pk], now=now - timedelta(days=3))[0]
    Case.objects.filter(pk=case.pk).update(next_due=now - timedelta(hours=1))
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def world(desk, acme, globex):
    """Acme: NPS falls significantly from Q2 to Q3, a key contact is silent, a case overdue. Globex: steady."""
    for index in range(20):
        answer(acme, 10, Q2 + timedelta(hours=index))
    for index in range(10):
        answer(acme, 9 if index < 2 else 3, Q3 + timedelta(hours=index), comment="slow")
    for index in range(6):
        answer(globex, 9 if index < 4 else 8, Q2 + timedelta(hours=index))
        answer(globex, 9 if index < 4 else 8, Q3 + timedelta(hours=index))
    invite(acme, "KEY-1", answered=False, key=True)
    invite(acme, "KEY-2", answered=True, key=True)
    invite(acme, "PLAIN-1", answered=False)
    overdue_case(acme)
    return acme, globex


@pytest.fixture
def manager(db):
    return make_user("mia", "manager")


def test_agents_who_lead_no_team_may_not_see_account_reports(world, alice, manager):
    agent = _client(alice)
    assert agent.get(reverse("account-report-list")).status_code == 403
    assert agent.get(reverse("account-report", args=["ACC-1"])).status_code == 403
    anonymous = Client().get(reverse("account-report-list"))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_team_leads_and_managers_may(world, lena, manager):
    for user in (lena, manager):
        assert _client(user).get(reverse("account-report-list")).status_code == 200
        assert _client(user).get(reverse("account-report", args=["ACC-1"])).status_code == 200


def test_an_unknown_account_is_not_found(world, manager):
    assert _client(manager).get(reverse("account-report", args=["NOPE"])).status_code == 404


def test_the_ranking_puts_the_falling_account_first_with_its_reasons(world, manager, time_machine):
    time_machine.move_to(NOW)
    page = _client(manager).get(reverse("account-report-list"))
    html = page.content.decode()
    assertContains(page, "Accounts by risk, 2026-Q3")  # the last complete quarter by default
    assert html.index("Acme Corp") < html.index("Globex")
    # Acme: +100 (20 promoters) down to 2 promoters and 8 detractors, -60: significant (4 points);
    # one silent key contact (1 point; PLAIN-1 is no key contact); one overdue case (2 points).
    assertContains(
        page,
        "High risk (7 points): NPS fell 160 points, from +100 to -60 (a significant fall); "
        "1 key contact has not answered their survey; and 1 case is overdue.",
    )
    assertContains(page, "Low risk: NPS did not fall, every key contact answered and no case is overdue.")


def test_the_quarter_comes_from_the_url(world, manager, time_machine):
    time_machine.move_to(NOW)
    page = _client(manager).get(reverse("account-report-list"), {"quarter": "2026-Q2"})
    assertContains(page, "Accounts by risk, 2026-Q2")
    # Q2 against Q1 (no responses): no change to judge; the overdue case is overdue now.
    assertContains(page, "Medium risk (2 points): 1 case is overdue.")


def test_a_quarter_not_offered_falls_back_to_the_last_complete_one(world, manager, time_machine):
    time_machine.move_to(NOW)
    page = _client(manager).get(reverse("account-report-list"), {"quarter": "1999-Q1"})
    assert page.status_code == 200
    assertContains(page, "Accounts by risk, 2026-Q3")
    assertContains(page, "Select a valid choice")


def test_the_account_report_gives_the_quarters_figures(world, manager, taxonomy, time_machine):
    time_machine.move_to(NOW)
    acme, _ = world
    detractors = acme.customers.filter(responses__score=3).values_list("responses", flat=True)
    ResponseRootCause.objects.bulk_create(
        ResponseRootCause(response_id=pk, root_cause=taxonomy["slow-response"]) for pk in detractors[:4]
    )
    page = _client(manager).get(reverse("account-report", args=["ACC-1"]))
    html = page.content.decode()
    summary = NpsSummary(2, 0, 8)
    assert round(summary.nps) == -60
    assertContains(page, "Acme Corp: quarterly review, 2026-Q3")
    assertContains(page, '<span class="nps-figure__value">-60</span>', html=False)
    assertContains(page, f"± {summary.margin_of_error:.1f}")
    assertContains(page, "10 responses: 2 promoters, 0 passives, 8 detractors.")
    assertContains(page, "Down 160.0 points from +100 in 2026-Q2 (20 responses):")
    assertContains(page, "<strong>a significant change</strong>", html=True)
    # Three invitations delivered in Q3 (the key contacts' and PLAIN-1's), one answered: 33 %.
    assertContains(page, "1 answered of 3 invitations delivered.")
    assertContains(page, "33 %")
    # Top themes: four of the ten coded to slow response, all detractors: NPS -100 (impact: -60 - -33.3).
    themes = html[html.index('id="themes-title"') : html.index('id="cases-title"')]
    assert "Slow first response" in themes
    assert "-26.7" in themes
    # Four responses are too few for the theme's own NPS, as on the dashboard.
    assert "too few to say (4)" in themes and "-100" not in themes
    assertContains(page, "Open detractor cases: 1, 1 overdue")
    assertContains(page, "KEY-1")
    assertNotContains(page, "PLAIN-1")


def test_sla_compliance_counts_the_quarters_cases(desk, acme, manager, time_machine):
    time_machine.move_to(NOW)
    opened = Q3
    met, missed, pending = (answer(acme, 2, opened + timedelta(minutes=n)) for n in range(3))
    cases = cases_open_for_responses(response_ids=[met.pk, missed.pk, pending.pk], now=opened)
    by_response = {case.response_id: case.pk for case in cases}
    Case.objects.filter(pk=by_response[met.pk]).update(first_contacted_at=opened + timedelta(hours=1))
    Case.objects.filter(pk=by_response[missed.pk]).update(first_contact_breached_at=opened + timedelta(hours=9))
    page = _client(manager).get(reverse("account-report", args=["ACC-1"]))
    # First contact: one met, one missed, one pending: 50 %. Resolution: three pending, none decided.
    html = " ".join(page.content.decode().split())
    assert '<strong>First contact</strong>: 50 % <span class="muted">(1 met, 1 missed, 1 pending)</span>' in html
    assert '<strong>Resolution</strong>: \u2013 <span class="muted">(0 met, 0 missed, 3 pending)</span>' in html


def test_customer_text_is_escaped(desk, manager, time_machine):
    time_machine.move_to(NOW)
    account = Account.objects.create(external_id="ACC-X", name="<b>Evil</b>")
    answer(account, 2, Q3)
    overdue_case(account)
    page = _client(manager).get(reverse("account-report", args=["ACC-X"]))
    assertNotContains(page, "<b>Evil</b>")
    assertContains(page, "&lt;b&gt;Evil&lt;/b&gt;")
    assertNotContains(_client(manager).get(reverse("account-report-list")), "<b>Evil</b>")


def _grow(acme, globex, times: int) -> None:
    for n in range(times):
        account = Account.objects.create(external_id=f"ACC-G{n}-{timezone.now().timestamp()}", name=f"Grown {n}")
        for index in range(3):
            answer(account, 3 + index * 3, Q3 + timedelta(hours=index))
            answer(acme, 2 + index, Q3 + timedelta(hours=index, minutes=n))
            answer(globex, 10, Q2 + timedelta(hours=index, minutes=n))
        invite(account, f"K-{n}-{timezone.now().timestamp()}", answered=False, key=True)
        overdue_case(account)
        overdue_case(acme)


@pytest.mark.parametrize("name", ["account-report-list", "account-report"])
def test_the_pages_take_a_fixed_number_of_queries(world, manager, taxonomy, name, time_machine):
    time_machine.move_to(NOW)
    acme, globex = world
    client = _client(manager)
    args = ["ACC-1"] if name == "account-report" else []
    url = reverse(name, args=args)
    client.get(url)  # warm the session and the caches
    counts = []
    for times in (1, 4):
        _grow(acme, globex, times)
        coded = acme.customers.values_list("responses", flat=True)[: times * 3]
        ResponseRootCause.objects.bulk_create(
            [ResponseRootCause(response_id=pk, root_cause=taxonomy["slow-response"]) for pk in coded],
            ignore_conflicts=True,
        )
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[0] <= (9 if name == "account-report-list" else 12), counts


@pytest.mark.parametrize(
    ("value", "key"), [(True, True), ("Yes ", True), ("1", True), (1, True), ("no", False), (False, False), ("", False)]
)
def test_the_database_reads_key_contacts_as_the_rule_does(desk, acme, value, key, time_machine):
    from followups.account_risk import is_key_contact
    from followups.account_selectors import account_risk_signals
    from followups.quarters import Quarter

    time_machine.move_to(NOW)
    invitation = invite(acme, "K-1", answered=False)
    Customer.objects.filter(pk=invitation.customer_id).update(attributes={"key_contact": value})
    [signals] = account_risk_signals(quarter=Quarter(2026, 3), now=NOW)
    assert signals.silent_key_contacts == int(key) == int(is_key_contact({"key_contact": value}))
