"""The manager's configuration pages: routing rules, SLA policies, resolution codes and surveys,
added and changed through their services, refused with clear errors, read in fixed queries."""

from __future__ import annotations

import pytest
from django.test import Client

from followups.models import CustomerMessageTemplate, ResolutionCode, RoutingRule, SlaPolicy
from followups.services.coding import resolution_code_create
from followups.services.messages import message_template_create
from followups.services.rules import routing_rule_create, sla_policy_create
from followups.views.configuration import SECTIONS
from surveys.models import Survey
from tests.factories import make_survey

URLS = [f"/manage/{section.url}/" for section in SECTIONS]


@pytest.fixture
def manager(maya) -> Client:
    client = Client()
    client.force_login(maya)
    return client


def test_a_manager_adds_a_routing_rule_for_a_region(manager, desk):
    data = {
        "position": "10",
        "name": "Americas",
        "team": desk.pk,
        "attribute_name": "region",
        "attribute_value": "Americas",
        "keywords": "refund, outage, refund",
        "active": "on",
    }
    reply = manager.post("/manage/routing/", data)
    assert reply.status_code == 302, reply.content.decode()[-3000:]
    rule = RoutingRule.objects.get()
    assert (rule.team, rule.attribute_value, rule.keywords, rule.active) == (
        desk,
        "Americas",
        ["refund", "outage"],
        True,
    )
    html = manager.get("/manage/routing/").content.decode()
    assert "region = Americas; words: refund, outage" in html


def test_a_rules_score_range_must_be_in_order(manager, desk):
    data = {"position": "10", "name": "Odd", "team": desk.pk, "score_min": "6", "score_max": "2"}
    reply = manager.post("/manage/routing/", data)
    assert reply.status_code == 200 and "The lowest score must not be above the highest." in reply.content.decode()
    assert not RoutingRule.objects.exists()


def test_editing_a_rule_changes_its_order_and_deactivates_it(manager, desk):
    rule = routing_rule_create(name="Americas", team=desk, position=10)
    data = {"position": "5", "name": "Americas first", "team": desk.pk, "keywords": ""}
    assert manager.post(f"/manage/routing/{rule.pk}/", data).status_code == 302
    rule.refresh_from_db()
    assert (rule.position, rule.name, rule.active) == (5, "Americas first", False)


def test_a_manager_adds_and_changes_an_sla_policy(manager, survey):
    data = {
        "name": "Hot support",
        "priority": "hot",
        "survey": survey.pk,
        "first_contact_hours": "2",
        "resolution_hours": "8",
        "reassign_after_hours": "4",
        "active": "on",
    }
    assert manager.post("/manage/sla/", data).status_code == 302
    policy = SlaPolicy.objects.get()
    assert (policy.first_contact_hours, policy.survey) == (2, survey)
    reply = manager.post(f"/manage/sla/{policy.pk}/", {**data, "first_contact_hours": "0"})
    assert reply.status_code == 200 and "to resolve must be above 0" in reply.content.decode()
    policy.refresh_from_db()
    assert policy.first_contact_hours == 2


def test_resolution_codes_are_added_renamed_reordered_and_deactivated(manager):
    assert (
        manager.post(
            "/manage/resolution-codes/", {"slug": "fixed", "name": "Fixed", "position": "1", "active": "on"}
        ).status_code
        == 302
    )
    code = ResolutionCode.objects.get(slug="fixed")
    data = {"slug": "changed", "name": "Fixed for good", "position": "7"}
    assert manager.post(f"/manage/resolution-codes/{code.pk}/", data).status_code == 302
    code.refresh_from_db()
    assert (code.slug, code.name, code.position, code.active) == ("fixed", "Fixed for good", 7, False)


def test_a_manager_adds_and_changes_a_message_template(manager):
    data = {"name": "Sorry", "subject": "About case {case_number}", "body": "Hello {customer_name}", "active": "on"}
    assert manager.post("/manage/message-templates/", data).status_code == 302
    template = CustomerMessageTemplate.objects.get()
    assert (template.subject, template.body, template.active) == (
        "About case {case_number}",
        "Hello {customer_name}",
        True,
    )

    data = {"name": "Sorry", "subject": "Case {case_number}", "body": "Hi {customer_name}"}
    assert manager.post(f"/manage/message-templates/{template.pk}/", data).status_code == 302
    template.refresh_from_db()
    assert (template.subject, template.active) == ("Case {case_number}", False)
    reply = manager.post("/manage/message-templates/", {"name": "Sorry", "subject": "", "body": ""})
    assert reply.status_code == 200 and CustomerMessageTemplate.objects.count() == 1


def test_a_duplicate_code_is_a_form_error(manager):
    resolution_code_create(slug="fixed", name="Fixed")
    reply = manager.post("/manage/resolution-codes/", {"slug": "fixed", "name": "Again", "position": "1"})
    assert reply.status_code == 200 and "already exists" in reply.content.decode()
    assert ResolutionCode.objects.count() == 1


def test_a_manager_changes_a_surveys_texts_and_hot_threshold(manager, survey):
    data = {
        "slug": "other",
        "name": "Support",
        "kind": "transactional",
        "question": "Would you recommend us?",
        "quarantine_days": "30",
        "hot_threshold": "3",
        "require_coding": "on",
        "active": "on",
        "thank_you_promoter": "Great!",
        "thank_you_passive": "Thanks.",
        "thank_you_detractor": "Sorry <b>about</b> it.",
    }
    assert manager.post(f"/manage/surveys/{survey.pk}/", data).status_code == 302
    survey.refresh_from_db()
    assert (survey.slug, survey.question, survey.hot_threshold, survey.require_coding) == (
        "support-2026",
        "Would you recommend us?",
        3,
        True,
    )
    reply = manager.post(f"/manage/surveys/{survey.pk}/", {**data, "hot_threshold": "11"})
    assert reply.status_code == 200 and "Ensure this value is less than or equal to 10" in reply.content.decode()


def test_a_manager_adds_a_survey(manager):
    data = {
        "slug": "onboarding",
        "name": "Onboarding",
        "kind": "relationship",
        "question": "How likely…?",
        "quarantine_days": "90",
        "hot_threshold": "2",
        "active": "on",
    }
    assert manager.post("/manage/surveys/", data).status_code == 302
    assert Survey.objects.get(slug="onboarding").kind == "relationship"


@pytest.mark.parametrize("url", URLS)
def test_only_managers_open_the_configuration_pages(url, alice, client):
    assert client.get(url).status_code == 302
    client.force_login(alice)
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "x"}).status_code == 403


@pytest.mark.parametrize(
    ("section", "queries"), list(zip(SECTIONS, [8, 5, 4, 4, 4], strict=True)), ids=lambda s: getattr(s, "url", "")
)
def test_each_page_reads_a_fixed_number_of_queries(section, queries, manager, desk, django_assert_num_queries):
    with django_assert_num_queries(queries) as small:
        manager.get(f"/manage/{section.url}/")
    for n in range(12):
        survey = make_survey(f"survey-{n}")
        routing_rule_create(name=f"Rule {n}", team=desk, survey=survey, owner=desk.lead, keywords=["a"])
        sla_policy_create(name=f"Policy {n}", priority="hot", survey=survey, first_contact_hours=1, resolution_hours=2)
        resolution_code_create(slug=f"code-{n}", name=f"Code {n}")
        message_template_create(name=f"Template {n}", subject="About case {case_number}", body="Hello")
    with django_assert_num_queries(len(small.captured_queries)):
        manager.get(f"/manage/{section.url}/")


def test_a_rule_may_name_an_agent_or_manager_as_owner_not_an_integration(manager, desk, izzy):
    data = {"position": "1", "name": "To izzy", "team": desk.pk, "owner": izzy.pk}
    reply = manager.post("/manage/routing/", data)
    assert reply.status_code == 200 and "Select a valid choice" in reply.content.decode()
    assert manager.post("/manage/routing/", {**data, "owner": desk.lead.pk}).status_code == 302
