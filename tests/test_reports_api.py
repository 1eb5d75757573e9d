"""GET /api/v1/reports/...: the dashboard's figures for BI tools, checked by hand against the raw
responses the export gives, and the streaming CSV exports."""

from __future__ import annotations

import csv
import io
import math
import random
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import strip_tags

from closedloop.templatetags.closedloop_tags import MINUS
from followups.models import ResponseRootCause
from followups.services import team_create
from followups.services.opening import cases_open_for_responses
from surveys.models import Response
from surveys.services import responses_ingest
from surveys.services.invitations import invitation_answer, invitation_create
from tests.factories import make_survey, response_item

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
WINDOW = {"start": "2026-05-01", "end": "2026-11-30"}
Z = 1.959963984540054


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def demo_like(survey) -> None:
    """Six months of answers on two surveys, with plans and regions skewed as real ones are."""
    make_survey("onboarding", name="Onboarding")
    rng = random.Random(11)
    items = []
    for n in range(900):
        plan = rng.choice(["basic", "standard", "gold"])
        weights = {"basic": [3] * 7 + [4, 4, 3, 3], "standard": [2] * 7 + [4, 4, 5, 5], "gold": [1] * 7 + [3, 3, 6, 7]}
        score = rng.choices(range(11), weights=weights[plan])[0]
        item = response_item(
            score,
            survey=rng.choice(["support-2026", "onboarding"]),
            channel=rng.choice(["email", "web", "api"]),
            submitted_at=(NOW - timedelta(days=rng.randrange(180), hours=rng.randrange(24))).isoformat(),
            comment="=HYPERLINK(evil)" if n == 0 else "",
        )
        item["customer"]["attributes"] = {"plan": plan, "region": rng.choice(["EU", "US"])}
        items.append(item)
    assert not responses_ingest(items=items, now=NOW).rejected


def _manager(maya) -> Client:
    client = Client()
    client.force_login(maya)
    return client


def _raw(client: Client, **params) -> list[dict[str, str]]:
    response = client.get("/api/v1/reports/responses.csv", {**WINDOW, **params})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.getvalue().decode())))


def _by_hand(scores: list[int]) -> tuple[int, float, float]:
    n = len(scores)
    p = sum(s >= 9 for s in scores) / n
    d = sum(s <= 6 for s in scores) / n
    return n, round(100 * (p - d), 1), round(Z * 100 * math.sqrt((p + d - (p - d) ** 2) / n), 1)


def test_nps_over_time_matches_the_raw_responses_worked_out_by_hand(maya, demo_like):
    client = _manager(maya)
    raw = _raw(client)
    assert len(raw) == 900
    by_month: dict[str, list[int]] = defaultdict(list)
    for row in raw:
        by_month[row["submitted_at"][:7]].append(int(row["score"]))

    report = client.get("/api/v1/reports/nps-over-time/", WINDOW).json()

    rows = {row["period"]: row for row in report["results"] if row["responses"]}
    assert set(rows) == set(by_month)
    for month, scores in by_month.items():
        n, nps, margin = _by_hand(scores)
        assert (rows[month]["responses"], rows[month]["nps"], rows[month]["margin_of_error"]) == (n, nps, margin)
    n, nps, margin = _by_hand([int(row["score"]) for row in raw])
    assert (report["overall"]["responses"], report["overall"]["nps"], report["overall"]["margin_of_error"]) == (
        n,
        nps,
        margin,
    )
    counts = Counter(int(row["score"]) for row in raw)
    assert report["distribution"] == [{"score": s, "responses": counts[s]} for s in range(11)]

    # The dashboard's table shows the same figures.
    html = client.get("/", WINDOW).content.decode()
    table = html[html.index('id="trend-table"') : html.index("</table>", html.index('id="trend-table"'))]
    shown = [" ".join(strip_tags(r).split()) for r in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)][1:]
    for line, month in zip(shown, sorted(rows), strict=True):
        n, nps, margin = _by_hand(by_month[month])
        sign = "+" if nps > 0 else (MINUS if nps < 0 else "")
        assert line.startswith(f"{month} {sign}{abs(nps):.1f} ± {margin:.1f} {n}"), line


def test_segments_match_a_two_sample_test_worked_out_by_hand(maya, demo_like):
    client = _manager(maya)
    raw = _raw(client)
    customers_plan = dict(
        Response.objects.values_list("customer__external_id", "customer__attributes__plan").distinct()
    )
    report = client.get("/api/v1/reports/segments/", {**WINDOW, "by": "attribute:plan"}).json()
    assert report["by"] == "attribute:plan"
    for row in report["results"]:
        scores = [int(r["score"]) for r in raw if customers_plan[r["customer"]] == row["segment"]]
        rest = [int(r["score"]) for r in raw if customers_plan[r["customer"]] != row["segment"]]
        n, nps, margin = _by_hand(scores)
        assert (row["responses"], row["nps"], row["margin_of_error"]) == (n, nps, margin)
        _, rest_nps, rest_margin = _by_hand(rest)
        se = math.hypot(margin / Z, rest_margin / Z)  # the margins are rounded: compare loosely
        assert row["versus_rest"]["difference"] == pytest.approx(nps - rest_nps, abs=0.11)
        assert row["versus_rest"]["significant"] == (abs(nps - rest_nps) / se > Z)
        assert row["significantly_below"] == (row["versus_rest"]["significant"] and nps < rest_nps)
    assert [r["significantly_below"] for r in report["results"]].count(True) >= 1


def test_a_survey_filter_narrows_every_report(maya, demo_like):
    client = _manager(maya)
    raw = _raw(client, survey="onboarding")
    assert {row["survey"] for row in raw} == {"onboarding"}
    report = client.get("/api/v1/reports/nps-over-time/", {**WINDOW, "survey": "onboarding"}).json()
    assert report["overall"]["responses"] == len(raw)


def test_the_export_keeps_spreadsheets_from_running_customer_text(maya, demo_like):
    raw = _raw(_manager(maya))
    assert "'=HYPERLINK(evil)" in [row["comment"] for row in raw]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("nps-over-time/", {"period": "century"}),
        ("segments/", {"by": "mood"}),
        ("loop/", {"start": "2026-13-01"}),
        ("responses.csv", {"attribute": "plan"}),
        ("cases.csv", {"start": "2026-11-02", "end": "2026-11-01"}),
    ],
)
def test_filters_it_cannot_read_are_a_400_naming_the_field(manager_api, survey, path, params):
    response = manager_api.get(f"/api/v1/reports/{path}", params)
    assert response.status_code == 400
    assert set(response.json()) & {"period", "by", "start", "attribute", "end"}


def test_an_account_without_a_role_reads_no_report(no_role_api, survey):
    for path in ("nps-over-time/", "segments/", "loop/", "responses.csv", "cases.csv"):
        assert no_role_api.get(f"/api/v1/reports/{path}").status_code == 403


def test_the_case_export_lists_each_case_with_its_codes(maya, alice, taxonomy, survey):
    team_create(slug="desk", name="Service desk", members=["alice"])
    result = responses_ingest(items=[response_item(score) for score in (2, 4, 10)], now=NOW)
    cases = cases_open_for_responses(response_ids=result.created_ids, now=NOW)
    assert len(cases) == 2
    first = cases[0].response_id
    for slug in ("vpn-access", "hardware"):
        ResponseRootCause.objects.create(response_id=first, root_cause=taxonomy[slug])
    response = _manager(maya).get("/api/v1/reports/cases.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(int(r["response"]), r["team"], r["root_causes"]) for r in rows] == [
        (first, "desk", "hardware;vpn-access"),
        (cases[1].response_id, "desk", ""),
    ]


def test_team_and_agent_are_those_of_the_handling_ticket_for_every_answer(maya, survey):
    """NPS by team counts the promoters and passives of a team's tickets too, not only the
    detractors who have cases; the team filter narrows every figure the same way."""
    team_create(slug="desk", name="Service desk")
    rng = random.Random(5)
    handled: dict[str, list[int]] = defaultdict(list)
    by_agent: dict[str, list[int]] = defaultdict(list)
    for n in range(120):
        team, agent = rng.choice([("desk", "alice"), ("desk", "bob"), ("field", "carol")])
        score = rng.choice(range(11)) if team == "desk" else rng.choice([6, 9, 10])
        made = invitation_create(
            survey=survey,
            customer={"external_id": f"T-{n}", "email": f"t{n}@example.com"},
            ticket_ref=f"INC-{n}",
            agent=agent,
            team=team,
            now=NOW - timedelta(days=40),
        )
        invitation_answer(invitation=made.invitation, score=score, now=NOW - timedelta(days=n % 60))
        handled[team].append(score)
        by_agent[agent].append(score)
    ingest_scores = [10, 10, 3]  # answers to no invitation: no team, no agent
    responses_ingest(items=[response_item(score) for score in ingest_scores], now=NOW)
    handled["(none)"], by_agent["(none)"] = ingest_scores, ingest_scores
    client = _manager(maya)

    def segments(by: str, **params) -> dict[str, tuple]:
        report = client.get("/api/v1/reports/segments/", {**WINDOW, "by": by, **params}).json()
        return {row["segment"]: (row["responses"], row["nps"], row["margin_of_error"]) for row in report["results"]}

    names = {"desk": "Service desk", "field": "field", "(none)": "(none)"}  # a slug no team has shows as is
    assert segments("team") == {names[team]: _by_hand(scores) for team, scores in handled.items()}
    assert segments("agent") == {agent: _by_hand(scores) for agent, scores in by_agent.items()}
    assert segments("team", team="desk") == {"Service desk": _by_hand(handled["desk"])}
    over_time = client.get("/api/v1/reports/nps-over-time/", {**WINDOW, "team": "desk"}).json()
    overall = over_time["overall"]
    assert (overall["responses"], overall["nps"], overall["margin_of_error"]) == _by_hand(handled["desk"])


def test_the_loop_counts_the_cases_of_the_responses_submitted_in_the_window(maya, alice, survey):
    """A case belongs to the period its response was submitted in, not the one it opened in."""
    team_create(slug="desk", name="Service desk", members=["alice"])
    make_survey("onboarding", name="Onboarding")
    day = timedelta(days=1)
    submitted = {"before": NOW - 10 * day, "inside": NOW - 3 * day, "other_survey": NOW - 2 * day}
    items = [response_item(2, submitted_at=submitted["before"].isoformat()), response_item(3), response_item(4)]
    items[1]["submitted_at"] = submitted["inside"].isoformat()
    items[2].update(submitted_at=submitted["other_survey"].isoformat(), survey="onboarding")
    ids = responses_ingest(items=items, now=NOW).created_ids
    # Every case opens now, inside the window, whenever its response came.
    cases = cases_open_for_responses(response_ids=ids, now=NOW)
    assert len(cases) == 3
    client = _manager(maya)
    window = {"start": (NOW - 5 * day).date().isoformat(), "end": NOW.date().isoformat()}

    def inner(**params) -> dict:
        reply = client.get("/api/v1/reports/loop/", {**window, **params})
        assert reply.status_code == 200, reply.content
        return reply.json()["inner"]

    assert (inner()["cases"], inner()["open"]) == (2, 2)  # the one submitted before the window is out
    assert inner(survey="onboarding")["cases"] == 1
    assert inner(survey="support-2026")["cases"] == 1
    assert inner(start=(NOW - 20 * day).date().isoformat())["cases"] == 3


@pytest.mark.parametrize("path", ["nps-over-time/", "segments/?by=agent", "loop/", "responses.csv", "cases.csv"])
def test_each_report_runs_the_same_number_of_queries_for_little_and_much_data(manager_api, survey, path):
    manager_api.get("/api/v1/reports/loop/")  # the user's roles are read once, then cached on the user

    def queries_after(count: int) -> int:
        items = [response_item(n % 11, submitted_at=(NOW - timedelta(days=n)).isoformat()) for n in range(count)]
        responses_ingest(items=items, now=NOW)
        with CaptureQueriesContext(connection) as captured:
            response = manager_api.get(f"/api/v1/reports/{path}")
            assert response.status_code == 200
            if response.streaming:
                b"".join(response.streaming_content)
        return len(captured)

    assert queries_after(3) == queries_after(60)


def test_the_export_holds_a_chunk_of_rows_in_memory_not_the_whole_file(maya, survey, monkeypatch):
    import tracemalloc

    import closedloop.selectors

    monkeypatch.setattr(closedloop.selectors, "EXPORT_CHUNK", 200)
    items = [
        response_item(n % 11, comment="x" * 200, submitted_at=(NOW - timedelta(days=n % 2, seconds=n)).isoformat())
        for n in range(8000)
    ]
    responses_ingest(items=items, now=NOW)
    client = _manager(maya)

    def peak_bytes(**params: str) -> tuple[int, int]:
        response = client.get("/api/v1/reports/responses.csv", params)
        tracemalloc.start()
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return lines - 1, peak

    few, few_peak = peak_bytes(start=NOW.date().isoformat())
    every, every_peak = peak_bytes()
    assert (few, every) == (4000, 8000)
    # Twice the rows, not twice the memory: a file built whole would need at least 1.6 MB more.
    assert every_peak < few_peak + 400_000, (few_peak, every_peak)
