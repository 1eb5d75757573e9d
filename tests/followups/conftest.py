"""A service desk for the follow-up tests: team "desk" with agents alice and bob, led by lena.

The desk works Monday to Friday, 09:00-17:00 UTC, so deadlines are easy to check by hand.
"""

from __future__ import annotations

import pytest

from followups.models import Case
from followups.services import team_create
from followups.services.opening import cases_open_for_responses
from tests.factories import make_response, make_user


@pytest.fixture
def lena(db):
    return make_user("lena", "agent", email="lena@example.com")


@pytest.fixture
def desk(survey, alice, bob, lena):
    return team_create(slug="desk", name="Service desk", members=["alice", "bob", "lena"], lead="lena")


@pytest.fixture
def open_case(desk):
    """Ingest a detractor and open its case (the signal path is tested separately)."""

    def build(score: int = 2, *, now=None, **fields) -> Case:
        response = make_response(score, **fields)
        cases = cases_open_for_responses(response_ids=[response.pk], now=now)
        assert cases, "expected a case to open"
        return Case.objects.select_related("owner", "team", "response").get(pk=cases[0].pk)

    return build


# Comments people coded, for the suggestion classifier: (cause slug, comments), from the default taxonomy.
CODED_COMMENTS = {
    "vpn-access": ["the vpn keeps dropping", "cannot reach the vpn from home", "vpn disconnects every hour"],
    "hardware": ["my laptop screen is broken", "the laptop will not boot", "laptop battery dies at noon"],
    "slow-response": ["waited a week for a reply", "nobody picked the ticket for days", "days before any reply"],
}


@pytest.fixture
def coded_comments(survey, taxonomy):
    """Ingest and code ``times`` rounds of CODED_COMMENTS (passives, so no case opens); the responses, oldest first."""

    def build(times: int = 3, *, start=None) -> list:
        from datetime import UTC, datetime, timedelta

        from followups.models import ResponseRootCause
        from surveys.models import Response
        from surveys.services import responses_ingest
        from tests.factories import response_item

        start = start or datetime(2026, 1, 1, tzinfo=UTC)
        items: list[dict] = []
        slugs: list[str] = []
        for round_ in range(times):
            for slug, comments in CODED_COMMENTS.items():
                for comment in comments:
                    at = start + timedelta(hours=len(items))
                    items.append(response_item(7, comment=f"{comment} ({round_})", submitted_at=at.isoformat()))
                    slugs.append(slug)
        ids = [int(outcome.response_id or 0) for outcome in responses_ingest(items=items).outcomes]
        ResponseRootCause.objects.bulk_create(
            ResponseRootCause(response_id=pk, root_cause=taxonomy[slug]) for pk, slug in zip(ids, slugs, strict=True)
        )
        return list(Response.objects.filter(pk__in=ids).order_by("submitted_at"))

    return build
