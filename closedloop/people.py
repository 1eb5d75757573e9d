"""The manager's set-up area under /manage/: its index, and the people who sign in; and the token
an agent makes for themselves from their settings.

Plain forms that post and redirect. A new user gets either an initial password or, through
Django's password-reset flow, a link by email where they choose their own.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from closedloop.lib.roles import AGENT
from closedloop.people_forms import PersonCreateForm, PersonForm, SetPasswordLinkForm
from closedloop.users import (
    people_list,
    role_of,
    token_replace,
    token_revoke,
    user_create,
    user_set_active,
    user_update,
)
from followups.views.access import agent_page, manager_page


@manager_page
def manage_index(request: HttpRequest) -> HttpResponse:
    return render(request, "manage/index.html")


@manager_page
def person_list(request: HttpRequest) -> HttpResponse:
    people = list(people_list())
    for person in people:
        person.role = role_of(person)  # type: ignore[attr-defined]  # for the template
    return render(request, "manage/people.html", {"people": people})


@manager_page
def person_create(request: HttpRequest) -> HttpResponse:
    form = PersonCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_create(**{**data, "password": data["password"] or None})
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if not data["password"]:
                SetPasswordLinkForm(user).send(request)
                messages.success(request, f"{user.username} is created; a link to set a password went to {user.email}.")
            else:
                messages.success(request, f"{user.username} is created and can sign in now.")
            return redirect("person-list")
    return render(request, "manage/person_form.html", {"form": form, "person": None})


@manager_page
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(people_list(), pk=pk)
    initial = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "role": role_of(person) or AGENT,
        "teams": list(person.teams.all()),
    }
    form = PersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user_update(user=person, **form.cleaned_data, actor=request.user)  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{person.username} is saved.")
            return redirect("person-list")
    return render(request, "manage/person_form.html", {"form": form, "person": person})


@manager_page
@require_POST
def person_active(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(User, pk=pk)
    active = request.POST.get("active") == "true"
    try:
        user_set_active(user=person, active=active, actor=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{person.username} is active again."
            if active
            else f"{person.username} is deactivated: no sign-in, no API token, no new cases.",
        )
    return redirect("person-list")


@agent_page
@require_POST
def my_token(request: HttpRequest) -> HttpResponse:
    """Create (replacing any) or revoke the caller's API token; a new one is shown on this answer only."""
    if request.POST.get("action") == "revoke":
        token_revoke(user=request.user)  # type: ignore[arg-type]
        messages.success(request, "Your API token is revoked.")
        return redirect("agent-settings")
    token = token_replace(user=request.user)  # type: ignore[arg-type]
    response = render(request, "manage/token.html", {"token": token})
    add_never_cache_headers(response)  # nor may the browser's history keep it
    return response
