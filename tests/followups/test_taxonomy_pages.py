"""The manager's root-cause page: the tree with its counts, adding, editing, (de)activating and merging."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from followups.models import ResponseRootCause, RootCause, RootCauseMerge
from followups.services.coding import root_cause_create, root_cause_merge, root_cause_update
from tests.factories import make_response

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, maya, taxonomy) -> Client:
    client.force_login(maya)
    return client


def _pages() -> list[tuple[str, str]]:
    return [
        ("get", reverse("taxonomy")),
        ("post", reverse("taxonomy")),
        ("get", reverse("root-cause-edit", args=["hardware"])),
        ("post", reverse("root-cause-edit", args=["hardware"])),
        ("post", reverse("root-cause-active", args=["hardware"])),
        ("get", reverse("root-cause-merge", args=["hardware"]) + "?into=network"),
        ("post", reverse("root-cause-merge", args=["hardware"])),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(client, taxonomy):
    for method, url in _pages():
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_agents_get_403_and_change_nothing(client, alice, taxonomy):
    client.force_login(alice)
    for method, url in _pages():
        assert getattr(client, method)(url, {"name": "Changed", "into": "network"}).status_code == 403, url
    assert RootCause.objects.get(slug="hardware").name == "Laptop and hardware"
    assert not RootCauseMerge.objects.exists()


def test_the_navigation_links_the_page_for_managers_only(client, alice, maya, taxonomy):
    client.force_login(alice)
    assertNotContains(client.get(reverse("queue")), reverse("taxonomy"))
    client.force_login(maya)
    assertContains(client.get(reverse("home")), f'href="{reverse("taxonomy")}"')


def test_the_page_shows_categories_with_their_causes_counts_and_retired_ones_apart(manager_client, survey, taxonomy):
    for score in (1, 2, 3):
        ResponseRootCause.objects.create(response=make_response(score), root_cause=taxonomy["hardware"])
    root_cause_update(root_cause=taxonomy["network"], active=False)
    root_cause_merge(root_cause=taxonomy["email-calendar"], into=taxonomy["vpn-access"], actor=None)

    html = manager_client.get(reverse("taxonomy")).content.decode()

    technology = html[
        html.index('id="category-technology"') : html.index("</section>", html.index('id="category-technology"'))
    ]
    assert "Laptop and hardware" in technology and "VPN and remote access" in technology
    assert "Network and Wi-Fi" not in technology and "Email and calendar" not in technology
    hardware_row = html[
        html.index('id="root-cause-hardware"') : html.index("</tr>", html.index('id="root-cause-hardware"'))
    ]
    assert '<td class="num" data-label="Codes">3</td>' in hardware_row
    retired = html[html.index('id="retired-title"') :]
    assert "Network and Wi-Fi" in retired and "Merged into VPN and remote access" in retired
    assert "3 codes in this category" in technology


def test_customer_and_manager_text_is_escaped(manager_client, taxonomy):
    root_cause_create(slug="xss", name="<script>alert(1)</script>", parent="people", keywords=["<b>bold</b>"])

    html = manager_client.get(reverse("taxonomy")).content.decode()

    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html


def test_every_form_carries_a_csrf_token(manager_client, taxonomy):
    for url in (reverse("taxonomy"), reverse("root-cause-edit", args=["hardware"])):
        html = manager_client.get(url).content.decode()
        posts = html.count('method="post"')
        assert posts and html.count('name="csrfmiddlewaretoken"') >= posts, url
    html = manager_client.get(reverse("root-cause-merge", args=["hardware"]) + "?into=network").content.decode()
    assert 'name="csrfmiddlewaretoken"' in html


@pytest.mark.parametrize("causes", [5, 60])
def test_the_page_reads_a_fixed_number_of_queries_whatever_the_taxonomy(
    manager_client, survey, taxonomy, django_assert_max_num_queries, causes
):
    response = make_response(2)
    for number in range(causes):
        cause = root_cause_create(slug=f"extra-{number}", name=f"Extra {number}", parent="process")
        ResponseRootCause.objects.create(response=response, root_cause=cause)
    root_cause_update(root_cause=taxonomy["hardware"], active=False)
    root_cause_merge(root_cause=taxonomy["network"], into=taxonomy["vpn-access"], actor=None)

    # The session and its user, the user's roles, the taxonomy, the latest merges, the suggestion model.
    with django_assert_max_num_queries(6):
        page = manager_client.get(reverse("taxonomy"))
    assertContains(page, f"Extra {causes - 1}")


def test_a_manager_adds_a_category_and_a_cause_under_it(manager_client):
    url = reverse("taxonomy")
    added = manager_client.post(url, {"name": "Facilities", "slug": "facilities", "parent": ""}, follow=True)
    assertRedirects(added, url)
    assertContains(added, "Category Facilities added.")

    data = {"name": "Desk phone", "slug": "desk-phone", "parent": "facilities", "keywords": "Phone, handset , "}
    assertRedirects(manager_client.post(url, data), url)

    cause = RootCause.objects.get(slug="desk-phone")
    assert (cause.parent.slug, cause.keywords) == ("facilities", ["phone", "handset"])


def test_a_taken_slug_or_a_missing_name_is_shown_on_the_form(manager_client):
    refused = manager_client.post(reverse("taxonomy"), {"name": "Again", "slug": "hardware", "parent": "technology"})
    assertContains(refused, "already exists", status_code=400)
    refused = manager_client.post(reverse("taxonomy"), {"name": "", "slug": "new-one"})
    assertContains(refused, "This field is required.", status_code=400)
    assert not RootCause.objects.filter(name="Again").exists() and not RootCause.objects.filter(slug="new-one").exists()


def test_a_manager_renames_rekeys_and_moves_a_cause(manager_client):
    url = reverse("root-cause-edit", args=["email-calendar"])
    data = {"name": "Mail & calendars", "parent": "product", "description": "", "keywords": "mail, Calendar"}

    assertRedirects(manager_client.post(url, data), url)

    cause = RootCause.objects.get(slug="email-calendar")
    assert (cause.name, cause.parent.slug, cause.keywords) == ("Mail & calendars", "product", ["mail", "calendar"])
    assertContains(manager_client.get(url), "Mail &amp; calendars")


def test_a_category_with_causes_offers_no_move(manager_client):
    html = manager_client.get(reverse("root-cause-edit", args=["technology"])).content.decode()
    assert 'name="parent"' not in html and "A category with causes stays a category." in html
    post = manager_client.post(reverse("root-cause-edit", args=["technology"]), {"name": "Tech", "parent": "people"})
    assert post.status_code == 302
    assert RootCause.objects.get(slug="technology").parent is None


def test_deactivating_and_reactivating_a_cause(manager_client):
    url = reverse("root-cause-active", args=["hardware"])

    page = manager_client.post(url, {"active": "false"}, follow=True)
    assertContains(page, "deactivated")
    assert not RootCause.objects.get(slug="hardware").active
    manager_client.post(url, {"active": "true"})
    assert RootCause.objects.get(slug="hardware").active


def test_a_merge_is_confirmed_then_done(manager_client, maya, survey, taxonomy):
    ResponseRootCause.objects.create(response=make_response(2), root_cause=taxonomy["hardware"])
    url = reverse("root-cause-merge", args=["hardware"])

    edit = manager_client.get(reverse("root-cause-edit", args=["hardware"])).content.decode()
    assert '<option value="network">' in edit and '<option value="technology">' not in edit
    confirm = manager_client.get(url, {"into": "network"})
    assertContains(confirm, "1 code of Laptop and hardware moves to Network and Wi-Fi")
    assert RootCause.objects.get(slug="hardware").active

    done = manager_client.post(url, {"into": "network"}, follow=True)

    assertRedirects(done, reverse("taxonomy"))
    assertContains(done, "Laptop and hardware merged into Network and Wi-Fi: 1 codes moved.")
    merge = RootCauseMerge.objects.get()
    assert (merge.root_cause.slug, merge.into.slug, merge.actor, merge.codes_moved) == ("hardware", "network", maya, 1)
    assert ResponseRootCause.objects.get().root_cause.slug == "network"


def test_a_merge_into_a_cause_not_offered_is_refused(manager_client, taxonomy):
    root_cause_update(root_cause=taxonomy["network"], active=False)
    url = reverse("root-cause-merge", args=["hardware"])

    for refused in (manager_client.get(url, {"into": "network"}), manager_client.post(url, {"into": "technology"})):
        assertContains(refused, "Select a valid choice.", status_code=400)
    assert not RootCauseMerge.objects.exists()


def test_the_case_page_offers_only_active_causes(open_case, alice, taxonomy):
    case = open_case()
    root_cause_update(root_cause=taxonomy["hardware"], active=False)
    root_cause_update(root_cause=taxonomy["policy"], active=False)
    client = Client()
    client.force_login(alice)

    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()

    assert 'value="vpn-access"' in html
    assert 'value="hardware"' not in html and 'value="approval-rules"' not in html


def test_the_case_page_keeps_a_code_of_a_retired_cause_unless_unticked(open_case, alice, taxonomy):
    from followups.services.cases import case_root_causes_set

    case = open_case()
    case_root_causes_set(case=case, actor=alice, slugs=["hardware"])
    root_cause_update(root_cause=taxonomy["hardware"], active=False)
    client = Client()
    client.force_login(alice)
    url = reverse("case-root-causes", args=[case.pk])

    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert 'value="hardware"' in html and "Laptop and hardware, retired: untick to remove" in html

    client.post(url, {"rc-root_causes": ["hardware", "network"]})
    assert set(case.response.root_cause_codes.values_list("root_cause__slug", flat=True)) == {"hardware", "network"}
    client.post(url, {"rc-root_causes": ["network"]})
    assert set(case.response.root_cause_codes.values_list("root_cause__slug", flat=True)) == {"network"}
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert 'value="hardware"' not in html


def test_saving_a_cause_of_an_inactive_category_leaves_it_there(manager_client, taxonomy):
    root_cause_update(root_cause=taxonomy["policy"], active=False)
    url = reverse("root-cause-edit", args=["licence-limits"])

    html = manager_client.get(url).content.decode()
    assert '<option value="policy" selected>Policy (inactive)</option>' in html
    saved = manager_client.post(url, {"name": "Licences", "parent": "policy", "description": "", "keywords": "seat"})

    assert saved.status_code == 302
    cause = RootCause.objects.get(slug="licence-limits")
    assert (cause.name, cause.parent.slug) == ("Licences", "policy")
    moved = manager_client.post(url, {"name": "Licences", "parent": "process", "description": "", "keywords": ""})
    assert moved.status_code == 302 and RootCause.objects.get(slug="licence-limits").parent.slug == "process"
    back = manager_client.post(url, {"name": "Licences", "parent": "policy", "description": "", "keywords": ""})
    assert back.status_code == 400 and RootCause.objects.get(slug="licence-limits").parent.slug == "process"


@pytest.mark.parametrize("causes", [5, 60])
def test_a_root_causes_page_reads_a_fixed_number_of_queries(
    manager_client, taxonomy, django_assert_max_num_queries, causes
):
    for number in range(causes):
        root_cause_create(slug=f"extra-{number}", name=f"Extra {number}", parent="process")

    # The session, its user, the roles; the cause, its codes, the categories, the merge candidates.
    with django_assert_max_num_queries(7):
        page = manager_client.get(reverse("root-cause-edit", args=["hardware"]))
    assertContains(page, f"Extra {causes - 1} (Process)")
