"""Improvements: creating, changing, moving through the lifecycle, overriding the priority; merges move their links."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from closedloop.lib.exceptions import ApplicationError, ConflictError
from followups.models import Improvement, ImprovementStatusChange, ResponseRootCause, RootCause, RootCauseMerge
from followups.selectors import improvement_board, improvement_delivery_counts, improvement_priority_counts
from followups.services.coding import root_cause_merge, root_cause_taxonomy_seed, root_cause_update
from followups.services.improvements import (
    improvement_create,
    improvement_move,
    improvement_priority_override,
    improvement_update,
)
from surveys.nps import NpsSummary
from tests.concurrency import at_once
from tests.factories import make_response, make_user

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def causes(*slugs: str) -> list[RootCause]:
    found = RootCause.objects.in_bulk(slugs, field_name="slug")
    return [found[slug] for slug in slugs]


def respond(score: int, *slugs: str, customer: str | None = None, at: datetime = NOW - timedelta(days=10)):
    response = make_response(score, customer=customer, submitted_at=at)
    ResponseRootCause.objects.bulk_create(ResponseRootCause(response=response, root_cause=rc) for rc in causes(*slugs))
    return response


def history(improvement: Improvement) -> list[tuple[str, str, str | None]]:
    rows = ImprovementStatusChange.objects.filter(improvement=improvement).order_by("changed_at", "pk")
    return [(row.from_status, row.to_status, row.actor.username if row.actor else None) for row in rows]


@pytest.fixture
def improvement(taxonomy, maya, alice) -> Improvement:
    return improvement_create(
        title="  Answer within the hour  ",
        actor=maya,
        root_causes=causes("slow-response", "no-updates"),
        owner=alice,
        target_date=date(2027, 1, 31),
        customer_message="We now answer every ticket within an hour.",
        now=NOW,
    )


# Creating and changing


def test_creation_records_the_first_status_change_from_nothing_to_proposed(improvement, maya):
    assert improvement.title == "Answer within the hour"
    assert improvement.status == "proposed"
    assert improvement.created_at == improvement.updated_at == NOW
    assert improvement.created_by == maya
    assert sorted(improvement.root_causes.values_list("slug", flat=True)) == ["no-updates", "slow-response"]
    assert history(improvement) == [("", "proposed", "maya")]


def test_the_owner_must_be_active_staff(taxonomy, maya, izzy, olga):
    retired = make_user("rita", "agent")
    retired.is_active = False
    retired.save()
    for user in (izzy, olga, retired):
        with pytest.raises(ValidationError) as error:
            improvement_create(title="X", actor=maya, owner=user)
        assert "owner" in error.value.message_dict
    assert not Improvement.objects.exists()
    assert improvement_create(title="X", actor=maya, owner=maya).owner == maya


def test_root_causes_must_be_active_and_a_category_counts(taxonomy, maya):
    root_cause_update(root_cause=RootCause.objects.get(slug="hardware"), active=False)
    with pytest.raises(ValidationError) as error:
        improvement_create(title="X", actor=maya, root_causes=causes("hardware", "vpn-access"))
    assert error.value.message_dict == {"root_causes": ["Inactive root cause: hardware."]}
    root_cause_update(root_cause=RootCause.objects.get(slug="policy"), active=False)
    with pytest.raises(ValidationError, match="approval-rules"):
        improvement_create(title="X", actor=maya, root_causes=causes("approval-rules"))
    assert not Improvement.objects.exists()
    made = improvement_create(title="X", actor=maya, root_causes=causes("technology", "technology"))
    assert list(made.root_causes.values_list("slug", flat=True)) == ["technology"]


def test_a_blank_title_and_a_lookback_out_of_range_are_refused(taxonomy, maya):
    with pytest.raises(ValidationError, match="title"):
        improvement_create(title="   ", actor=maya)
    for days in (0, 3651):
        with pytest.raises(ValidationError, match="lookback_days"):
            improvement_create(title="X", actor=maya, lookback_days=days)
    assert not Improvement.objects.exists()


def test_update_changes_only_what_is_given_and_relinks_causes(improvement, bob):
    later = NOW + timedelta(days=1)
    improvement_update(improvement=improvement, description="Staffing the morning", now=later)
    improvement.refresh_from_db()
    assert improvement.description == "Staffing the morning"
    assert improvement.owner.username == "alice" and improvement.target_date == date(2027, 1, 31)
    assert improvement.updated_at == later

    improvement_update(
        improvement=improvement, owner=None, target_date=None, root_causes=causes("slow-response", "vpn-access")
    )
    improvement.refresh_from_db()
    assert improvement.owner is None and improvement.target_date is None
    assert sorted(improvement.root_causes.values_list("slug", flat=True)) == ["slow-response", "vpn-access"]

    untouched = improvement.updated_at
    improvement_update(
        improvement=improvement, title=improvement.title, root_causes=causes("vpn-access", "slow-response")
    )
    improvement.refresh_from_db()
    assert improvement.updated_at == untouched


def test_a_retired_cause_already_linked_may_stay_but_not_be_added(improvement, taxonomy):
    root_cause_update(root_cause=RootCause.objects.get(slug="no-updates"), active=False)
    improvement_update(improvement=improvement, root_causes=causes("no-updates"))
    assert list(improvement.root_causes.values_list("slug", flat=True)) == ["no-updates"]
    root_cause_update(root_cause=RootCause.objects.get(slug="hardware"), active=False)
    with pytest.raises(ValidationError, match="hardware"):
        improvement_update(improvement=improvement, root_causes=causes("no-updates", "hardware"))
    assert list(improvement.root_causes.values_list("slug", flat=True)) == ["no-updates"]


def test_a_shipped_improvement_keeps_what_its_updates_were_sent_for(improvement):
    Improvement.objects.filter(pk=improvement.pk).update(status="shipped", shipped_at=NOW)
    for change in ({"customer_message": "Other"}, {"lookback_days": 30}, {"root_causes": causes("vpn-access")}):
        with pytest.raises(ConflictError, match="has shipped"):
            improvement_update(improvement=improvement, **change)
    improvement_update(improvement=improvement, title="Answered within the hour")
    improvement.refresh_from_db()
    assert improvement.title == "Answered within the hour"
    assert improvement.customer_message == "We now answer every ticket within an hour."


# Moving


def test_each_move_is_one_status_change_row_with_actor_and_time(improvement, maya, alice):
    improvement_move(improvement=improvement, to_status="planned", actor=maya, now=NOW + timedelta(hours=1))
    improvement_move(improvement=improvement, to_status="in_progress", actor=alice, now=NOW + timedelta(hours=2))
    moved = improvement_move(improvement=improvement, to_status="declined", actor=maya, now=NOW + timedelta(hours=3))
    assert moved.status == "declined" and moved.updated_at == NOW + timedelta(hours=3)
    assert history(improvement) == [
        ("", "proposed", "maya"),
        ("proposed", "planned", "maya"),
        ("planned", "in_progress", "alice"),
        ("in_progress", "declined", "maya"),
    ]
    times = list(ImprovementStatusChange.objects.filter(improvement=improvement).values_list("changed_at", flat=True))
    assert times == [NOW + timedelta(hours=h) for h in range(4)]


def test_moves_the_table_forbids_are_conflicts_and_record_nothing(improvement, maya):
    improvement_move(improvement=improvement, to_status="declined", actor=maya)
    with pytest.raises(ConflictError, match="declined to planned"):
        improvement_move(improvement=improvement, to_status="planned", actor=maya)
    with pytest.raises(ApplicationError, match="Unknown status"):
        improvement_move(improvement=improvement, to_status="done", actor=maya)
    assert len(history(improvement)) == 2
    improvement.refresh_from_db()
    assert improvement.status == "declined"


def test_moving_to_shipped_points_to_shipping(improvement, maya):
    with pytest.raises(ApplicationError) as error:
        improvement_move(improvement=improvement, to_status="shipped", actor=maya)
    assert f"POST /api/v1/improvements/{improvement.pk}/ship/" in error.value.errors["status"][0]
    improvement.refresh_from_db()
    assert improvement.status == "proposed" and len(history(improvement)) == 1


def test_moving_to_the_current_status_records_nothing(improvement, maya):
    improvement_move(improvement=improvement, to_status="proposed", actor=maya)
    assert len(history(improvement)) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_moves_at_once_to_one_status_record_one_change(db):
    root_cause_taxonomy_seed()
    manager = make_user("mona", "manager")
    made = improvement_create(title="Race", actor=manager)

    statuses = at_once(*[lambda: improvement_move(improvement=made, to_status="planned", actor=manager).status] * 3)

    # Without the lock each would read "proposed" and record a move of its own.
    assert statuses == ["planned"] * 3
    assert history(made) == [("", "proposed", "mona"), ("proposed", "planned", "mona")]


# Priority override


def test_an_override_needs_a_reason_and_can_be_cleared(improvement):
    with pytest.raises(ValidationError, match="reason"):
        improvement_priority_override(improvement=improvement, score=500, reason="  ")
    improvement_priority_override(improvement=improvement, score=500, reason=" Renewal at risk ")
    improvement.refresh_from_db()
    assert (improvement.priority_override, improvement.priority_override_reason) == (500, "Renewal at risk")
    improvement_priority_override(improvement=improvement, score=None)
    improvement.refresh_from_db()
    assert (improvement.priority_override, improvement.priority_override_reason) == (None, "")


def test_an_override_must_be_a_finite_number(improvement):
    for score in (float("nan"), float("inf")):
        with pytest.raises(ValidationError, match="score"):
            improvement_priority_override(improvement=improvement, score=score, reason="why")


# Priority counts and the board


def test_priority_counts_each_response_once_and_customers_distinctly(survey, improvement, maya):
    respond(1, "slow-response", "no-updates", customer="A")  # two causes, one response
    respond(2, "slow-response", customer="A")  # the same customer again
    respond(9, "no-updates", customer="B")
    respond(0, "slow-response", customer="C", at=NOW - timedelta(days=400))  # outside the lookback
    respond(10, customer="D")
    respond(10, "vpn-access", customer="E")
    counts = improvement_priority_counts(improvements=[improvement], now=NOW)[improvement.pk]
    assert counts.themes == NpsSummary(1, 0, 2)
    assert counts.customers == 2
    assert counts.overall == NpsSummary(3, 0, 2)


def test_a_category_stands_for_its_causes(survey, taxonomy, maya):
    respond(2, "slow-response", customer="A")
    respond(3, "repeat-contact", customer="B")
    respond(10, "vpn-access", customer="C")
    made = improvement_create(title="Process", actor=maya, root_causes=causes("process"))
    counts = improvement_priority_counts(improvements=[made], now=NOW)[made.pk]
    assert counts.themes == NpsSummary(0, 0, 2) and counts.customers == 2


def test_the_board_ranks_by_priority_in_a_fixed_number_of_queries(survey, taxonomy, maya):
    def board_queries() -> tuple[list[str], int]:
        with CaptureQueriesContext(connection) as queries:
            board = improvement_board(now=NOW)
        return [i.title for i in board], len(queries)

    for _ in range(3):
        respond(0, "slow-response")
    respond(0, "vpn-access")
    respond(10)
    respond(10)
    improvement_create(title="VPN", actor=maya, root_causes=causes("vpn-access"))
    improvement_create(title="Slow", actor=maya, root_causes=causes("slow-response"))
    improvement_create(title="Nothing", actor=maya)
    small, small_queries = board_queries()
    assert small == ["Slow", "VPN", "Nothing"]

    override = improvement_create(title="Overridden", actor=maya, root_causes=causes("hardware", "network"))
    improvement_priority_override(improvement=override, score=10_000, reason="The board asked")
    for n in range(10):
        improvement_create(title=f"More {n}", actor=maya, root_causes=causes("vpn-access", "email-calendar"))
    large, large_queries = board_queries()
    assert large[:2] == ["Overridden", "Slow"]
    assert large_queries == small_queries == 3


def test_delivery_counts_give_every_status(improvement):
    assert improvement_delivery_counts(ids=[improvement.pk]) == {
        improvement.pk: {"pending": 0, "sent": 0, "failed": 0, "suppressed": 0}
    }


# The merge moves improvement links


def test_a_merge_moves_improvement_links_and_collapses_duplicates(improvement, taxonomy, maya):
    other = improvement_create(title="Updates", actor=maya, root_causes=causes("no-updates", "no-time-estimate"))
    merge = root_cause_merge(root_cause=causes("no-updates")[0], into=causes("no-time-estimate")[0], actor=maya)
    assert merge.improvement_links_moved == 1
    assert RootCauseMerge.objects.get().improvement_links_moved == 1
    assert sorted(improvement.root_causes.values_list("slug", flat=True)) == ["no-time-estimate", "slow-response"]
    assert list(other.root_causes.values_list("slug", flat=True)) == ["no-time-estimate"]
