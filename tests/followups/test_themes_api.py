"""GET /api/v1/themes/ on PostgreSQL: figures worked out by hand, filters, roll-up, periods, roles.

The November world: ten responses to support-2026 on 2026-11-10, 5 promoters, 2 passives and 3
detractors, overall NPS (5 - 3) / 10 = +20.

    r1 score 2  slow-response, too-many-handoffs     r6  score 9   vpn-access
    r2 score 3  slow-response                        r7  score 9   agent-knowledge
    r3 score 5  vpn-access                           r8  score 10  vpn-access
    r4 score 7  slow-response                        r9  score 10  -
    r5 score 8  -                                    r10 score 10  -

slow-response: r1 r2 r4 = 0 P, 1 Pa, 2 D: NPS -66.67. The rest: 5 P, 1 Pa, 1 D of 7: +57.14.
  Impact 20 - 57.14 = -37.14. 2 of the 3 detractors cite it: 0.6667.
too-many-handoffs: r1 = 1 D: NPS -100. The rest 5, 2, 2 of 9: +33.33. Impact -13.33.
vpn-access: r3 r6 r8 = 2 P, 1 D: NPS +33.33. The rest 3, 2, 2 of 7: +14.29. Impact +5.71.
agent-knowledge: r7 = 1 P: NPS +100. The rest 4, 2, 3 of 9: +11.11. Impact +8.89.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from followups.models import ResponseRootCause, RootCause
from followups.services import team_create
from followups.services.opening import cases_open_for_responses
from surveys.models import Customer, Response
from tests.factories import handled_by, make_response, make_survey

pytestmark = pytest.mark.postgres

URL = "/api/v1/themes/"
NOVEMBER_10 = datetime(2026, 11, 10, 10, tzinfo=UTC)
NOVEMBER = {"submitted_after": "2026-11-01T00:00:00Z", "submitted_before": "2026-12-01T00:00:00Z"}
NOVEMBER_SLUGS = ["slow-response", "too-many-handoffs", "vpn-access", "agent-knowledge"]


def code(response: Response, *slugs: str) -> None:
    causes = RootCause.objects.in_bulk(slugs, field_name="slug")
    ResponseRootCause.objects.bulk_create(ResponseRootCause(response=response, root_cause=causes[s]) for s in slugs)


def respond(score: int, *slugs: str, at: datetime = NOVEMBER_10, **fields) -> Response:
    response = make_response(score, submitted_at=at, **fields)
    code(response, *slugs)
    return response


@pytest.fixture
def november(survey, taxonomy) -> list[Response]:
    return [
        respond(2, "slow-response", "too-many-handoffs"),
        respond(3, "slow-response"),
        respond(5, "vpn-access"),
        respond(7, "slow-response"),
        respond(8),
        respond(9, "vpn-access"),
        respond(9, "agent-knowledge"),
        respond(10, "vpn-access"),
        respond(10),
        respond(10),
    ]


def themes(api, **params) -> dict:
    reply = api.get(URL, params)
    assert reply.status_code == 200, reply.content
    return reply.json()


def slugs(data: dict) -> list[str]:
    return [row["root_cause"] for row in data["results"]]


def by_slug(data: dict) -> dict[str, dict]:
    return {row["root_cause"]: row for row in data["results"]}


def test_each_theme_has_its_counts_nps_and_impact_ranked_most_harmful_first(manager_api, november) -> None:
    data = themes(manager_api)
    assert data["overall"] == {
        "responses": 10,
        "promoters": 5,
        "passives": 2,
        "detractors": 3,
        "nps": 20.0,
        # p = 0.5, d = 0.3: variance 0.8 - 0.04 = 0.76, / 10, sqrt: 27.57 points, times 1.96: 54.03.
        "nps_margin_of_error": 54.0,
        "enough": False,  # ten responses: the page says "too few to say"
    }
    assert slugs(data) == NOVEMBER_SLUGS
    assert (data["count"], data["next"], data["previous"]) == (4, None, None)
    assert data["results"][0] == {
        "root_cause": "slow-response",
        "name": "Slow first response",
        "category": "process",
        "responses": 3,
        "promoters": 0,
        "passives": 1,
        "detractors": 2,
        "enough": False,  # 30 responses are needed for an NPS worth showing
        "nps": -66.7,
        # p = 0, d = 2/3: variance 2/3 - 4/9 = 2/9, / 3, sqrt: 27.22 points, times 1.96: 53.35.
        "nps_margin_of_error": 53.3,
        "nps_impact": -37.1,
        "detractor_share": 0.6667,
        "promoter_share": 0.0,
    }
    rows = by_slug(data)
    assert [rows[s]["nps_impact"] for s in NOVEMBER_SLUGS] == [-37.1, -13.3, 5.7, 8.9]
    assert [rows[s]["nps"] for s in NOVEMBER_SLUGS] == [-66.7, -100.0, 33.3, 100.0]
    assert [rows[s]["responses"] for s in NOVEMBER_SLUGS] == [3, 1, 3, 1]
    assert [rows[s]["detractor_share"] for s in NOVEMBER_SLUGS] == [0.6667, 0.3333, 0.3333, 0.0]
    assert [rows[s]["promoter_share"] for s in NOVEMBER_SLUGS] == [0.0, 0.0, 0.4, 0.2]
    assert data["level"] == "cause"
    assert data["segment"] == "all"
    assert data["previous_period"] is None
    assert "previous_nps" not in data["results"][0]


def test_no_responses_no_themes(manager_api, survey, taxonomy) -> None:
    data = themes(manager_api)
    assert data["results"] == []
    assert data["overall"]["nps"] is None
    assert data["overall"]["responses"] == 0


def test_detractor_share_is_null_without_detractors(manager_api, survey, taxonomy) -> None:
    respond(9, "vpn-access")
    respond(10)
    [row] = themes(manager_api)["results"]
    assert (row["detractor_share"], row["promoter_share"], row["nps_impact"]) == (None, 0.5, 0.0)


def test_a_theme_of_every_response_has_no_impact_and_goes_last(manager_api, survey, taxonomy) -> None:
    respond(3, "vpn-access", "hardware")
    respond(9, "hardware")
    data = themes(manager_api)
    # vpn-access: 1 D; the rest 1 P: impact 0 - 100 = -100. hardware: both, no rest to compare with.
    assert slugs(data) == ["vpn-access", "hardware"]
    assert [row["nps_impact"] for row in data["results"]] == [-100.0, None]


def test_equal_impacts_go_by_slug(manager_api, survey, taxonomy) -> None:
    respond(3, "vpn-access", "hardware")
    respond(9)
    assert slugs(themes(manager_api)) == ["hardware", "vpn-access"]


def test_a_retired_root_cause_still_counts(manager_api, november) -> None:
    RootCause.objects.filter(slug="too-many-handoffs").update(active=False)
    assert slugs(themes(manager_api)) == NOVEMBER_SLUGS


def test_the_survey_filter(manager_api, november) -> None:
    make_survey("onboarding")
    respond(0, "slow-response", survey="onboarding")
    assert by_slug(themes(manager_api))["slow-response"]["responses"] == 4
    data = themes(manager_api, survey="support-2026")
    assert data["overall"]["responses"] == 10
    assert by_slug(data)["slow-response"]["responses"] == 3
    assert slugs(data) == NOVEMBER_SLUGS
    only = themes(manager_api, survey="onboarding")
    assert [(row["root_cause"], row["responses"], row["nps_impact"]) for row in only["results"]] == [
        ("slow-response", 1, None)
    ]
    assert themes(manager_api, survey="nope")["results"] == []


def test_the_time_filters(manager_api, november) -> None:
    respond(0, "hardware", at=datetime(2026, 10, 5, tzinfo=UTC))
    respond(0, "hardware", at=datetime(2026, 12, 1, tzinfo=UTC))  # the end is exclusive
    assert "hardware" in slugs(themes(manager_api))
    data = themes(manager_api, **NOVEMBER)
    assert slugs(data) == NOVEMBER_SLUGS
    assert data["overall"]["responses"] == 10
    october = themes(manager_api, submitted_before="2026-11-01T00:00:00Z")
    assert [(row["root_cause"], row["responses"]) for row in october["results"]] == [("hardware", 1)]
    december = themes(manager_api, submitted_after="2026-12-01T00:00:00Z")
    assert [(row["root_cause"], row["responses"]) for row in december["results"]] == [("hardware", 1)]


def test_the_team_filter_reads_the_team_that_handled_the_ticket(manager_api, november, alice, bob) -> None:
    desk = team_create(slug="desk", name="Service desk", members=["alice"])
    team_create(slug="network", name="Network", members=["bob"])
    # The three detractors answered tickets: r1's and r2's the desk handled, r3's (vpn-access) the
    # network team. Their cases all went to the desk: the case's team is not the ticket's.
    for response, team in zip(november[:3], ["desk", "desk", "network"], strict=True):
        handled_by(response, team)
    opened = cases_open_for_responses(response_ids=[r.pk for r in november[:3]], now=NOVEMBER_10)
    assert {case.team.slug for case in opened} == {"desk"}
    data = themes(manager_api, team="desk")
    # r1 and r2: 2 detractors. slow-response has both (no rest: no impact), too-many-handoffs r1.
    assert data["overall"]["responses"] == 2
    assert [(row["root_cause"], row["responses"], row["nps_impact"]) for row in data["results"]] == [
        ("too-many-handoffs", 1, 0.0),
        ("slow-response", 2, None),
    ]
    network_rows = themes(manager_api, team="network")["results"]
    assert [(row["root_cause"], row["detractors"]) for row in network_rows] == [("vpn-access", 1)]
    assert desk.slug == "desk"
    assert themes(manager_api, team="nobody")["results"] == []


def test_the_attribute_filter(manager_api, november) -> None:
    # Gold: r1 (2), r6 (9) and r7 (9); r7 also has a number for seats.
    for index, attributes in [(0, {"plan": "gold"}), (5, {"plan": "gold"}), (6, {"plan": "gold", "seats": 5})]:
        Customer.objects.filter(pk=november[index].customer_id).update(attributes=attributes)
    data = themes(manager_api, attribute="plan:gold")
    # Overall 2 P, 1 D: NPS 33.33. slow-response and too-many-handoffs: r1 alone, the rest 2 P:
    # impact 33.33 - 100 = -66.67. vpn-access r6, agent-knowledge r7: rest 1 P 1 D (0): +33.33.
    assert data["overall"]["nps"] == 33.3
    assert [(row["root_cause"], row["nps_impact"]) for row in data["results"]] == [
        ("slow-response", -66.7),
        ("too-many-handoffs", -66.7),
        ("agent-knowledge", 33.3),
        ("vpn-access", 33.3),
    ]
    assert slugs(themes(manager_api, attribute="seats:5")) == ["agent-knowledge"]
    assert themes(manager_api, attribute="plan:silver")["results"] == []
    assert themes(manager_api, attribute="plan:")["results"] == []


def test_category_level_rolls_causes_up_counting_a_response_once(manager_api, november) -> None:
    data = themes(manager_api, level="category")
    assert data["level"] == "category"
    # process: r1 (two of its causes, once), r2, r4: as slow-response alone. technology: r3 r6 r8.
    assert [
        (row["root_cause"], row["name"], row["category"], row["responses"], row["detractors"], row["nps_impact"])
        for row in data["results"]
    ] == [
        ("process", "Process", None, 3, 2, -37.1),
        ("technology", "Technology", None, 3, 1, 5.7),
        ("people", "People", None, 1, 0, 8.9),
    ]
    assert data["results"][0]["detractor_share"] == 0.6667


def test_category_level_counts_codes_on_the_category_itself(manager_api, november) -> None:
    respond(4, "process", "slow-response")
    row = by_slug(themes(manager_api, level="category"))["process"]
    assert (row["responses"], row["detractors"]) == (4, 3)


def test_the_promoters_segment_ranks_what_promoters_cite_most(manager_api, november) -> None:
    data = themes(manager_api, segment="promoters")
    assert data["segment"] == "promoters"
    assert data["overall"]["responses"] == 5
    assert [(row["root_cause"], row["responses"], row["promoter_share"]) for row in data["results"]] == [
        ("vpn-access", 2, 0.4),
        ("agent-knowledge", 1, 0.2),
    ]
    assert data["results"][0]["detractors"] == 0
    rolled = themes(manager_api, segment="promoters", level="category")
    assert [(row["root_cause"], row["responses"]) for row in rolled["results"]] == [("technology", 2), ("people", 1)]


def test_both_time_bounds_compare_with_the_period_just_before(manager_api, november) -> None:
    # November is 30 days: the previous period is 2026-10-02 to 2026-11-01.
    october = datetime(2026, 10, 15, tzinfo=UTC)
    respond(10, "slow-response", at=october)
    respond(9, "slow-response", at=october)
    respond(6, "vpn-access", at=october)
    respond(9, "vpn-access", "hardware", at=october)
    respond(0, "slow-response", at=datetime(2026, 10, 1, 12, tzinfo=UTC))  # before the previous period
    data = themes(manager_api, **NOVEMBER)
    assert data["previous_period"] == {
        "submitted_after": "2026-10-02T00:00:00Z",
        "submitted_before": "2026-11-01T00:00:00Z",
        "responses": 4,
        "nps": 50.0,  # 3 P, 1 D
    }
    assert slugs(data) == NOVEMBER_SLUGS  # hardware: only in October
    rows = by_slug(data)
    comparison = ("previous_responses", "previous_nps", "nps_change", "change_significant")
    # slow-response: 2 P before (100, no spread), -66.67 now (standard error 27.22): z = -6.1.
    assert [rows["slow-response"][key] for key in comparison] == [2, 100.0, -166.7, True]
    # vpn-access: 1 P 1 D before (0, standard error 70.71), 33.33 now (54.43): z = 0.37.
    assert [rows["vpn-access"][key] for key in comparison] == [2, 0.0, 33.3, False]
    assert [rows["agent-knowledge"][key] for key in comparison] == [0, None, None, None]
    # The figures of the period itself do not change.
    assert [rows[s]["nps_impact"] for s in NOVEMBER_SLUGS] == [-37.1, -13.3, 5.7, 8.9]
    assert data["overall"]["responses"] == 10


def test_one_time_bound_alone_has_no_previous_period(manager_api, november) -> None:
    data = themes(manager_api, submitted_after=NOVEMBER["submitted_after"])
    assert data["previous_period"] is None
    assert "nps_change" not in data["results"][0]


def test_an_empty_period_has_no_previous_one(manager_api, november) -> None:
    data = themes(manager_api, submitted_after="2026-12-01T00:00:00Z", submitted_before="2026-11-01T00:00:00Z")
    assert (data["results"], data["previous_period"]) == ([], None)


def test_a_previous_period_before_the_calendar_is_open(manager_api, november) -> None:
    data = themes(manager_api, submitted_after="0001-01-02T00:00:00Z", submitted_before="0001-01-04T00:00:00Z")
    assert data["previous_period"]["submitted_after"] is None
    assert data["results"] == []


def test_filters_combine(manager_api, november) -> None:
    data = themes(manager_api, survey="support-2026", segment="promoters", level="category", **NOVEMBER)
    assert [(row["root_cause"], row["previous_responses"]) for row in data["results"]] == [
        ("technology", 0),
        ("people", 0),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"submitted_after": "yesterday"}, "submitted_after"),
        ({"submitted_before": "2026-13-01"}, "submitted_before"),
        ({"submitted_after": "0001-01-01T00:00:00+23:59"}, "submitted_after"),
        ({"level": "cluster"}, "level"),
        ({"segment": "detractor"}, "segment"),
        ({"attribute": "plan"}, "attribute"),
        ({"attribute": ":gold"}, "attribute"),
    ],
)
def test_bad_filter_values_are_a_400_naming_the_field(manager_api, november, params, field) -> None:
    reply = manager_api.get(URL, params)
    assert reply.status_code == 400
    assert list(reply.json()) == [field]


@pytest.mark.parametrize(("client", "status"), [("anonymous_api", 401), ("no_role_api", 403)])
def test_who_may_not_read_themes(request, survey, client, status) -> None:
    assert request.getfixturevalue(client).get(URL).status_code == status


@pytest.mark.parametrize("client", ["manager_api", "agent_api", "integration_api"])
def test_every_role_that_reads_responses_reads_themes(request, november, client) -> None:
    assert slugs(themes(request.getfixturevalue(client))) == NOVEMBER_SLUGS


@pytest.mark.parametrize(
    "params", [{}, {"level": "category", "segment": "promoters"}, {**NOVEMBER, "team": "desk", "attribute": "a:b"}]
)
def test_a_fixed_number_of_queries_whatever_the_data(manager_api, survey, taxonomy, params, django_assert_num_queries):
    manager_api.get(URL)  # the manager's roles, read once and kept on the user
    causes = list(RootCause.objects.filter(parent__isnull=False).values_list("slug", flat=True))
    for size in (1, 12):
        for index in range(size):
            respond(index % 11, causes[index % len(causes)], causes[(index + 1) % len(causes)])
        with django_assert_num_queries(2):
            assert manager_api.get(URL, params).status_code == 200
    assert Response.objects.count() == 13
    assert themes(manager_api)["overall"]["responses"] == 13


def test_the_schema_documents_the_endpoint(anonymous_api, db) -> None:
    schema = anonymous_api.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"][URL]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert names == {"survey", "submitted_after", "submitted_before", "team", "attribute", "level", "segment"}
    assert {"200", "400", "401", "403"} <= set(operation["responses"])


def test_previous_figures_with_time_bounds_use_the_same_length(manager_api, november) -> None:
    # A week: 2026-11-08 to 2026-11-15 against 2026-11-01 to 2026-11-08.
    respond(9, "slow-response", at=datetime(2026, 11, 1, tzinfo=UTC))
    respond(9, "slow-response", at=datetime(2026, 11, 8, tzinfo=UTC) - timedelta(microseconds=1))
    data = themes(manager_api, submitted_after="2026-11-08T00:00:00Z", submitted_before="2026-11-15T00:00:00Z")
    assert data["previous_period"]["submitted_after"] == "2026-11-01T00:00:00Z"
    assert by_slug(data)["slow-response"]["previous_responses"] == 2
