"""Routing stays fair when many detractors arrive at once (PostgreSQL, real commits)."""

from __future__ import annotations

from collections import Counter
from functools import partial

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from followups.models import Case
from followups.services import team_create
from surveys.models import Response
from tests.concurrency import at_once
from tests.factories import make_survey, make_user, response_item


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_30_detractors_from_8_threads_leave_open_counts_within_one():
    make_survey()
    agents = [make_user(f"agent{i}", "agent") for i in range(4)]
    team_create(slug="desk", name="Desk", members=[a.username for a in agents])
    token = Token.objects.create(user=make_user("feed", "integration")).key

    def send(items: list[dict]) -> list[str]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        replies = [client.post("/api/v1/responses/", item, format="json") for item in items]
        return [
            f"{r.status_code} {r.content[:200]!r}" for r in replies if r.status_code != 201 or r.json()["case"] is None
        ]

    items = [response_item(i % 7) for i in range(30)]
    errors = at_once(*[partial(send, items[i::8]) for i in range(8)])

    assert errors == [[]] * 8
    assert Response.objects.count() == 30
    assert Case.objects.count() == 30
    loads = Counter(Case.objects.values_list("owner__username", flat=True))
    assert set(loads) == {a.username for a in agents}
    assert max(loads.values()) - min(loads.values()) <= 1, loads
