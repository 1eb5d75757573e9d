"""The agent's own settings: away from routing, and which emails they get."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from closedloop.lib.requests import SignedInRequest
from followups.forms import AgentSettingsForm
from followups.models import AgentProfile
from followups.services.profiles import agent_profile_update
from followups.views.access import agent_page


@agent_page
def agent_settings(request: SignedInRequest) -> HttpResponse:
    # Someone who never saved their settings has the model's defaults.
    profile = getattr(request.user, "agent_profile", None) or AgentProfile(user=request.user)
    initial = {
        "is_away": profile.is_away,
        "assignment_emails": profile.assignment_emails,
        "digest_emails": profile.digest_emails,
    }
    # Not ``request.POST or None``: unticking every box posts no field at all.
    form = AgentSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        agent_profile_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Your settings are saved.")
        return redirect("agent-settings")
    return render(request, "followups/agent_settings.html", {"form": form})
