"""The case page's summary: why a case is hot, the next deadline with its working time left, how a
closed case was closed, its place in the agent's queue, and a fixed number of queries.

The world is the desk of ``tests/followups/conftest.py``; alice owns the cases.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from followups.models import Case, ResponseRootCause
from followups.services.cases import case_assign, case_contact_log, case_note_add, case_transition

pytestmark = pytest.mark.django_db


def _page(user, case: Case):
    client = Client()
    client.force_login(user)
    return client.get(reverse("case-detail", args=[case.pk]))


@pytest.fixture
def owned(open_case, alice):
    def build(score: int = 2, **fields) -> Case:
        case = open_case(score, **fields)
        return case if case.owner == alice else case_assign(case=case, owner=alice, actor=None)

    return build


def test_a_hot_case_says_it_is_hot_for_its_score(owned, alice):
    response = _page(alice, owned(2, comment="Slow."))

    assertContains(response, "Score 2 is at or below the survey's threshold of 3.")


def test_a_hot_case_says_which_hot_word_its_comment_uses(owned, alice):
    response = _page(alice, owned(6, comment="I will CANCEL my contract."))

    assertContains(response, "the comment mentions “cancel”.")
    assertNotContains(response, "at or below the survey")


def test_the_next_deadline_is_named_with_its_working_time_left(owned, alice):
    case = owned(2)

    html = _page(alice, case).content.decode()

    assert "First contact, due" in html
    assert re.search(r"\d+ (h|min|d) of working time left", html)

    case_contact_log(case=case, actor=alice, channel="phone", outcome="reached", note="")
    assert "Resolution, due" in _page(alice, Case.objects.get(pk=case.pk)).content.decode()


def test_a_closed_case_reads_as_closed_with_a_single_reopen(owned, alice):
    case = owned(2)
    case = case_transition(case=case, to_status="contacted", actor=alice)
    case = case_transition(case=case, to_status="resolved", actor=alice)
    case = case_transition(case=case, to_status="closed", actor=alice)

    html = _page(alice, case).content.decode()

    for text in ("<dt>Resolved</dt>", "<dt>Closed</dt>", "by alice", "<dt>Time to resolve</dt>", "of working time)"):
        assert text in html
    assert re.findall(r'name="status-to" value="([^"]+)"', html) == ["in_progress"]
    assert ">Reopen</button>" in html
    for form in ('name="note-text"', 'name="contact-channel"', 'name="rc-root_causes"', 'name="status-reason"'):
        assert form not in html


def test_a_resolved_case_offers_close_and_reopen_only(owned, alice):
    case = case_transition(case=owned(2), to_status="contacted", actor=alice)
    case = case_transition(case=case, to_status="resolved", actor=alice)

    html = _page(alice, case).content.decode()

    assert re.findall(r'name="status-to" value="([^"]+)"', html) == ["closed", "in_progress"]
    assert 'name="status-reason"' not in html  # a resolved case closes without a reason


def test_previous_and_next_follow_the_order_of_the_queue(owned, alice):
    cases = [owned(2) for _ in range(3)]
    in_queue = sorted(cases, key=lambda case: (case.next_due, case.pk))

    html = _page(alice, in_queue[1]).content.decode()

    assert f'href="{reverse("case-detail", args=[in_queue[0].pk])}" rel="prev"' in html
    assert f'href="{reverse("case-detail", args=[in_queue[2].pk])}" rel="next"' in html
    assert "2 of 3 in my queue" in html


def test_the_timeline_names_people_and_teams_not_their_usernames_and_slugs(owned, alice, lena):
    lena.first_name, lena.last_name = "Lena", "Lind"
    lena.save()
    case = owned(2)
    case_assign(case=case, owner=lena, actor=None)

    html = _page(lena, case).content.decode()

    assert "Owner changed from alice to Lena Lind." in html
    assert "for team Service desk." in html


def test_the_case_page_has_a_fixed_number_of_queries(owned, alice):
    counts = []
    for extra in (1, 12):
        case = owned(2)
        for number in range(extra):
            case_note_add(case=case, actor=alice, text=f"note {number}")
            owned(3)  # and a longer queue
        with CaptureQueriesContext(connection) as queries:
            response = _page(alice, case)
        assert response.status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_the_outer_loops_suggestion_is_offered_and_accepting_it_codes_the_case(owned, alice, taxonomy):
    case = owned(2, comment="The VPN keeps dropping.")

    html = _page(alice, case).content.decode()

    assert 'name="sug-root_cause" value="vpn-access"' in html
    assert "Root causes (1 suggested)" in html
    client = Client()
    client.force_login(alice)
    data = {"sug-root_cause": "vpn-access", "sug-source": "keyword"}
    response = client.post(reverse("case-suggestion-accept", args=[case.pk]), data, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "Suggested root cause accepted." in html
    assert 'name="sug-root_cause" value="vpn-access"' not in html  # coded now, so no longer suggested
    assert ResponseRootCause.objects.get(response_id=case.response_id).root_cause.slug == "vpn-access"


def test_a_suggestion_for_an_unknown_cause_is_refused_in_place(owned, alice, taxonomy):
    case = owned(2, comment="The VPN keeps dropping.")
    client = Client()
    client.force_login(alice)

    response = client.post(
        reverse("case-suggestion-accept", args=[case.pk]),
        {"sug-root_cause": "nope", "sug-source": "keyword"},
        headers={"HX-Request": "true"},
    )

    assert "No root cause" in response.content.decode()
    assert not ResponseRootCause.objects.filter(response_id=case.response_id).exists()
