"""Cases open for the right responses, with priority, SLA deadlines and routing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from followups.models import Case, CaseEvent, RoutingRule, SlaPolicy
from followups.services import team_create, team_update
from followups.services.opening import cases_open_for_responses, cases_open_missing
from followups.services.profiles import agent_profile_update
from surveys.models import Account, Customer
from surveys.services import survey_update
from tests.factories import make_response, make_survey, make_user, response_item

MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)
FRIDAY_15 = datetime(2026, 11, 27, 15, tzinfo=UTC)


def _open(score, now=MONDAY_10, **fields):
    response = make_response(score, **fields)
    return cases_open_for_responses(response_ids=[response.pk], now=now)


@pytest.mark.django_db(transaction=True)  # real commits: the case opens when the ingestion commits
def test_a_detractor_ingested_through_the_api_has_its_case_in_the_201(integration_api, desk):
    reply = integration_api.post("/api/v1/responses/", response_item(4, customer="C-1"), format="json")
    assert reply.status_code == 201
    case = Case.objects.get()
    assert reply.json()["case"] == case.pk
    assert case.response_id == reply.json()["id"]


@pytest.mark.parametrize("score", [7, 8, 9, 10])
def test_passives_and_promoters_open_no_case_by_default(desk, score):
    assert _open(score) == []


def test_passives_open_a_case_when_the_survey_follows_them_up(desk, survey):
    survey_update(survey=survey, followup_passives=True)
    assert len(_open(7)) == 1
    assert _open(9) == []


def test_old_responses_open_no_case(desk, settings):
    settings.FOLLOWUP_MAX_AGE_DAYS = 30
    assert _open(1, submitted_at=MONDAY_10 - timedelta(days=31)) == []
    assert len(_open(1, submitted_at=MONDAY_10 - timedelta(days=29))) == 1


def test_one_case_per_response_however_often_it_is_asked(desk):
    response = make_response(2)
    first = cases_open_for_responses(response_ids=[response.pk, response.pk], now=MONDAY_10)
    again = cases_open_for_responses(response_ids=[response.pk], now=MONDAY_10)
    assert len(first) == 1
    assert again == []
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    ("score", "comment", "priority"),
    [
        (3, "", "hot"),
        (0, "", "hot"),
        (4, "", "normal"),
        (6, "meh", "normal"),
        (5, "We will cancel the contract", "hot"),
        (6, "Talking to our LAWYER", "hot"),
        (6, "we are switching provider", "hot"),
    ],
)
def test_priority_is_hot_at_or_below_the_threshold_or_on_hot_words(desk, score, comment, priority):
    [case] = _open(score, comment=comment)
    assert case.priority == priority


def test_the_hot_threshold_is_per_survey(desk, survey):
    survey_update(survey=survey, hot_threshold=5)
    assert _open(5)[0].priority == "hot"


def test_default_deadlines_are_business_hours_of_the_team_calendar(desk):
    [normal] = _open(5, now=FRIDAY_15)  # 8 business hours for first contact, 40 to resolve
    assert normal.first_contact_due == datetime(2026, 11, 30, 15, tzinfo=UTC)  # Friday 2 h + Monday 6 h
    assert normal.resolution_due == datetime(2026, 12, 4, 15, tzinfo=UTC)  # 2 h + 4 * 8 h + 6 h
    [hot] = _open(1, now=FRIDAY_15)  # 4 and 16 business hours
    assert hot.first_contact_due == datetime(2026, 11, 30, 11, tzinfo=UTC)
    assert hot.resolution_due == datetime(2026, 12, 1, 15, tzinfo=UTC)


def test_deadlines_follow_the_teams_time_zone_and_holidays(desk):
    from followups.models import Team

    Team.objects.filter(pk=desk.pk).update(
        time_zone="America/New_York", holiday_country="US", extra_holidays=["2026-11-30"]
    )
    # Wednesday 25 Nov 16:00 in New York (21:00 UTC); Thursday 26 is Thanksgiving:
    # 1 h on Wednesday + 7 h on Friday = 8 h, due Friday 16:00 New York time.
    [case] = _open(5, now=datetime(2026, 11, 25, 21, tzinfo=UTC))
    assert case.first_contact_due == datetime(2026, 11, 27, 21, tzinfo=UTC)
    # From Friday 16:00, Monday 30 is the team's own day off: 1 h Friday + 7 h Tuesday.
    [case] = _open(5, now=datetime(2026, 11, 27, 21, tzinfo=UTC))
    assert case.first_contact_due == datetime(2026, 12, 1, 21, tzinfo=UTC)


def test_an_sla_policy_overrides_the_defaults_most_specific_first(desk, survey):
    SlaPolicy.objects.create(name="All hot", priority="hot", first_contact_hours=2, resolution_hours=8)
    SlaPolicy.objects.create(
        name="Gold hot",
        priority="hot",
        attribute_name="plan",
        attribute_value="gold",
        first_contact_hours=1,
        resolution_hours=4,
    )
    [plain] = _open(1, now=MONDAY_10)
    gold = make_response(1, customer="C-gold")
    Customer.objects.filter(pk=gold.customer_id).update(attributes={"plan": "gold"})
    [vip] = cases_open_for_responses(response_ids=[gold.pk], now=MONDAY_10)
    assert plain.first_contact_due == MONDAY_10 + timedelta(hours=2)
    assert vip.first_contact_due == MONDAY_10 + timedelta(hours=1)
    assert vip.resolution_due == MONDAY_10 + timedelta(hours=4)


def test_cases_spread_evenly_over_the_members(desk, alice, bob, lena):
    cases = [c for score in [1, 2, 3, 4, 5, 6] for c in _open(score)]
    owners = [case.owner_id for case in cases]
    assert sorted(owners.count(user.pk) for user in (alice, bob, lena)) == [2, 2, 2]


def test_a_bulk_batch_is_spread_too(desk, alice, bob, lena):
    from surveys.services import responses_ingest

    result = responses_ingest(items=[response_item(2) for _ in range(9)])
    cases = cases_open_for_responses(response_ids=result.created_ids, now=MONDAY_10)
    counts = sorted(sum(1 for c in cases if c.owner_id == user.pk) for user in (alice, bob, lena))
    assert counts == [3, 3, 3]


def test_away_agents_get_no_new_cases(desk, alice, bob, lena):
    agent_profile_update(user=alice, is_away=True, assignment_emails=True, digest_emails=True)
    owners = {case.owner_id for score in range(6) for case in _open(score)}
    assert owners == {bob.pk, lena.pk}


def test_a_team_with_nobody_available_leaves_the_case_unassigned(survey, db):
    team_create(slug="empty", name="Empty")
    [case] = _open(2)
    assert case.owner is None
    assert case.team.slug == "empty"


def test_routing_rules_pick_a_team_in_order(desk, survey):
    make_user("ana", "agent")
    make_user("raj", "agent")
    apac = team_create(slug="apac", name="APAC", members=["raj"])
    vip = team_create(slug="vip", name="VIP", members=["ana"])
    RoutingRule.objects.create(position=1, name="VPN to APAC", keywords=["vpn"], team=apac)
    RoutingRule.objects.create(position=2, name="Gold to VIP", attribute_name="plan", attribute_value="gold", team=vip)
    RoutingRule.objects.create(position=3, name="Zeros to VIP", score_min=0, score_max=0, team=vip)
    gold = make_response(5, customer="C-gold")
    Customer.objects.filter(pk=gold.customer_id).update(attributes={"plan": "gold"})
    [gold_case] = cases_open_for_responses(response_ids=[gold.pk], now=MONDAY_10)
    assert gold_case.team == vip
    assert _open(5, comment="My VPN token expired")[0].team == apac
    assert _open(0)[0].team == vip
    assert _open(4, comment="slow")[0].team == desk  # no rule: the default team


def test_a_rule_can_name_the_owner_and_match_an_account_or_survey(desk, survey, bob):
    account = Account.objects.create(external_id="ACME", name="Acme")
    other = make_survey("onboarding")
    RoutingRule.objects.create(position=1, name="Acme to bob", account=account, team=desk, owner=bob)
    RoutingRule.objects.create(position=2, name="Onboarding", survey=other, team=desk, owner=bob)
    acme = make_response(3, customer="C-acme")
    Customer.objects.filter(pk=acme.customer_id).update(account=account)
    [case] = cases_open_for_responses(response_ids=[acme.pk], now=MONDAY_10)
    assert case.owner == bob
    assert _open(3, survey="onboarding")[0].owner == bob


def test_the_account_owner_named_by_the_customer_takes_the_case(desk, bob, settings):
    settings.ACCOUNT_OWNER_ATTRIBUTE = "account_owner"
    response = make_response(2, customer="C-owned")
    Customer.objects.filter(pk=response.customer_id).update(attributes={"account_owner": "bob"})
    [case] = cases_open_for_responses(response_ids=[response.pk], now=MONDAY_10)
    assert case.owner == bob
    # An away account owner does not take it; routing goes on as usual.
    agent_profile_update(user=bob, is_away=True, assignment_emails=True, digest_emails=True)
    second = make_response(2, customer="C-owned")
    [other] = cases_open_for_responses(response_ids=[second.pk], now=MONDAY_10)
    assert other.owner != bob


def test_opening_records_history_and_alerts(desk, alice, lena, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [case] = _open(1, comment="<b>broken</b>")
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == ["created", "assigned"]
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects["alice@example.com"].startswith(f"Case {case.pk} is yours")
    assert subjects["lena@example.com"].startswith(f"Hot case {case.pk}")


def test_the_sweep_opens_cases_a_batch_missed(survey, alice):
    response = make_response(2)  # no team yet: no case
    assert cases_open_for_responses(response_ids=[response.pk]) == []
    team_create(slug="late", name="Late", members=["alice"])
    assert cases_open_missing() == 1
    assert Case.objects.get().response == response


def test_the_first_team_is_the_default_until_another_is_marked(survey, alice, bob):
    first = team_create(slug="one", name="One", members=["alice"])
    second = team_create(slug="two", name="Two", members=["bob"])
    assert _open(2)[0].team == first
    team_update(team=second, default=True)
    assert _open(2)[0].team == second


def test_an_agent_away_until_yesterday_gets_cases_again(desk, alice, bob, lena):
    today = datetime.now(UTC).date()
    agent_profile_update(
        user=alice, is_away=True, assignment_emails=True, digest_emails=True, away_until=today - timedelta(days=1)
    )
    agent_profile_update(user=bob, is_away=True, assignment_emails=True, digest_emails=True, away_until=today)
    agent_profile_update(user=lena, is_away=True, assignment_emails=True, digest_emails=True)
    owners = set()
    for _ in range(3):
        response = make_response(2)
        cases = cases_open_for_responses(response_ids=[response.pk])
        owners.add(cases[0].owner_id)
    assert owners == {alice.pk}  # bob is away through today, lena with no end
