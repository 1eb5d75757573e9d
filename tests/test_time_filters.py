"""Time filters at the edges of the calendar: a clear 400, never a database error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.factories import make_response

EDGES = ["0001-01-01T00:00:00+23:59", "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-23:59"]


@pytest.mark.parametrize("path", ["/api/v1/responses/", "/api/v1/nps/", "/api/v1/themes/"])
@pytest.mark.parametrize("edge", EDGES)
@pytest.mark.parametrize("name", ["submitted_after", "submitted_before"])
def test_a_time_outside_the_calendar_is_a_400(manager_api, survey, path: str, edge: str, name: str) -> None:
    response = manager_api.get(path, {name: edge})
    assert response.status_code == 400
    assert name in response.json()


def test_a_far_offset_within_the_calendar_filters_by_its_utc_time(manager_api, survey) -> None:
    # 2026-01-02T20:00+20:00 is 2026-01-02T00:00Z: PostgreSQL refuses offsets past 15:59.
    make_response(9, submitted_at=datetime(2026, 1, 1, 23, tzinfo=UTC))
    later = make_response(3, submitted_at=datetime(2026, 1, 2, 1, tzinfo=UTC))
    response = manager_api.get("/api/v1/responses/", {"submitted_after": "2026-01-02T20:00:00+20:00"})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [later.pk]
