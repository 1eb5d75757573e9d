"""GET /api/v1/nps/ and GET /api/v1/responses/: reading what came in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followups.models import ResponseRootCause
from surveys.nps import NpsSummary, compare
from tests.factories import make_cause, make_response, make_survey

NOV = datetime(2026, 11, 10, 12, tzinfo=UTC)
OCT = datetime(2026, 10, 10, 12, tzinfo=UTC)


def _scores(scores, when=NOV, **fields):
    return [make_response(score, submitted_at=when, **fields) for score in scores]


def test_one_row_with_counts_nps_and_margin(agent_api, survey):
    # 43 promoters, 48 passives, 9 detractors: the published example, NPS 34.
    _scores([10] * 43 + [7] * 48 + [2] * 9)
    [row] = agent_api.get("/api/v1/nps/").json()["results"]
    expected = NpsSummary(43, 48, 9)
    assert row == {
        "group": None,
        "responses": 100,
        "promoters": 43,
        "passives": 48,
        "detractors": 9,
        "nps": 34.0,
        "margin_of_error": round(expected.margin_of_error, 1),
    }


def test_an_empty_selection_has_null_nps(agent_api, survey):
    [row] = agent_api.get("/api/v1/nps/").json()["results"]
    assert row["responses"] == 0
    assert row["nps"] is None
    assert row["margin_of_error"] is None


@pytest.mark.parametrize(
    ("group_by", "labels"),
    [
        ("month", ["2026-10", "2026-11"]),
        ("quarter", ["2026-Q4"]),
        ("week", ["2026-W41", "2026-W46"]),
        ("day", ["2026-10-10", "2026-11-10"]),
    ],
)
def test_time_groups_are_labelled_and_ordered(agent_api, survey, group_by, labels):
    _scores([9, 9, 1], when=NOV)
    _scores([0], when=OCT)
    rows = agent_api.get(f"/api/v1/nps/?group_by={group_by}").json()["results"]
    assert [r["group"] for r in rows] == labels
    assert sum(r["responses"] for r in rows) == 4


def test_month_groups_count_each_month_separately(agent_api, survey):
    _scores([9, 9, 1], when=NOV)
    _scores([0], when=OCT)
    rows = {r["group"]: r for r in agent_api.get("/api/v1/nps/?group_by=month").json()["results"]}
    assert rows["2026-10"]["nps"] == -100.0
    assert rows["2026-11"]["nps"] == 33.3
    assert rows["2026-11"]["promoters"] == 2


def test_attribute_groups_use_the_customers_segment(agent_api, survey):
    for i, plan in enumerate(["gold", "gold", "basic"]):
        make_response(10 if plan == "gold" else 0, customer=f"C-{i}", submitted_at=NOV)
        from surveys.models import Customer

        Customer.objects.filter(external_id=f"C-{i}").update(attributes={"plan": plan})
    make_response(8, customer="C-none", submitted_at=NOV)
    rows = agent_api.get("/api/v1/nps/?group_by=attribute:plan").json()["results"]
    assert [(r["group"], r["responses"], r["nps"]) for r in rows] == [
        ("basic", 1, -100.0),
        ("gold", 2, 100.0),
        (None, 1, 0.0),
    ]


def test_root_cause_groups_count_only_coded_responses(agent_api, survey, taxonomy):
    slow = taxonomy["slow-response"]
    vpn = make_cause("vpn", "VPN")
    a, b, _promoter = _scores([1, 3, 10])
    ResponseRootCause.objects.bulk_create(
        [
            ResponseRootCause(response=a, root_cause=slow),
            ResponseRootCause(response=b, root_cause=slow),
            ResponseRootCause(response=b, root_cause=vpn),
        ]
    )
    rows = agent_api.get("/api/v1/nps/?group_by=root_cause").json()["results"]
    assert [(r["group"], r["responses"], r["detractors"]) for r in rows] == [("slow-response", 2, 2), ("vpn", 1, 1)]
    listed = agent_api.get("/api/v1/responses/?root_cause=vpn").json()["results"]
    assert [r["id"] for r in listed] == [b.pk]


def test_filters_by_survey_and_time(agent_api, survey):
    make_survey("onboarding")
    _scores([10], when=OCT)
    _scores([0, 0], when=NOV)
    _scores([10, 10, 10], when=NOV, survey="onboarding")
    url = "/api/v1/nps/?survey=support-2026&submitted_after=2026-11-01T00:00:00Z"
    [row] = agent_api.get(url).json()["results"]
    assert row["responses"] == 2
    assert row["nps"] == -100.0
    [row] = agent_api.get("/api/v1/nps/?submitted_before=2026-11-01T00:00:00%2B00:00").json()["results"]
    assert row["responses"] == 1


@pytest.mark.parametrize(
    "query", ["group_by=year", "group_by=attribute:", "submitted_after=soon", "survey=" + "x" * 5000]
)
def test_bad_parameters_are_a_400_or_an_empty_result(agent_api, survey, query):
    reply = agent_api.get(f"/api/v1/nps/?{query}")
    assert reply.status_code in (200, 400)
    if query.startswith(("group_by", "submitted")):
        assert reply.status_code == 400


def test_nps_is_one_query_whatever_the_number_of_groups(agent_api, survey):
    _scores([1, 5, 9])
    _scores([10], when=OCT)
    agent_api.get("/api/v1/nps/?group_by=day")  # warm the role lookup
    with CaptureQueriesContext(connection) as captured:
        reply = agent_api.get("/api/v1/nps/?group_by=day")
    assert reply.status_code == 200
    aggregate = [q for q in captured.captured_queries if "surveys_response" in q["sql"]]
    assert len(aggregate) == 1


def test_response_list_filters_and_pages(agent_api, survey):
    detractors = _scores([0, 2], customer="C-1")
    _scores([9], customer="C-2")
    data = agent_api.get("/api/v1/responses/?category=detractor&customer=C-1").json()
    assert {r["id"] for r in data["results"]} == {r.pk for r in detractors}
    assert set(data) >= {"next", "previous", "results"}
    page = agent_api.get("/api/v1/responses/?page_size=2").json()
    assert len(page["results"]) == 2
    assert page["next"]
    rest = agent_api.get(page["next"]).json()
    assert len(rest["results"]) == 1


def test_response_list_queries_do_not_grow_with_rows(agent_api, survey):
    def count(n: int) -> int:
        _scores([3] * n)
        with CaptureQueriesContext(connection) as captured:
            assert agent_api.get("/api/v1/responses/?page_size=100").status_code == 200
        return len(captured)

    agent_api.get("/api/v1/responses/")  # warm the role lookup cached on the user
    assert count(3) == count(40)


def test_response_list_rejects_a_bad_category(agent_api, survey):
    assert agent_api.get("/api/v1/responses/?category=angry").status_code == 400


def test_time_groups_say_whether_nps_moved_significantly_since_the_period_before(agent_api, survey):
    _scores([0] * 40 + [10] * 10, when=datetime(2026, 9, 10, 12, tzinfo=UTC))  # NPS -60
    _scores([10] * 40 + [0] * 10, when=OCT)  # NPS +60
    _scores([10] * 20 + [0] * 6, when=NOV)  # about +54: no real change
    september, october, november = agent_api.get("/api/v1/nps/?group_by=month").json()["results"]
    assert "change" not in september
    assert october["change"]["from"] == "2026-09"
    assert october["change"]["difference"] == 120.0
    assert october["change"]["significant"] is True
    assert october["change"]["p_value"] < 0.001
    expected = compare(NpsSummary(20, 0, 6), NpsSummary(40, 0, 10))
    assert november["change"]["difference"] == round(expected.difference, 1)
    assert november["change"]["significant"] is False
    [plain] = agent_api.get("/api/v1/nps/").json()["results"]
    assert "change" not in plain
