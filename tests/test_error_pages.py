"""The 403, 404 and 500 pages: the site's frame for people, JSON under /api/, and a 500 page
that still renders when the database is what failed."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from closedloop.urls import handler400, handler403, handler404, handler500
from closedloop.urls import urlpatterns as product_urls
from tests.no_database import get_without_database

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_error_pages")]


def _forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def _broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


# The product's URLs and error handlers, plus views that fail on purpose, here and under /api/.
urlpatterns = [
    path("forbidden/", _forbidden),
    path("broken/", _broken),
    path("api/v1/forbidden/", _forbidden),
    path("api/v1/broken/", _broken),
    *product_urls,
]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def _client(user=None) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def test_an_unknown_page_is_a_styled_404_with_the_navigation(maya):
    response = _client(maya).get("/no-such-page/")

    assert response.status_code == 404
    assertTemplateUsed(response, "404.html")
    assertTemplateUsed(response, "base.html")
    assertContains(response, "Page not found", status_code=404)
    assertContains(response, "/no-such-page/", status_code=404)
    assertContains(response, 'aria-label="Main"', status_code=404)


def test_a_forbidden_page_is_a_styled_403_with_the_navigation(alice):
    response = _client(alice).get("/forbidden/")

    assert response.status_code == 403
    assertTemplateUsed(response, "403.html")
    assertContains(response, "You may not open this page", status_code=403)
    assertContains(response, 'aria-label="Main"', status_code=403)
    assertContains(response, "<strong>alice</strong>", status_code=403)


def test_a_server_error_is_a_styled_500_with_the_navigation_and_no_details(maya):
    response = _client(maya).get("/broken/")

    assert response.status_code == 500
    assertContains(response, "Something went wrong on our side", status_code=500)
    assertContains(response, 'aria-label="Main"', status_code=500)
    assertNotContains(response, "a bug", status_code=500)
    assertNotContains(response, "Traceback", status_code=500)


@pytest.mark.parametrize(
    ("url", "status", "detail"),
    [
        ("/api/v1/no-such-endpoint/", 404, "Not found."),
        ("/api/v1/forbidden/", 403, "You do not have permission to perform this action."),
        ("/api/v1/broken/", 500, "Server error."),
    ],
)
def test_errors_under_the_api_stay_json(maya, url, status, detail):
    response = _client(maya).get(url)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": detail}


def test_the_500_page_renders_when_the_database_is_down():
    # The session cookie makes the page read the user, which fails; the 500 page then must not.
    reply = get_without_database("/login/", signed_in=True)

    assert reply.status == 500
    assert reply.content_type.startswith("text/html")
    assert "Something went wrong on our side" in reply.body
    assert 'class="site-header"' in reply.body
    assert "Sign out" not in reply.body


def test_an_api_request_with_the_database_down_gets_a_json_500():
    reply = get_without_database("/api/v1/cases/", signed_in=True)

    assert reply.status == 500
    assert json.loads(reply.body) == {"detail": "Server error."}
