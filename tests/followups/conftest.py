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
