"""The manager dashboard: figures worked out by hand, filters in the URL, a fixed number of queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from closedloop.templatetags.closedloop_tags import MINUS
from surveys.services import responses_ingest
from tests.factories import make_survey, response_item

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(html: str) -> str:
    return " ".join(strip_tags(html).split())


def _rows(html: str, table: str) -> list[str]:
    start = html.index(f'id="{table}"')
    body = html[html.index("<tbody>", start) : html.index("</tbody>", start)]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
    return [_text(re.sub(r"<[^>]+>", " ", row)) for row in rows]


def ingest(scores, *, days_ago: int = 1, survey: str = "support-2026", plan: str = "basic", channel: str = "api"):
    items = []
    for score in scores:
        item = response_item(
            score, survey=survey, channel=channel, submitted_at=(NOW - timedelta(days=days_ago)).isoformat()
        )
        item["customer"]["attributes"] = {"plan": plan}
        items.append(item)
    assert not responses_ingest(items=items, now=NOW).rejected


def test_the_figures_are_those_worked_out_by_hand(maya, survey):
    # October: 20 promoters, 10 passives, 10 detractors (NPS +25); November: 30 promoters, 10 detractors (+50).
    ingest([10] * 20 + [8] * 10 + [3] * 10, days_ago=40)
    ingest([9] * 30 + [0] * 10, days_ago=5)
    html = _client(maya).get(reverse("home"), {"start": "2026-10-01", "end": "2026-11-30"}).content.decode()

    # Margin: 1.96 * 100 * sqrt((p + d - (p - d)^2) / n).
    # October: p=.5, d=.25 -> sqrt((.75 - .0625)/40) = .1311 -> 25.7. November: p=.75, d=.25 -> sqrt(.75/40) -> 26.8.
    assert _rows(html, "trend-table") == [
        "2026-10 +25.0 ± 25.7 40",
        "2026-11 +50.0 ± 26.8 40 +25.0 noise",
    ]
    # Overall: 50 promoters, 10 passives, 20 detractors of 80: +37.5, sqrt((.875 - .140625)/80) -> 18.8.
    card = _text(html[html.index('id="nps-overall"') : html.index("</section>", html.index('id="nps-overall"'))])
    assert "+37.5 ± 18.8" in card
    assert "from 80 responses" in card
    distribution = _rows(html, "distribution-table")
    assert distribution[0] == "0 10 12.5 %"
    assert distribution[3] == "3 10 12.5 %"
    assert distribution[8] == "8 10 12.5 %"
    assert distribution[10] == "10 20 25.0 %"


def test_a_period_with_few_responses_says_so_and_a_big_move_is_significant(maya, survey):
    ingest([0] * 40, days_ago=40)
    ingest([10] * 40, days_ago=5)
    ingest([10] * 3, days_ago=70)
    html = _client(maya).get(reverse("home"), {"start": "2026-09-01", "end": "2026-11-30"}).content.decode()
    assert _rows(html, "trend-table") == [
        "2026-09 too few to say 3",
        f"2026-10 {MINUS}100.0 ± 0.0 40",
        "2026-11 +100.0 ± 0.0 40 +200.0 significant",
    ]
    assert html.count("trend__point--significant") == 1

    september = _client(maya).get(reverse("home"), {"start": "2026-09-01", "end": "2026-09-30"}).content.decode()
    card = _text(
        september[
            september.index('id="nps-overall"') : september.index("</section>", september.index('id="nps-overall"'))
        ]
    )
    assert "NPS too few to say" in card and "3 responses" in card
    assert "±" not in card and "+100" not in card


def test_segments_are_flagged_where_significantly_below_the_rest(maya, survey):
    make_survey("onboarding", name="Onboarding")
    ingest([10] * 40, plan="gold")
    ingest([0] * 30 + [10] * 10, survey="onboarding", plan="basic")
    page = _client(maya).get(reverse("home"), {"by": "attribute:plan", "sort": "nps"}).content.decode()
    assert _rows(page, "segments-table") == [
        f"basic {MINUS}50.0 ± 26.8 40 significantly below",
        "gold +100.0 ± 0.0 40 +150.0 (significant)",
    ]
    assert page.count('class="lagging"') == 1


def test_filters_by_survey_and_segment_change_every_figure(maya, survey):
    make_survey("onboarding", name="Onboarding")
    ingest([10] * 40, plan="gold")
    ingest([0] * 40, survey="onboarding", plan="basic")
    client = _client(maya)
    by_survey = _text(client.get(reverse("home"), {"survey": "onboarding"}).content.decode())
    by_plan = _text(client.get(reverse("home"), {"attribute": "plan:gold"}).content.decode())
    assert f"NPS {MINUS}100.0 ± 0.0 95 % margin of error, from 40 responses" in by_survey
    assert "NPS +100.0 ± 0.0 95 % margin of error, from 40 responses" in by_plan


@pytest.mark.parametrize(
    "params",
    [
        {"start": "yesterday"},
        {"period": "decade"},
        {"attribute": "plan"},
        {"by": "colour"},
        {"start": "2026-11-02", "end": "2026-11-01"},
    ],
)
def test_filters_it_cannot_read_are_a_400_that_names_them(maya, survey, params):
    response = _client(maya).get(reverse("home"), params)
    assert response.status_code == 400
    assert "cannot be read" in response.content.decode()


def test_segment_values_from_customers_are_escaped(maya, survey):
    ingest([9], plan='<script>alert("x")</script>')
    page = _client(maya).get(reverse("home"), {"by": "attribute:plan"}).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    "params", [{}, {"attribute": "plan:gold", "by": "agent", "period": "week"}, {"team": "x", "by": "team"}]
)
def test_the_dashboard_runs_the_same_number_of_queries_for_little_and_much_data(maya, survey, params):
    client = _client(maya)

    def queries_after(days: int) -> int:
        for day in range(days):
            ingest([day % 11, 10], days_ago=day * 9, plan="gold", channel=["api", "email", "web"][day % 3])
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("home"), params).status_code == 200
        return len(captured)

    assert queries_after(2) == queries_after(30)


def test_the_top_themes_carry_the_impact_the_themes_api_gives(maya, manager_api, survey, taxonomy):
    from followups.models import ResponseRootCause
    from surveys.models import Response

    ingest([10] * 20 + [2] * 10, days_ago=3)
    for response in Response.objects.filter(score=2)[:6]:
        ResponseRootCause.objects.create(response=response, root_cause=taxonomy["vpn-access"])
    api = manager_api.get("/api/v1/themes/").json()["results"][0]
    rows = _rows(_client(maya).get(reverse("home")).content.decode(), "themes-table")
    # 30 responses, NPS +33.3; without the 6 coded ones: 20 promoters and 4 detractors of 24, +66.7.
    assert api["nps_impact"] == -33.3
    assert rows == [f"{api['name']} 6 {MINUS}33.3"]
