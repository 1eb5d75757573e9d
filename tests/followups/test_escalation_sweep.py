"""The overdue sweep: breaches once, level 2 to the lead, at-risk announced once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from followups.models import Case, CaseEvent, SlaPolicy
from followups.services.cases import case_transition
from followups.services.escalation import escalation_sweep

MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)


def test_nothing_happens_before_a_deadline(open_case):
    case = open_case(5, now=MONDAY_10)
    result = escalation_sweep(now=MONDAY_10 + timedelta(hours=1))
    assert result.total == 0
    assert Case.objects.get(pk=case.pk).breached() == []


def test_a_missed_first_contact_is_recorded_once_at_level_one(open_case, alice):
    case = open_case(5, now=MONDAY_10)
    after = case.first_contact_due + timedelta(minutes=1)
    assert escalation_sweep(now=after).first_contact_breaches == 1
    assert escalation_sweep(now=after + timedelta(minutes=5)).total == 0
    case.refresh_from_db()
    assert case.breached() == ["first_contact"]
    assert case.escalation_level == 1
    assert case.owner == alice  # level 1 tells people; the case stays with its owner
    assert CaseEvent.objects.filter(case=case, kind="breached").count() == 1


def test_a_case_still_overdue_past_the_delay_moves_to_the_lead(open_case, lena):
    SlaPolicy.objects.create(
        name="n", priority="normal", first_contact_hours=1, resolution_hours=8, reassign_after_hours=2
    )
    case = open_case(5, now=MONDAY_10)
    escalation_sweep(now=case.first_contact_due + timedelta(minutes=1))
    assert escalation_sweep(now=case.first_contact_due + timedelta(hours=1)).reassigned == 0
    result = escalation_sweep(now=case.first_contact_due + timedelta(hours=2, minutes=1))
    assert result.reassigned == 1
    case.refresh_from_db()
    assert (case.owner, case.escalation_level) == (lena, 2)
    escalated = CaseEvent.objects.get(case=case, kind="escalated")
    assert escalated.details == {"level": 2, "from": "alice", "to": "lena"}
    assert escalation_sweep(now=case.first_contact_due + timedelta(hours=5)).reassigned == 0


def test_a_case_contacted_after_its_breach_stays_with_its_owner(open_case, alice):
    SlaPolicy.objects.create(
        name="n", priority="normal", first_contact_hours=1, resolution_hours=8, reassign_after_hours=1
    )
    case = open_case(5, now=MONDAY_10)
    escalation_sweep(now=case.first_contact_due + timedelta(minutes=1))
    case_transition(case=case, to_status="contacted", actor=alice, now=case.first_contact_due + timedelta(minutes=2))
    assert escalation_sweep(now=case.first_contact_due + timedelta(hours=2)).reassigned == 0
    assert Case.objects.get(pk=case.pk).owner == alice


def test_resolution_breaches_skip_paused_and_resolved_cases(open_case, alice):
    waiting, resolved, running = (open_case(5, now=MONDAY_10) for _ in range(3))
    for case in (waiting, resolved, running):
        case_transition(case=case, to_status="contacted", actor=case.owner, now=MONDAY_10 + timedelta(minutes=5))
    case_transition(
        case=waiting, to_status="waiting_on_customer", actor=waiting.owner, now=MONDAY_10 + timedelta(minutes=6)
    )
    case_transition(case=resolved, to_status="resolved", actor=resolved.owner, now=MONDAY_10 + timedelta(minutes=6))
    late = Case.objects.get(pk=running.pk).resolution_due + timedelta(minutes=1)
    result = escalation_sweep(now=late)
    assert result.resolution_breaches == 1
    assert Case.objects.get(pk=running.pk).breached() == ["resolution"]
    assert Case.objects.get(pk=waiting.pk).breached() == []


def test_at_risk_is_announced_once_before_the_deadline(open_case):
    case = open_case(5, now=MONDAY_10)
    assert escalation_sweep(now=case.at_risk_from - timedelta(minutes=1)).at_risk == 0
    assert escalation_sweep(now=case.at_risk_from + timedelta(minutes=1)).at_risk == 1
    assert escalation_sweep(now=case.at_risk_from + timedelta(minutes=2)).at_risk == 0
    assert CaseEvent.objects.filter(case=case, kind="at_risk").count() == 1
    # Contact moves the clock to the resolution deadline, which gets its own announcement.
    case_transition(case=case, to_status="contacted", actor=case.owner, now=case.at_risk_from + timedelta(minutes=3))
    case.refresh_from_db()
    assert escalation_sweep(now=case.at_risk_from + timedelta(minutes=1)).at_risk == 1
