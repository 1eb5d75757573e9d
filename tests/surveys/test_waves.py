"""Relationship waves: the fatigue rules for everyone matched, a random sample scheduled over the window."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from closedloop.lib.exceptions import ApplicationError
from surveys.models import Customer, Invitation, SurveyWave
from surveys.services.waves import relationship_wave_send
from tests.factories import make_response, make_survey


@pytest.fixture
def quarterly(db):
    return make_survey("quarterly", kind="relationship")


def customers(count: int, **attributes) -> list[Customer]:
    start = Customer.objects.count()
    return Customer.objects.bulk_create(
        Customer(external_id=f"W-{start + n}", email=f"w{start + n}@example.com", attributes=attributes)
        for n in range(count)
    )


def test_a_wave_suppresses_who_may_not_be_asked_and_schedules_a_sample_over_the_window(quarterly):
    gold = customers(6, plan="gold")
    customers(3, plan="basic")
    Customer.objects.filter(pk=gold[0].pk).update(surveys_unsubscribed_at=timezone.now())
    Customer.objects.filter(pk=gold[1].pk).update(email="")
    make_response(9, survey="quarterly", customer=gold[2].external_id)  # asked a moment ago
    now = timezone.now()

    plan = relationship_wave_send(
        survey=quarterly, segments={"plan": "gold"}, sample=2, window_hours=10, now=now, rng=random.Random(4)
    )

    wave = plan.wave
    assert (wave.matched, wave.eligible, plan.scheduled) == (6, 3, 2)
    assert plan.suppressed == {"unsubscribed": 1, "no_address": 1, "quarantine": 1}
    suppressed = Invitation.objects.filter(wave=wave, status="suppressed")
    assert sorted(suppressed.values_list("reason", flat=True)) == ["no_address", "quarantine", "unsubscribed"]
    scheduled = list(Invitation.objects.filter(wave=wave, status="scheduled").order_by("send_at"))
    assert len(scheduled) == 2
    assert {invitation.customer_id for invitation in scheduled} <= {customer.pk for customer in gold[3:]}
    assert [invitation.send_at for invitation in scheduled] == [now, now + timedelta(hours=5)]
    # Nobody outside the segment is touched.
    assert not Invitation.objects.filter(customer__attributes__plan="basic").exists()


def test_without_a_sample_every_eligible_customer_is_scheduled(quarterly):
    customers(4)
    plan = relationship_wave_send(survey=quarterly, window_hours=1)
    assert plan.scheduled == 4 and plan.wave.eligible == 4


def test_a_second_wave_inside_the_quarantine_asks_nobody_again(quarterly):
    customers(3)
    relationship_wave_send(survey=quarterly)
    again = relationship_wave_send(survey=quarterly)
    assert (again.scheduled, again.suppressed) == (0, {"quarantine": 3})


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"sample": 0}, "sample"), ({"window_hours": 0}, "window_hours"), ({"segments": {"a b": "x"}}, "segments")],
)
def test_a_wave_that_makes_no_sense_is_refused_and_stores_nothing(quarterly, fields, field):
    customers(2)
    with pytest.raises(ApplicationError) as refused:
        relationship_wave_send(survey=quarterly, **fields)
    assert field in (refused.value.errors or {})
    assert not SurveyWave.objects.exists() and not Invitation.objects.exists()


@pytest.mark.postgres  # SQLite bounds a statement's parameters, so its bulk inserts take more batches
def test_planning_takes_the_same_queries_for_more_customers(quarterly):
    def queries(count: int) -> int:
        Invitation.objects.all().delete()
        SurveyWave.objects.all().delete()
        Customer.objects.all().delete()
        customers(count)
        with CaptureQueriesContext(connection) as captured:
            relationship_wave_send(survey=quarterly)
        return len(captured)

    assert queries(40) == queries(400)


def test_the_command_reports_the_wave_and_refuses_bad_options(quarterly):
    customers(3, region="emea")
    output = io.StringIO()

    call_command(
        "send_relationship_survey", "--survey", "quarterly", "--segment", "region=emea", "--sample", "2", stdout=output
    )

    assert "3 customers matched, 3 eligible, 2 scheduled over 24 hours" in output.getvalue()
    with pytest.raises(CommandError, match="No survey"):
        call_command("send_relationship_survey", "--survey", "nope")
    with pytest.raises(CommandError, match="attribute=value"):
        call_command("send_relationship_survey", "--survey", "quarterly", "--segment", "emea")


def test_a_manager_starts_a_wave_from_the_page_and_follows_it(client, maya, quarterly):
    customers(5, plan="gold")
    client.force_login(maya)

    response = client.post(
        reverse("survey-waves"), {"survey": "quarterly", "segments": "plan=gold", "sample": "3", "window_hours": "12"}
    )

    assert response.status_code == 302
    page = client.get(reverse("survey-waves"))
    wave = SurveyWave.objects.get()
    assert list(page.context["waves"]) == [wave]
    assert (page.context["waves"][0].scheduled, page.context["waves"][0].suppressed) == (3, 0)
    assert "plan=gold" in page.content.decode()


def test_the_page_refuses_bad_input_with_the_reason(client, maya, quarterly):
    client.force_login(maya)
    response = client.post(reverse("survey-waves"), {"survey": "quarterly", "segments": "gold", "window_hours": "12"})
    assert response.status_code == 400
    assert "attribute=value" in response.content.decode()
    assert not SurveyWave.objects.exists()


def test_only_managers_see_the_waves(client, alice):
    client.force_login(alice)
    assert client.get(reverse("survey-waves")).status_code == 403


def test_the_page_takes_the_same_queries_however_many_waves(client, maya, quarterly):
    client.force_login(maya)
    customers(2)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("survey-waves")).status_code == 200
        return len(captured)

    relationship_wave_send(survey=quarterly)
    one = queries()
    for _ in range(4):
        relationship_wave_send(survey=quarterly)
    assert queries() == one
