"""The web shell: sign-in, the page frame and its navigation, and the NPS on the home page."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.template.loader import render_to_string
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils.html import strip_tags
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from closedloop.templatetags.closedloop_tags import MINUS, one_decimal, share, signed_nps
from tests.factories import PASSWORD, make_response

pytestmark = pytest.mark.django_db

RANGE = "\u2013"  # the en dash of score ranges such as 9-10


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(html: str) -> str:
    return " ".join(strip_tags(html).split())


def _card_text(html: str, key: str) -> str:
    """The visible text of one NPS card on the home page."""
    start = html.index(f'id="nps-{key}"')
    return _text(html[html.index(">", start) + 1 : html.index("</section>", start)])


def _trend_rows(html: str) -> list[str]:
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [_text(row) for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]


def _import_url() -> str | None:
    try:
        return reverse("import-upload")
    except NoReverseMatch:
        return None


# Sign-in and sign-out


def test_the_home_page_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(reverse("home"))

    assertRedirects(response, f"{reverse('login')}?next=/", fetch_redirect_response=False)


def test_the_sign_in_page_has_a_labelled_form_and_no_navigation(client):
    response = client.get(reverse("login"))

    assertContains(response, '<label for="id_username">Username:</label>', html=True)
    assertContains(response, '<label for="id_password">Password:</label>', html=True)
    assertContains(response, 'autocomplete="current-password"')
    assertNotContains(response, 'aria-label="Main"')
    assertNotContains(response, "Sign out")


def test_signing_in_through_the_form_lands_on_the_home_page(client, maya):
    response = client.post(reverse("login"), {"username": "maya", "password": PASSWORD}, follow=True)

    assertRedirects(response, reverse("home"))
    assertContains(response, "Signed in as <strong>maya</strong>", html=True)


def test_a_wrong_password_is_refused_with_an_alert(client, maya):
    response = client.post(reverse("login"), {"username": "maya", "password": "not-the-password"})

    assert response.status_code == 200
    assertContains(response, 'role="alert"')
    assertContains(response, "Please enter a correct username and password")


def test_signing_out_ends_the_session(maya):
    client = _client(maya)

    response = client.post(reverse("logout"))

    assertRedirects(response, reverse("login"), fetch_redirect_response=False)
    assert client.get(reverse("home")).status_code == 302


# The page frame


def test_the_frame_has_landmarks_a_skip_link_and_a_sign_out_form(alice):
    response = _client(alice).get(reverse("queue"))

    assertContains(response, '<a class="skip-link" href="#main">Skip to main content</a>', html=True)
    assertContains(response, '<main id="main"')
    assertContains(response, "<footer")
    assertContains(response, f'<form method="post" action="{reverse("logout")}">')
    assertContains(response, 'src="/static/closedloop/htmx.min.js"')
    assertContains(response, 'href="/static/closedloop/app.css"')


def test_a_manager_sees_home_admin_and_api_docs(maya):
    response = _client(maya).get(reverse("home"))

    assertContains(response, '<a href="/" aria-current="page">Home</a>', html=True)
    assertContains(response, f'<a href="{reverse("admin:index")}">Admin</a>', html=True)
    assertContains(response, f'<a href="{reverse("api-docs")}">API docs</a>', html=True)
    if _import_url():
        assertContains(response, f'<a href="{_import_url()}">Import</a>', html=True)


def test_an_agent_sees_neither_admin_nor_import(alice):
    response = _client(alice).get(reverse("queue"))

    assertContains(response, f'<a href="{reverse("api-docs")}">API docs</a>', html=True)
    assertNotContains(response, f'href="{reverse("admin:index")}"')
    if _import_url():
        assertNotContains(response, f'href="{_import_url()}"')


def test_queued_messages_are_shown_escaped_in_the_frame(rf, alice):
    request = rf.get("/")
    request.user = alice
    request._messages = CookieStorage(request)
    messages.success(request, "Saved <b>bold</b> changes.")

    html = render_to_string("base.html", request=request)

    assert '<li class="message message--success">Saved &lt;b&gt;bold&lt;/b&gt; changes.</li>' in html


# Assets: every one comes from the product itself, so the pages work on an offline host

ROOT = Path(__file__).resolve().parent.parent
# A tag that makes the browser fetch its src or href (an <a href> is a link, not a load).
LOADING_TAG = re.compile(r"<(?:script|link|img|iframe|source|video|audio|embed|object)\b[^>]*>", re.I)
ASSET_URL = re.compile(r"""\b(?:src|href|data)\s*=\s*["']([^"']+)["']""", re.I)
CSS_URL = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])([^"')]+)""", re.I)


def _loaded_urls(html: str) -> list[str]:
    return [url for tag in LOADING_TAG.findall(html) for url in ASSET_URL.findall(tag)]


def _same_origin(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and url.startswith("/")


def test_the_api_docs_load_only_same_origin_assets_and_each_is_served(client):
    response = client.get(reverse("api-docs"))

    assert response.status_code == 200
    urls = _loaded_urls(response.content.decode())
    assert any("swagger-ui-bundle" in url for url in urls), urls
    assert [url for url in urls if not _same_origin(url)] == []
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content if asset.streaming else [asset.content]), url


def test_no_template_or_stylesheet_loads_anything_from_another_host():
    templates = [path for app in ("closedloop", "surveys", "followups") for path in (ROOT / app).rglob("*.html")]
    stylesheets = list((ROOT / "closedloop" / "static").rglob("*.css"))
    assert templates and stylesheets

    remote = [
        (path.relative_to(ROOT).as_posix(), url)
        for path in templates
        for url in _loaded_urls(path.read_text())
        if urlsplit(url).netloc or url.startswith("//")
    ] + [
        (path.relative_to(ROOT).as_posix(), url)
        for path in stylesheets
        for url in CSS_URL.findall(path.read_text())
        if urlsplit(url).netloc
    ]

    assert remote == []


def test_every_page_links_the_favicon_and_favicon_ico_leads_to_it(client, alice):
    page = _client(alice).get(reverse("queue"))
    assertContains(page, '<link rel="icon" href="/static/closedloop/favicon.svg" type="image/svg+xml">')

    redirect = client.get("/favicon.ico")
    assert redirect.status_code == 302
    assert redirect["Location"] == "/static/closedloop/favicon.svg"
    icon = client.get(redirect["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(icon.streaming_content)


# The home page (the manager dashboard: tests/test_dashboard_page.py)


def test_an_agent_lands_on_their_queue(alice):
    assertRedirects(_client(alice).get(reverse("home")), reverse("queue"))


def test_an_account_without_a_role_sees_no_figures(olga, survey):
    make_response(9)

    response = _client(olga).get(reverse("home"))

    assertContains(response, "Your account has no role yet")
    assertNotContains(response, "nps-figure")


# Formatting of the figures


@pytest.mark.parametrize(
    ("value", "shown"),
    [(34, "+34.0"), (8.333, "+8.3"), (-12.35, f"{MINUS}12.3"), (-0.04, "0.0"), (0.0, "0.0"), (None, "—")],
)
def test_signed_nps_shows_a_sign_and_one_decimal(value, shown):
    assert signed_nps(value) == shown


def test_shares_and_margins_have_one_decimal_and_survive_an_empty_sample():
    assert one_decimal(share(1, 3)) == "33.3"
    assert one_decimal(share(0, 0)) == "—"
    assert one_decimal(5.06) == "5.1"
