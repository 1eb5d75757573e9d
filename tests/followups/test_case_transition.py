"""case_transition and friends: the workflow enforced on real cases, with timestamps and history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from closedloop.lib.exceptions import ApplicationError, ConflictError
from followups.models import Case, CaseEvent, CasePause, ResponseRootCause
from followups.services.cases import (
    case_assign,
    case_contact_log,
    case_note_add,
    case_root_causes_set,
    case_transition,
)
from followups.services.coding import resolution_code_create
from followups.workflow import ALLOWED_TRANSITIONS, CaseStatus
from surveys.services import survey_update
from tests.factories import make_cause

S = CaseStatus
MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)

# The shortest path from a new case to each status, through allowed moves only.
PATHS = {
    S.NEW: [],
    S.CONTACTED: [S.CONTACTED],
    S.IN_PROGRESS: [S.CONTACTED, S.IN_PROGRESS],
    S.WAITING_ON_CUSTOMER: [S.CONTACTED, S.WAITING_ON_CUSTOMER],
    S.RESOLVED: [S.CONTACTED, S.RESOLVED],
    S.CLOSED: [S.CONTACTED, S.RESOLVED, S.CLOSED],
}


def _walk(case: Case, path, actor, now=MONDAY_10) -> Case:
    for step, status in enumerate(path, start=1):
        case = case_transition(
            case=case, to_status=status, actor=actor, reason="test", now=now + timedelta(minutes=step)
        )
    return case


ALLOWED = [(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets]
FORBIDDEN = [(a, b) for a in S for b in S if b not in ALLOWED_TRANSITIONS[a]]


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_each_allowed_move_changes_the_status_and_records_it(open_case, maya, source, target):
    case = _walk(open_case(now=MONDAY_10), PATHS[source], maya)
    later = MONDAY_10 + timedelta(hours=1)
    moved = case_transition(case=case, to_status=target, actor=maya, reason="customer unreachable", now=later)
    assert Case.objects.get(pk=case.pk).status == target == moved.status
    event = CaseEvent.objects.filter(case=case, kind="status_changed").latest("at")
    assert (event.from_status, event.to_status, event.actor) == (source, target, maya)


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=[f"{a}->{b}" for a, b in FORBIDDEN])
def test_each_forbidden_move_is_a_conflict_that_changes_nothing(open_case, maya, source, target):
    case = _walk(open_case(now=MONDAY_10), PATHS[source], maya)
    events = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(ConflictError):
        case_transition(case=case, to_status=target, actor=maya, reason="x")
    assert Case.objects.get(pk=case.pk).status == source
    assert CaseEvent.objects.filter(case=case).count() == events


def test_contact_resolve_close_set_their_timestamps(open_case, alice):
    case = open_case(now=MONDAY_10)
    assert case.owner == alice  # the first member by load and name
    t1, t2, t3 = (MONDAY_10 + timedelta(hours=h) for h in (1, 2, 3))
    case = case_transition(case=case, to_status=S.CONTACTED, actor=alice, now=t1)
    assert case.first_contacted_at == t1
    assert case.next_due == case.resolution_due
    case = case_transition(case=case, to_status=S.RESOLVED, actor=alice, now=t2)
    assert (case.resolved_at, case.next_due) == (t2, None)
    case = case_transition(case=case, to_status=S.CLOSED, actor=alice, now=t3)
    assert case.closed_at == t3
    assert case.breached() == []


def test_closing_an_unresolved_case_needs_a_reason(open_case, alice):
    case = open_case()
    with pytest.raises(ApplicationError) as error:
        case_transition(case=case, to_status=S.CLOSED, actor=alice, reason="  ")
    assert "reason" in error.value.errors
    closed = case_transition(case=case, to_status=S.CLOSED, actor=alice, reason="Duplicate of case 12")
    assert closed.close_reason == "Duplicate of case 12"


def test_waiting_on_the_customer_pauses_the_resolution_clock(open_case, alice):
    case = open_case(now=MONDAY_10)
    case = case_transition(case=case, to_status=S.CONTACTED, actor=alice, now=MONDAY_10 + timedelta(hours=1))
    due = case.resolution_due
    case = case_transition(case=case, to_status=S.WAITING_ON_CUSTOMER, actor=alice, now=MONDAY_10 + timedelta(hours=2))
    assert case.next_due is None
    # Waiting from Monday 12:00 to Tuesday 12:00 is one working day: 8 business hours.
    case = case_transition(case=case, to_status=S.IN_PROGRESS, actor=alice, now=MONDAY_10 + timedelta(days=1, hours=2))
    assert case.resolution_due == due + timedelta(days=1)  # 8 business hours later, same time of day
    pause = CasePause.objects.get(case=case)
    assert pause.business_time == timedelta(hours=8)
    assert case.next_due == case.resolution_due


def test_a_pause_outside_working_hours_does_not_move_the_deadline(open_case, alice):
    case = open_case(now=MONDAY_10)
    case = case_transition(case=case, to_status=S.CONTACTED, actor=alice, now=MONDAY_10)
    due = case.resolution_due
    evening = datetime(2026, 11, 23, 18, tzinfo=UTC)
    case = case_transition(case=case, to_status=S.WAITING_ON_CUSTOMER, actor=alice, now=evening)
    case = case_transition(case=case, to_status=S.IN_PROGRESS, actor=alice, now=evening + timedelta(hours=10))
    assert case.resolution_due == due


def test_reopening_clears_the_resolution(open_case, alice):
    case = _walk(open_case(now=MONDAY_10), PATHS[S.CLOSED], alice)
    case = case_transition(case=case, to_status=S.IN_PROGRESS, actor=alice, now=MONDAY_10 + timedelta(hours=1))
    assert (case.resolved_at, case.closed_at, case.close_reason) == (None, None, "")
    assert case.next_due == case.resolution_due


def test_acting_late_records_the_breach(open_case, alice):
    case = open_case(now=MONDAY_10)
    late = case.first_contact_due + timedelta(minutes=5)
    case = case_transition(case=case, to_status=S.CONTACTED, actor=alice, now=late)
    assert case.breached() == ["first_contact"]
    assert CaseEvent.objects.filter(case=case, kind="breached").count() == 1


def test_require_coding_refuses_resolution_until_coded(open_case, alice, survey):
    survey_update(survey=survey, require_coding=True)
    resolution_code_create(slug="fixed", name="Fixed")
    make_cause("vpn", "VPN")
    case = _walk(open_case(), [S.CONTACTED], alice)
    with pytest.raises(ApplicationError) as error:
        case_transition(case=case, to_status=S.RESOLVED, actor=alice)
    assert set(error.value.errors) == {"resolution_code", "root_causes"}
    assert Case.objects.get(pk=case.pk).status == S.CONTACTED
    case_root_causes_set(case=case, actor=alice, slugs=["vpn"])
    resolved = case_transition(case=case, to_status=S.RESOLVED, actor=alice, resolution_code="fixed")
    assert resolved.status == S.RESOLVED
    assert resolved.resolution_code.slug == "fixed"


def test_an_unknown_resolution_code_is_refused(open_case, alice):
    case = _walk(open_case(), [S.CONTACTED], alice)
    with pytest.raises(ApplicationError):
        case_transition(case=case, to_status=S.RESOLVED, actor=alice, resolution_code="nope")


def test_a_resolution_code_counts_only_when_the_case_resolves(open_case, alice):
    resolution_code_create(slug="fixed", name="Fixed")
    case = case_transition(case=open_case(), to_status=S.CONTACTED, actor=alice, resolution_code="fixed")
    assert Case.objects.get(pk=case.pk).resolution_code is None
    case = case_transition(case=case, to_status=S.RESOLVED, actor=alice, resolution_code="fixed")
    assert Case.objects.get(pk=case.pk).resolution_code.slug == "fixed"
    assert case.events.get(to_status=S.RESOLVED).details["resolution_code"] == "fixed"


def test_agents_may_not_work_a_colleagues_case(open_case, alice, bob):
    case = open_case()
    assert case.owner == alice
    with pytest.raises(PermissionDenied):
        case_transition(case=case, to_status=S.CONTACTED, actor=bob)
    with pytest.raises(PermissionDenied):
        case_note_add(case=case, actor=bob, text="hi")


def test_the_team_lead_may_work_the_teams_cases(open_case, lena):
    case = open_case()
    assert case_transition(case=case, to_status=S.CONTACTED, actor=lena).status == S.CONTACTED


def test_a_successful_contact_marks_a_new_case_contacted(open_case, alice):
    case = open_case(now=MONDAY_10)
    case_contact_log(case=case, actor=alice, channel="phone", outcome="no_answer", now=MONDAY_10)
    assert Case.objects.get(pk=case.pk).status == S.NEW
    case = case_contact_log(
        case=case, actor=alice, channel="phone", outcome="reached", note="Apologised", now=MONDAY_10
    )
    assert case.status == S.CONTACTED
    kinds = list(CaseEvent.objects.filter(case=case).order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == ["created", "assigned", "contact_logged", "contact_logged", "status_changed"]


def test_contact_log_validates_channel_and_outcome(open_case, alice):
    with pytest.raises(ApplicationError) as error:
        case_contact_log(case=open_case(), actor=alice, channel="pigeon", outcome="maybe")
    assert set(error.value.errors) == {"channel", "outcome"}


def test_root_causes_are_replaced_and_the_change_recorded(open_case, alice, taxonomy):
    make_cause("vpn", "vpn")  # "slow-response" and "hardware" are the taxonomy's
    case = open_case()
    case_root_causes_set(case=case, actor=alice, slugs=["vpn", "slow-response"])
    case_root_causes_set(case=case, actor=alice, slugs=["vpn", "hardware"])
    coded = set(ResponseRootCause.objects.filter(response=case.response).values_list("root_cause__slug", flat=True))
    assert coded == {"vpn", "hardware"}
    last = CaseEvent.objects.filter(case=case, kind="root_causes_changed").latest("pk")
    assert last.details == {"added": ["hardware"], "removed": ["slow-response"], "source": "agent"}
    with pytest.raises(ApplicationError):
        case_root_causes_set(case=case, actor=alice, slugs=["unknown"])


def test_notes_are_kept_in_the_timeline(open_case, alice):
    case = open_case()
    case_note_add(case=case, actor=alice, text="  Customer prefers email  ")
    note = CaseEvent.objects.get(case=case, kind="note")
    assert note.details == {"text": "Customer prefers email"}
    with pytest.raises(ApplicationError):
        case_note_add(case=case, actor=alice, text="   ")
    with pytest.raises(ApplicationError):
        case_note_add(case=case, actor=alice, text="x" * 5001)


def test_a_transition_saves_only_the_fields_it_changes(open_case, alice):
    case = open_case(5)
    case_assign(case=case, owner=alice, actor=None)

    with CaptureQueriesContext(connection) as queries:
        case_transition(case=case, to_status="contacted", actor=alice)
    [update] = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "followups_case"')]
    assigned = update.split(" WHERE ")[0]

    for column in ("status", "first_contacted_at", "next_due", "updated_at"):
        assert f'"{column}"' in assigned
    for column in ("owner_id", "team_id", "priority", "created_at", "first_contact_due", "resolution_code_id"):
        assert f'"{column}"' not in assigned
