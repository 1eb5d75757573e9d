"""The case page: what it shows, and each of its forms with and without htmx.

The world is the desk of ``tests/followups/conftest.py``; alice owns the cases unless a test
says otherwise. Without htmx a form redirects back to the page on success and re-renders the
page with its errors on failure; with htmx (``HX-Request: true``) the answer is the page's working
area, which the browser swaps in place.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from followups.models import Case, CaseEvent, ResponseRootCause
from followups.services.cases import case_assign, case_transition
from followups.services.coding import resolution_code_create, root_cause_create
from followups.services.escalation import escalation_sweep
from followups.services.opening import cases_open_for_responses
from surveys.services import responses_ingest, survey_update
from tests.factories import make_cause, make_user

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "case-work"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _options(html: str, name: str) -> list[str]:
    """The values offered by the select named ``name``."""
    start = html.index(f'name="{name}"')
    block = html[start : html.index("</select>", start)]
    return [part.split('"')[0] for part in block.split('<option value="')[1:]]


@pytest.fixture
def case(open_case, alice) -> Case:
    case = open_case(5, comment="The VPN token reset took a week.", ticket_ref="INC-20931")
    return case if case.owner == alice else case_assign(case=case, owner=alice, actor=None)


def _status_actions(html: str) -> list[str]:
    """The statuses the actions panel offers, in its order (buttons and the folded forms' fields)."""
    return re.findall(r'name="status-to" value="([^"]+)"', html)


def _post(user, name: str, case: Case, data: dict, **kwargs):
    return _client(user).post(reverse(name, args=[case.pk]), data, **kwargs)


def _reload(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


# What the page shows


def test_the_page_shows_the_response_customer_history_and_timeline(desk, alice):
    customer = {"external_id": "C-9", "name": "Ana Silva", "email": "ana@example.com", "attributes": {"plan": "gold"}}
    earlier, latest = responses_ingest(
        items=[
            {"survey": "support-2026", "customer": customer, "score": 4, "comment": "Printer again"},
            {"survey": "support-2026", "customer": customer, "score": 2, "comment": "VPN", "channel": "phone"},
        ]
    ).outcomes
    first, case = cases_open_for_responses(response_ids=[earlier.response_id, latest.response_id])

    response = _client(alice).get(reverse("case-detail", args=[case.pk]))

    for text in ("Ana Silva", "ana@example.com", "<dt>plan</dt><dd>gold</dd>", "Phone", "Support 2026"):
        assertContains(response, text)
    assertContains(response, '<span class="score score--detractor">2</span>', html=True)
    assertContains(response, "Printer again")  # the earlier response, with a link to its case
    assertContains(response, f'href="{reverse("case-detail", args=[first.pk])}"')
    assertContains(response, "Case opened with hot priority for team Service desk.")
    assertContains(response, "Assigned to")
    assertContains(response, "First contact")


def test_customer_text_on_the_page_is_escaped(desk, alice):
    customer = {"external_id": "C-6", "name": "<b>Eve</b>", "attributes": {"<i>k</i>": "<img src=x>"}}
    outcome = responses_ingest(
        items=[{"survey": "support-2026", "customer": customer, "score": 1, "comment": "<script>x()</script>"}]
    ).outcomes[0]
    case = cases_open_for_responses(response_ids=[outcome.response_id])[0]

    response = _client(alice).get(reverse("case-detail", args=[case.pk]))

    for raw in ("<b>Eve", "<script>x()", "<img src=x>", "<i>k</i>"):
        assertNotContains(response, raw)
    assertContains(response, "&lt;script&gt;x()&lt;/script&gt;")


def test_a_missing_case_is_a_404(alice, desk):
    assert _client(alice).get(reverse("case-detail", args=[999])).status_code == 404
    assert _client(alice).post(reverse("case-note", args=[999]), {"note-text": "x"}).status_code == 404


def test_only_the_statuses_allowed_next_are_offered(case, alice):
    html = _client(alice).get(reverse("case-detail", args=[case.pk])).content.decode()

    assert _status_actions(html) == ["contacted", "closed"]
    assert 'name="status-reason"' in html  # closing a case never resolved needs a reason...
    assert 'name="status-resolution_code"' not in html  # ...and a new case cannot be resolved yet


def test_another_agent_reads_the_case_without_forms(case, bob):
    response = _client(bob).get(reverse("case-detail", args=[case.pk]))

    assertContains(response, "You can read this case.")
    assertNotContains(response, 'name="status-to"')
    assertNotContains(response, "Take this case")
    assertContains(response, "The VPN token reset took a week.")


def test_another_agent_cannot_change_the_case_by_posting(case, bob):
    response = _post(bob, "case-transition", case, {"status-to": "contacted"})

    assert response.status_code == 403
    assertContains(response, "You may not change this case.", status_code=403)
    assert _reload(case).status == "new"


def test_deadline_states_breaches_and_escalations_are_written_out(case, alice, lena):
    when = case.resolution_due + timedelta(days=2, hours=1)
    with time_machine.travel(when, tick=False):
        escalation_sweep()
        response = _client(alice).get(reverse("case-detail", args=[case.pk]))

    assertContains(response, "First contact deadline breached.")
    assertContains(response, "Resolution deadline breached.")
    assertContains(response, "Escalated to level 2: moved from alice to lena.")
    assertContains(response, 'Deadlines: <span class="due due--overdue">breached first contact and resolution</span>')
    assertContains(response, "<td>breached</td>", count=2)
    days = (when - case.next_due).days  # still the first-contact deadline: nobody reached the customer
    assertContains(response, f'<span class="due due--overdue">overdue by {days} d</span>')


def test_a_pause_is_shown_while_the_case_waits_on_the_customer(case, alice):
    case = case_transition(case=case, to_status="contacted", actor=alice)
    case_transition(case=case, to_status="waiting_on_customer", actor=alice)

    response = _client(alice).get(reverse("case-detail", args=[case.pk]))

    assertContains(response, "still waiting: the resolution clock is stopped")
    assertContains(response, '<span class="due due--paused">paused, waiting on the customer</span>')


# Status changes


def test_changing_the_status_redirects_back_and_records_the_note(case, alice):
    response = _post(alice, "case-transition", case, {"status-to": "contacted", "status-note": "Called, apologised"})

    assertRedirects(response, reverse("case-detail", args=[case.pk]))
    assert _reload(case).status == "contacted"
    page = _client(alice).get(reverse("case-detail", args=[case.pk]))
    assertContains(page, "Status changed from New to Contacted.")
    assertContains(page, "Called, apologised")


def test_a_disallowed_transition_shows_an_error_and_changes_nothing(case, alice):
    events = CaseEvent.objects.filter(case=case).count()

    response = _post(alice, "case-transition", case, {"status-to": "resolved"})

    assert response.status_code == 409
    assertContains(response, "A case cannot go from new to resolved.", status_code=409)
    assert _reload(case).status == "new"
    assert CaseEvent.objects.filter(case=case).count() == events


def test_an_unknown_status_is_a_form_error(case, alice):
    response = _post(alice, "case-transition", case, {"status-to": "archived"})

    assert response.status_code == 400
    assertContains(response, "Select a valid choice.", status_code=400)


def test_closing_an_unresolved_case_needs_a_reason(case, alice):
    response = _post(alice, "case-transition", case, {"status-to": "closed"})

    assertContains(response, "Say why a case closes without resolution.", status_code=400)
    assert _reload(case).status == "new"

    _post(alice, "case-transition", case, {"status-to": "closed", "status-reason": "Duplicate of case 4"})

    closed = _reload(case)
    assert (closed.status, closed.close_reason) == ("closed", "Duplicate of case 4")
    assertContains(_client(alice).get(reverse("case-detail", args=[case.pk])), "Reason: Duplicate of case 4")


def test_resolving_sets_the_chosen_resolution_code(case, alice):
    resolution_code_create(slug="fixed", name="Fixed for good")
    case = case_transition(case=case, to_status="contacted", actor=alice)

    _post(alice, "case-transition", case, {"status-to": "resolved", "status-resolution_code": "fixed"})

    resolved = _reload(case)
    assert (resolved.status, resolved.resolution_code.slug) == ("resolved", "fixed")
    assertContains(_client(alice).get(reverse("case-detail", args=[case.pk])), "Resolution code: Fixed for good")


def test_a_survey_that_requires_coding_refuses_to_resolve_without_it(case, alice, survey):
    survey_update(survey=survey, require_coding=True)
    resolution_code_create(slug="fixed", name="Fixed")
    make_cause("vpn", "VPN")
    case = case_transition(case=case, to_status="contacted", actor=alice)

    refused = _post(alice, "case-transition", case, {"status-to": "resolved"})

    assertContains(refused, "requires a resolution code", status_code=400)
    assertContains(refused, "requires at least one root cause", status_code=400)
    assert _reload(case).status == "contacted"

    _post(alice, "case-root-causes", case, {"rc-root_causes": ["vpn"]})
    _post(alice, "case-transition", case, {"status-to": "resolved", "status-resolution_code": "fixed"})

    assert _reload(case).status == "resolved"


# Notes, contacts, root causes, owner


def test_adding_a_note(case, alice):
    url = reverse("case-note", args=[case.pk])

    page = _client(alice).post(url, {"note-text": "Waiting for <b>IT</b>"}, follow=True)

    assertRedirects(page, reverse("case-detail", args=[case.pk]))
    assertContains(page, "Note added.")
    assertContains(page, "Waiting for &lt;b&gt;IT&lt;/b&gt;")


def test_a_blank_note_is_refused(case, alice):
    response = _post(alice, "case-note", case, {"note-text": "   "})

    assertContains(response, "This field is required.", status_code=400)
    assert not CaseEvent.objects.filter(case=case, kind="note").exists()


def test_a_reached_phone_call_marks_the_case_contacted(case, alice):
    data = {"contact-channel": "phone", "contact-outcome": "reached", "contact-note": "Apologised"}

    assertRedirects(_post(alice, "case-contact", case, data), reverse("case-detail", args=[case.pk]))

    contacted = _reload(case)
    assert contacted.status == "contacted" and contacted.first_contacted_at is not None
    page = _client(alice).get(reverse("case-detail", args=[case.pk]))
    assertContains(page, "Contact logged. Channel: Phone. Outcome: Reached.")


def test_an_unanswered_call_is_logged_but_leaves_the_case_new(case, alice):
    _post(alice, "case-contact", case, {"contact-channel": "phone", "contact-outcome": "no_answer"})

    assert _reload(case).status == "new"
    assert CaseEvent.objects.filter(case=case, kind="contact_logged").count() == 1


def test_an_unknown_contact_channel_is_a_form_error(case, alice):
    response = _post(alice, "case-contact", case, {"contact-channel": "pigeon", "contact-outcome": "reached"})

    assertContains(response, "Select a valid choice.", status_code=400)
    assert not CaseEvent.objects.filter(case=case, kind="contact_logged").exists()


def test_root_causes_are_set_and_replaced(case, alice, taxonomy):
    root_cause_create(slug="vpn", name="VPN", parent="technology")  # the taxonomy's category
    make_cause("tone", "Tone")
    root_cause_create(slug="retired", name="Retired", active=False)

    html = _client(alice).get(reverse("case-detail", args=[case.pk])).content.decode()
    assert "Retired" not in html
    assert html.index("<legend>Technology</legend>") < html.index(" VPN</label>")  # grouped by category

    _post(alice, "case-root-causes", case, {"rc-root_causes": ["vpn", "tone"]})
    _post(alice, "case-root-causes", case, {"rc-root_causes": ["vpn"]})

    codes = ResponseRootCause.objects.filter(response_id=case.response_id)
    assert sorted(codes.values_list("root_cause__slug", flat=True)) == ["vpn"]
    assertContains(_client(alice).get(reverse("case-detail", args=[case.pk])), "Removed: Tone.")


def test_an_inactive_root_cause_is_refused(case, alice):
    root_cause_create(slug="retired", name="Retired", active=False)

    response = _post(alice, "case-root-causes", case, {"rc-root_causes": ["retired"]})

    assert response.status_code == 400
    assertContains(response, "Select a valid choice.", status_code=400)
    assert not ResponseRootCause.objects.exists()


def test_a_manager_gives_the_case_to_another_agent(case, maya, bob):
    html = _client(maya).get(reverse("case-detail", args=[case.pk])).content.decode()
    assert str(bob.pk) in _options(html, "assign-owner")

    assertRedirects(_post(maya, "case-assign", case, {"assign-owner": bob.pk}), f"/cases/{case.pk}/")

    assert _reload(case).owner == bob


def test_the_owner_choice_offers_only_who_may_own_the_case_and_the_service_refuses_others(case, maya, alice, bob, lena):
    outsider = make_user("nina", "agent")  # an agent of no team
    html = _client(maya).get(reverse("case-detail", args=[case.pk])).content.decode()
    assert _options(html, "assign-owner") == ["", str(alice.pk), str(bob.pk), str(lena.pk)]

    response = _post(maya, "case-assign", case, {"assign-owner": outsider.pk})

    assertContains(response, "nina cannot own cases of Service desk.", status_code=400)
    assert _reload(case).owner.username == "alice"


def test_an_agent_of_another_team_is_not_offered_an_unowned_case(case):
    case_assign(case=case, owner=None, actor=None)
    outsider = make_user("nina", "agent")

    assertNotContains(_client(outsider).get(reverse("case-detail", args=[case.pk])), "Take this case")
    response = _post(outsider, "case-assign", case, {"assign-owner": outsider.pk})

    assertContains(response, "nina cannot own cases of Service desk.", status_code=400)
    assert _reload(case).owner is None


def test_an_agent_takes_an_unowned_case(case, bob):
    case_assign(case=case, owner=None, actor=None)
    page = _client(bob).get(reverse("case-detail", args=[case.pk]))
    assertContains(page, "Take this case")

    _post(bob, "case-assign", case, {"assign-owner": bob.pk})

    assert _reload(case).owner == bob


def test_an_agent_cannot_give_a_case_away(case, alice, bob):
    response = _post(alice, "case-assign", case, {"assign-owner": bob.pk})

    assertContains(response, "You may not change this case.", status_code=403)
    assert _reload(case).owner == alice


# htmx


def test_with_htmx_an_action_answers_with_the_work_area_updated(case, alice):
    data = {"contact-channel": "phone", "contact-outcome": "reached"}

    response = _post(alice, "case-contact", case, data, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="case-work"')
    assert "<html" not in html
    assert "Contact logged." in html  # the notice
    assert '<strong class="status">Contacted</strong>' in html
    assert "Channel: Phone. Outcome: Reached." in html  # the timeline
    assert _status_actions(html) == ["in_progress", "waiting_on_customer", "resolved", "closed"]


def test_with_htmx_a_refusal_comes_back_in_the_work_area(case, alice):
    response = _post(alice, "case-transition", case, {"status-to": "resolved"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only successful answers
    assert html.lstrip().startswith('<div id="case-work"')
    assert "A case cannot go from new to resolved." in html
    assert _reload(case).status == "new"


def test_with_htmx_the_owner_form_of_the_case_page_answers_with_the_work_area(case, maya, bob):
    response = _post(maya, "case-assign", case, {"assign-owner": bob.pk}, headers=HTMX)

    assert response.content.decode().lstrip().startswith('<div id="case-work"')
    assert f'<option value="{bob.pk}" selected>bob</option>' in response.content.decode()


def test_the_timeline_is_newest_first(case, alice):
    now = timezone.now()
    _post(alice, "case-note", case, {"note-text": "first note"})
    _post(alice, "case-note", case, {"note-text": "second note"})

    html = _client(alice).get(reverse("case-detail", args=[case.pk])).content.decode()

    assert html.index("second note") < html.index("first note") < html.index("Case opened")
    assert CaseEvent.objects.filter(case=case, at__gte=now, kind="note").count() == 2
