"""The agent's own settings: who they are, away from routing, which emails they get, their API token;
the praise promoters gave after their tickets; and the link in the managers' weekly digest that stops it.

Two forms on one page, told apart by the ``section`` they post; the token's own page, which shows
a new token once, is the project's (``closedloop.people.my_token``), beside the token API.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from closedloop.lib.requests import SignedInRequest
from closedloop.lib.roles import is_manager
from followups.forms import AgentDetailsForm, AgentSettingsForm
from followups.models import AgentProfile
from followups.praise import recent_praise
from followups.services.profiles import agent_details_update, agent_profile_update, manager_digest_stop
from followups.views.access import agent_page
from followups.weekly_digest import user_from_stop_token
from surveys.customer_views import customer_page, rate_limited

DETAILS = "details"


@agent_page
def agent_settings(request: SignedInRequest) -> HttpResponse:
    user = request.user
    # Someone who never saved their settings has the model's defaults.
    profile = getattr(user, "agent_profile", None) or AgentProfile(user=user)
    posted = request.POST if request.method == "POST" else None
    section = posted.get("section") if posted is not None else None
    details = AgentDetailsForm(
        posted if section == DETAILS else None,
        initial={
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "time_zone": profile.time_zone,
        },
    )
    initial = {
        "is_away": profile.is_away,
        "away_until": profile.away_until,
        "assignment_emails": profile.assignment_emails,
        "digest_emails": profile.digest_emails,
        "manager_digest_emails": profile.manager_digest_emails,
    }
    # Not ``request.POST or None``: unticking every box posts no field at all.
    form = AgentSettingsForm(
        posted if posted is not None and section != DETAILS else None,
        initial=initial,
        managers_digest=is_manager(user),
    )
    if section == DETAILS and details.is_valid():
        agent_details_update(user=user, **details.cleaned_data)
        messages.success(request, "Your details are saved.")
        return redirect("agent-settings")
    if posted is not None and section != DETAILS and form.is_valid():
        agent_profile_update(user=user, **form.cleaned_data)
        messages.success(request, "Your settings are saved.")
        return redirect("agent-settings")
    token_created = Token.objects.filter(user=user).values_list("created", flat=True).first()
    context = {"details": details, "form": form, "token_created": token_created}
    return render(request, "followups/agent_settings.html", context)


@csrf_exempt  # RFC 8058: the mail client posts without a CSRF token; the signed link is the proof
@rate_limited
@require_http_methods(["GET", "POST"])
def manager_digest_stop_page(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the weekly digest: a button that turns it off, without signing in."""
    user_id = user_from_stop_token(token)
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id is not None else None
    if user is None:
        return customer_page(request, "followups/digest_stop.html", {"invalid": True}, status=400)
    done = request.method == "POST"
    if done:
        manager_digest_stop(user=user)
    profile = getattr(user, "agent_profile", None)
    already = not done and profile is not None and not profile.manager_digest_emails
    return customer_page(request, "followups/digest_stop.html", {"done": done, "already": already})


@agent_page
def my_praise(request: SignedInRequest) -> HttpResponse:
    """What promoters said after the agent's tickets, and their teams' (``followups.praise``)."""
    user = request.user
    teams = list(user.teams.order_by("name").values_list("slug", "name"))
    praise = recent_praise(agents=[user.get_username()], teams=[slug for slug, _ in teams])
    context = {"praise": praise, "teams": [name for _, name in teams]}
    return render(request, "followups/my_praise.html", context)
