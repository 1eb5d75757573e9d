"""The daily score rollup equals the raw responses after every kind of write."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from followups.services.privacy import customer_erase
from surveys.models import Customer, DailyScoreCount, Invitation, Response
from surveys.services import responses_ingest
from surveys.services.imports import import_job_create, import_job_run
from surveys.services.invitations import invitation_answer, invitation_create
from tests.factories import response_item

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def raw_counts() -> dict[tuple, int]:
    """The counts by hand: each response under the team its invitation names, if any."""
    counts: Counter[tuple] = Counter()
    zone = timezone.get_current_timezone()
    for response in Response.objects.select_related("invitation"):
        invitation = getattr(response, "invitation", None)
        team = invitation.team if invitation is not None else ""
        day = timezone.localtime(response.submitted_at, zone).date()
        counts[response.survey_id, day, response.channel, team, response.score] += 1
    return dict(counts)


def rollup_counts() -> dict[tuple, int]:
    rows = DailyScoreCount.objects.values_list("survey_id", "day", "channel", "team", "score", "responses")
    return {tuple(row[:5]): row[5] for row in rows}


def assert_rollup_matches() -> None:
    assert rollup_counts() == raw_counts()
    assert not DailyScoreCount.objects.filter(responses__lte=0).exists()


def ingest(*items: dict) -> None:
    result = responses_ingest(items=list(items), now=NOW)
    assert not result.rejected


def test_ingestion_counts_each_day_survey_channel_and_score(survey):
    ingest(
        *(response_item(score, submitted_at=(NOW - timedelta(days=score % 3)).isoformat()) for score in range(11)),
        response_item(9, channel="email"),
        response_item(9, channel="email"),
    )
    assert_rollup_matches()
    assert DailyScoreCount.objects.get(day=NOW.date(), channel="email", score=9).responses == 2
    assert DailyScoreCount.objects.aggregate(total=Sum("responses"))["total"] == 13


def test_duplicates_and_rejected_items_count_nothing(survey):
    ingest(response_item(3, external_id="k"))
    responses_ingest(items=[response_item(3, external_id="k"), response_item(12)], now=NOW)
    assert_rollup_matches()
    assert DailyScoreCount.objects.get().responses == 1


def test_a_late_response_lands_on_its_own_day(survey):
    ingest(response_item(10))
    ingest(response_item(2, submitted_at=(NOW - timedelta(days=40)).isoformat()))
    assert_rollup_matches()
    assert set(DailyScoreCount.objects.values_list("day", flat=True)) == {NOW.date(), (NOW - timedelta(days=40)).date()}


def test_a_changed_answer_moves_its_count_to_the_new_score(survey):
    customer = {"external_id": "C-edit", "email": "ed@example.com"}
    invitation = invitation_create(survey=survey, customer=customer, now=NOW).invitation
    invitation_answer(invitation=invitation, score=3, now=NOW)
    invitation_answer(invitation=invitation, score=9, now=NOW + timedelta(minutes=5))
    assert_rollup_matches()
    assert list(DailyScoreCount.objects.values_list("score", "responses")) == [(9, 1)]


def test_an_answer_counts_under_the_team_that_handled_its_ticket(survey):
    ingest(response_item(10), response_item(2))  # answers to no invitation: no team
    for n, (team, score) in enumerate([("desk", 9), ("desk", 4), ("field", 8)]):
        customer = {"external_id": f"C-t{n}", "email": f"t{n}@example.com"}
        made = invitation_create(
            survey=survey, customer=customer, ticket_ref=f"INC-{n}", agent="alice", team=team, now=NOW
        )
        invitation_answer(invitation=made.invitation, score=score, now=NOW)
    assert_rollup_matches()
    by_team = dict(DailyScoreCount.objects.values("team").annotate(n=Sum("responses")).values_list("team", "n"))
    assert by_team == {"": 2, "desk": 2, "field": 1}
    # A changed answer stays with its ticket's team.
    desk = Invitation.objects.get(ticket_ref="INC-1")
    invitation_answer(invitation=desk, score=10, now=NOW + timedelta(minutes=5))
    assert_rollup_matches()
    assert DailyScoreCount.objects.get(team="desk", score=10).responses == 1


def test_erasure_keeps_the_scores_counted(survey):
    ingest(response_item(4, customer="C-gone"), response_item(10, customer="C-stays"))
    before = rollup_counts()
    customer_erase(customer=Customer.objects.get(external_id="C-gone"), actor=None)
    assert rollup_counts() == before
    assert_rollup_matches()


def test_a_csv_import_updates_the_rollup_with_a_fixed_number_of_statements(survey):
    def csv_of(rows: int, offset: int) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["customer_id", "score", "external_id", "submitted_at"])
        for n in range(rows):
            writer.writerow([f"C-{offset + n}", n % 11, f"row-{offset + n}", f"2026-10-{n % 28 + 1:02d}T10:00:00Z"])
        return buffer.getvalue().encode()

    def rollup_statements(rows: int, offset: int) -> int:
        job = import_job_create(survey=survey, data=csv_of(rows, offset), file_name="r.csv", enqueue=False)
        with CaptureQueriesContext(connection) as captured:
            import_job_run(job_id=job.pk)
        return sum(1 for q in captured if DailyScoreCount._meta.db_table in q["sql"])

    small, large = rollup_statements(10, 0), rollup_statements(600, 1000)
    assert small == large == 1
    assert_rollup_matches()
    assert DailyScoreCount.objects.aggregate(total=Sum("responses"))["total"] == 610


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
def test_rebuild_recomputes_the_rollup_from_the_responses(survey, settings, zone):
    settings.TIME_ZONE = zone
    ingest(
        *(response_item(score % 11, submitted_at=(NOW - timedelta(hours=5 * score)).isoformat()) for score in range(30))
    )
    DailyScoreCount.objects.all().delete()
    DailyScoreCount.objects.create(survey=survey, day=NOW.date(), channel="web", score=1, responses=7)
    out = io.StringIO()
    call_command("rebuild_rollups", stdout=out)
    assert_rollup_matches()
    assert "Rebuilt" in out.getvalue()
