"""The manager's themes page and a theme's comments: ranking, charts with their figures, filters, access."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from followups.models import ResponseRootCause, RootCause
from surveys.models import Response
from tests.factories import make_response, make_survey

NOVEMBER_10 = datetime(2026, 11, 10, 10, tzinfo=UTC)


def respond(score: int, *slugs: str, at: datetime = NOVEMBER_10, **fields) -> Response:
    response = make_response(score, submitted_at=at, **fields)
    causes = RootCause.objects.in_bulk(slugs, field_name="slug")
    ResponseRootCause.objects.bulk_create(ResponseRootCause(response=response, root_cause=causes[s]) for s in slugs)
    return response


@pytest.fixture
def coded(survey, taxonomy) -> None:
    # slow-response: 2, 3, 7 (NPS -66.7); vpn-access: 5, 9 (NPS 0); 10, 10, 8 uncoded. Overall 3 P, 2 Pa, 3 D of 8: 0.
    respond(2, "slow-response", comment="Waited <b>three</b> days")
    respond(3, "slow-response")
    respond(7, "slow-response")
    respond(5, "vpn-access", comment="VPN drops every hour")
    respond(9, "vpn-access")
    respond(10)
    respond(10)
    respond(8)


@pytest.fixture
def manager(maya) -> Client:
    client = Client()
    client.force_login(maya)
    return client


def page(client: Client, url: str = "/themes/", **params) -> str:
    reply = client.get(url, params)
    assert reply.status_code == 200, reply.content[:500]
    return reply.content.decode()


def test_themes_are_ranked_by_impact_with_a_bar_and_a_sparkline_each(manager, coded):
    html = page(manager, submitted_after="", survey="")

    # slow-response: the rest is 3 P, 1 Pa, 1 D of 5: +40, so its impact is 0 - 40 = -40.
    # vpn-access: the rest is 2 P, 2 Pa, 2 D of 6: 0, impact 0.
    assert html.index("Slow first response") < html.index("VPN and remote access")
    assert "-40.0" in html
    assert html.count('class="bar"') == 2
    assert html.count('class="spark"') == 2
    # Three responses in November: too few to say, as the dashboard says of a month.
    assert 'aria-label="NPS by month: Nov 2026 too few (3)"' in html
    # Eight responses: their NPS (0.0) would say nothing.
    assert "NPS too few to say</strong>" in html and "from 8 responses" in html and "NPS 0.0" not in html
    # The table equivalent of the sparklines: one row per theme, twelve months.
    assert html.count('<th scope="col" class="num">') >= 12


def test_a_theme_links_to_its_comments_with_the_same_filters(manager, coded):
    html = page(manager, start="2026-11-01", end="2026-11-30")
    assert "/themes/slow-response/?start=2026-11-01&amp;end=2026-11-30" in html

    comments = page(manager, "/themes/slow-response/", start="2026-11-01", end="2026-11-30")
    assert "3 comments" in comments
    assert "Waited &lt;b&gt;three&lt;/b&gt; days" in comments
    assert "VPN drops" not in comments


def test_a_category_shows_the_comments_of_all_its_causes(manager, coded):
    html = page(manager, "/themes/process/")
    assert "A category" in html and "3 comments" in html


def test_the_days_filter_includes_the_last_day(manager, coded):
    assert "Slow first response" in page(manager, start="2026-11-10", end="2026-11-10")
    assert "No coded responses match" in page(manager, start="2026-11-11", end="2026-11-30")
    assert "No coded responses match" in page(manager, survey=make_survey("other-survey").slug)


def test_a_period_compares_with_the_one_before(manager, coded, survey):
    for _ in range(30):
        respond(9, "slow-response", at=datetime(2026, 10, 20, tzinfo=UTC))
    for _ in range(27):
        respond(2, "slow-response")
    html = page(manager, start="2026-11-01", end="2026-11-30")
    # October: slow-response +100 from 30 promoters; November: 1 passive and 29 detractors of 30,
    # -96.7: a change of -196.7. vpn-access has 2 responses: too few to compare.
    assert "-96.7 <span" in html
    assert "-196.7" in html
    assert ">Change</th>" in html
    vpn = _row(html, "VPN and remote access")
    assert "too few to say (2)" in vpn and 'data-label="Change"> \u2013 </td>' in " ".join(vpn.split())


def _row(html: str, name: str) -> str:
    start = html.index(f">{name}</a>")
    return html[start : html.index("</tr>", start)]


@pytest.mark.parametrize(
    ("segment", "enough"),
    [
        # 30 promoters and 1 detractor of 31: +93.5, margin 1.96 * 100 * sqrt((31/31 - (29/31) ** 2) / 31) = 12.4.
        ("all", ('93.5 <span class="muted">± 12.4</span>', "Nov 2026 +93.5")),
        # The promoters' view counts the 30 promoters only.
        ("promoters", ('100.0 <span class="muted">± 0.0</span>', "Nov 2026 +100")),
    ],
)
def test_a_theme_with_too_few_responses_says_so_with_its_count(manager, survey, taxonomy, segment, enough):
    figure, month = enough
    respond(10, "vpn-access")
    for _ in range(30):
        respond(9, "slow-response")
    respond(3, "slow-response")
    html = page(manager, segment=segment)
    # One response: NPS +100 ± 0 says nothing. Thirty, the dashboard's threshold, are enough.
    vpn = _row(html, "VPN and remote access")
    assert "too few to say (1)" in vpn
    assert "100.0" not in vpn and "±" not in vpn
    assert 'aria-label="NPS by month: Nov 2026 too few (1)"' in vpn
    slow = _row(html, "Slow first response")
    assert figure in slow
    assert f'aria-label="NPS by month: {month}"' in slow
    assert "too few" not in slow
    # The month table: a count in brackets for too few, the NPS for enough.
    months = html[html.index("themes-trends__table") :]
    assert ">VPN and remote access</th>" in months and '<span class="muted">(1)</span>' in months


def test_promoters_see_what_to_keep_doing(manager, coded):
    html = page(manager, segment="promoters")
    assert "What promoters praise" in html
    assert "VPN and remote access" in html and "Slow first response" not in html


def test_bad_filters_are_explained_not_an_error(manager, coded):
    html = page(manager, start="someday", end="2026-11-30", team="no-such-team")
    assert "Enter a valid date" in html
    html = page(manager, start="2026-11-30", end="2026-11-01")
    assert "The last day comes before the first" in html


@pytest.mark.parametrize("url", ["/themes/", "/themes/slow-response/"])
def test_only_managers_open_the_themes(url, alice, coded, client):
    assert client.get(url).status_code == 302
    client.force_login(alice)
    assert client.get(url).status_code == 403


def test_an_unknown_theme_is_a_404(manager, coded):
    assert manager.get("/themes/no-such-cause/").status_code == 404


def test_the_pages_read_a_fixed_number_of_queries(manager, coded, django_assert_num_queries):
    page(manager)  # warm the session and roles
    # Session, user, roles, the survey and team choices, then the report (2) and the trends (1);
    # the comments: session, user, roles, the theme, the choices (2), the count and the page.
    with django_assert_num_queries(8) as small:
        page(manager)
    with django_assert_num_queries(8) as comments_small:
        page(manager, "/themes/slow-response/")
    for score in range(11):
        respond(score, "slow-response", "hardware", "vpn-access", comment=f"comment {score}")
    with django_assert_num_queries(len(small.captured_queries)):
        page(manager)
    with django_assert_num_queries(len(comments_small.captured_queries)):
        page(manager, "/themes/slow-response/")
