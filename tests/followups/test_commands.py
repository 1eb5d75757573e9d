"""run_escalations and setup_schedules: safe to run again and again."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from followups.management.commands.setup_schedules import DIGEST_AT
from followups.models import Case, CaseEvent
from followups.services.escalation import escalation_run
from followups.tasks import escalation_sweep as escalation_sweep_task
from tests.factories import make_response


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_run_escalations_records_each_breach_once(open_case):
    case = open_case(2)
    with time_machine.travel(case.resolution_due + timedelta(minutes=1), tick=False):
        first = _run("run_escalations")
        second = _run("run_escalations")
    assert "breaches: 1 first contact, 1 resolution" in first
    assert "breaches: 0 first contact, 0 resolution" in second
    assert CaseEvent.objects.filter(case=case, kind="breached").count() == 2


def test_setup_schedules_is_idempotent(db):
    _run("setup_schedules")
    before = list(Schedule.objects.order_by("name").values_list("name", "func", "schedule_type", "next_run"))
    assert "kept" in _run("setup_schedules")
    after = list(Schedule.objects.order_by("name").values_list("name", "func", "schedule_type", "next_run"))
    assert before == after
    assert {row[0] for row in after} == {
        "escalation sweep",
        "staff email delivery",
        "customer update delivery",
        "webhook delivery",
        "daily digest",
        "suggestion training",
        "cluster heartbeat",
        "customer retention",
        "survey invitation delivery",
        "survey reminders",
        "weekly manager digest",
        "improvement check-ins",
    }
    digest = Schedule.objects.get(name="daily digest")
    assert digest.schedule_type == Schedule.DAILY
    assert timezone.localtime(digest.next_run).time() == DIGEST_AT


def test_the_command_and_the_scheduled_task_open_missing_cases_then_sweep(desk):
    make_response(2)  # its case never opened: the listener runs after a commit this test never makes
    first = _run("run_escalations")
    make_response(1)
    result = escalation_sweep_task()

    assert "opened 1 missing cases" in first
    assert result == {
        "opened": 1,
        "first_contact_breaches": 0,
        "resolution_breaches": 0,
        "reassigned": 0,
        "at_risk": 0,
    }
    assert Case.objects.count() == 2


def test_the_service_opens_before_it_sweeps(open_case, desk):
    case = open_case(2)
    make_response(3)

    result = escalation_run(now=case.first_contact_due + timedelta(minutes=1))

    assert (result.opened, result.first_contact_breaches) == (1, 1)
