"""The agent pages' access rules, "My queue" and the team queue with in-place reassignment.

The world is the desk of ``tests/followups/conftest.py``: team "desk" (alice, bob, lena; lena
leads it). Deadlines are set relative to the moment of the test, so the states read the same
on any day; the team's calendar plays no part in them.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from followups.models import Case, CaseEvent
from followups.services import team_create
from followups.services.cases import case_assign, case_transition
from followups.views.queues import PER_PAGE
from surveys.services import responses_ingest
from tests.factories import make_user, response_item

pytestmark = pytest.mark.django_db
User = get_user_model()

PAGES = ["queue", "team-queue", "agent-settings"]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rows(html: str) -> list[int]:
    """Case ids of the queue's rows, top to bottom."""
    return [int(pk) for pk in re.findall(r'<tr id="case-row-(\d+)"', html)]


def _row(html: str, case: Case) -> str:
    start = html.index(f'<tr id="case-row-{case.pk}"')
    return html[start : html.index("</tr>", start)]


@pytest.fixture
def owned_by(open_case):
    """A case of the desk owned by ``owner`` (None: unassigned), its next deadline ``due_in`` from now."""

    def build(owner, *, score: int = 5, due_in: timedelta | None = None, at_risk_in: timedelta | None = None, **kw):
        case = open_case(score, **kw)
        if case.owner != owner:
            case = case_assign(case=case, owner=owner, actor=None)
        if due_in is not None:
            now = timezone.now()
            at_risk = now + at_risk_in if at_risk_in is not None else now + due_in - timedelta(minutes=1)
            Case.objects.filter(pk=case.pk).update(next_due=now + due_in, at_risk_from=min(at_risk, now + due_in))
        return Case.objects.get(pk=case.pk)

    return build


@pytest.fixture
def billing(desk, bob):
    """A second team without a lead, so only managers see its queue. The desk stays the default team."""
    return team_create(slug="billing", name="Billing", members=["bob"])


# Access


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    url = reverse(name)

    assertRedirects(client.get(url), f"{reverse('login')}?next={url}", fetch_redirect_response=False)


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("username", ["izzy", "olga"])
def test_integration_accounts_and_users_without_a_role_are_refused(request, name, username):
    user = request.getfixturevalue(username)

    assert _client(user).get(reverse(name)).status_code == 403


def test_the_case_page_and_its_actions_refuse_integration_accounts(izzy, owned_by, alice):
    case = owned_by(alice)
    client = _client(izzy)

    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 403
    for name in ("case-transition", "case-note", "case-contact", "case-root-causes", "case-assign"):
        assert client.post(reverse(name, args=[case.pk]), {"status-to": "contacted"}).status_code == 403
    assert Case.objects.get(pk=case.pk).status == "new"


def test_an_agent_has_a_queue_and_settings_but_no_team_queue(alice, desk):
    client = _client(alice)

    assert client.get(reverse("queue")).status_code == 200
    assert client.get(reverse("agent-settings")).status_code == 200
    assert client.get(reverse("team-queue")).status_code == 403
    assertNotContains(client.get(reverse("queue")), reverse("team-queue"))


@pytest.mark.parametrize("username", ["lena", "maya"])
def test_leads_and_managers_open_the_team_queue_from_their_queue(request, desk, username):
    client = _client(request.getfixturevalue(username))

    assertContains(client.get(reverse("queue")), f'href="{reverse("team-queue")}"')
    assert client.get(reverse("team-queue")).status_code == 200


def test_actions_only_accept_posts(alice, owned_by):
    case = owned_by(alice)

    assert _client(alice).get(reverse("case-transition", args=[case.pk])).status_code == 405


# My queue


def test_my_queue_lists_only_my_open_cases_next_deadline_first(alice, bob, owned_by):
    later = owned_by(alice, due_in=timedelta(hours=5))
    overdue = owned_by(alice, due_in=-timedelta(hours=1))
    sooner = owned_by(alice, due_in=timedelta(hours=2))
    owned_by(bob, due_in=timedelta(minutes=30))
    resolved = owned_by(alice)
    case_transition(case=resolved, to_status="contacted", actor=alice)
    case_transition(case=resolved, to_status="resolved", actor=alice)

    response = _client(alice).get(reverse("queue"))

    assert _rows(response.content.decode()) == [overdue.pk, sooner.pk, later.pk]


def test_each_row_says_where_its_deadline_stands_in_words_and_colour(alice, owned_by):
    on_track = owned_by(alice, due_in=timedelta(hours=3, minutes=30), at_risk_in=timedelta(hours=2))
    at_risk = owned_by(alice, due_in=timedelta(minutes=45, seconds=30), at_risk_in=-timedelta(minutes=10))
    overdue = owned_by(alice, due_in=-timedelta(hours=2, minutes=10))

    html = _client(alice).get(reverse("queue")).content.decode()

    assert '<span class="due due--on_track">3 h left</span>' in _row(html, on_track)
    assert '<span class="due due--at_risk">at risk, 45 min left</span>' in _row(html, at_risk)
    assert '<span class="due due--overdue">overdue by 2 h</span>' in _row(html, overdue)
    assert 'class="queue-row queue-row--overdue"' in _row(html, overdue)


def test_a_row_shows_score_customer_comment_age_priority_and_status(alice, owned_by):
    case = owned_by(alice, score=2, customer="C-77", comment="VPN token reset took a week. " * 10)
    Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - timedelta(hours=26, minutes=5))

    row = _row(_client(alice).get(reverse("queue")).content.decode(), case)

    assert '<span class="score score--detractor">2</span>' in row
    assert "C-77" in row
    assert "VPN token reset took a week. VPN token" in row
    assert "\u2026" in row and row.count("VPN token reset") < 10  # truncated
    assert ">26 h</time>" in row
    assert '<span class="tag tag--hot">hot</span>' in row  # 2 is below the survey's hot threshold
    assert '<td data-label="Status">New</td>' in row


def test_customer_text_in_the_queue_is_escaped(alice, owned_by):
    owned_by(alice, comment="<script>alert('x')</script>")

    response = _client(alice).get(reverse("queue"))

    assertNotContains(response, "<script>alert")
    assertContains(response, "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;")


def test_filters_narrow_the_queue_and_its_counts(alice, owned_by):
    hot = owned_by(alice, score=1, due_in=timedelta(hours=2))
    overdue = owned_by(alice, score=5, due_in=-timedelta(minutes=5))
    contacted = owned_by(alice, score=5, due_in=timedelta(hours=6))
    case_transition(case=contacted, to_status="contacted", actor=alice)
    client = _client(alice)

    assert _rows(client.get(reverse("queue"), {"priority": "hot"}).content.decode()) == [hot.pk]
    assert _rows(client.get(reverse("queue"), {"overdue": "true"}).content.decode()) == [overdue.pk]
    assert _rows(client.get(reverse("queue"), {"status": "contacted"}).content.decode()) == [contacted.pk]
    response = client.get(reverse("queue"), {"priority": "hot", "overdue": "true"})
    assertContains(response, "No open cases match these filters.")
    assertContains(response, _count("Open", 0))
    _assert_counts(client.get(reverse("queue")), open=3, overdue=1, hot=1)
    _assert_counts(client.get(reverse("queue"), {"priority": "normal"}), open=2, overdue=1, hot=0)


def _count(label: str, number: int) -> str:
    """A total above the queue, as the counts partial writes it."""
    return f'<span class="count__label">{label}</span> <span class="count__value">{number}</span>'


def _assert_counts(response, **expected: int) -> None:
    labels = {"open": "Open", "overdue": "Overdue", "at_risk": "At risk", "hot": "Hot"}
    for name, number in expected.items():
        assertContains(response, _count(labels[name], number))


def test_an_invalid_filter_is_shown_on_the_form_not_a_server_error(alice, owned_by):
    case = owned_by(alice)

    response = _client(alice).get(reverse("queue"), {"status": "bogus", "page": "x"})

    assert response.status_code == 200
    assertContains(response, "Select a valid choice.")
    assert _rows(response.content.decode()) == [case.pk]


def test_the_counts_come_from_one_aggregate_query(alice, owned_by):
    owned_by(alice, score=1, due_in=-timedelta(hours=1))  # hot and overdue
    owned_by(alice, score=2, due_in=timedelta(minutes=30), at_risk_in=-timedelta(minutes=5))  # hot, at risk
    owned_by(alice, score=5, due_in=timedelta(hours=8))
    owned_by(alice, score=6, due_in=timedelta(hours=9))
    client = _client(alice)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("queue"))

    for label, number in (("Open", 4), ("Overdue", 1), ("At risk", 1), ("Hot", 2)):
        assertContains(response, _count(label, number))
    aggregates = [q["sql"] for q in queries if '"overdue"' in q["sql"]]
    assert len(aggregates) == 1
    assert all(f'"{name}"' in aggregates[0] for name in ("open", "at_risk", "hot"))


def test_the_queue_is_paginated_by_fifty(alice, owned_by):
    cases = [owned_by(alice, due_in=timedelta(hours=1, minutes=n)) for n in range(PER_PAGE + 1)]
    client = _client(alice)

    first = client.get(reverse("queue"))
    second = client.get(reverse("queue"), {"page": 2})

    assert _rows(first.content.decode()) == [case.pk for case in cases[:PER_PAGE]]
    assertContains(first, "Page 1 of 2")
    assertContains(first, 'href="?page=2"')
    assert _rows(second.content.decode()) == [cases[-1].pk]


# Team queue


def test_a_lead_sees_the_open_cases_of_the_team_unassigned_ones_included(lena, alice, owned_by, billing, open_case):
    mine = owned_by(alice, due_in=timedelta(hours=2))
    unassigned = owned_by(None, due_in=timedelta(hours=1))
    client = _client(lena)

    html = client.get(reverse("team-queue")).content.decode()
    only_unassigned = client.get(reverse("team-queue"), {"owner": "none"}).content.decode()

    assert _rows(html) == [unassigned.pk, mine.pk]
    assert _rows(only_unassigned) == [unassigned.pk]
    assert 'name="team"' not in html  # one team: nothing to choose


def test_the_team_queue_counts_the_cases_its_filters_choose(maya, lena, alice, bob, billing, owned_by):
    owned_by(None, score=1, due_in=-timedelta(minutes=5))  # unassigned, hot and overdue
    owned_by(alice, score=5, due_in=timedelta(hours=3))
    billing_case = owned_by(bob, score=2, due_in=timedelta(hours=4))
    Case.objects.filter(pk=billing_case.pk).update(team=billing)
    lead, manager = _client(lena), _client(maya)

    _assert_counts(lead.get(reverse("team-queue")), open=2, overdue=1, hot=1)
    _assert_counts(lead.get(reverse("team-queue"), {"owner": "none"}), open=1, overdue=1, hot=1)
    _assert_counts(lead.get(reverse("team-queue"), {"priority": "normal"}), open=1, overdue=0, hot=0)
    _assert_counts(manager.get(reverse("team-queue")), open=3, overdue=1, hot=2)
    _assert_counts(manager.get(reverse("team-queue"), {"team": "billing"}), open=1, overdue=0, hot=1)


def test_a_lead_does_not_see_other_teams(lena, bob, billing, owned_by):
    case = owned_by(bob)
    Case.objects.filter(pk=case.pk).update(team=billing)

    response = _client(lena).get(reverse("team-queue"))

    assert _rows(response.content.decode()) == []
    assert _client(lena).get(reverse("team-queue"), {"team": "billing"}).status_code == 200


def test_a_manager_sees_every_team_and_can_filter_by_team(maya, bob, alice, billing, owned_by):
    desk_case = owned_by(alice, due_in=timedelta(hours=1))
    billing_case = owned_by(bob, due_in=timedelta(hours=2))
    Case.objects.filter(pk=billing_case.pk).update(team=billing)
    client = _client(maya)

    everything = client.get(reverse("team-queue")).content.decode()
    billing_only = client.get(reverse("team-queue"), {"team": "billing"}).content.decode()

    assert _rows(everything) == [desk_case.pk, billing_case.pk]
    assert '<option value="billing">Billing</option>' in everything
    assert _rows(billing_only) == [billing_case.pk]


def test_reassigning_without_javascript_redirects_back_to_the_queue(lena, alice, bob, owned_by):
    case = owned_by(alice)
    back = reverse("team-queue") + "?owner=none"

    response = _client(lena).post(reverse("case-assign", args=[case.pk]), {"assign-owner": bob.pk, "next": back})

    assertRedirects(response, back, fetch_redirect_response=False)
    assert Case.objects.get(pk=case.pk).owner == bob
    event = CaseEvent.objects.filter(case=case, kind="assigned").latest("pk")
    assert (event.actor, event.details["from"], event.details["to"]) == (lena, "alice", "bob")


def test_reassigning_with_htmx_swaps_the_row_in_place(lena, alice, bob, owned_by):
    case = owned_by(alice)
    client = _client(lena)

    response = client.post(
        reverse("case-assign", args=[case.pk]),
        {"assign-owner": bob.pk, "next": reverse("team-queue")},
        headers={"HX-Request": "true", "HX-Target": f"case-row-{case.pk}"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="case-row-{case.pk}"')
    assert "<html" not in html
    assert f'<option value="{bob.pk}" selected>bob</option>' in html
    assert f'name="next" value="{reverse("team-queue")}"' in html
    assert '<p class="muted" role="status">Owner changed.</p>' in html
    assert Case.objects.get(pk=case.pk).owner == bob


def test_a_refused_reassignment_is_shown_in_the_row_and_changes_nothing(lena, alice, olga, owned_by):
    case = owned_by(alice)

    response = _client(lena).post(
        reverse("case-assign", args=[case.pk]),
        {"assign-owner": olga.pk, "next": reverse("team-queue")},
        headers={"HX-Request": "true", "HX-Target": f"case-row-{case.pk}"},
    )

    assertContains(response, "olga cannot own cases of Service desk.")
    assert Case.objects.get(pk=case.pk).owner == alice


def test_a_row_offers_only_who_may_own_the_case_and_an_outsider_is_refused(lena, alice, bob, owned_by):
    case = owned_by(alice)
    outsider = make_user("nina", "agent")  # an agent of no team
    client = _client(lena)

    row = _row(client.get(reverse("team-queue")).content.decode(), case)
    offered = re.findall(r'<option value="(\d+)"', row)
    response = client.post(
        reverse("case-assign", args=[case.pk]), {"assign-owner": outsider.pk, "next": reverse("team-queue")}
    )

    assert sorted(map(int, offered)) == sorted([alice.pk, bob.pk, lena.pk])
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).owner == alice


def test_a_refused_reassignment_without_javascript_comes_back_as_a_message(alice, bob, owned_by):
    case = owned_by(bob)  # alice neither owns the case nor leads the team

    response = _client(alice).post(
        reverse("case-assign", args=[case.pk]), {"assign-owner": alice.pk, "next": reverse("queue")}, follow=True
    )

    assertContains(response, f"Case {case.pk}: You may not change this case.")
    assert Case.objects.get(pk=case.pk).owner == bob


def test_a_foreign_next_address_is_not_followed(maya, alice, bob, owned_by):
    case = owned_by(alice)

    response = _client(maya).post(
        reverse("case-assign", args=[case.pk]), {"assign-owner": bob.pk, "next": "https://evil.example/"}
    )

    assertRedirects(response, reverse("case-detail", args=[case.pk]), fetch_redirect_response=False)


# Queries


def _ingest_detractors(count: int, django_capture_on_commit_callbacks) -> None:
    """Ingest ``count`` detractors in one batch; their cases open when it commits, as in production."""
    with django_capture_on_commit_callbacks(execute=True):
        result = responses_ingest(items=[response_item(2, comment=f"slow fix {n}") for n in range(count)])
    assert Case.objects.filter(response_id__in=result.created_ids).count() == count


@pytest.fixture
def solo_desk(survey, alice):
    """A team where every case goes to alice, led by lena."""
    make_user("lena", "agent")
    return team_create(slug="solo", name="Solo desk", members=["alice"], lead="lena")


@pytest.mark.parametrize(("username", "page"), [("alice", "queue"), ("lena", "team-queue"), ("maya", "team-queue")])
def test_the_queues_take_as_many_queries_for_100_cases_as_for_5(
    username, page, solo_desk, maya, django_capture_on_commit_callbacks
):
    client = _client(User.objects.get(username=username))
    counts = []
    for total in (5, 100):
        _ingest_detractors(total - Case.objects.count(), django_capture_on_commit_callbacks)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(page))
        assert len(_rows(response.content.decode())) == min(total, PER_PAGE)
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_an_ingested_detractor_shows_in_the_queue_of_its_agent(solo_desk, alice, django_capture_on_commit_callbacks):
    _ingest_detractors(1, django_capture_on_commit_callbacks)

    response = _client(alice).get(reverse("queue"))

    assert _rows(response.content.decode()) == [Case.objects.get().pk]
    assertContains(response, "slow fix 0")
