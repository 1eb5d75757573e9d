"""Did it work: an improvement's page shows the NPS of the customers its update reached, before and
after shipping, with margins of error and whether the change is significant, in fixed queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from closedloop.lib.exceptions import ConflictError
from followups.models import CustomerUpdate, Improvement
from followups.selectors import improvement_impact
from followups.services.improvements import improvement_checkin_schedule, improvement_checkins_send, improvement_create
from followups.services.updates import improvement_ship
from surveys.models import Customer, Invitation
from surveys.nps import NpsSummary, compare
from tests.factories import make_response

SHIPPED_DAYS_AGO = 10


def _detractors(improvement: Improvement, number: int) -> None:
    """``number`` customers whose detractor answers before shipping were coded to the improvement's cause."""
    cause = improvement.root_causes.get()
    for index in range(number):
        response = make_response(
            2, customer=f"C-{index}", submitted_at=timezone.now() - timedelta(days=SHIPPED_DAYS_AGO + 5)
        )
        response.root_cause_codes.create(root_cause=cause)


def _shipped(maya, cause, customers: int) -> Improvement:
    """Shipped ten days ago to ``customers`` detractors, each notified but the last; every one of
    them a promoter since."""
    improvement = improvement_create(title="Faster VPN", actor=maya, root_causes=[cause], customer_message="Fixed.")
    _detractors(improvement, customers)
    for customer in Customer.objects.all():
        customer.email = f"{customer.external_id.lower()}@example.com"
        customer.save(update_fields=["email"])
    improvement_ship(improvement=improvement, actor=maya, now=timezone.now() - timedelta(days=SHIPPED_DAYS_AGO))
    CustomerUpdate.objects.filter(improvement=improvement).exclude(customer__external_id=f"C-{customers - 1}").update(
        status=CustomerUpdate.Status.SENT, suppressed_reason=""
    )
    for index in range(customers):
        make_response(10, customer=f"C-{index}", submitted_at=timezone.now() - timedelta(days=2))
    improvement.refresh_from_db()
    return improvement


@pytest.fixture
def shipped(survey, taxonomy, maya) -> Improvement:
    """Five notified customers (C-5 was never told): too few answers to say anything."""
    return _shipped(maya, taxonomy["vpn-access"], 6)


@pytest.fixture
def widely_shipped(survey, taxonomy, maya) -> Improvement:
    """Thirty-five notified customers: enough answers on both sides."""
    return _shipped(maya, taxonomy["vpn-access"], 36)


def test_only_notified_customers_count_on_either_side_of_shipping(shipped):
    impact = improvement_impact(improvement=shipped)

    assert impact is not None
    assert impact.before == NpsSummary(promoters=0, passives=0, detractors=5)
    assert impact.after == NpsSummary(promoters=5, passives=0, detractors=0)
    assert impact.change is None  # five answers a side: too few to compare


def test_with_enough_answers_on_both_sides_the_change_and_its_significance_show(widely_shipped):
    impact = improvement_impact(improvement=widely_shipped)

    assert impact is not None
    assert impact.before == NpsSummary(promoters=0, passives=0, detractors=35)
    assert impact.after == NpsSummary(promoters=35, passives=0, detractors=0)
    assert impact.change == compare(impact.after, impact.before)
    assert impact.change is not None and impact.change.difference == 200.0 and impact.change.significant


def test_an_unshipped_improvement_has_no_figures(survey, taxonomy, maya):
    improvement = improvement_create(title="Later", actor=maya, root_causes=[taxonomy["vpn-access"]])
    assert improvement_impact(improvement=improvement) is None


def test_the_page_shows_both_sides_with_margins_and_significance_in_fixed_queries(
    widely_shipped, maya, django_assert_num_queries
):
    client = Client()
    client.force_login(maya)
    url = f"/improvements/{widely_shipped.pk}/"
    client.get(url)
    with django_assert_num_queries(12) as few:
        html = client.get(url).content.decode()
    assert "Did it work?" in html
    impact = improvement_impact(improvement=widely_shipped)
    assert impact is not None
    assert f'-100.0 <span class="muted">± {impact.before.margin_of_error:.1f}, 35 answers' in html
    assert f'100.0 <span class="muted">± {impact.after.margin_of_error:.1f}, 35 answers' in html
    assert "<strong>significant</strong>" in html

    for index in range(40, 60):
        make_response(8, customer=f"C-{index}", submitted_at=timezone.now() - timedelta(days=1))
    CustomerUpdate.objects.bulk_create(
        CustomerUpdate(
            improvement=widely_shipped,
            customer=customer,
            status=CustomerUpdate.Status.SENT,
            next_attempt_at=timezone.now(),
            created_at=timezone.now(),
        )
        for customer in Customer.objects.filter(external_id__in=[f"C-{index}" for index in range(40, 60)])
    )
    with django_assert_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert "55 answers" in html and "not significant" not in html


def test_the_page_says_too_few_to_say_rather_than_a_figure_from_five_answers(shipped, maya):
    client = Client()
    client.force_login(maya)
    html = client.get(f"/improvements/{shipped.pk}/").content.decode()
    assert html.count("too few to say (5 answers)") == 2
    assert "± " not in html.split('id="impact-title"')[1].split("</section>")[0]
    assert "Not enough answers on both sides to compare yet" in html and "significant</strong>" not in html


def test_a_check_in_goes_to_the_notified_customers_once_when_due_with_fatigue_applied(shipped, survey, maya, settings):
    settings.SURVEY_MINIMUM_QUARANTINE_DAYS = 0
    improvement_checkin_schedule(improvement=shipped, days=7, actor=maya)
    Customer.objects.filter(external_id="C-1").update(surveys_unsubscribed_at=timezone.now())
    survey.quarantine_days = 0
    survey.save()

    assert improvement_checkins_send(now=shipped.shipped_at + timedelta(days=6)) == 0
    assert improvement_checkins_send() == 4, list(Invitation.objects.values_list("status", "reason"))
    invited = dict(Invitation.objects.values_list("customer__external_id", "status"))
    # C-5's update never went out; C-1 stopped surveys: suppressed with the reason.
    assert invited == {
        "C-0": "scheduled",
        "C-1": "suppressed",
        "C-2": "scheduled",
        "C-3": "scheduled",
        "C-4": "scheduled",
    }
    assert Invitation.objects.get(customer__external_id="C-1").reason == "unsubscribed"
    assert improvement_checkins_send() == 0
    assert Invitation.objects.count() == 5
    with pytest.raises(ConflictError):
        improvement_checkin_schedule(improvement=Improvement.objects.get(pk=shipped.pk), days=3, actor=maya)


def test_the_quarantine_holds_a_check_in_back(shipped, maya):
    improvement_checkin_schedule(improvement=shipped, days=7, actor=maya)
    assert improvement_checkins_send() == 0
    assert set(Invitation.objects.values_list("status", "reason")) == {("suppressed", "quarantine")}


def test_managers_schedule_the_check_in_from_the_page_and_bad_input_stores_nothing(shipped, maya, alice):
    client = Client()
    client.force_login(maya)
    url = f"/improvements/{shipped.pk}/checkin/"
    assert client.post(url, {"checkin_days": "0"}).status_code == 400
    assert client.post(url, {"checkin_days": "abc"}).status_code == 400
    assert Improvement.objects.get(pk=shipped.pk).checkin_days is None
    assert client.post(url, {"checkin_days": "14"}).status_code == 302
    assert Improvement.objects.get(pk=shipped.pk).checkin_days == 14
    agent = Client()
    agent.force_login(alice)
    assert agent.post(url, {"checkin_days": "3"}).status_code in {302, 403}
    assert Improvement.objects.get(pk=shipped.pk).checkin_days == 14


def test_the_api_answers_the_change_when_both_sides_have_enough_answers(widely_shipped, maya):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(maya)
    impact = api.get(f"/api/v1/improvements/{widely_shipped.pk}/impact/").json()
    assert impact["before"] == {"responses": 35, "enough": True, "nps": -100.0, "margin_of_error": 0.0}
    assert impact["after"]["nps"] == 100.0 and impact["difference"] == 200.0 and impact["significant"] is True


def test_the_api_sets_the_check_in_and_answers_the_impact(shipped, maya, survey, taxonomy):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(maya)
    url = f"/api/v1/improvements/{shipped.pk}/"
    assert api.patch(url, {"checkin_days": 400}, format="json").status_code == 400
    assert Improvement.objects.get(pk=shipped.pk).checkin_days is None
    reply = api.patch(url, {"checkin_days": 30}, format="json")
    assert reply.status_code == 200 and reply.json()["checkin_days"] == 30
    impact = api.get(url + "impact/").json()
    assert impact["before"] == {"responses": 5, "enough": False, "nps": -100.0, "margin_of_error": 0.0}
    assert impact["after"]["nps"] == 100.0 and impact["after"]["enough"] is False
    # Five answers a side: no change is claimed.
    assert (impact["difference"], impact["p_value"], impact["significant"]) == (None, None, False)
    later = improvement_create(title="Later", actor=maya, root_causes=[taxonomy["vpn-access"]])
    assert api.get(f"/api/v1/improvements/{later.pk}/impact/").status_code == 409
    assert api.get("/api/v1/improvements/999999/impact/").status_code == 404
