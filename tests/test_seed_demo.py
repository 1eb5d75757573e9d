"""``manage.py seed_demo``: the demo year that ``make run`` shows on a fresh machine."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from closedloop.demo import COMPLAINTS, DEFAULT_PASSWORD, LIVE_STORIES, TEAM_OF_REGION, USERS, demo_plan
from closedloop.lib.roles import AGENT, INTEGRATION, MANAGER
from followups.business_time import add_business_time
from followups.models import (
    Case,
    CaseEvent,
    CustomerUpdate,
    Improvement,
    Notification,
    ResolutionCode,
    ResponseRootCause,
    RootCause,
    RoutingRule,
    SlaPolicy,
    SuggestionModel,
    Team,
)
from followups.models.rules import Priority
from followups.selectors import improvement_board
from followups.sla import AT_RISK_SHARE, DEFAULT_TARGETS, team_calendar
from followups.workflow import OPEN_STATUSES, CaseStatus
from surveys.models import Account, Customer, DailyScoreCount, Invitation, Response, Survey
from surveys.selectors import group_expression, nps_breakdown
from surveys.services.rollups import rollups_rebuild

User = get_user_model()
THEMES = (
    "slow-response",
    "repeat-contact",
    "vpn-access",
    "password-reset",
    "hardware",
    "no-updates",
    "agent-knowledge",
)
DEMO_MODELS = (
    User,
    Team,
    Survey,
    Account,
    Customer,
    Response,
    RootCause,
    ResponseRootCause,
    ResolutionCode,
    RoutingRule,
    Case,
    CaseEvent,
)


def _seed(**options) -> str:
    output = StringIO()
    call_command("seed_demo", stdout=output, **options)
    return output.getvalue()


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in DEMO_MODELS}


def _nps_by(responses, group_by: str) -> dict[Any, Any]:
    rows = nps_breakdown(responses=responses, group=group_expression(group_by), group_by=group_by)
    return {row.group: row.summary.nps for row in rows}


# The demo year is drawn relative to the moment it is seeded: the class runs at one fixed moment,
# so its assertions about the drawn figures see the same year on every run.
SEEDED_AT = datetime(2026, 11, 20, 10, tzinfo=UTC)


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker) -> Iterator[str]:
    """Seed once for the class; the transaction is rolled back afterwards so nothing leaks."""
    with time_machine.travel(SEEDED_AT, tick=True), django_db_blocker.unblock(), transaction.atomic():
        yield _seed()
        transaction.set_rollback(True)


@pytest.mark.usefixtures("seeded", "db")
class TestSeededDemo:
    def test_it_creates_two_teams_of_three_agents_a_manager_and_an_integration(self):
        teams = {team.name: team for team in Team.objects.prefetch_related("members")}
        assert set(teams) == {"Service Desk EMEA", "Service Desk Americas"}
        assert teams["Service Desk EMEA"].is_default
        for team in teams.values():
            assert len(team.members.all()) == 3
            assert team.lead in team.members.all()
        assert User.objects.filter(groups__name=AGENT).count() == 6
        assert User.objects.filter(groups__name=MANAGER).count() == 1
        assert User.objects.filter(groups__name=INTEGRATION).count() == 1
        assert all(user.check_password(DEFAULT_PASSWORD) for user in User.objects.all())

    def test_it_creates_about_2000_customers_with_segments_and_accounts(self):
        assert 1900 <= Customer.objects.count() <= 2100
        keys = ["plan", "region", "customer_type", "department"]
        assert not Customer.objects.exclude(attributes__has_keys=keys).exists()
        values = {key: set(Customer.objects.values_list(f"attributes__{key}", flat=True)) for key in keys}
        assert values["plan"] == {"basic", "standard", "gold"}
        assert values["region"] == {"EMEA", "Americas", "APAC"}
        assert values["customer_type"] == {"new", "returning"}
        assert len(values["department"]) >= 5
        emails = Customer.objects.values_list("email", flat=True)
        assert all(re.search(r"@([a-z0-9]+\.)?example(\.(com|org|net))?$", email) for email in emails)
        assert len(set(emails)) == len(emails)
        assert Account.objects.count() >= 10
        assert all(account.customers.count() >= 2 for account in Account.objects.all())

    def test_it_spreads_about_3000_responses_over_the_last_12_months(self):
        now = timezone.now()
        responses = Response.objects.all()
        assert 2900 <= responses.count() <= 3100
        assert not responses.filter(submitted_at__gt=now).exists()
        assert not responses.filter(submitted_at__lt=now - timedelta(days=366)).exists()
        assert len(_nps_by(responses, "month")) >= 12
        tickets = responses.filter(survey__slug="support-tickets")
        assert responses.filter(survey__slug="quarterly-relationship").count() >= 200
        with_ticket = tickets.filter(ticket_ref__regex=r"^INC-[0-9]{5}$", external_id__isnull=False).count()
        assert 0.6 * tickets.count() <= with_ticket < tickets.count()
        assert len(set(responses.values_list("channel", flat=True))) >= 4

    def test_its_rollup_counts_every_answer_under_its_tickets_team(self):
        def counts() -> set[tuple]:
            return set(DailyScoreCount.objects.values_list("survey_id", "day", "channel", "team", "score", "responses"))

        seeded = counts()
        with transaction.atomic():
            rollups_rebuild()
            assert counts() == seeded
            transaction.set_rollback(True)  # the class's other tests read the seeded rows
        teams = set(DailyScoreCount.objects.values_list("team", flat=True))
        assert set(TEAM_OF_REGION.values()) | {""} == teams

    def test_its_nps_is_plausible_better_for_gold_worse_in_apac_and_improving(self):
        responses = Response.objects.all()
        (overall,) = nps_breakdown(responses=responses)
        assert 15 <= overall.summary.nps <= 40
        by_plan = _nps_by(responses, "attribute:plan")
        assert by_plan["gold"] > by_plan["standard"] > by_plan["basic"]
        by_region = _nps_by(responses, "attribute:region")
        assert by_region["APAC"] < min(by_region["EMEA"], by_region["Americas"])
        half_year = timezone.now() - timedelta(days=182)
        (earlier,) = nps_breakdown(responses=responses.filter(submitted_at__lt=half_year))
        (later,) = nps_breakdown(responses=responses.filter(submitted_at__gte=half_year))
        assert later.summary.nps > earlier.summary.nps

    def test_comments_cover_the_it_support_themes_and_are_coded_with_them(self):
        commented = Response.objects.exclude(comment="").count()
        assert 0.3 <= commented / Response.objects.count() <= 0.8
        top_level = set(RootCause.objects.filter(parent=None).values_list("slug", flat=True))
        assert top_level == {"people", "process", "product", "technology", "communication", "policy"}
        for slug in THEMES:
            assert ResponseRootCause.objects.filter(root_cause__slug=slug).count() >= 10, slug
        codes = ResponseRootCause.objects.select_related("response", "root_cause")
        for code in codes:
            comment = code.response.comment.lower()
            assert any(keyword in comment for keyword in code.root_cause.keywords), (comment, code.root_cause.slug)
        detractors_coded = codes.filter(response__category="detractor").values("response").distinct().count()
        assert detractors_coded > Response.objects.filter(category="detractor").count() / 2

    def test_codes_come_from_agents_of_the_region_and_from_the_manager(self):
        codes = ResponseRootCause.objects.select_related("coded_by", "response__customer")
        by_source = {source: codes.filter(source=source).count() for source in ("agent", "manager")}
        assert by_source["agent"] + by_source["manager"] == codes.count()
        assert 0.2 <= by_source["manager"] / codes.count() <= 0.4
        assert set(codes.filter(source="manager").values_list("coded_by__username", flat=True)) == {"helen"}
        teams = {u.username: u.team for u in USERS}
        for code in codes.filter(source="agent"):
            assert teams[code.coded_by.username] == TEAM_OF_REGION[code.response.customer.attributes["region"]]

    def test_a_classifier_is_trained_on_the_codes_and_beats_keywords_on_the_latest_fifth(self):
        model = SuggestionModel.objects.get()
        assert model.version == 1
        assert model.training_size == ResponseRootCause.objects.values("response").distinct().count()
        assert set(model.causes) <= set(COMPLAINTS) and len(model.causes) >= 5
        macro = model.metrics["macro"]
        assert model.metrics["held_out"] == model.training_size // 5
        assert macro["classifier"]["recall"] >= macro["keywords"]["recall"]
        assert macro["classifier"]["precision"] >= 0.8 and macro["classifier"]["recall"] >= 0.8
        # The week's comments are left for the review page, with suggestions.
        assert Response.objects.exclude(comment="").filter(root_cause_codes__isnull=True).exists()

    def test_improvements_against_the_worst_themes_are_under_way_in_every_status_but_shipped(self):
        improvements = list(
            Improvement.objects.exclude(status="shipped").select_related("owner").prefetch_related("status_changes")
        )
        assert {i.status for i in improvements} == {"proposed", "planned", "in_progress", "declined"}
        assert all(i.owner is not None and i.root_causes.exists() for i in improvements)
        assert any(i.target_date is not None for i in improvements)
        overridden = [i for i in improvements if i.priority_override is not None]
        assert len(overridden) == 1 and overridden[0].priority_override_reason
        for improvement in improvements:
            history = list(improvement.status_changes.all())
            assert history[0].from_status == "" and history[-1].to_status == improvement.status
            assert [c.changed_at for c in history] == sorted(c.changed_at for c in history)
            assert history[0].changed_at < SEEDED_AT - timedelta(days=30)
        board = improvement_board(now=SEEDED_AT)
        assert board[0].priority.override is not None
        assert all(i.priority.computed > 0 for i in board if i.status != "declined")

    def test_promoters_praise_the_demo_agents_by_name(self):
        for user in USERS:
            if user.role == AGENT:
                name = user.username.title()
                assert Response.objects.filter(category="promoter", comment__contains=name).exists(), name

    def test_accounts_have_key_contacts_and_the_risk_ranking_has_signs_to_explain(self):
        from followups.account_risk import is_key_contact, rank_accounts
        from followups.account_selectors import account_risk_signals
        from followups.quarters import Quarter

        for account in Account.objects.all():
            assert [c for c in account.customers.all() if is_key_contact(c.attributes)], account
        ranked = rank_accounts(account_risk_signals(quarter=Quarter(2026, 3), now=SEEDED_AT))
        assert len(ranked) == Account.objects.count()
        assert sum(risk.signals.silent_key_contacts for risk in ranked) >= 3
        assert ranked[0].points > 0 and ranked[0].explanation.startswith(("High", "Medium"))
        assert all(risk.signals.current.responses for risk in ranked)

    def test_invitations_name_who_handled_each_ticket_so_praise_reaches_the_agents_it_thanks(self):
        from followups.praise import recent_praise

        answered = Invitation.objects.filter(status="answered").exclude(ticket_ref="")
        assert answered.exists() and not answered.filter(agent="").exists()
        assert Invitation.objects.filter(status="sent", response__isnull=True).exists()  # not everyone answers
        for user in USERS:
            if user.role == AGENT:
                praise = recent_praise(agents=[user.username], now=SEEDED_AT, limit=100)
                assert any(user.username.title() in r.comment for r in praise), user.username

    def test_the_detractors_of_the_last_months_have_cases_opened_when_they_answered(self):
        cases = Case.objects.select_related("response__customer", "team")
        assert 100 <= cases.count() <= 250
        assert not cases.exclude(created_at=F("response__submitted_at")).exists()
        assert not cases.exclude(response__category="detractor").exists()
        months = {(case.created_at.year, case.created_at.month) for case in cases}
        assert len(months) >= 3
        # The routing rules send each region's customers to its team; the default team takes EMEA.
        for case in cases:
            assert case.team.slug == TEAM_OF_REGION[case.response.customer.attributes["region"]], case
        assert RoutingRule.objects.filter(active=True, attribute_name="region").count() == 2
        assert RoutingRule.objects.filter(active=False).exists()

    def test_it_writes_the_built_in_sla_targets_out_as_policies_a_manager_can_change(self):
        policies = {p.priority: p for p in SlaPolicy.objects.filter(active=True)}
        assert set(policies) == {"hot", "normal"}
        assert (policies["hot"].first_contact_hours, policies["hot"].resolution_hours) == (4, 16)
        assert (policies["normal"].first_contact_hours, policies["normal"].resolution_hours) == (8, 40)

    def test_a_first_visit_finds_every_state_of_the_loop(self):
        now = timezone.now()
        cases = list(Case.objects.all())
        assert {case.status for case in cases} == set(CaseStatus.values)
        assert {case.priority for case in cases} == set(Priority.values)
        running = [case for case in cases if case.status in OPEN_STATUSES]
        assert any(case.is_at_risk(now) for case in running)
        assert any(case.is_overdue(now) for case in running)
        assert any(case.owner_id is None for case in running)
        assert any(case.first_contact_breached_at for case in cases)
        assert any(case.resolution_breached_at for case in cases)
        escalated = [case for case in cases if case.escalation_level == 2]
        assert escalated and all(case.owner_id == case.team.lead_id for case in escalated if case.is_open)

    def test_one_improvement_shipped_and_every_customer_who_raised_its_cause_was_told(self):
        shipped = Improvement.objects.get(status="shipped")
        assert [link.root_cause.slug for link in shipped.root_cause_links.select_related("root_cause")] == [
            "vpn-access"
        ]
        assert [change.to_status for change in shipped.status_changes.all()] == ["proposed", "in_progress", "shipped"]
        updates = CustomerUpdate.objects.filter(improvement=shipped)
        by_status = {row["status"]: row["n"] for row in updates.values("status").annotate(n=Count("pk"))}
        assert by_status.get("sent", 0) > 50 and "pending" not in by_status
        since = shipped.shipped_at - timedelta(days=365)
        codes = ResponseRootCause.objects.filter(root_cause__slug="vpn-access", response__submitted_at__gte=since)
        raised = codes.values("response__customer").distinct().count()
        assert updates.count() == raised
        sent = updates.filter(status="sent").select_related("response").first()
        assert sent.response.comment and sent.response.comment.split()[0] in sent.body

    def test_cases_were_worked_through_the_services_and_their_history_is_the_timeline(self):
        closed = Case.objects.filter(status=CaseStatus.CLOSED)
        resolved_first = closed.filter(resolved_at__isnull=False)
        assert resolved_first.exists() and not resolved_first.filter(resolution_code=None).exists()
        assert set(ResolutionCode.objects.values_list("slug", flat=True)) >= set(
            Case.objects.exclude(resolution_code=None).values_list("resolution_code__slug", flat=True)
        )
        assert Case.objects.exclude(resolution_code=None).values("resolution_code").distinct().count() >= 4
        assert closed.filter(resolved_at=None).exclude(close_reason="").exists()  # given up: unreachable
        kinds = set(CaseEvent.objects.values_list("kind", flat=True))
        assert kinds >= {"created", "assigned", "status_changed", "note", "contact_logged", "breached", "escalated"}
        assert kinds >= {"at_risk"}
        # Every event lies between its case's opening and the seeding, and the sweep's breaches
        # come after the deadline they record.
        assert not CaseEvent.objects.filter(at__lt=F("case__created_at")).exists()
        assert not CaseEvent.objects.filter(at__gt=timezone.now()).exists()
        breaches = CaseEvent.objects.filter(kind="breached", details__deadline="first_contact")
        assert not breaches.filter(at__lte=F("case__first_contact_due")).exists()
        # The past's staff emails are not waiting to be sent all at once.
        assert not Notification.objects.filter(created_at__lt=SEEDED_AT).exists()

    def test_it_prints_every_login_with_its_role_and_the_password(self, seeded):
        assert "Demo data created" in seeded
        assert re.search(r"[0-9]+ follow-up cases worked", seeded)
        assert "Sign in at http://" in seeded
        assert f"password: {DEFAULT_PASSWORD}" in seeded
        for user in USERS:
            assert re.search(rf"^\s+{re.escape(user.username)}\s+{user.role}\b", seeded, re.MULTILINE), user

    def test_a_second_run_changes_nothing_and_still_prints_the_logins(self):
        before = _counts()
        output = _seed()
        assert _counts() == before
        assert "demo data already present" in output
        assert f"password: {DEFAULT_PASSWORD}" in output
        assert all(user.username in output for user in USERS)

    def test_it_does_not_print_a_password_the_demo_logins_do_not_have(self, monkeypatch):
        monkeypatch.setenv("DEMO_PASSWORD", "not-the-demo-password")
        output = _seed()
        assert "not-the-demo-password" not in output
        assert "keep the password chosen when the demo was created" in output
        assert f"password: {DEFAULT_PASSWORD}" in _seed(password=DEFAULT_PASSWORD)


def test_the_same_seed_plans_the_same_year():
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    plan = demo_plan(seed=7, now=now)
    assert plan == demo_plan(seed=7, now=now)
    assert plan.responses != demo_plan(seed=8, now=now).responses
    assert max(response.submitted_at for response in plan.responses) <= now


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 18, 11, 30, tzinfo=UTC),  # a Wednesday morning
        datetime(2026, 11, 20, 16, 55, tzinfo=UTC),  # a Friday, minutes before closing
        datetime(2026, 11, 22, 3, 0, tzinfo=UTC),  # a Sunday night
        datetime(2026, 11, 23, 9, 5, tzinfo=UTC),  # a Monday, minutes after opening
    ],
)
def test_the_live_cases_are_at_risk_and_overdue_whenever_the_demo_is_seeded(now):
    """Whatever the hour, the day's at-risk cases are inside their last stretch, the overdue one
    is past its deadline by more than the delay before the lead takes it over."""
    calendar = team_calendar(Team())
    live = {r.story: r.submitted_at for r in demo_plan(seed=7, now=now).responses if r.story}
    assert set(live) == set(LIVE_STORIES)
    assert all(moment <= now for moment in live.values())
    for story, target in (("first-contact-at-risk", "first_contact"), ("resolution-at-risk", "resolution")):
        allowed = getattr(DEFAULT_TARGETS[Priority.NORMAL], target)
        assert add_business_time(live[story], allowed * (1 - AT_RISK_SHARE), calendar) < now, story
        assert add_business_time(live[story], allowed, calendar) > now + timedelta(minutes=30), story
    hot = DEFAULT_TARGETS[Priority.HOT]
    assert add_business_time(live["escalated-overdue"], hot.first_contact, calendar) + hot.reassign_after < now


@pytest.mark.django_db
def test_a_password_the_validators_refuse_stores_nothing():
    before = _counts()
    with pytest.raises(CommandError, match="too short"):
        _seed(password="short")
    assert _counts() == before
