"""The agent's own settings: who they are, away from routing, which emails they get, their API token.

Two forms on one page, told apart by the ``section`` they post; the token's own page, which shows
a new token once, is the project's (``closedloop.people.my_token``), beside the token API.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from rest_framework.authtoken.models import Token

from closedloop.lib.requests import SignedInRequest
from followups.forms import AgentDetailsForm, AgentSettingsForm
from followups.models import AgentProfile
from followups.services.profiles import agent_details_update, agent_profile_update
from followups.views.access import agent_page

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
    }
    # Not ``request.POST or None``: unticking every box posts no field at all.
    form = AgentSettingsForm(posted if posted is not None and section != DETAILS else None, initial=initial)
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
