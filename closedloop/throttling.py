"""Brute-force protection: sign-in lockouts and the anonymous password-reset form's rate limit.

Every password sign-in (the login page, the Django admin, the token API) goes through
``django.contrib.auth.authenticate``, where django-axes counts the failures per account and per
client address in the database, which every process shares; the settings say how many and for
how long. The password-reset form sends email to whoever is named, so it is limited per address
and per email with django-ratelimit, in the cache every process shares.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import PasswordResetView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited

SIGN_IN_LOCKED_OUT = "Too many failed sign-ins for this account or from this address. Try again in {minutes} minutes."
PASSWORD_RESET_LIMITED = "Too many password reset requests. Try again in an hour."
# A person who lost their password asks once or twice; more is someone flooding inboxes.
PASSWORD_RESET_RATE_PER_ADDRESS = "10/h"
PASSWORD_RESET_RATE_PER_EMAIL = "3/h"


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address: the one the TLS proxy saw when there is one, else the peer's.

    Behind the proxy every request comes from the proxy itself, so the proxy's own entry in
    ``X-Forwarded-For`` (the last one: earlier ones are whatever the client sent) names the
    client. Without a proxy the header is the client's to forge, so it is ignored. None for a
    request that came from no network (``force_login`` in tests).
    """
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR")


def rate_limit_address(request: HttpRequest) -> str:
    """The address rate limits count by (django-ratelimit's "ip" key): a request from no network
    (a test client without ``REMOTE_ADDR``, a misconfigured proxy) is counted as the unspecified
    address 0.0.0.0 rather than failing."""
    return client_address(request) or "0.0.0.0"


def lockout_seconds() -> int:
    """How long a lockout lasts at most: it ends this long after the failure that caused it."""
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_message() -> str:
    return SIGN_IN_LOCKED_OUT.format(minutes=lockout_seconds() // 60)


def sign_in_locked_out(request: HttpRequest, response: HttpResponse | None, credentials: Any) -> HttpResponse:
    """The sign-in page again, saying why and for how long (django-axes' lockout response)."""
    context = {"form": AuthenticationForm(request), "lockout": lockout_message()}
    locked = render(request, "registration/login.html", context, status=429)
    locked["Retry-After"] = str(lockout_seconds())
    return locked


def _email_key(group: str, request: HttpRequest) -> str:
    return request.POST.get("email", "").strip().lower()


class ThrottledPasswordResetView(PasswordResetView):
    """Django's password-reset form, refused with a 429 once an address or an email asks too often."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Both counters advance on every request, so neither can be drained through the other.
        by_address = is_ratelimited(
            request, group="password-reset-address", key="ip", rate=PASSWORD_RESET_RATE_PER_ADDRESS, increment=True
        )
        by_email = is_ratelimited(
            request, group="password-reset-email", key=_email_key, rate=PASSWORD_RESET_RATE_PER_EMAIL, increment=True
        )
        if not (by_address or by_email):
            return super().post(request, *args, **kwargs)
        form = self.get_form()
        form.is_valid()
        form.add_error("email", PASSWORD_RESET_LIMITED)
        limited = self.render_to_response(self.get_context_data(form=form), status=429)
        limited["Retry-After"] = "3600"
        return limited
