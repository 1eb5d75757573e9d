"""Who may open the pages of the loops: the roles that read cases (agents and managers), or managers alone."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from closedloop.lib.roles import is_manager
from followups.permissions import can_read_cases, can_see_team_queue

View = Callable[..., HttpResponse]


def agent_page(view: View) -> View:
    """Anonymous visitors go to sign in; integration accounts and users without a role get 403."""

    @login_required
    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not can_read_cases(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return checked


def manager_page(view: View) -> View:
    """Anonymous visitors go to sign in; anyone but a manager gets 403."""

    @login_required
    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_manager(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return checked


def lead_page(view: View) -> View:
    """Anonymous visitors go to sign in; anyone but a manager or the lead of a team gets 403."""

    @login_required
    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not can_see_team_queue(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return checked
