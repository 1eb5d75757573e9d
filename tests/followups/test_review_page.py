"""The manager's review page of uncoded comments: filters, suggestions, accept, reject, code, skip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from followups.models import ResponseRootCause, SuggestionDecision
from followups.services import team_create
from followups.services.suggestions import suggestion_model_train
from tests.factories import handled_by, make_response, make_survey

NOVEMBER_10 = datetime(2026, 11, 10, 10, tzinfo=UTC)


@pytest.fixture
def manager(maya) -> Client:
    client = Client()
    client.force_login(maya)
    return client


def page(client: Client, **params) -> str:
    reply = client.get(reverse("review"), params)
    assert reply.status_code == 200, reply.content[:500]
    return reply.content.decode()


@pytest.fixture
def comments(survey, taxonomy):
    """Two uncoded comments, one coded one, one response without a comment."""
    vpn = make_response(7, comment="The VPN <b>drops</b> every hour", submitted_at=NOVEMBER_10, customer="C-vpn")
    laptop = make_response(10, comment="New laptop arrived fast", submitted_at=datetime(2026, 10, 1, tzinfo=UTC))
    coded = make_response(8, comment="vpn again", submitted_at=NOVEMBER_10)
    ResponseRootCause.objects.create(response=coded, root_cause=taxonomy["vpn-access"])
    make_response(9, submitted_at=NOVEMBER_10)
    return {"vpn": vpn, "laptop": laptop, "coded": coded}


def test_uncoded_comments_show_with_their_suggestions_and_the_keys(manager, comments):
    html = page(manager)
    assert "2 comments to code" in html
    assert "The VPN &lt;b&gt;drops&lt;/b&gt; every hour" in html  # customer text is escaped
    assert "New laptop arrived fast" in html
    assert "vpn again" not in html
    assert "mentions &quot;vpn&quot;" in html and "mentions &quot;laptop&quot;" in html
    assert "VPN and remote access" in html and "Technology" in html
    assert html.index("The VPN") < html.index("New laptop")  # newest first
    for key in ("<kbd>j</kbd>", "<kbd>k</kbd>", "<kbd>a</kbd>", "<kbd>Enter</kbd>", "<kbd>s</kbd>", "<kbd>1</kbd>"):
        assert key in html
    assert "followups/review.js" in html
    assert 'name="csrfmiddlewaretoken"' in html
    # The picker offers active causes, grouped by category, and no category itself.
    picker = html[html.index(f'id="code-{comments["vpn"].pk}"') :]
    picker = picker[: picker.index("</select>")]
    assert '<optgroup label="Technology">' in picker and '<option value="vpn-access">' in picker
    assert '<option value="technology">' not in picker


def test_filters_by_survey_period_category_and_team(manager, comments, alice):
    other = make_survey("onboarding")
    make_response(7, survey=other.slug, comment="printer jammed", submitted_at=NOVEMBER_10)
    assert "printer jammed" in page(manager)
    assert "printer jammed" not in page(manager, survey="support-2026")
    html = page(manager, start="2026-11-01", end="2026-11-30")
    assert "The VPN" in html and "New laptop" not in html
    html = page(manager, category="technology")
    assert "The VPN" in html and "New laptop" in html and "1 comment" not in html
    html = page(manager, category="process")
    assert "No uncoded comments match these filters." in html

    team_create(slug="desk", name="Desk", members=["alice"], lead="alice")
    detractor = make_response(2, comment="wifi gone", submitted_at=NOVEMBER_10)
    handled_by(detractor, "desk")
    html = page(manager, team="desk")
    assert "wifi gone" in html and "The VPN" not in html


def test_bad_filters_are_a_400_page(manager, comments):
    assert manager.get(reverse("review"), {"start": "2026-12-01", "end": "2026-11-01"}).status_code == 400
    assert manager.get(reverse("review"), {"category": "nope"}).status_code == 400


def test_accepting_a_suggestion_codes_the_comment_and_goes_back_to_the_same_filters(manager, comments):
    vpn = comments["vpn"]
    data = {"root_cause": "vpn-access", "source": "keyword", "accepted": "true", "query": "survey=support-2026"}
    reply = manager.post(reverse("review-decide", args=[vpn.pk]), data)
    assert reply.status_code == 302 and reply["Location"] == "/review/?survey=support-2026"
    code = ResponseRootCause.objects.get(response=vpn)
    assert (code.root_cause.slug, code.source, code.coded_by.username) == ("vpn-access", "suggestion", "maya")
    decision = SuggestionDecision.objects.get(response=vpn)
    assert (decision.accepted, decision.source, decision.model_version) == (True, "keyword", None)
    html = page(manager)
    assert "Coded as VPN and remote access." in html
    assert "The VPN" not in html and "1 comment to code" in html


def test_with_htmx_the_card_is_swapped_in_place(manager, comments):
    laptop = comments["laptop"]
    headers = {"HTTP_HX_REQUEST": "true"}
    data = {"root_cause": "hardware", "source": "keyword", "accepted": "false", "model_version": "7"}
    reply = manager.post(reverse("review-decide", args=[laptop.pk]), data, **headers)
    html = reply.content.decode()
    assert reply.status_code == 200 and html.lstrip().startswith("{#") is False
    assert f'id="comment-{laptop.pk}"' in html and "Laptop and hardware: not suggested again." in html
    assert "<html" not in html
    assert SuggestionDecision.objects.get(response=laptop).model_version == 7
    assert not ResponseRootCause.objects.filter(response=laptop).exists()

    reply = manager.post(reverse("review-code", args=[laptop.pk]), {"root_cause": "hardware"}, **headers)
    assert "Coded as Laptop and hardware." in reply.content.decode()
    code = ResponseRootCause.objects.get(response=laptop)
    assert (code.source, code.coded_by.username) == ("manager", "maya")


def test_refusals_come_back_on_the_card_or_as_a_message(manager, comments):
    vpn = comments["vpn"]
    headers = {"HTTP_HX_REQUEST": "true"}
    reply = manager.post(reverse("review-code", args=[vpn.pk]), {"root_cause": "technology"}, **headers)
    assert "is a category; code with one of its causes." in reply.content.decode()
    reply = manager.post(reverse("review-decide", args=[vpn.pk]), {"root_cause": "vpn-access", "source": "x"})
    assert reply.status_code == 302
    assert "One of keyword, classifier." in page(manager)
    assert not ResponseRootCause.objects.filter(response=vpn).exists()
    assert manager.post(reverse("review-code", args=[10**9]), {"root_cause": "hardware"}).status_code == 404


def test_skipping_hides_a_comment_for_this_session_only(manager, comments, maya):
    vpn = comments["vpn"]
    reply = manager.post(reverse("review-skip", args=[vpn.pk]), {"query": ""}, HTTP_HX_REQUEST="true")
    assert "Skipped" in reply.content.decode()
    html = page(manager)
    assert "The VPN" not in html and "not counting 1 you skipped" in html
    other = Client()
    other.force_login(maya)
    assert "The VPN" in page(other)
    assert not ResponseRootCause.objects.filter(response=vpn).exists()


def test_only_managers_review(alice, comments, client):
    assert client.get(reverse("review")).status_code == 302
    client.force_login(alice)
    assert client.get(reverse("review")).status_code == 403
    data = {"root_cause": "vpn-access", "source": "keyword", "accepted": "true"}
    assert client.post(reverse("review-decide", args=[comments["vpn"].pk]), data).status_code == 403
    assert client.get(reverse("review-decide", args=[comments["vpn"].pk])).status_code in {403, 405}


def test_the_page_is_paginated(manager, survey, taxonomy):
    for n in range(23):
        make_response(7, comment=f"comment number {n}")
    first = page(manager)
    assert "23 comments to code" in first and "Page 1 of 2" in first
    assert "comment number 22" in first and "comment number 2<" not in first
    assert "comment number 2<" in page(manager, page=2)


@pytest.mark.parametrize("category", ["", "technology"])
def test_the_page_reads_a_fixed_number_of_queries(manager, coded_comments, category, django_assert_num_queries):
    coded_comments(times=2)
    suggestion_model_train()
    for n in range(2):
        make_response(7, comment=f"my laptop {n}")
    page(manager, category=category)  # warm the session, roles and the model
    # Session, user, roles; the survey, category and team choices; the comments (a count and a
    # page, or all of them at once); the causes, the model's version, codes and decisions.
    with django_assert_num_queries(12 if not category else 11) as small:
        page(manager, category=category)
    for n in range(30):
        make_response(7, comment=f"the vpn and laptop {n}")
    with django_assert_num_queries(len(small.captured_queries)):
        html = page(manager, category=category)
    assert "32 comments to code" in html


def test_the_taxonomy_page_shows_the_model_and_its_quality_and_trains_on_demand(
    manager, coded_comments, django_capture_on_commit_callbacks
):
    html = manager.get(reverse("taxonomy")).content.decode()
    assert "No classifier trained yet" in html and reverse("review") in html
    coded_comments(times=3)
    with django_capture_on_commit_callbacks(execute=True):
        reply = manager.post(reverse("suggestions-train"))
    assert reply.status_code == 302
    html = manager.get(reverse("taxonomy")).content.decode()
    assert "Model version 1" in html and "on\n        27 coded comments" in html
    assert 'id="quality-slow-response"' in html and 'id="quality-macro"' in html
    assert "Classifier precision" in html and "Keywords recall" in html
    assert "the 5 most recent coded comments" in html.replace("\n        ", " ")
