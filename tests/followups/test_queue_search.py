"""The queues' search, sorting, tiles, the view of resolved and closed cases, and the lead's bulk assignment.

The world is the desk of ``tests/followups/conftest.py``: team "desk" (alice, bob, lena; lena leads it).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertRedirects

from closedloop.lib.exceptions import ApplicationError
from followups.models import Case, CaseEvent
from followups.services.cases import case_assign, case_prioritize, case_transition
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rows(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="case-row-(\d+)"', response.content.decode())]


def _count(label: str, number: int) -> str:
    return f'<span class="count__label">{label}</span> <span class="count__value">{number}</span>'


@pytest.fixture
def mine(open_case, alice):
    """A case of alice's, of a customer named as given, with a comment and a ticket."""

    def build(name: str, *, external_id: str, email: str = "", comment: str = "", ticket: str = "", score: int = 3):
        customer = {"external_id": external_id, "name": name, **({"email": email} if email else {})}
        case = open_case(score, customer=external_id, comment=comment, ticket_ref=ticket)
        case.response.customer.__class__.objects.filter(pk=case.response.customer_id).update(**customer)
        if case.owner != alice:
            case = case_assign(case=case, owner=alice, actor=None)
        return Case.objects.get(pk=case.pk)

    return build


@pytest.fixture
def three(mine):
    return [
        mine(
            "Ada Lovelace",
            external_id="CUST-ADA",
            email="ada@engines.example",
            comment="printer jammed",
            ticket="T-100",
        ),
        mine("Grace Hopper", external_id="CUST-GRACE", comment="the VPN drops every hour", ticket="T-200", score=1),
        mine(
            "Alan Turing",
            external_id="CUST-ALAN",
            email="alan@bletchley.example",
            comment="slow laptop",
            ticket="T-300",
        ),
    ]


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("lovelace", 0),  # name, any case
        ("ENGINES.example", 0),  # email
        ("cust-grace", 1),  # external id
        ("T-300", 2),  # ticket reference
        ("vpn drops", 1),  # words of the comment
    ],
)
def test_the_search_finds_a_case_by_its_customer_ticket_or_comment(alice, three, query, who):
    response = _client(alice).get(reverse("queue"), {"q": query})

    assert _rows(response) == [three[who].pk]
    assertContains(response, _count("Open", 1))


def test_the_search_finds_a_case_by_its_number(alice, three):
    client = _client(alice)

    assert _rows(client.get(reverse("queue"), {"q": str(three[2].pk)})) == [three[2].pk]
    assert _rows(client.get(reverse("queue"), {"q": f"#{three[1].pk}"})) == [three[1].pk]


def test_a_search_finding_nothing_says_so(alice, three):
    response = _client(alice).get(reverse("queue"), {"q": "nobody by that name"})

    assert _rows(response) == []
    assertContains(response, "No open cases match these filters.")
    assertContains(response, _count("Open", 0))


def test_columns_sort_both_ways_and_the_headers_link_to_the_other_way(alice, three):
    client = _client(alice)

    by_name = client.get(reverse("queue"), {"sort": "customer"})
    assert _rows(by_name) == [three[0].pk, three[2].pk, three[1].pk]  # Ada, Alan, Grace
    assertContains(by_name, 'aria-sort="ascending"><a class="sort" href="?sort=-customer">')
    assert _rows(client.get(reverse("queue"), {"sort": "-customer"})) == [three[1].pk, three[2].pk, three[0].pk]
    assert _rows(client.get(reverse("queue"), {"sort": "score"}))[0] == three[1].pk
    assert _rows(client.get(reverse("queue"), {"sort": "-case"})) == sorted((c.pk for c in three), reverse=True)


def test_a_sort_header_keeps_the_search(alice, three):
    response = _client(alice).get(reverse("queue"), {"q": "T-", "overdue": "false"})

    assertContains(response, 'href="?q=T-&amp;overdue=false&amp;sort=score"')


def test_an_unknown_sort_is_refused_quietly_and_the_queue_keeps_its_order(alice, three):
    response = _client(alice).get(reverse("queue"), {"sort": "password"})

    assert response.status_code == 200
    assert len(_rows(response)) == 3


def test_the_tiles_link_to_their_filter_and_count_what_it_shows(alice, three):
    Case.objects.filter(pk=three[0].pk).update(next_due=timezone.now() - timedelta(minutes=5))
    client = _client(alice)

    page = client.get(reverse("queue"), {"q": "T-"}).content.decode()
    overdue_link = re.search(r'<li class="count count--overdue"><a href="\?([^"]+)">', page).group(1)
    assert overdue_link == "q=T-&amp;overdue=true"
    filtered = client.get(reverse("queue") + "?" + overdue_link.replace("&amp;", "&"))
    assert _rows(filtered) == [three[0].pk]
    assertContains(filtered, _count("Open", 1))
    assertContains(filtered, _count("Overdue", 1))


def test_the_at_risk_tile_narrows_the_queue(alice, three):
    now = timezone.now()
    Case.objects.filter(pk=three[2].pk).update(
        at_risk_from=now - timedelta(minutes=1), next_due=now + timedelta(hours=1)
    )

    response = _client(alice).get(reverse("queue"), {"at_risk": "true"})

    assert _rows(response) == [three[2].pk]


def _finish(case: Case, status: str) -> None:
    """Move a case straight to ``status`` (the workflow's path there is tested elsewhere)."""
    Case.objects.filter(pk=case.pk).update(status=status, resolved_at=timezone.now())


def test_the_done_view_lists_the_agents_resolved_and_closed_cases(alice, bob, three, mine):
    _finish(three[0], "resolved")
    case_transition(case=three[1], to_status="closed", actor=alice, reason="Customer unreachable")
    client = _client(alice)

    done = client.get(reverse("queue-done"))
    assert sorted(_rows(done)) == sorted([three[0].pk, three[1].pk])
    assertContains(done, _count("Resolved", 1))
    assertContains(done, _count("Closed", 1))
    assert _rows(client.get(reverse("queue-done"), {"status": "closed"})) == [three[1].pk]
    assert _rows(client.get(reverse("queue-done"), {"q": "lovelace"})) == [three[0].pk]
    assert _rows(client.get(reverse("queue"))) == [three[2].pk]
    assert _rows(_client(bob).get(reverse("queue-done"))) == []


def test_the_queues_poll_their_list_for_new_cases(alice, lena, three):
    for user, name in ((alice, "queue"), (lena, "team-queue")):
        response = _client(user).get(reverse(name), {"q": "T-"})
        assertContains(response, f'hx-get="{reverse(name)}?q=T-" hx-trigger="every 30s"')
        assertContains(response, 'hx-select="#queue-list"')


# Bulk assignment on the team queue


def test_a_lead_assigns_three_ticked_cases_to_one_agent(lena, bob, three):
    client = _client(lena)
    back = reverse("team-queue") + "?q=T-"

    response = client.post(
        reverse("team-queue-bulk"), {"cases": [c.pk for c in three], "owner": str(bob.pk), "next": back}
    )

    assertRedirects(response, back, fetch_redirect_response=False)
    assert set(Case.objects.filter(pk__in=[c.pk for c in three]).values_list("owner__username", flat=True)) == {"bob"}
    assert CaseEvent.objects.filter(case__in=three, kind=CaseEvent.Kind.ASSIGNED, actor=lena).count() == 3
    page = client.get(back)
    assertContains(page, "Assigned to bob:")


def test_a_lead_makes_ticked_cases_hot_and_assigns_them_at_once(lena, bob, three):
    client = _client(lena)
    picked = [c.pk for c in three[:2]]
    Case.objects.update(priority="normal")  # low scores open hot: start from normal ones

    client.post(reverse("team-queue-bulk"), {"cases": picked, "owner": str(bob.pk), "priority": "hot"})

    changed = Case.objects.filter(pk__in=picked)
    assert set(changed.values_list("priority", "owner__username")) == {("hot", "bob")}
    assert Case.objects.get(pk=three[2].pk).priority == "normal"
    events = CaseEvent.objects.filter(case__in=picked, kind=CaseEvent.Kind.PRIORITY_CHANGED, actor=lena)
    assert [event.details for event in events] == [{"from": "normal", "to": "hot"}] * 2
    page = client.get(reverse("team-queue"))
    assertContains(page, "Assigned to bob and priority hot:")
    timeline = client.get(reverse("case-detail", args=[picked[0]]))
    assertContains(timeline, "Priority changed from normal to hot.")


def test_bulk_priority_alone_keeps_the_owners(lena, alice, three):
    assert three[0].priority == "hot"  # a score of 3
    _client(lena).post(reverse("team-queue-bulk"), {"cases": [three[0].pk], "owner": "", "priority": "normal"})

    assert Case.objects.filter(pk=three[0].pk).values_list("priority", "owner__username").get() == ("normal", "alice")


def test_an_agent_who_leads_no_team_may_not_change_a_priority(alice, three):
    with pytest.raises(PermissionDenied):
        case_prioritize(case=three[0], priority="normal", actor=alice)
    assert Case.objects.get(pk=three[0].pk).priority == "hot"


def test_a_closed_case_keeps_its_priority(lena, alice, three):
    case_transition(case=three[0], to_status="closed", actor=alice, reason="Customer unreachable")
    with pytest.raises(ApplicationError, match="reopen it first"):
        case_prioritize(case=three[0], priority="normal", actor=lena)
    with pytest.raises(ApplicationError, match="Invalid priority"):
        case_prioritize(case=three[1], priority="urgent", actor=lena)


def test_bulk_assignment_without_an_owner_changes_nothing(lena, alice, three):
    response = _client(lena).post(
        reverse("team-queue-bulk"), {"cases": [c.pk for c in three], "owner": ""}, follow=True
    )

    assertContains(response, "Nothing was changed")
    assert set(Case.objects.values_list("owner__username", flat=True)) == {"alice"}


def test_bulk_assignment_ignores_cases_outside_the_leads_teams(lena, bob, three, survey):
    from followups.services import team_create

    make_user("olga", "agent")
    other = team_create(slug="other", name="Other", members=["olga"])
    Case.objects.filter(pk=three[0].pk).update(team=other)

    client = _client(lena)
    client.post(reverse("team-queue-bulk"), {"cases": [c.pk for c in three], "owner": str(bob.pk)})

    response = client.get(reverse("team-queue"))
    assertContains(response, f"Not changed: case {three[0].pk} (not an open case of your teams).")
    owners = dict(Case.objects.values_list("pk", "owner__username"))
    assert owners[three[0].pk] == "alice"
    assert owners[three[1].pk] == owners[three[2].pk] == "bob"


def test_agents_may_not_bulk_assign(alice, bob, three):
    response = _client(alice).post(reverse("team-queue-bulk"), {"cases": [three[0].pk], "owner": str(bob.pk)})

    assert response.status_code == 403
    assert Case.objects.get(pk=three[0].pk).owner == alice


def test_the_team_queue_offers_a_box_per_case_for_the_bulk_form(lena, three):
    response = _client(lena).get(reverse("team-queue"))

    for case in three:
        assertContains(response, f'name="cases" value="{case.pk}" form="bulk-form"')
    assertContains(response, 'id="bulk-form"')


# Queries


@pytest.mark.parametrize(("username", "page"), [("alice", "queue"), ("alice", "queue-done"), ("lena", "team-queue")])
def test_searched_and_sorted_queues_stay_at_a_fixed_number_of_queries(username, page, mine, alice, lena):
    user = {"alice": alice, "lena": lena}[username]
    client = _client(user)
    counts = []
    for total in (3, 30):
        while Case.objects.count() < total:
            n = Case.objects.count()
            case = mine(f"Customer {n}", external_id=f"CUST-{n}", comment=f"printer {n}", ticket=f"T-{n}")
            if page == "queue-done":
                _finish(case, "resolved")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(page), {"q": "printer", "sort": "-customer"})
        assert len(_rows(response)) == total
        counts.append(len(queries))

    assert counts[0] == counts[1]
