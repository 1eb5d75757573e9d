"""The dashboard's outer loop and GET /api/v1/reports/loop/: the NPS of the customers told "you said,
we did" in the period, before their update and since, worked out by hand from the raw responses."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from closedloop.templatetags.closedloop_tags import MINUS
from followups.models import CustomerUpdate, Improvement
from surveys.models import Customer, Response
from surveys.services import responses_ingest
from tests.factories import make_improvement, response_item

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
WINDOW = {"start": "2026-09-01", "end": "2026-11-30"}
FIRST = datetime(2026, 9, 15, 9, tzinfo=UTC)
SECOND = datetime(2026, 10, 15, 9, tzinfo=UTC)
BEFORE_THE_WINDOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
Z = 1.959963984540054


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _manager(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _tell(improvement: Improvement, external_ids: list[str], status: str = CustomerUpdate.Status.SENT) -> None:
    CustomerUpdate.objects.bulk_create(
        CustomerUpdate(improvement=improvement, customer=customer, status=status, next_attempt_at=NOW, created_at=NOW)
        for customer in Customer.objects.filter(external_id__in=external_ids)
    )


def _answer(customers: dict[str, datetime | None], rng: random.Random, per_customer: int = 3) -> None:
    """``per_customer`` answers from each customer at random times since July: low before the
    moment they were told (or ever, for None), high after it."""
    items = []
    for external_id, told in customers.items():
        for _ in range(per_customer):
            at = datetime(2026, 7, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(24 * 140))
            after = told is not None and at >= told
            score = rng.choice([6, 7, 9, 10, 10] if after else [0, 3, 6, 7, 9])
            items.append(response_item(score, customer=external_id, submitted_at=at.isoformat()))
    assert not responses_ingest(items=items, now=NOW).rejected


def _ids(prefix: str, numbers: range) -> list[str]:
    return [f"{prefix}-{n}" for n in numbers]


def _world(rng: random.Random, *, prefix: str = "N", size: int = 10) -> dict[str, datetime | None]:
    """Customers told by the two improvements shipped in the window (some by both), and some who
    do not count: their update failed, or came from an improvement shipped before the window.
    Returns each customer's first update in the window (None: not counted)."""
    first, second = _ids(prefix, range(0, 4 * size)), _ids(prefix, range(4 * size, 5 * size))
    failed, earlier = _ids(prefix, range(5 * size, 6 * size)), _ids(prefix, range(6 * size, 7 * size))
    both = first[2 * size : 3 * size]
    told: dict[str, datetime | None] = {
        **dict.fromkeys(first, FIRST),
        **dict.fromkeys(second, SECOND),
        **dict.fromkeys(failed + earlier, None),
    }
    _answer(told, rng)
    fix = make_improvement(f"{prefix} fix", status="shipped", shipped_at=FIRST)
    later = make_improvement(f"{prefix} later fix", status="shipped", shipped_at=SECOND)
    old = make_improvement(f"{prefix} old fix", status="shipped", shipped_at=BEFORE_THE_WINDOW)
    _tell(fix, first)
    _tell(later, second + both)  # told twice: their first update, in September, splits their answers
    _tell(fix, failed, status=CustomerUpdate.Status.FAILED)
    _tell(old, earlier)
    return told


def _by_hand(scores: list[int]) -> tuple[int, float, float, float]:
    """(responses, NPS, margin of error, standard error) of ``scores``, unrounded."""
    n = len(scores)
    p = sum(s >= 9 for s in scores) / n
    d = sum(s <= 6 for s in scores) / n
    se = 100 * math.sqrt((p + d - (p - d) ** 2) / n)
    return n, 100 * (p - d), Z * se, se


def _shown(html: str, key: str) -> str:
    """The text of the outer loop's figure ``key`` on the dashboard."""
    start = html.index(f'id="notified-{key}"')
    return " ".join(strip_tags(html[start : html.index("</dd>", start)].split(">", 1)[1]).split())


def _signed(value: float) -> str:
    figure = round(value, 1)
    return f"{'+' if figure > 0 else MINUS}{abs(figure):.1f}"


def test_the_notified_customers_nps_before_and_after_matches_the_raw_responses(maya, survey):
    told = _world(random.Random(7))
    before: list[int] = []
    after: list[int] = []
    for customer, score, submitted_at in Response.objects.values_list("customer__external_id", "score", "submitted_at"):
        moment = told[customer]
        if moment is not None:
            (after if submitted_at >= moment else before).append(score)
    n_before, nps_before, margin_before, se_before = _by_hand(before)
    n_after, nps_after, margin_after, se_after = _by_hand(after)
    assert n_before >= 30 and n_after >= 30 and n_before + n_after == 150  # 50 customers counted, 3 answers each
    difference = nps_after - nps_before
    significant = abs(difference) / math.hypot(se_before, se_after) > Z
    assert significant

    client = _manager(maya)
    outer = client.get("/api/v1/reports/loop/", WINDOW).json()["outer"]

    assert (outer["shipped"], outer["notified"]) == (2, 50)
    figures = outer["notified_nps"]
    for side, (n, nps, margin) in (
        ("before", (n_before, nps_before, margin_before)),
        ("after", (n_after, nps_after, margin_after)),
    ):
        sample = figures[side]
        assert (sample["responses"], sample["nps"], sample["margin_of_error"]) == (n, round(nps, 1), round(margin, 1))
        assert sample["promoters"] + sample["passives"] + sample["detractors"] == n
        assert sample["enough"] is True
    assert figures["change"]["difference"] == round(difference, 1)
    assert figures["change"]["significant"] is True

    html = client.get(reverse("home"), WINDOW).content.decode()

    assert _shown(html, "before") == f"{_signed(nps_before)} ± {margin_before:.1f}, {n_before} responses"
    assert _shown(html, "after") == f"{_signed(nps_after)} ± {margin_after:.1f}, {n_after} responses"
    assert _shown(html, "change") == f"{_signed(difference)} significant"


def test_too_few_answers_show_their_count_and_no_comparison(maya, survey):
    items = [
        response_item(score, customer=customer, submitted_at=(FIRST + timedelta(days=days)).isoformat())
        for customer in ("T-0", "T-1")
        for score, days in ((0, -20), (3, -2), (10, 5))
    ]
    assert not responses_ingest(items=items, now=NOW).rejected
    _tell(make_improvement("Fix", status="shipped", shipped_at=FIRST), ["T-0", "T-1"])
    client = _manager(maya)

    html = client.get(reverse("home"), WINDOW).content.decode()

    # Four detractors before and two promoters after: -100 ± 0 against +100 ± 0, which says nothing.
    assert _shown(html, "before") == "too few to say, 4 responses"
    assert _shown(html, "after") == "too few to say, 2 responses"
    assert _shown(html, "change") == "not enough responses to compare"
    figures = client.get("/api/v1/reports/loop/", WINDOW).json()["outer"]["notified_nps"]
    assert figures["before"] == {
        "enough": False,
        "responses": 4,
        "promoters": 0,
        "passives": 0,
        "detractors": 4,
        "nps": -100.0,
        "margin_of_error": 0.0,
    }
    assert (figures["after"]["responses"], figures["after"]["enough"], figures["change"]) == (2, False, None)


@pytest.mark.parametrize("url", [reverse("home"), "/api/v1/reports/loop/"])
def test_the_figures_take_the_same_number_of_queries_for_few_and_many_customers(maya, survey, url):
    client = _manager(maya)
    client.get(url, WINDOW)  # the user's roles are read once, then cached on the user
    rng = random.Random(5)

    def queries_after(prefix: str, size: int) -> int:
        _world(rng, prefix=prefix, size=size)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, WINDOW).status_code == 200
        return len(captured)

    assert queries_after("A", 1) == queries_after("B", 20)
