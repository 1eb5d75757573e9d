"""The manager's improvement pages: the board by status and priority, a new one from a theme, one improvement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from followups.models import Improvement, ImprovementStatusChange, ResponseRootCause, RootCause
from followups.services.improvements import improvement_create, improvement_move, improvement_priority_override
from tests.factories import make_response


def respond(score: int, *slugs: str, **fields):
    response = make_response(score, submitted_at=timezone.now() - timedelta(days=5), **fields)
    causes = RootCause.objects.in_bulk(slugs, field_name="slug")
    ResponseRootCause.objects.bulk_create(ResponseRootCause(response=response, root_cause=causes[s]) for s in slugs)


@pytest.fixture
def manager(maya) -> Client:
    client = Client()
    client.force_login(maya)
    return client


@pytest.fixture
def board(survey, taxonomy, maya, alice) -> dict[str, Improvement]:
    respond(0, "slow-response")
    respond(1, "slow-response")
    respond(2, "vpn-access")
    respond(10)
    slow = improvement_create(
        title="Answer within the hour", actor=maya, root_causes=[taxonomy["slow-response"]], owner=alice
    )
    vpn = improvement_create(title="New VPN <client>", actor=maya, root_causes=[taxonomy["vpn-access"]])
    declined = improvement_create(title="Robots", actor=maya)
    improvement_move(improvement=declined, to_status="declined", actor=maya)
    return {"slow": slow, "vpn": vpn, "declined": declined}


def page(client: Client, url: str, expect: int = 200, **params) -> str:
    reply = client.get(url, params)
    assert reply.status_code == expect, reply.content[:500]
    return reply.content.decode()


def test_the_board_groups_by_status_ranks_by_priority_and_explains_it(manager, board):
    html = page(manager, "/improvements/")
    for heading in ("Proposed", "Planned", "In progress", "Shipped", "Declined"):
        assert f'">{heading} <span class="muted">' in html
    assert html.index("Answer within the hour") < html.index("New VPN &lt;client&gt;") < html.index("Robots")
    assert "Raised by 2 customers; their themes cost" in html
    assert "No improvement is shipped." in html

    declined_only = page(manager, "/improvements/", status="declined")
    assert "Robots" in declined_only and "Answer within the hour" not in declined_only


def test_a_theme_row_links_to_a_new_improvement_prefilled_with_its_cause(manager, board):
    themes = page(manager, "/themes/")
    assert 'href="/improvements/new/?root_cause=slow-response"' in themes
    html = page(manager, "/improvements/new/", root_cause="slow-response")
    assert 'value="Fix: Slow first response"' in html
    assert '<option value="slow-response" selected>' in html


def test_creating_an_improvement_goes_to_its_page(manager, board, maya):
    reply = manager.post(
        "/improvements/new/",
        {"title": "Status mails", "root_causes": ["no-updates", "process"], "owner": "maya", "lookback_days": "90"},
    )
    made = Improvement.objects.get(title="Status mails")
    assert reply.status_code == 302 and reply.url == f"/improvements/{made.pk}/"
    assert sorted(made.root_causes.values_list("slug", flat=True)) == ["no-updates", "process"]
    assert made.owner == maya and made.lookback_days == 90


def test_a_bad_form_is_explained_and_stores_nothing(manager, board):
    before = Improvement.objects.count()
    html = page(manager, "/improvements/new/")
    reply = manager.post("/improvements/new/", {"title": "", "root_causes": ["nope"], "lookback_days": "0"})
    assert reply.status_code == 400
    assert "field__error" in reply.content.decode()
    assert Improvement.objects.count() == before
    assert "csrfmiddlewaretoken" in html


def test_the_improvement_page_offers_only_allowed_moves_and_shows_the_history(manager, board, maya):
    pk = board["slow"].pk
    html = page(manager, f"/improvements/{pk}/")
    assert 'value="planned"' in html and 'value="declined"' in html and 'value="in_progress"' in html
    assert 'name="status" value="shipped"' not in html and 'name="status" value="proposed"' not in html
    assert 'href="/themes/slow-response/"' in html
    assert "Pending</dt><dd>0" in html and "Suppressed</dt><dd>0" in html

    reply = manager.post(f"/improvements/{pk}/status/", {"status": "planned"})
    assert reply.status_code == 302
    html = page(manager, f"/improvements/{pk}/")
    assert "(created)" in html and "Planned</td>" in html
    assert list(ImprovementStatusChange.objects.filter(improvement_id=pk).values_list("to_status", flat=True)) == [
        "proposed",
        "planned",
    ]
    refused = manager.post(f"/improvements/{pk}/status/", {"status": "shipped"}, follow=True)
    assert "/ship/" in refused.content.decode()
    assert Improvement.objects.get(pk=pk).status == "planned"


def test_the_override_needs_a_reason_and_is_shown_with_it(manager, board):
    pk = board["vpn"].pk
    refused = manager.post(f"/improvements/{pk}/priority/", {"score": "900", "reason": ""})
    assert refused.status_code == 400
    assert Improvement.objects.get(pk=pk).priority_override is None
    manager.post(f"/improvements/{pk}/priority/", {"score": "900", "reason": "Audit <finding>"})
    html = page(manager, f"/improvements/{pk}/")
    assert "Score 900 set by a manager: Audit &lt;finding&gt;. Computed: raised by 1 customer" in html
    assert page(manager, "/improvements/").index("New VPN") < page(manager, "/improvements/").index("Answer within")
    manager.post(f"/improvements/{pk}/priority/", {"clear": "1"})
    assert Improvement.objects.get(pk=pk).priority_override is None


def test_editing_changes_the_fields(manager, board):
    pk = board["vpn"].pk
    reply = manager.post(
        f"/improvements/{pk}/",
        {
            "title": "VPN client",
            "root_causes": ["vpn-access", "network"],
            "owner": "",
            "lookback_days": "30",
            "customer_message": "We replaced the VPN client.",
            "target_date": "2027-03-01",
        },
    )
    assert reply.status_code == 302
    changed = Improvement.objects.get(pk=pk)
    assert changed.title == "VPN client" and changed.lookback_days == 30 and str(changed.target_date) == "2027-03-01"
    assert sorted(changed.root_causes.values_list("slug", flat=True)) == ["network", "vpn-access"]


@pytest.mark.parametrize("url", ["/improvements/", "/improvements/new/"])
def test_only_managers_open_the_pages(url, alice, board, client):
    client.force_login(alice)
    assert client.get(url).status_code == 403
    assert client.get(f"/improvements/{board['slow'].pk}/").status_code == 403
    assert client.post(f"/improvements/{board['slow'].pk}/status/", {"status": "planned"}).status_code == 403


def test_an_unknown_improvement_is_a_404(manager, board):
    assert manager.get("/improvements/999999/").status_code == 404


def test_the_pages_read_a_fixed_number_of_queries(manager, board, maya, taxonomy, django_assert_num_queries):
    detail = f"/improvements/{board['slow'].pk}/"
    page(manager, "/improvements/")  # warm the session and roles
    # Board: session, user, roles, the improvements, their root causes, their priorities.
    with django_assert_num_queries(6) as small:
        page(manager, "/improvements/")
    # Page: session, user, roles, the check it exists, the improvement, its causes, history,
    # priority, deliveries, the root-cause and owner choices.
    with django_assert_num_queries(11) as detail_small:
        page(manager, detail)
    for n in range(8):
        made = improvement_create(
            title=f"More {n}", actor=maya, root_causes=[taxonomy["hardware"], taxonomy["network"]]
        )
        improvement_move(improvement=made, to_status="planned", actor=maya)
        improvement_move(improvement=board["slow"], to_status=["planned", "proposed"][n % 2], actor=maya)
        respond(n % 11, "hardware", "slow-response")
    improvement_priority_override(improvement=made, score=5, reason="why")
    with django_assert_num_queries(len(small.captured_queries)):
        page(manager, "/improvements/")
    with django_assert_num_queries(len(detail_small.captured_queries)):
        page(manager, detail)
