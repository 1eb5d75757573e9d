"""A manager looks after the root-cause taxonomy in the browser: renames a cause, then merges two."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import Page, expect

from followups.models import ResponseRootCause, RootCause, RootCauseMerge
from followups.services.coding import root_cause_taxonomy_seed
from tests.browser.conftest import LAPTOP, sign_in
from tests.factories import PASSWORD, make_response, make_survey, make_user


def test_a_manager_renames_a_cause_and_merges_two(page: Page, live_server):
    make_user("helen", "manager")
    make_survey()
    root_cause_taxonomy_seed()  # a live-server test starts from a flushed database
    network, vpn = RootCause.objects.get(slug="network"), RootCause.objects.get(slug="vpn-access")
    both = make_response(2)
    ResponseRootCause.objects.bulk_create(
        [
            ResponseRootCause(response=make_response(3), root_cause=network),
            ResponseRootCause(response=both, root_cause=network),
            ResponseRootCause(response=both, root_cause=vpn),
        ]
    )
    page.set_viewport_size(LAPTOP)
    sign_in(page, live_server, "helen", PASSWORD)

    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_text("Manage").click()  # the set-up pages sit in the Manage menu
    navigation.get_by_role("link", name="Root causes").click()
    expect(page.get_by_role("heading", name="Root causes", level=1)).to_be_visible()
    technology = page.locator("section", has=page.get_by_role("heading", name="Technology"))
    expect(technology.locator("#root-cause-network")).to_contain_text("2")

    technology.get_by_role("link", name="Edit Network and Wi-Fi").click()
    page.get_by_label("Name").fill("Office network")
    page.get_by_label("Keywords").fill("wifi, network, ethernet")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Office network saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Office network", level=1)).to_be_visible()

    page.get_by_label("Merge into").select_option("vpn-access")
    page.get_by_role("button", name="Review the merge…").click()
    expect(page.get_by_role("heading", name="Merge Office network into VPN and remote access?")).to_be_visible()
    expect(page.get_by_text("2 codes of Office network move to VPN and remote access")).to_be_visible()
    page.get_by_role("button", name="Merge into VPN and remote access").click()

    expect(page).to_have_url(live_server.url + reverse("taxonomy"))
    expect(page.get_by_text("Office network merged into VPN and remote access: 2 codes moved.")).to_be_visible()
    retired = page.locator("section", has=page.get_by_role("heading", name="Inactive and merged"))
    expect(retired.locator("#root-cause-network")).to_contain_text("Merged into VPN and remote access")
    expect(technology.locator("#root-cause-vpn-access")).to_contain_text("2")
    merge = RootCauseMerge.objects.get()
    assert (merge.root_cause.name, merge.into.slug, merge.codes_moved, merge.duplicates_collapsed) == (
        "Office network",
        "vpn-access",
        1,
        1,
    )
    assert RootCause.objects.get(slug="network").keywords == ["wifi", "network", "ethernet"]
